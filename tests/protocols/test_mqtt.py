"""The API over MQTT through this machine's Mosquitto (127.0.0.1:1883; scripts/services starts it).

Each test has topics of its own (a unique prefix), so that tests running at once do not hear each
other.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from asgiref.sync import sync_to_async
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kuzzle_events import Application, KuzzleRequest, conf
from kuzzle_events.errors import PluginImplementationError
from kuzzle_events.models import Role
from tests.accounts import issue_token, make_user, open_to_anonymous
from tests.protocols.test_http import asgi_client
from tests.servers import free_port

WAIT = 10  # seconds before a test gives up on a message that never comes


class Device:
    """An MQTT client of the API: publishes on <prefix>/request/<id>, reads <prefix>/response/<id>."""

    def __init__(self, prefix: str, client_id: str | None = None, port: int = 1883) -> None:
        self.prefix = prefix
        self.id = client_id or uuid.uuid4().hex[:8]
        self.request_topic = f"{prefix}/request/{self.id}"
        self.response_topic = f"{prefix}/response/{self.id}"
        will = aiomqtt.Will(self.request_topic, b"", qos=1)
        self.client = aiomqtt.Client(
            "127.0.0.1", port, identifier=f"device-{uuid.uuid4().hex}", protocol=aiomqtt.ProtocolVersion.V5, will=will
        )
        self.inbox: dict[str, asyncio.Queue[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Device:
        await self.client.__aenter__()
        await self.listen(self.response_topic)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._reader is not None
        self._reader.cancel()
        await self.client.publish(self.request_topic, b"", qos=1)  # goodbye (the will is for vanishing)
        await self.client.__aexit__(None, None, None)

    async def _read(self) -> None:
        async for message in self.client.messages:
            self._queue(message.topic.value).put_nowait(message)

    def _queue(self, topic: str) -> asyncio.Queue[Any]:
        return self.inbox.setdefault(topic, asyncio.Queue())

    async def listen(self, topic: str) -> None:
        await self.client.subscribe(topic, qos=1)

    async def next(self, topic: str) -> Any:
        return await asyncio.wait_for(self._queue(topic).get(), WAIT)

    async def send(self, payload: dict[str, Any] | str | bytes) -> None:
        data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        await self.client.publish(self.request_topic, data, qos=1)

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        payload = {"requestId": uuid.uuid4().hex, **payload}
        await self.send(payload)
        envelope = json.loads((await self.next(self.response_topic)).payload)
        assert envelope["requestId"] == envelope["room"] == payload["requestId"]
        return envelope


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
async def served(make_app: Callable[..., Application], prefix: str) -> AsyncIterator[Application]:
    """A started application reading requests on this test's topics."""
    app = make_app(
        MQTT={"MODE": "external", "REQUEST_TOPIC": f"{prefix}/request", "RESPONSE_TOPIC": f"{prefix}/response"}
    )

    @app.pipe.register("server:afterNow")
    async def tagged(request: KuzzleRequest) -> KuzzleRequest:
        request.result["tagged"] = True
        return request

    @app.pipe.register("protocol:mqtt:afterParsingPayload")
    async def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        if payload["payload"].get("action") == "rewriteMe":
            payload["payload"]["action"] = "now"
        return payload

    app.seen = []  # type: ignore[attr-defined]

    @app.hook.register("connection:new")
    @app.hook.register("connection:remove")
    async def connection(data: dict[str, Any]) -> None:
        app.seen.append((data["protocol"], data["id"]))  # type: ignore[attr-defined]

    await app.start()
    for setup in (
        {"controller": "index", "action": "create", "index": "shop"},
        {"controller": "collection", "action": "create", "index": "shop", "collection": "items"},
    ):
        await app.sdk.query(setup)
    await sync_to_async(make_user)("root", superuser=True)
    await sync_to_async(open_to_anonymous)("server:now")
    await sync_to_async(make_user)("ada")
    yield app
    await app.shutdown()


async def test_off_by_default(make_app: Callable[..., Application]) -> None:
    app = make_app()
    await app.start()
    assert app.mqtt is None
    await app.shutdown()


async def test_a_request_answered_on_the_clients_response_topic(served: Application, prefix: str) -> None:
    async with Device(prefix) as device, Device(prefix) as other:
        envelope = await device.request({"controller": "server", "action": "now", "volatile": {"v": 1}})
        assert envelope["status"] == 200 and envelope["volatile"] == {"v": 1}
        assert isinstance(envelope["result"]["now"], int)
        # The pipe changed the result; the other client heard nothing.
        assert envelope["result"]["tagged"] is True
        assert other._queue(other.response_topic).empty()


