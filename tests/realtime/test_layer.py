"""A shared channel layer that fails: the hub and WebSockets go on without it and recover with it.

``FlakyLayer`` stands for channels_redis on one Redis server that the tests stop (every call
fails, blocked reads end with an error) and start again empty (groups and queues lost). Each
application's hub has its own instance, as each process has.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.layers import BaseChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer

from kuzzle_events import Application
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from kuzzle_events.realtime import layer as layer_module
from kuzzle_events.realtime.layer import LayerHealth, prepare, uncancelled
from tests.api.test_auth import call
from tests.realtime.test_hub import Client

WITHIN = 5.0  # seconds: a bound for liveness


class Redis:
    """The one server every FlakyLayer talks to."""

    up = True
    groups: dict[str, set[str]] = {}
    queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
    lost: asyncio.Event | None = None

    @classmethod
    def reset(cls) -> None:
        cls.up, cls.groups, cls.queues, cls.lost = True, {}, {}, None

    @classmethod
    def stop(cls) -> None:
        cls.up = False
        if cls.lost is not None:
            cls.lost.set()  # blocked reads end: the server closed their connections

    @classmethod
    def start(cls) -> None:
        cls.up, cls.groups, cls.queues, cls.lost = True, {}, {}, None

    @classmethod
    def check(cls) -> None:
        if not cls.up:
            raise ConnectionError("Error 111 connecting to redis. Connection refused.")


class Ping:
    async def ping(self) -> bool:
        Redis.check()
        return True


class FlakyLayer(BaseChannelLayer):
    extensions = ["groups"]
    ring_size = 1

    def connection(self, index: int) -> Ping:
        return Ping()

    async def new_channel(self, prefix: str = "specific") -> str:
        return f"{prefix}.flaky!{uuid.uuid4().hex}"

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        Redis.check()
        Redis.queues.setdefault(channel, asyncio.Queue()).put_nowait(message)

    async def receive(self, channel: str) -> dict[str, Any]:
        Redis.check()
        if Redis.lost is None:
            Redis.lost = asyncio.Event()
        lost = asyncio.ensure_future(Redis.lost.wait())
        get = asyncio.ensure_future(Redis.queues.setdefault(channel, asyncio.Queue()).get())
        try:
            done, _ = await asyncio.wait({lost, get}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            get.cancel()
        if get in done and not get.cancelled():
            return get.result()
        raise ConnectionError("Connection closed by server.")

    async def group_add(self, group: str, channel: str) -> None:
        Redis.check()
        Redis.groups.setdefault(group, set()).add(channel)

    async def group_discard(self, group: str, channel: str) -> None:
        Redis.check()
        Redis.groups.get(group, set()).discard(channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        Redis.check()
        for channel in Redis.groups.get(group, set()):
            Redis.queues.setdefault(channel, asyncio.Queue()).put_nowait(message)


class Greeted(KuzzleConsumer):
    """A consumer with a handler for a layer message, as a project's own consumer has."""

    channels: list[str] = []

    async def connect(self) -> None:
        await super().connect()
        Greeted.channels.append(self.channel_name)

    async def greeting(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])


@pytest.fixture
def flaky(settings: Any) -> Any:
    Redis.reset()
    Greeted.channels = []
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.realtime.test_layer.FlakyLayer"}}
    yield Redis
    Redis.reset()


@pytest.fixture
async def processes(flaky: Any, make_app: Callable[..., Application]) -> AsyncIterator[tuple[Application, Application]]:
    """Two applications, each with its own layer instance on the one server: two processes."""
    one, two = make_app(NODE="one"), make_app(NODE="two")
    await one.start()
    await two.start()
    yield one, two
    await one.shutdown()
    await two.shutdown()


async def publish(app: Application, n: int) -> dict[str, Any]:
    return await app.sdk.query(
        {"controller": "realtime", "action": "publish", "index": "shop", "collection": "items", "body": {"n": n}}
    )


async def subscribed(client: Client) -> None:
    answer = await client.query(controller="realtime", action="subscribe", index="shop", collection="items", body={})
    assert answer["status"] == 200, answer


async def resumed(publisher: Application, subscriber: Client) -> None:
    """Publish on ``publisher`` until ``subscriber`` is notified (within ``WITHIN`` s)."""
    deadline = time.monotonic() + WITHIN
    n = 1000
    while time.monotonic() < deadline:
        n += 1
        assert (await publish(publisher, n))["status"] == 200
        if not await subscriber.ws.receive_nothing(timeout=0.2):
            note = await subscriber.notification()
            assert note["result"]["_source"]["n"] > 1000
            return
    pytest.fail(f"no notification across processes {WITHIN} s after the layer was back")


def test_prepare_gives_idle_reads_a_timeout_past_the_poll() -> None:
    layer = RedisChannelLayer(
        hosts=["redis://127.0.0.1:1/0", "redis://127.0.0.1:2/0?socket_timeout=2", {"host": "h", "socket_timeout": 3}]
    )
    prepare(layer)
    prepare(layer)
    poll = layer.brpop_timeout
    assert layer.hosts[0] == {
        "address": "redis://127.0.0.1:1/0",
        "socket_timeout": poll + 5,
        "socket_connect_timeout": 5,
    }
    assert layer.hosts[1] == {"address": "redis://127.0.0.1:2/0?socket_timeout=2"}  # the project's own choice
    assert layer.hosts[2] == {"host": "h", "socket_timeout": 3}
    assert layer.create_pool(0).connection_kwargs["socket_timeout"] > poll
    prepare(object())  # not a channels_redis layer: nothing to do


