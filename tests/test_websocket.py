"""The WebSocket consumer, driven with Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest import mock

import pytest
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application, KuzzleRequest, inline
from kuzzle_events.websocket import KuzzleConsumer


@pytest.fixture
def ws_app(kapp: Application) -> Application:
    async def wait(request: KuzzleRequest) -> str:
        await asyncio.sleep(request.get_number("seconds"))
        return request.get_string("tag")

    async def raw(request: KuzzleRequest) -> str:
        request.response.raw = True
        return "raw text"

    def count_users(request: KuzzleRequest) -> int:
        from django.contrib.auth.models import User

        return User.objects.count()

    kapp.controller.register(
        "probe",
        {"actions": {"wait": {"handler": wait}, "raw": {"handler": raw}, "countUsers": {"handler": count_users}}},
    )
    return kapp


async def connect(app: Application, path: str = "/") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=app), path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_ping_and_request_with_room(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_to(text_data='{"p":1}')
    assert await ws.receive_from() == '{"p":2}'
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "r1", "volatile": {"v": 1}})
    envelope = await ws.receive_json_from()
    assert envelope["room"] == envelope["requestId"] == "r1"
    assert envelope["status"] == 200 and envelope["volatile"] == {"v": 1}
    assert "now" in envelope["result"]
    await ws.disconnect()


async def test_requests_in_flight_answered_when_done(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "probe", "action": "wait", "seconds": 0.2, "tag": "slow", "requestId": "a"})
    await ws.send_json_to({"controller": "probe", "action": "wait", "seconds": 0, "tag": "fast", "requestId": "b"})
    first = await ws.receive_json_from(timeout=2)
    second = await ws.receive_json_from(timeout=2)
    assert [first["room"], second["room"]] == ["b", "a"]
    assert [first["result"], second["result"]] == ["fast", "slow"]
    await ws.disconnect()


@pytest.mark.parametrize("frame", ["not json", "[1, 2]", '"text"', "{"])
async def test_bad_frames_get_an_error_and_the_connection_stays(ws_app: Application, frame: str) -> None:
    ws = await connect(ws_app)
    await ws.send_to(text_data=frame)
    envelope = await ws.receive_json_from()
    assert envelope["status"] == 400
    assert envelope["error"]["id"] == "network.websocket.unexpected_error"
    assert envelope["room"] == envelope["requestId"]
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "after"})
    assert (await ws.receive_json_from())["room"] == "after"
    await ws.disconnect()


async def test_errors_and_raw_results_are_enveloped(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "nope", "action": "x", "requestId": "e"})
    envelope = await ws.receive_json_from()
    assert (envelope["status"], envelope["error"]["id"], envelope["room"]) == (
        404,
        "api.process.controller_not_found",
        "e",
    )
    await ws.send_json_to({"controller": "probe", "action": "raw", "requestId": "r"})
    envelope = await ws.receive_json_from()
    assert (envelope["result"], envelope["room"]) == ("raw text", "r")
    await ws.disconnect()


async def test_connection_events(kapp: Application) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    kapp.hook.register("connection:new", inline(lambda c: seen.append(("new", c))))
    kapp.hook.register("connection:remove", inline(lambda c: seen.append(("remove", c))))
    ws = await connect(kapp)
    await ws.disconnect()
    await kapp.events.drain_hooks()
    assert [kind for kind, _ in seen] == ["new", "remove"]
    new = seen[0][1]
    assert new["protocol"] == "websocket" and new["id"] == seen[1][1]["id"]
    assert set(new) == {"id", "protocol", "ips", "headers"}


async def test_parsing_pipes(kapp: Application) -> None:
    async def before(payload: dict[str, Any]) -> dict[str, Any]:
        payload["payload"] = payload["payload"].replace("nwo", "now")
        return payload

    async def after(payload: dict[str, Any]) -> dict[str, Any]:
        payload["payload"]["requestId"] = "rewritten"
        return payload

    kapp.pipe.register("protocol:websocket:beforeParsingPayload", before)
    kapp.pipe.register("protocol:websocket:afterParsingPayload", after)
    ws = await connect(kapp)
    await ws.send_to(text_data=json.dumps({"controller": "server", "action": "nwo"}))
    envelope = await ws.receive_json_from()
    assert (envelope["action"], envelope["room"], envelope["status"]) == ("now", "rewritten", 200)
    await ws.disconnect()


async def test_no_database_hop_per_message(ws_app: Application) -> None:
    with (
        mock.patch("channels.consumer.aclose_old_connections") as per_message,
        mock.patch("channels.generic.websocket.aclose_old_connections") as on_close,
    ):
        ws = await connect(ws_app)
        for i in range(5):
            await ws.send_json_to({"controller": "server", "action": "now", "requestId": str(i)})
            await ws.receive_json_from()
        await ws.disconnect()
    assert per_message.call_count == 0 and on_close.call_count == 0


@pytest.mark.django_db(transaction=True)
async def test_orm_action_over_websocket(ws_app: Application) -> None:
    from django.contrib.auth.models import User

    await User.objects.acreate(username="someone")
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "probe", "action": "countUsers", "requestId": "db"})
    assert (await ws.receive_json_from(timeout=3))["result"] == 1
    await ws.disconnect()


async def test_other_paths_are_refused(ws_app: Application) -> None:
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ws_app), "/elsewhere")
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(("asked", "answered"), [(None, None), (["null"], "null"), (["kuzzle", "other"], "kuzzle")])
async def test_first_subprotocol_asked_for_is_accepted(ws_app: Application, asked: Any, answered: Any) -> None:
    # The SDK with a global WebSocket (browsers, Node.js >= 22) asks for the subprotocol "null" and
    # fails the handshake unless it is answered, as Kuzzle's server (`ws`) does.
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ws_app), "/", subprotocols=asked)
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == answered
    await communicator.send_to(text_data='{"p":1}')
    assert await communicator.receive_from() == '{"p":2}'
    await communicator.disconnect()
