"""Subscriptions counted over processes (``realtime.census``), against a real Redis.

Each test writes under a key prefix of its own and deletes its keys. The Redis ones run whenever a
Redis answers at TEST_REDIS_URL (this machine's by default), whatever channel layer the suite uses.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import redis
from redis import asyncio as aioredis

from kuzzle_events import Application, conf
from kuzzle_events.realtime.census import Census, census_of_layer
from kuzzle_events.realtime.rooms import Rooms
from tests.api.test_auth import call
from tests.realtime.test_hub import CHEAP, Client
from tests.servers import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
LOG = logging.getLogger("kuzzle_events")


def _redis_answers() -> bool:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason=f"no Redis answers at {REDIS_URL}")


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of the test's own; its keys are deleted after it."""
    name = f"test-census-{uuid.uuid4().hex}"
    yield name
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(f"{name}*"))
        if keys:
            client.delete(*keys)


class Process(NamedTuple):
    """What a server process has: its rooms, and its census of them."""

    rooms: Rooms
    census: Census
    origin: str

    def subscribe(self, connection: str, filters: Any, collection: str = "c") -> str:
        return self.rooms.subscribe(connection, "i", collection, filters).room_id


@pytest.fixture
async def processes(prefix: str) -> AsyncIterator[Callable[..., Process]]:
    """Make a process with a census under ``prefix``; all are closed at the end."""
    made: list[Process] = []

    def make(ttl: float = 6.0) -> Process:
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        rooms, origin = Rooms(), uuid.uuid4().hex
        made.append(Process(rooms, Census(client, rooms, origin, ttl=ttl, prefix=prefix, log=LOG), origin))
        return made[-1]

    yield make
    for process in made:
        await process.census.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    """Whether ``check()`` becomes true within ``timeout`` seconds (a bound on liveness, not a measure)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@needs_redis
async def test_counts_are_summed_over_processes(processes: Callable[..., Process], prefix: str) -> None:
    a, b = processes(), processes()
    cheap = a.subscribe("a1", CHEAP)
    assert await a.census.changed([cheap]) == {cheap: 1}
    b.subscribe("b1", CHEAP)
    b.subscribe("b2", CHEAP)
    other = b.subscribe("b2", {"equals": {"x": 1}}, collection="d")
    assert await b.census.changed([cheap, other]) == {cheap: 3, other: 1}
    assert (await a.census.count(cheap), await a.census.count(other), await a.census.count("0" * 32)) == (3, 1, 0)
    assert await a.census.list() == await b.census.list() == {"i": {"c": {cheap: 3}, "d": {other: 1}}}

    b.rooms.drop_connection("b2")
    assert await b.census.changed([cheap, other]) == {cheap: 2, other: 0}
    assert await a.census.list() == {"i": {"c": {cheap: 2}}}
    b.rooms.drop_connection("b1")
    assert await b.census.changed([cheap]) == {cheap: 1}
    # A process without subscribers leaves the census: its hash is gone.
    with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
        assert client.zrange(f"{prefix}:processes", 0, -1) == [a.origin]
        assert client.keys(f"{prefix}:process:*") == [f"{prefix}:process:{a.origin}"]
    await a.census.close()  # a process that stops leaves at once
    assert await b.census.count(cheap) == 0


@needs_redis
async def test_a_process_that_stops_refreshing_stops_being_counted(processes: Callable[..., Process]) -> None:
    alive, killed = processes(ttl=0.3), processes(ttl=0.3)
    room = alive.subscribe("a1", CHEAP)
    await alive.census.changed([room])
    killed.subscribe("k1", CHEAP)
    assert await killed.census.changed([room]) == {room: 2}
    # As a SIGKILL would: it stops refreshing, and never says it left.
    heartbeat = killed.census._heartbeat
    assert heartbeat is not None
    killed.census._closed = True
    heartbeat.cancel()
    await asyncio.wait([heartbeat])

    async def counted_alone() -> bool:
        return await alive.census.count(room) == 1

    assert await eventually(counted_alone)
    # The live one refreshes its own: still counted several periods later.
    await asyncio.sleep(1.0)
    assert await alive.census.count(room) == 1
    assert await alive.census.list() == {"i": {"c": {room: 1}}}


@needs_redis
async def test_a_lost_hash_is_written_whole_at_the_next_change(processes: Callable[..., Process], prefix: str) -> None:
    process, reader = processes(ttl=60.0), processes()  # no refresh during the test
    first = process.subscribe("c1", CHEAP)
    second = process.subscribe("c1", {"equals": {"x": 1}})
    await process.census.changed([first, second])
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(f"{prefix}:process:{process.origin}")  # as a Redis restarted empty
    assert await reader.census.list() == {}
    # A change of one room writes them all, since the hash lost its mark of completeness.
    process.subscribe("c2", CHEAP)
    assert await process.census.changed([first]) == {first: 2}
    assert await reader.census.list() == {"i": {"c": {first: 2, second: 1}}}


@needs_redis
async def test_the_refresh_writes_a_lost_hash_whole(processes: Callable[..., Process], prefix: str) -> None:
    process, reader = processes(ttl=0.3), processes()
    first = process.subscribe("c1", CHEAP)
    second = process.subscribe("c1", {"equals": {"x": 1}})
    await process.census.changed([first, second])
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(f"{prefix}:process:{process.origin}")

    async def restored() -> bool:
        return await reader.census.list() == {"i": {"c": {first: 1, second: 1}}}

    assert await eventually(restored)


@needs_redis
async def test_concurrent_changes_are_all_written(processes: Callable[..., Process]) -> None:
    process, reader = processes(), processes()
    room = process.subscribe("c0", CHEAP)
    await process.census.changed([room])

    async def join(n: int) -> None:
        process.subscribe(f"c{n}", CHEAP)
        await process.census.changed([room])

    await asyncio.gather(*(join(n) for n in range(1, 30)))
    assert await reader.census.count(room) == 30


def unreachable(rooms: Rooms, ttl: float = 6.0) -> Census:
    """A census on a channels_redis layer whose Redis does not answer."""
    layer = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
    }
    census = census_of_layer(layer, rooms, uuid.uuid4().hex, ttl=ttl, log=LOG)
    assert census is not None
    return census


async def test_unreachable_redis_answers_none_and_logs_once(warnings_log: pytest.LogCaptureFixture) -> None:
    rooms = Rooms()
    census = unreachable(rooms)
    room = rooms.subscribe("c1", "i", "c", CHEAP).room_id
    assert await census.changed([room]) is None
    assert await census.count(room) is None
    assert await census.list() is None
    await census.close()
    lines = [r.getMessage() for r in warnings_log.records if "Redis unreachable" in r.getMessage()]
    assert len(lines) == 1, lines


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server to start")
async def test_counting_resumes_when_redis_comes_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kuzzle_events")
    port = free_port()
    layer = {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]}}
    rooms = Rooms()
    census = census_of_layer(layer, rooms, uuid.uuid4().hex, ttl=0.3, log=LOG)
    assert census is not None
    room = rooms.subscribe("c1", "i", "c", CHEAP).room_id
    other = rooms.subscribe("c1", "i", "c", {"equals": {"x": 1}}).room_id
    assert await census.changed([room]) is None  # nothing listens yet
    assert await census.changed([other]) is None  # not even tried: the heartbeat will
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:

        async def counted() -> bool:
            return await census.list() == {"i": {"c": {room: 1, other: 1}}}

        assert await eventually(counted)
        await census.close()
    finally:
        server.kill()
        server.wait()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unreachable" in m for m in messages) == 1
    assert sum("Redis reachable again" in m for m in messages) == 1


async def test_the_hub_counts_locally_when_redis_is_unreachable(
    settings: Any, warnings_log: pytest.LogCaptureFixture
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    app = Application()
    await app.start()
    app.realtime.census = unreachable(app.realtime.rooms)
    async with Client(app) as alice, Client(app) as bob:
        sub = await alice.query(
            controller="realtime", action="subscribe", index="i", collection="c", body=CHEAP, users="all"
        )
        room_id = sub["result"]["roomId"]
        joined = await bob.query(controller="realtime", action="subscribe", index="i", collection="c", body=CHEAP)
        assert joined["status"] == 200
        note = await alice.notification()
        assert (note["user"], note["result"]) == ("in", {"count": 2})
        assert (await call(app, controller="realtime", action="count", body={"roomId": room_id}))["result"] == {
            "count": 2
        }
        assert (await call(app, controller="realtime", action="list"))["result"] == {"i": {"c": {room_id: 2}}}
    await app.shutdown()
    assert any("Redis unreachable" in r.getMessage() for r in warnings_log.records)


async def test_no_census_without_a_shared_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    app = Application()
    await app.start()
    assert app.realtime.census is None
    await app.shutdown()


@needs_redis
async def test_applications_on_one_redis_layer_count_each_others_subscribers(settings: Any, prefix: str) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix},
        }
    }
    first, second = Application(config={"NODE": "node-a"}), Application(config={"NODE": "node-b"})
    await first.start()
    await second.start()
    try:
        assert first.realtime.census is not None
        async with Client(first) as alice, Client(second) as bob:
            sub = await alice.query(
                controller="realtime", action="subscribe", index="i", collection="c", body=CHEAP, users="all"
            )
            room_id = sub["result"]["roomId"]
            await bob.query(controller="realtime", action="subscribe", index="i", collection="c", body=CHEAP)
            note = await alice.notification()  # from the other process, counted there
            assert (note["user"], note["result"], note["node"]) == ("in", {"count": 2}, "node-a")
            for app in (first, second):
                counted = await call(app, controller="realtime", action="count", body={"roomId": room_id})
                assert counted["result"] == {"count": 2}
                assert (await call(app, controller="realtime", action="list"))["result"] == {"i": {"c": {room_id: 2}}}
            await bob.ws.disconnect()
            note = await alice.notification()
            assert (note["user"], note["result"]) == ("out", {"count": 1})
    finally:
        await first.shutdown()
        await second.shutdown()
    with redis.Redis.from_url(REDIS_URL) as client:
        assert list(client.scan_iter(f"{prefix}:kuzzle_events:*")) == []


def test_the_ttl_setting_is_checked() -> None:
    assert conf.DEFAULTS["SUBSCRIPTIONS_TTL"] > 0
    for wrong in (0, -1, "6", math.nan, math.inf, True, None):
        assert set(conf.wrong_types({"SUBSCRIPTIONS_TTL": wrong})) == {"SUBSCRIPTIONS_TTL"}, wrong
    assert conf.wrong_types({"SUBSCRIPTIONS_TTL": 0.5}) == {}
