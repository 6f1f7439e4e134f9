"""Redis, the channel layer of two server processes, killed and started again (keeping nothing).

The test starts its own ``redis-server`` on a free port (never the machine's own) and two uvicorn
processes using it. While Redis is down, WebSockets stay open, requests are answered, each
process's own subscribers are still notified and ``server:healthCheck`` says the layer is red;
once it is back, notifications cross processes again by themselves, for subscriptions made before,
during and after the outage. Run with ``-s`` to see the timeline.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.servers import UVICORN, Server, free_port, query, serve

RESUME_WITHIN = 10.0  # seconds: a bound for liveness, not a figure under test
IDLE_FOR = 8.0  # seconds an idle WebSocket waits: past channels_redis's 5 s blocking poll
ITEMS = {"index": "shop", "collection": "items"}


class RedisServer:
    """A ``redis-server`` of the test's own, on one port, that it kills and starts again."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.directory)]  # fmt: skip
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start: {(self.directory / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.kill()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redis-restart-db")


@pytest.fixture(scope="module")
def first(database: Path, redis: RedisServer) -> Iterator[Server]:
    yield from serve("first", UVICORN, database, {"REDIS_URL": redis.url, "KUZZLE_NODE": "node-a"})


@pytest.fixture(scope="module")
def second(database: Path, redis: RedisServer, first: Server) -> Iterator[Server]:
    yield from serve("second", UVICORN, database, {"REDIS_URL": redis.url, "KUZZLE_NODE": "node-b"})


class Client:
    """A WebSocket client: requests answered in order, notifications kept aside as they come."""

    ids = itertools.count()

    def __init__(self, ws: Any, name: str) -> None:
        self.ws = ws
        self.name = name
        self.notes: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server: Server, name: str) -> Client:
        return cls(await websockets.connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5), name)

    async def ask(self, **request: Any) -> dict[str, Any]:
        request_id = f"{self.name}-{next(self.ids)}"
        await self.ws.send(json.dumps({**request, "requestId": request_id}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if message.get("room") == request_id:
                return message
            self.notes.append(message)

    async def subscribe(self, body: dict[str, Any]) -> None:
        answer = await self.ask(controller="realtime", action="subscribe", **ITEMS, body=body)
        assert answer["status"] == 200, answer

    async def published(self, count: int = 1, timeout: float = 5) -> list[int]:
        """The ``n`` of the publications received, waiting up to ``timeout`` s for ``count`` of them."""
        deadline = time.monotonic() + timeout
        numbers: list[int] = []
        while len(numbers) < count:
            if not self.notes:
                try:
                    self.notes.append(json.loads(await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic())))
                except TimeoutError:
                    break
            message = self.notes.pop(0)
            if message.get("type") == "document":
                numbers.append(message["result"]["_source"]["n"])
        return numbers

    async def alive(self) -> bool:
        return (await self.ask(controller="server", action="now"))["status"] == 200


counter = itertools.count(1)


async def publish(server: Server, **source: Any) -> int:
    """``realtime:publish`` over HTTP on ``server`` of ``{"n": <a new number>, **source}``: the number."""
    number = next(counter)
    body = {"n": number, **source}
    answer = await asyncio.to_thread(
        query, server.port, {"controller": "realtime", "action": "publish", **ITEMS, "body": body}
    )
    assert answer["status"] == 200, answer
    return number


async def health(server: Server) -> dict[str, Any]:
    return await asyncio.to_thread(query, server.port, {"controller": "server", "action": "healthCheck"})


def outages_logged(server: Server) -> int:
    # The whole log: output() is its tail, which a library's traceback (channels_redis logs the
    # reset connection of its backup cleaner) can push the outage's line out of.
    return server.log.read_text(errors="replace").count("channel layer unreachable")


async def test_an_idle_websocket_and_subscription_outlast_the_layers_poll(first: Server, second: Server) -> None:
    idle = await Client.open(first, "idle")
    subscriber = await Client.open(first, "subscriber")
    try:
        await subscriber.subscribe({"equals": {"kind": "idle"}})
        await asyncio.sleep(IDLE_FOR)
        assert await idle.alive(), "an idle WebSocket was closed"
        sent = await publish(second, kind="idle")
        assert await subscriber.published() == [sent]
        assert outages_logged(first) == 0, first.output()
    finally:
        await idle.ws.close()
        await subscriber.ws.close()


async def test_notifications_cross_processes_again_after_redis_restarts(
    first: Server, second: Server, redis: RedisServer
) -> None:
    timeline: list[str] = []

    def note(line: str) -> None:
        timeline.append(line)
        print(line)

    on_first = await Client.open(first, "a")
    on_second = await Client.open(second, "b")
    clients = [on_first, on_second]
    try:
        await on_first.subscribe({"equals": {"kind": "old"}})
        await on_second.subscribe({"equals": {"kind": "old"}})

        # Before: each publication reaches both processes' subscribers.
        sent = [await publish(first, kind="old"), await publish(second, kind="old")]
        assert sorted(await on_first.published(2)) == sent
        assert sorted(await on_second.published(2)) == sent
        note(f"before: 2 published (one per process), delivered {len(sent)}/2 on each process")

        redis.kill()
        killed = time.monotonic()
        note("redis-server killed")

        # During: connections stay, requests are answered, local subscribers are notified.
        local_first = await publish(first, kind="old")
        local_second = await publish(second, kind="old")
        assert await on_first.published() == [local_first]
        assert await on_second.published() == [local_second]
        during = await Client.open(second, "c")  # a subscription made while Redis is down
        clients.append(during)
        await during.subscribe({"equals": {"kind": "during"}})
        for server in (first, second):
            answer = await health(server)
            assert answer["status"] == 500 and answer["result"]["services"]["channelLayer"] == "red", answer
            assert (await asyncio.to_thread(query, server.port, {"controller": "server", "action": "now"}))[
                "status"
            ] == 200
        await asyncio.sleep(1.5)  # several retries of every reader
        assert await on_first.alive() and await on_second.alive() and await during.alive()
        for server in (first, second):  # once per outage: the hub's layer and the connections' one
            assert 1 <= outages_logged(server) <= 2, server.output()
        note(
            f"during ({time.monotonic() - killed:.1f} s down): WebSockets open, HTTP answered, healthCheck 500 "
            "channelLayer red on both; local deliveries 2/2 (one per process), across processes 0/2"
        )

        last_during = max(local_first, local_second)
        redis.start()
        restarted = time.monotonic()
        note("redis-server started again (empty)")

        # After: the subscription made before the outage is notified from the other process again.
        async def resumes(publisher: Server, subscriber: Client, kind: str) -> float:
            deadline = restarted + RESUME_WITHIN
            while time.monotonic() < deadline:
                await publish(publisher, kind=kind)
                # Only the other process publishes what this subscriber gets from now on.
                received = await subscriber.published(timeout=0.2)
                if received:
                    # Nothing published during the outage crossed processes, even late.
                    assert min(received) > last_during, received
                    return time.monotonic() - restarted
            pytest.fail(
                f"no notification from {publisher.name} to {subscriber.name} {RESUME_WITHIN} s after the restart:\n"
                f"{first.output()}\n{second.output()}"
            )

        to_second = await resumes(first, on_second, "old")
        note(f"after: first -> second (subscription from before) delivered {to_second:.1f} s after the restart")
        to_first = await resumes(second, on_first, "old")
        note(f"after: second -> first (subscription from before) delivered {to_first:.1f} s after the restart")
        to_during = await resumes(first, during, "during")
        note(f"after: first -> second (subscription made during the outage) delivered {to_during:.1f} s after")
        new = await Client.open(first, "d")  # a subscription made after the restart
        clients.append(new)
        await new.subscribe({"equals": {"kind": "new"}})
        sent_new = await publish(second, kind="new")
        assert await new.published() == [sent_new]
        note("after: second -> first (subscription made after the restart) delivered at once")
        for server in (first, second):
            answer = await health(server)
            assert answer["status"] == 200, answer
            assert answer["result"]["services"]["channelLayer"] == "green"
        assert all([await client.alive() for client in clients])
        note("after: healthCheck green on both; every WebSocket still open")
    finally:
        for client in clients:
            await client.ws.close()
        print("\n".join(["", "Redis restart timeline:", *timeline]))
