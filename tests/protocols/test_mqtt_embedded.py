"""The API over MQTT with the broker in the server process (``MQTT["MODE"] = "embedded"``), as
Kuzzle's: requests on ``Kuzzle/request``, each answer to its client alone on ``Kuzzle/response``."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiomqtt
import pytest
from amqtt.errors import BrokerError
from asgiref.sync import sync_to_async

from kuzzle_events import Application, KuzzleRequest, conf
from kuzzle_events.models import Role
from tests.accounts import issue_token, make_user
from tests.protocols.test_http import asgi_client
from tests.servers import free_port

WAIT = 10  # seconds before a test gives up on a message that never comes
QUIET = 0.3  # seconds a test listens for a message that must not come


class Client:
    """An MQTT client of the embedded broker, reading every topic it subscribes to."""

    def __init__(self, port: int) -> None:
        self.client = aiomqtt.Client("127.0.0.1", port, identifier=f"device-{uuid.uuid4().hex[:8]}")
        self.inbox: dict[str, asyncio.Queue[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Client:
        await self.client.__aenter__()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._reader is not None
        self._reader.cancel()
        await self.client.__aexit__(None, None, None)

    async def _read(self) -> None:
        async for message in self.client.messages:
            self.queue(message.topic.value).put_nowait(json.loads(message.payload))

    def queue(self, topic: str) -> asyncio.Queue[Any]:
        return self.inbox.setdefault(topic, asyncio.Queue())

    async def next(self, topic: str = "Kuzzle/response") -> Any:
        return await asyncio.wait_for(self.queue(topic).get(), WAIT)

    async def nothing_on(self, topic: str) -> bool:
        await asyncio.sleep(QUIET)
        return self.queue(topic).empty()

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        payload = {"requestId": uuid.uuid4().hex, **payload}
        await self.client.publish("Kuzzle/request", json.dumps(payload), qos=1)
        envelope: dict[str, Any] = await self.next()
        assert envelope["requestId"] == envelope["room"] == payload["requestId"]
        return envelope


@pytest.fixture
async def served(make_app: Callable[..., Application]) -> AsyncIterator[Application]:
    """A started application with its own broker on a free port (``app.port``)."""
    port = free_port()
    app = make_app(MQTT={"MODE": "embedded", "PORT": port})
    app.port = port  # type: ignore[attr-defined]

    @app.pipe.register("server:afterNow")
    async def tagged(request: KuzzleRequest) -> KuzzleRequest:
        request.result["tagged"] = True
        return request

    app.seen = []  # type: ignore[attr-defined]

    @app.hook.register("connection:new")
    @app.hook.register("connection:remove")
    async def connection(data: dict[str, Any]) -> None:
        app.seen.append((data["protocol"], data["id"]))  # type: ignore[attr-defined]

    await app.start()
    await app.sdk.query({"controller": "index", "action": "create", "index": "shop"})
    await app.sdk.query({"controller": "collection", "action": "create", "index": "shop", "collection": "items"})
    await sync_to_async(make_user)("root", superuser=True)
    await sync_to_async(make_user)("ada")
    yield app
    await app.shutdown()


def port_of(app: Application) -> int:
    return app.port  # type: ignore[attr-defined, no-any-return]


async def test_each_answer_goes_to_its_client_alone(served: Application) -> None:
    async with Client(port_of(served)) as device, Client(port_of(served)) as other:
        await other.client.subscribe("Kuzzle/response")
        envelope = await device.request({"controller": "server", "action": "now", "volatile": {"v": 1}})
        assert envelope["status"] == 200 and envelope["result"]["tagged"] is True
        assert envelope["volatile"] == {"v": 1}
        # The other client listens on the same topic and hears nothing of it.
        assert await other.nothing_on("Kuzzle/response")


async def test_errors_and_bad_payloads_are_envelopes_and_the_client_stays(served: Application) -> None:
    async with Client(port_of(served)) as device:
        envelope = await device.request({"controller": "nope", "action": "nothing"})
        assert (envelope["status"], envelope["error"]["id"]) == (404, "api.process.controller_not_found")
        await device.client.publish("Kuzzle/request", b"not json", qos=1)
        refused = await device.next()
        assert (refused["status"], refused["error"]["id"]) == (400, "network.mqtt.unexpected_error")
        assert (await device.request({"controller": "server", "action": "now"}))["status"] == 200


CREATE_ROLE = {"controller": "security", "action": "createRole", "_id": "intruder", "body": {"controllers": {}}}


@pytest.mark.parametrize(("username", "status"), [(None, 401), ("ada", 403), ("root", 200)])
async def test_rights_and_tokens(served: Application, username: str | None, status: int) -> None:
    payload = dict(CREATE_ROLE)
    if username is not None:
        payload["jwt"] = (await sync_to_async(issue_token)(username)).jwt
    async with Client(port_of(served)) as device:
        assert (await device.request(payload))["status"] == status
    assert await sync_to_async(Role.objects.filter(name="intruder").exists)() is (status == 200)


async def test_a_subscriber_alone_is_notified_on_its_channel(served: Application) -> None:
    jwt = (await sync_to_async(issue_token)("root")).jwt
    async with Client(port_of(served)) as device, Client(port_of(served)) as eavesdropper:
        subscribe = {"controller": "realtime", "action": "subscribe", "index": "shop", "collection": "items"}
        subscribed = await device.request({**subscribe, "body": {"equals": {"kind": "tool"}}, "jwt": jwt})
        channel = subscribed["result"]["channel"]
        await eavesdropper.client.subscribe(channel)
        headers = {"content-type": "application/json", "authorization": f"Bearer {jwt}"}
        answer = await asgi_client(served)("POST", "/shop/items/_create", headers=headers, content=b'{"kind": "tool"}')
        assert answer.status == 200
        notification = await device.next(channel)
        assert (notification["action"], notification["scope"]) == ("create", "in")
        assert notification["protocol"] == "http"  # the protocol of the write, as in Kuzzle
        assert notification["room"] == channel and notification["result"]["_source"] == {
            **notification["result"]["_source"],
            "kind": "tool",
        }
        # Subscribing to the MQTT topic is not subscribing to the room.
        assert await eavesdropper.nothing_on(channel)


async def test_topics_are_guarded_as_kuzzle_guards_them(served: Application) -> None:
    async with Client(port_of(served)) as device, Client(port_of(served)) as listener:
        for refused in ("Kuzzle/request", "#", "a/+/b"):
            granted = await listener.client.subscribe(refused)
            assert [int(code.value) if hasattr(code, "value") else int(code) for code in granted] == [0x80]
        await listener.client.subscribe("elsewhere")
        # Publishing anywhere else than on the request topic is refused (Kuzzle's allowPubSub: false).
        await device.client.publish("elsewhere", b'{"x": 1}', qos=1)
        assert await listener.nothing_on("elsewhere")


async def test_pub_sub_between_clients_when_allowed(make_app: Callable[..., Application]) -> None:
    port = free_port()
    app = make_app(MQTT={"MODE": "embedded", "PORT": port, "ALLOW_PUB_SUB": True})
    await app.start()
    try:
        async with Client(port) as device, Client(port) as listener:
            await listener.client.subscribe("elsewhere")
            await device.client.publish("elsewhere", b'{"x": 1}', qos=1)
            assert await listener.next("elsewhere") == {"x": 1}
            # The response topic stays read-only.
            await listener.client.subscribe("Kuzzle/response")
            await device.client.publish("Kuzzle/response", b'{"forged": true}', qos=1)
            assert await listener.nothing_on("Kuzzle/response")
    finally:
        await app.shutdown()


async def test_each_client_is_a_connection(served: Application) -> None:
    seen = served.seen  # type: ignore[attr-defined]
    async with Client(port_of(served)) as device:
        assert (await device.request({"controller": "server", "action": "now"}))["status"] == 200
    for _ in range(100):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.05)
    await served.events.drain_hooks()
    assert [protocol for protocol, _ in seen] == ["mqtt", "mqtt"] and seen[0][1] == seen[1][1]
    assert served.mqtt is not None and served.mqtt.clients == {}


async def test_the_client_is_told_when_its_token_expires(served: Application) -> None:
    token = await sync_to_async(issue_token)("ada", ttl_ms=1000)
    async with Client(port_of(served)) as device:
        envelope = await device.request({"controller": "auth", "action": "getCurrentUser", "jwt": token.jwt})
        assert envelope["result"]["_id"] == "ada"
        # On Kuzzle's server notification topic, which the client never subscribed to.
        notice = await device.next("kuzzle:notification:server")
        assert (notice["type"], notice["message"]) == ("TokenExpired", "Authentication Token Expired")
        assert notice["room"] == "kuzzle:notification:server"


async def test_a_taken_port_refuses_to_start(make_app: Callable[..., Application], served: Application) -> None:
    app = make_app(MQTT={"MODE": "embedded", "PORT": port_of(served)})
    with pytest.raises(BrokerError, match="address already in use"):
        await app.start()
    assert app.state == "stopped"


def test_embedded_mode_settings() -> None:
    settings = conf.mqtt_settings(conf.load({"MQTT": {"MODE": "embedded", "ALLOW_PUB_SUB": True}}))
    assert (settings["MODE"], settings["ALLOW_PUB_SUB"]) == ("embedded", True)
    assert set(conf.wrong_types({"MQTT": {"ALLOW_PUB_SUB": "yes"}})) == {"MQTT"}
    assert set(conf.wrong_types({"MQTT": {"SHARED_GROUP": "a/b"}})) == {"MQTT"}


async def test_user_notifications_name_the_protocol_of_who_joined(served: Application) -> None:
    room = {"controller": "realtime", "action": "subscribe", "index": "shop", "collection": "items", "body": {}}
    room["jwt"] = (await sync_to_async(issue_token)("root")).jwt
    async with Client(port_of(served)) as watcher, Client(port_of(served)) as joiner:
        channel = (await watcher.request({**room, "users": "all"}))["result"]["channel"]
        assert (await joiner.request(room))["status"] == 200
        joined = await watcher.next(channel)
        assert (joined["type"], joined["user"], joined["protocol"]) == ("user", "in", "mqtt")


async def test_a_trace_field_asks_for_the_trace_which_an_admin_gets(served: Application) -> None:
    now = {"controller": "server", "action": "now", "trace": True}
    async with Client(port_of(served)) as device:
        # An administrator exists: anonymous callers lack server:trace.
        assert "trace" not in await device.request(now)
        jwt = (await sync_to_async(issue_token)("root")).jwt
        traced = await device.request({**now, "jwt": jwt})
    [after] = [e for e in traced["trace"]["events"] if e["event"] == "server:afterNow"]
    assert [(run["name"].rsplit(".", 1)[1], run["outcome"]) for run in after["pipes"]] == [("tagged", "ok")]
    assert traced["result"]["tagged"] is True
