"""Two server processes counting each other's subscribers through Redis; one killed, then forgotten."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.realtime.test_census import REDIS_URL, needs_redis
from tests.servers import UVICORN, Server, query, serve

SETTINGS = "tests.realtime.short_ttl_settings"  # SUBSCRIPTIONS_TTL: 1 s


def start(name: str, database: Path, node: str) -> Iterator[Server]:
    return serve(
        name, UVICORN, database, {"REDIS_URL": REDIS_URL, "KUZZLE_NODE": node, "DJANGO_SETTINGS_MODULE": SETTINGS}
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path


async def ask(port: int, request: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(None, query, port, request)


class Subscriber:
    """A WebSocket client: answers to its requests, notifications kept aside."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.notes: list[dict[str, Any]] = []

    async def subscribe(self, **request: Any) -> dict[str, Any]:
        request_id = uuid.uuid4().hex
        await self.ws.send(
            json.dumps({"controller": "realtime", "action": "subscribe", "requestId": request_id, **request})
        )
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if message.get("requestId") == request_id and message.get("type") != "user":
                assert message["status"] == 200, message
                return dict(message["result"])
            self.notes.append(message)

    async def note(self) -> dict[str, Any]:
        if self.notes:
            return self.notes.pop(0)
        return dict(json.loads(await asyncio.wait_for(self.ws.recv(), 5)))


@needs_redis
async def test_counts_cover_both_processes_and_a_killed_one_is_forgotten(database: Path) -> None:
    first = start("first", database, "node-a")
    a = next(first)
    try:
        second = start("second", database, "node-b")
        b = next(second)
        try:
            await counts_over_processes(a, b)
        finally:
            second.close()  # the killed one: nothing to stop
    finally:
        first.close()


async def counts_over_processes(a: Server, b: Server) -> None:
    # An index of its own: other tests on the same Redis have rooms of their own.
    index, collection = f"census{uuid.uuid4().hex[:12]}", "items"
    where = {"index": index, "collection": collection}
    cheap, dear = {"range": {"price": {"lt": 10}}}, {"range": {"price": {"gte": 10}}}
    async with (
        websockets.connect(f"ws://127.0.0.1:{a.port}/") as on_a,
        websockets.connect(f"ws://127.0.0.1:{b.port}/") as on_b1,
        websockets.connect(f"ws://127.0.0.1:{b.port}/") as on_b2,
    ):
        alice, bob, carol = Subscriber(on_a), Subscriber(on_b1), Subscriber(on_b2)
        room = (await alice.subscribe(**where, body=cheap, users="all"))["roomId"]
        assert (await bob.subscribe(**where, body=cheap))["roomId"] == room
        note = await alice.note()  # counted on the second process, sent by the first
        assert (note["type"], note["user"], note["result"], note["node"]) == ("user", "in", {"count": 2}, "node-a")
        await carol.subscribe(**where, body=cheap)
        other = (await carol.subscribe(**where, body=dear))["roomId"]
        assert (await alice.note())["result"] == {"count": 3}

        for server in (a, b):
            counted = await ask(server.port, {"controller": "realtime", "action": "count", "body": {"roomId": room}})
            assert counted["result"] == {"count": 3}, (server.name, counted)
            listed = await ask(server.port, {"controller": "realtime", "action": "list"})
            assert listed["result"][index] == {collection: {room: 3, other: 1}}, (server.name, listed)

        b.process.send_signal(signal.SIGKILL)  # no word to anyone: its subscriptions expire
        b.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while True:
            listed = await ask(a.port, {"controller": "realtime", "action": "list"})
            if listed["result"].get(index) == {collection: {room: 1}}:
                break
            assert time.monotonic() < deadline, f"still counted after the TTL: {listed}"
            await asyncio.sleep(0.1)
        counted = await ask(a.port, {"controller": "realtime", "action": "count", "body": {"roomId": room}})
        assert counted["result"] == {"count": 1}
        assert (await ask(a.port, {"controller": "realtime", "action": "count", "body": {"roomId": other}}))[
            "result"
        ] == {"count": 0}