def test_an_outage_is_logged_once(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="kuzzle_events")
    now = [100.0]
    monkeypatch.setattr(layer_module.time, "monotonic", lambda: now[0])
    health = LayerHealth(logging.getLogger("kuzzle_events"), "the layer", "it waits")
    for _ in range(5):
        health.failed(ConnectionError("refused"))
        now[0] += 1
    assert health.status == "red"
    assert health.ok() is True and health.ok() is False and health.status == "green"
    health.failed(ConnectionError("refused"))  # a new outage
    now[0] += 60
    health.failed(ConnectionError("refused"))  # one that never saw the layer back, long after: new too
    lines = [record.getMessage().split(" after ")[0] for record in caplog.records]
    assert lines == [
        "the layer unreachable (it waits): ConnectionError: refused",
        "the layer reachable again",
        "the layer unreachable (it waits): ConnectionError: refused",
        "the layer unreachable (it waits): ConnectionError: refused",
    ]


async def test_a_cancelled_caller_ends_even_if_its_read_swallows_the_cancellation() -> None:
    ended = asyncio.Event()

    async def stubborn() -> None:  # as a read that loses its cancellation once
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
        try:
            await asyncio.sleep(10)
        finally:
            ended.set()

    caller = asyncio.ensure_future(uncancelled(stubborn()))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, WITHIN)
    await asyncio.wait_for(ended.wait(), WITHIN)  # cancelled again until done


async def test_notifications_cross_processes_again_after_the_layer_restarts(
    processes: tuple[Application, Application], flaky: Any, warnings_log: pytest.LogCaptureFixture
) -> None:
    one, two = processes
    async with Client(one) as on_one:
        await subscribed(on_one)
        assert (await publish(two, 1))["status"] == 200
        assert (await on_one.notification())["result"]["_source"] == {"n": 1}

        flaky.stop()
        # Publications are answered and reach this process's subscriber; the other's miss them.
        assert (await publish(one, 2))["status"] == 200
        assert (await on_one.notification())["result"]["_source"] == {"n": 2}
        assert (await publish(two, 3))["status"] == 200
        assert await on_one.nothing()
        health = await call(one, controller="server", action="healthCheck")
        assert (health["status"], health["error"]["id"]) == (500, "core.fatal.service_unavailable")
        assert health["error"]["message"] == "Service unavailable: channelLayer: the channel layer is unreachable."
        # As Kuzzle's: the result still says which service is red.
        assert health["result"] == {
            "services": {"internalCache": "green", "memoryStorage": "green", "storageEngine": "green", "channelLayer": "red"},
            "status": "red",
        }
        async with Client(two) as on_two:
            # The first subscriber of the other process, while the layer is down: answered.
            await subscribed(on_two)
            assert (await on_one.query(controller="server", action="now"))["status"] == 200

            flaky.start()  # empty: the group is gone
            await resumed(two, on_one)  # joined before the outage
            await resumed(one, on_two)  # subscribed during the outage
            health = await call(two, controller="server", action="healthCheck")
            assert health["result"]["services"]["channelLayer"] == "green"
    outages = [r for r in warnings_log.records if "unreachable" in r.getMessage() and "realtime" in r.getMessage()]
    assert 1 <= len(outages) <= 2, [r.getMessage() for r in outages]  # once per process at most


async def test_sends_wait_for_the_layer_to_answer_again(processes: tuple[Application, Application], flaky: Any) -> None:
    one, two = processes
    async with Client(one) as on_one:
        await subscribed(on_one)
        flaky.stop()
        calls = 0
        original = FlakyLayer.group_send

        async def counted(self: FlakyLayer, group: str, message: dict[str, Any]) -> None:
            nonlocal calls
            calls += 1
            await original(self, group, message)

        FlakyLayer.group_send = counted  # type: ignore[method-assign]
        try:
            for n in range(5):
                assert (await publish(two, n))["status"] == 200
        finally:
            FlakyLayer.group_send = original  # type: ignore[method-assign]
        assert calls == 1  # the first found the layer down; the others did not wait on it


async def test_a_websocket_outlives_its_layer_and_reads_it_again(flaky: Any, started: Application) -> None:
    layer = get_channel_layer()
    ws = WebsocketCommunicator(Greeted.as_asgi(kuzzle_app=started), "/")
    connected, _ = await ws.connect()
    assert connected
    try:
        flaky.stop()
        await asyncio.sleep(0.5)  # a few failed reads
        await ws.send_json_to({"controller": "server", "action": "now", "requestId": "r1"})
        assert (await ws.receive_json_from(timeout=WITHIN))["status"] == 200

        flaky.start()
        await layer.send(Greeted.channels[0], {"type": "greeting", "text": "hello"})
        assert await ws.receive_from(timeout=WITHIN) == "hello"
    finally:
        await ws.disconnect()
