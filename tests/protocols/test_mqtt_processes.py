"""A subscriber over MQTT on one server process, notified of a write made over HTTP on another
(the Channels Redis layer: this machine's Redis; the broker: its Mosquitto)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.protocols.test_mqtt import Device
from tests.servers import UVICORN, Server, query, serve

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
PREFIX = f"test-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mqtt-db")


@pytest.fixture(scope="module")
def mqtt_server(database: Path) -> Iterator[Server]:
    env = {
        "REDIS_URL": REDIS_URL,
        "KUZZLE_NODE": "node-mqtt",
        "KUZZLE_MQTT_HOST": "127.0.0.1",
        "KUZZLE_MQTT_REQUEST_TOPIC": f"{PREFIX}/request",
        "KUZZLE_MQTT_RESPONSE_TOPIC": f"{PREFIX}/response",
    }
    yield from serve("mqtt", UVICORN, database, env)


@pytest.fixture(scope="module")
def http_server(database: Path, mqtt_server: Server) -> Iterator[Server]:
    yield from serve("http", UVICORN, database, {"REDIS_URL": REDIS_URL, "KUZZLE_NODE": "node-http"})


async def test_a_write_over_http_elsewhere_notifies_an_mqtt_subscriber(
    mqtt_server: Server, http_server: Server
) -> None:
    for request in (
        {"controller": "index", "action": "create", "index": "shop"},
        {"controller": "collection", "action": "create", "index": "shop", "collection": "items"},
    ):
        assert query(http_server.port, request)["status"] == 200
    async with Device(PREFIX) as device:
        subscribe = {"controller": "realtime", "action": "subscribe", "index": "shop", "collection": "items"}
        subscribed = await device.request({**subscribe, "body": {"range": {"price": {"lt": 10}}}})
        assert subscribed["status"] == 200, subscribed["error"]
        assert subscribed["node"] == "node-mqtt"
        channel = subscribed["result"]["channel"]
        await device.listen(channel)
        create = {"controller": "document", "action": "create", "index": "shop", "collection": "items"}
        loop = asyncio.get_running_loop()
        created = await loop.run_in_executor(
            None, query, http_server.port, {**create, "_id": "i1", "body": {"price": 5}}
        )
        assert created["status"] == 200
        note = json.loads((await device.next(channel)).payload)
        assert (note["room"], note["action"], note["result"]["_id"], note["node"]) == (
            channel, "create", "i1", "node-mqtt",
        )  # fmt: skip
