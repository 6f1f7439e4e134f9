"""The session shared by every protocol: the same behaviour over HTTP (both adapters) and WebSocket,
and the session on its own, for a protocol that has no adapter yet."""

from __future__ import annotations

import asyncio
import json
import time
import types
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application, KuzzleRequest, inline
from kuzzle_events.asgi import KuzzleASGI
from kuzzle_events.core.request import Connection
from kuzzle_events.errors import ForbiddenError
from kuzzle_events.protocols.session import TOKEN_EXPIRED, Session, scope_headers
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from tests.protocols.test_http import asgi_client, drf_client, register_test_controllers

ENVELOPE_KEYS = {
    "requestId", "status", "error", "controller", "action", "collection", "index", "volatile", "headers",
    "node", "result",
}  # fmt: skip
PROTOCOLS = ["asgi", "drf", "websocket"]


async def send_bad_payload(app: Application, protocol: str, settings: Any, payload: bytes) -> dict[str, Any]:
    """The envelope answering ``payload`` sent as a whole request (``/_query`` or a frame)."""
    if protocol == "websocket":
        ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=app), "/")
        assert (await ws.connect())[0]
        try:
            await ws.send_to(text_data=payload.decode())
            envelope: dict[str, Any] = json.loads(await ws.receive_from(timeout=5))
            assert envelope.pop("room") == envelope["requestId"]
            # The connection stays open.
            await ws.send_to(text_data='{"p":1}')
            assert await ws.receive_from(timeout=5) == '{"p":2}'
            return envelope
        finally:
            await ws.disconnect()
    client = asgi_client(app) if protocol == "asgi" else drf_client(app, settings)
    answer = await client("POST", "/_query", headers={"content-type": "application/json"}, content=payload)
    assert answer.status == answer.json()["status"]
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_early_error_has_the_same_envelope_on_every_protocol(
    make_app: Callable[..., Application], settings: Any, protocol: str
) -> None:
    app = make_app(NODE="node-7", ERROR_STACK=True)
    envelope = await send_bad_payload(app, protocol, settings, b"not json")
    assert set(envelope) == ENVELOPE_KEYS
    expected_id = "network.websocket.unexpected_error" if protocol == "websocket" else "network.http.body_parse_failed"
    assert (envelope["status"], envelope["error"]["id"], envelope["error"]["status"]) == (400, expected_id, 400)
    assert {key: envelope[key] for key in ("controller", "action", "index", "collection", "volatile", "result")} == {
        "controller": None,
        "action": None,
        "index": None,
        "collection": None,
        "volatile": None,
        "result": None,
    }
    # The application's settings apply to errors answered before the funnel too.
    assert envelope["node"] == "node-7"
    assert "Traceback" in envelope["error"]["stack"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_parsing_pipe_refusing_a_payload_gets_an_early_error(
    make_app: Callable[..., Application], settings: Any, protocol: str
) -> None:
    app = make_app()
    register_test_controllers(app)
    seen: list[str] = []

    async def refuse(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload["connection"].protocol)
        raise ForbiddenError("payload refused", "test.parsing.refused")

    name = "websocket" if protocol == "websocket" else "http"
    app.pipe.register(f"protocol:{name}:beforeParsingPayload", refuse)
    if protocol == "websocket":
        envelope = await send_bad_payload(app, protocol, settings, b'{"controller": "server", "action": "now"}')
    else:
        client = asgi_client(app) if protocol == "asgi" else drf_client(app, settings)
        answer = await client("POST", "/greeting/Ada", headers={"content-type": "application/json"}, content=b"{}")
        assert answer.status == 403
        envelope = answer.json()
    assert (envelope["status"], envelope["error"]["id"], envelope["result"]) == (403, "test.parsing.refused", None)
    assert seen == [name]


async def test_repeated_headers_reach_handlers_joined_on_every_asgi_protocol(kapp: Application) -> None:
    async def tag(request: KuzzleRequest) -> str | None:
        return request.context.connection.misc["headers"].get("x-tag")

    kapp.controller.register("probe", {"actions": {"tag": {"handler": tag}}})
    repeated = [(b"x-tag", b"one"), (b"X-Tag", b"two")]
    transport = httpx.ASGITransport(app=KuzzleASGI(app=kapp))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/_/probe/tag", headers=[(k.decode(), v.decode()) for k, v in repeated])
    assert answer.json()["result"] == "one, two"
    ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=kapp), "/", headers=repeated)
    assert (await ws.connect())[0]
    await ws.send_json_to({"controller": "probe", "action": "tag", "requestId": "t"})
    assert (await ws.receive_json_from(timeout=5))["result"] == "one, two"
    await ws.disconnect()