async def test_an_error_is_an_envelope(served: Application, prefix: str) -> None:
    async with Device(prefix) as device:
        envelope = await device.request({"controller": "nope", "action": "nothing"})
        assert (envelope["status"], envelope["error"]["id"]) == (404, "api.process.controller_not_found")


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", b"\xff\xfe"])
async def test_a_bad_payload_is_answered_and_the_client_kept(
    served: Application, prefix: str, payload: str | bytes
) -> None:
    async with Device(prefix) as device:
        await device.send(payload)
        envelope = json.loads((await device.next(device.response_topic)).payload)
        assert (envelope["status"], envelope["error"]["id"]) == (400, "network.mqtt.unexpected_error")
        assert (await device.request({"controller": "server", "action": "now"}))["status"] == 200


async def test_a_request_id_that_is_not_printable_text_is_a_400(served: Application, prefix: str) -> None:
    async with Device(prefix) as device:
        await device.send(json.dumps({"controller": "server", "action": "now", "requestId": "a\nb"}))
        envelope = json.loads((await device.next(device.response_topic)).payload)
        assert (envelope["status"], envelope["error"]["id"]) == (400, "api.assert.invalid_argument")
        assert envelope["requestId"] != "a\nb"


CREATE_ROLE = {"controller": "security", "action": "createRole", "_id": "intruder", "body": {"controllers": {}}}


@pytest.mark.parametrize(("username", "status"), [(None, 401), ("ada", 403), ("root", 200)])
async def test_rights_and_tokens_as_on_websocket(
    served: Application, prefix: str, username: str | None, status: int
) -> None:
    payload = dict(CREATE_ROLE)
    if username is not None:
        payload["jwt"] = (await sync_to_async(issue_token)(username)).jwt
    async with Device(prefix) as device:
        envelope = await device.request(payload)
    assert envelope["status"] == status, envelope["error"]
    created = await sync_to_async(Role.objects.filter(name="intruder").exists)()
    assert created is (status == 200)


async def test_parsing_pipes_and_connection_events(served: Application, prefix: str) -> None:
    seen = served.seen  # type: ignore[attr-defined]
    async with Device(prefix) as device:
        envelope = await device.request({"controller": "server", "action": "rewriteMe"})
        assert envelope["status"] == 200 and "now" in envelope["result"]
    # The device's will (an empty message) ends its connection.
    for _ in range(100):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.05)
    await served.events.drain_hooks()
    assert [protocol for protocol, _ in seen] == ["mqtt", "mqtt"] and seen[0][1] == seen[1][1]
    assert served.mqtt is not None and served.mqtt.clients == {}


async def test_a_subscription_is_notified_on_its_channel(served: Application, prefix: str) -> None:
    async with Device(prefix) as device, Device(prefix) as other:
        subscribe = {"controller": "realtime", "action": "subscribe", "index": "shop", "collection": "items"}
        subscribe["body"] = {"equals": {"kind": "tool"}}
        subscribe["jwt"] = (await sync_to_async(issue_token)("root")).jwt
        subscribed = await device.request(subscribe)
        assert subscribed["status"] == 200, subscribed["error"]
        channel = subscribed["result"]["channel"]
        assert (await other.request(subscribe))["result"]["channel"] == channel
        await device.listen(channel)
        # A write over HTTP.
        headers = {"content-type": "application/json", "authorization": f"Bearer {subscribe['jwt']}"}
        answer = await asgi_client(served)("POST", "/shop/items/_create", headers=headers, content=b'{"kind": "tool"}')
        assert answer.status == 200
        notification = json.loads((await device.next(channel)).payload)
        assert notification["room"] == channel and notification["result"]["_source"]["kind"] == "tool"
        assert (notification["action"], notification["scope"]) == ("create", "in")
        # One publication for both subscribers on the channel topic.
        await device.request({"controller": "server", "action": "now"})
        assert device._queue(channel).empty()


async def test_mqtt5_response_topic_and_correlation_data(served: Application, prefix: str) -> None:
    async with Device(prefix) as device:
        reply_to = f"{prefix}/mine"
        await device.listen(reply_to)
        properties = Properties(PacketTypes.PUBLISH)
        properties.ResponseTopic = reply_to
        properties.CorrelationData = b"c-1"
        request = json.dumps({"controller": "server", "action": "now", "requestId": "r1"})
        await device.client.publish(f"{prefix}/request", request, qos=1, properties=properties)
        message = await device.next(reply_to)
        assert message.properties.CorrelationData == b"c-1"
        assert json.loads(message.payload)["room"] == "r1"


async def test_broker_away_refuses_to_start(make_app: Callable[..., Application]) -> None:
    app = make_app(MQTT={"MODE": "external", "PORT": 1, "CONNECT_TIMEOUT": 2})
    with pytest.raises(aiomqtt.MqttError):
        await app.start()
    assert app.state == "stopped"


