"""Two server processes sharing subscriptions through the Channels Redis layer (this machine's Redis)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.servers import UVICORN, Server, query, serve

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("realtime-db")


@pytest.fixture(scope="module")
def first(database: Path) -> Iterator[Server]:
    yield from serve("first", UVICORN, database, {"REDIS_URL": REDIS_URL, "KUZZLE_NODE": "node-a"})


@pytest.fixture(scope="module")
def second(database: Path, first: Server) -> Iterator[Server]:
    yield from serve("second", UVICORN, database, {"REDIS_URL": REDIS_URL, "KUZZLE_NODE": "node-b"})


async def test_a_write_on_one_process_notifies_subscribers_on_the_other(first: Server, second: Server) -> None:
    for request in (
        {"controller": "index", "action": "create", "index": "shop"},
        {"controller": "collection", "action": "create", "index": "shop", "collection": "items"},
    ):
        assert query(first.port, request)["status"] == 200

    async with websockets.connect(f"ws://127.0.0.1:{first.port}/") as ws:
        subscribe = {"controller": "realtime", "action": "subscribe", "index": "shop", "collection": "items",
                     "body": {"range": {"price": {"lt": 10}}}, "requestId": "s1"}  # fmt: skip
        await ws.send(json.dumps(subscribe))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer["status"] == 200, answer
        channel = answer["result"]["channel"]

        def on_second(request: dict) -> dict:
            return query(second.port, {"index": "shop", "collection": "items", **request})

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            None, on_second, {"controller": "realtime", "action": "publish", "body": {"price": 99}}
        )
        await loop.run_in_executor(
            None, on_second, {"controller": "realtime", "action": "publish", "body": {"price": 3}}
        )
        note = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (note["room"], note["action"], note["result"]["_source"]) == (channel, "publish", {"price": 3})
        # Sent by the process it was subscribed on, from the other's change.
        assert note["node"] == "node-a"

        created = await loop.run_in_executor(
            None, on_second, {"controller": "document", "action": "create", "_id": "i1", "body": {"price": 5}}
        )
        assert created["status"] == 200
        note = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (note["room"], note["controller"], note["action"], note["result"]["_id"]) == (
            channel, "document", "create", "i1",
        )  # fmt: skip