def test_scope_headers() -> None:
    assert scope_headers([(b"Content-Type", b"text/plain"), (b"x-a", b"1"), (b"X-A", b"2")]) == {
        "content-type": "text/plain",
        "x-a": "1, 2",
    }
    assert scope_headers([(b"x-latin", "é".encode("latin-1"))]) == {"x-latin": "é"}


# The session on its own: any protocol, no adapter -------------------------------------------------


def mqtt_connection() -> Connection:
    return Connection(protocol="mqtt", ips=["10.0.0.1"], misc={"headers": {"x-client": "probe"}})


async def test_connection_events_carry_id_protocol_ips_and_headers(kapp: Application) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    kapp.hook.register("connection:new", inline(lambda c: seen.append(("new", c))))
    kapp.hook.register("connection:remove", inline(lambda c: seen.append(("remove", c))))
    connection = mqtt_connection()
    session = Session(kapp, connection)
    await session.open()
    await session.close()
    await kapp.events.drain_hooks()
    payload = {"id": connection.id, "protocol": "mqtt", "ips": ["10.0.0.1"], "headers": {"x-client": "probe"}}
    assert seen == [("new", payload), ("remove", payload)]


async def test_the_parsing_pipes_are_the_protocols_own(kapp: Application) -> None:
    session = Session(kapp, mqtt_connection())
    assert not session.parsing_pipes()
    assert await session.parse("1", int) == 1

    async def before(payload: dict[str, Any]) -> dict[str, Any]:
        assert payload["connection"] is session.connection
        payload["payload"] += "0"
        return payload

    async def after(payload: dict[str, Any]) -> dict[str, Any]:
        payload["payload"] += 1
        return payload

    kapp.pipe.register("protocol:websocket:beforeParsingPayload", before)
    assert not session.parsing_pipes()  # another protocol's
    kapp.pipe.register("protocol:mqtt:beforeParsingPayload", before)
    kapp.pipe.register("protocol:mqtt:afterParsingPayload", after)
    assert session.parsing_pipes()
    assert await session.parse("1", int) == 11


async def test_an_early_error_keeps_the_request_id_and_wraps_other_exceptions(kapp: Application) -> None:
    session = Session(kapp, mqtt_connection())
    envelope = session.refused(ForbiddenError("no", "test.refused"), "r-1").to_dict()
    assert (envelope["requestId"], envelope["status"], envelope["error"]["id"]) == ("r-1", 403, "test.refused")
    envelope = session.refused(ValueError("broken adapter")).to_dict()
    assert (envelope["status"], envelope["error"]["id"]) == (500, "plugin.runtime.unexpected_error")
    assert envelope["requestId"]


class Client:
    """What a connection that stays open gives its session: a way to send, tasks of its own."""

    def __init__(self) -> None:
        self.sent: asyncio.Queue[str] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()

    async def send(self, text: str) -> None:
        await self.sent.put(text)

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def answered(session: Session, jwt: str, expires_in: float, action: str = "getCurrentUser") -> None:
    """A request of ``session`` answered with a token expiring in ``expires_in`` seconds."""
    request = KuzzleRequest({"controller": "auth", "action": action}, connection=session.connection)
    request.context.token = types.SimpleNamespace(jwt=jwt, expires_at=(time.time() + expires_in) * 1000)
    session.watch_token(request)


async def test_the_client_is_told_when_its_token_expires(started: Application) -> None:
    client = Client()
    session = Session(started, mqtt_connection(), send=client.send, spawn=client.spawn)
    answered(session, "jwt-1", 0.05)
    assert await asyncio.wait_for(client.sent.get(), 5) == TOKEN_EXPIRED
    await session.close()


@pytest.mark.parametrize("stop", ["logout", "close", "no-send"])
async def test_no_expiry_notice_after_a_logout_a_close_or_without_a_way_to_send(
    started: Application, stop: str
) -> None:
    client = Client()
    if stop == "no-send":
        session = Session(started, mqtt_connection())
    else:
        session = Session(started, mqtt_connection(), send=client.send, spawn=client.spawn)
    answered(session, "jwt-1", 0.05)
    if stop == "logout":
        answered(session, "jwt-1", 0.05, action="logout")
    elif stop == "close":
        await session.close()
    await asyncio.sleep(0.3)
    assert client.sent.empty()


def test_a_session_sends_only_with_tasks_of_its_own(kapp: Application) -> None:
    with pytest.raises(TypeError, match="both send and spawn"):
        Session(kapp, mqtt_connection(), send=Client().send)