async def test_the_client_is_told_when_its_token_expires(served: Application, prefix: str) -> None:
    token = await sync_to_async(issue_token)("ada", ttl_ms=1000)
    async with Device(prefix) as device:
        envelope = await device.request({"controller": "auth", "action": "getCurrentUser", "jwt": token.jwt})
        assert envelope["result"]["_id"] == "ada"
        notice = json.loads((await device.next(device.response_topic)).payload)
        assert notice == {
            "status": 200,
            "info": "This is an automated server notification",
            "message": "Authentication Token Expired",
            "type": "TokenExpired",
            "room": "kuzzle:notification:server",
        }


@pytest.mark.parametrize(
    "value",
    [{"MODE": "embedded?"}, {"PORT": "1883"}, {"REQUEST_TOPIC": "Kuzzle/#"}, {"HOSTNAME": "x"}, "external"],
)
def test_wrong_mqtt_settings_are_refused(value: Any) -> None:
    assert set(conf.wrong_types({"MQTT": value})) == {"MQTT"}
    with pytest.raises(PluginImplementationError):
        conf.load({"MQTT": value})


def test_mqtt_settings_complete_the_defaults() -> None:
    settings = conf.mqtt_settings(conf.load({"MQTT": {"MODE": "external", "PORT": 1884}}))
    assert (settings["MODE"], settings["PORT"], settings["HOST"]) == ("external", 1884, "127.0.0.1")
    assert (settings["REQUEST_TOPIC"], settings["RESPONSE_TOPIC"]) == ("Kuzzle/request", "Kuzzle/response")


def test_the_project_turns_mqtt_on_when_given_a_broker() -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; django.setup();"
        "from kuzzle_events import app, conf; m = conf.mqtt_settings(app.config);"
        "print(m['MODE'], m['HOST'], m['PORT'])"
    )
    root = Path(__file__).resolve().parents[2]
    run = functools.partial(subprocess.run, [sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    bare = {key: value for key, value in os.environ.items() if not key.startswith("KUZZLE_MQTT")}
    assert run(env=bare, check=True).stdout.split() == ["off", "127.0.0.1", "1883"]
    given = {**bare, "KUZZLE_MQTT_HOST": "mosquitto", "KUZZLE_MQTT_PORT": "1884"}
    assert run(env=given, check=True).stdout.split() == ["external", "mosquitto", "1884"]


async def test_two_servers_on_one_broker_run_each_request_once(
    make_app: Callable[..., Application], prefix: str
) -> None:
    topics = {"MODE": "external", "REQUEST_TOPIC": f"{prefix}/request", "RESPONSE_TOPIC": f"{prefix}/response"}
    apps = [make_app(MQTT=topics, NODE=f"node-{n}") for n in (1, 2)]
    for app in apps:
        await app.start()
    try:
        async with Device(prefix) as device:
            nodes = [(await device.request({"controller": "server", "action": "now"}))["node"] for _ in range(20)]
            await asyncio.sleep(0.3)
            assert device._queue(device.response_topic).empty()  # no second answer to any of them
            assert set(nodes) == {"node-1", "node-2"}  # the broker shares the requests out
            assert all(device.id in app.mqtt.clients for app in apps if app.mqtt is not None)
        # The goodbye reached one server, which told the other.
        for _ in range(100):
            if all(app.mqtt is not None and not app.mqtt.clients for app in apps):
                break
            await asyncio.sleep(0.05)
        assert [app.mqtt.clients for app in apps if app.mqtt is not None] == [{}, {}]
    finally:
        for app in apps:
            await app.shutdown()


@pytest.fixture
def own_broker(tmp_path: Path) -> Any:
    """A Mosquitto of this test's own on a free port: ``(port, start, stop)``."""
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        running.append(subprocess.Popen(["mosquitto", "-c", str(config)], stderr=subprocess.DEVNULL))
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop() -> None:
        process = running.pop()
        process.kill()
        process.wait()

    yield port, start, stop
    while running:
        stop()


async def test_the_server_reconnects_when_the_broker_comes_back(
    make_app: Callable[..., Application], prefix: str, own_broker: Any
) -> None:
    port, start, stop = own_broker
    start()
    topics = {"REQUEST_TOPIC": f"{prefix}/request", "RESPONSE_TOPIC": f"{prefix}/response"}
    app = make_app(MQTT={"MODE": "external", "PORT": port, **topics})
    await app.start()
    try:
        async with Device(prefix, port=port) as device:
            assert (await device.request({"controller": "server", "action": "now"}))["status"] == 200
        stop()
        await asyncio.sleep(0.5)
        start()
        # The server's client comes back by itself; a device connecting now is served.
        for _ in range(100):
            try:
                async with Device(prefix, port=port) as device:
                    now = device.request({"controller": "server", "action": "now"})
                    envelope = await asyncio.wait_for(now, 1)  # sent before the server was back: lost
                    break
            except (aiomqtt.MqttError, TimeoutError):
                await asyncio.sleep(0.2)
        assert envelope["status"] == 200
    finally:
        await app.shutdown()
