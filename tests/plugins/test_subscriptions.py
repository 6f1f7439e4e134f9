"""``context.accessors.subscription`` (kuzzle_events.plugins.subscriptions): a plugin subscribes a
client's connection, and takes it out, as Kuzzle's plugin context does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.errors import KuzzleError
from kuzzle_events.plugin import Plugin


class Holder(Plugin):
    manifest = {"name": "holder", "kuzzle_events": ">=0.1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        super().init(config, context)
        self.subscription = context.accessors.subscription


def client(app: Application, connection_id: str) -> list[dict[str, Any]]:
    """A connection that receives notifications, as a WebSocket does: what it was sent."""
    received: list[dict[str, Any]] = []

    async def send(text: str) -> None:
        received.append(json.loads(text))

    app.realtime.attach(connection_id, send)
    return received


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_plugin_subscribes_a_clients_connection_and_takes_it_out(kapp: Application) -> None:
    holder = Holder()
    kapp.plugin.use(holder)
    await kapp.start()
    await kapp.sdk.query({"controller": "collection", "action": "create", "index": "town", "collection": "people"})
    luca, watcher = client(kapp, "luca-connection"), client(kapp, "watcher-connection")
    subscribed = await holder.subscription.register("luca-connection", "town", "people", {"equals": {"name": "Luca"}})
    assert set(subscribed) == {"roomId", "channel"}
    room = subscribed["roomId"]
    # A client in the same room, told of the users who join and leave it.
    watch = {"controller": "realtime", "action": "subscribe", "index": "town", "collection": "people",
             "body": {"equals": {"name": "Luca"}}, "users": "all"}  # fmt: skip
    await kapp.realtime.subscribe(KuzzleRequest(watch, connection=Connection("watcher-connection", "websocket")))
    create = {"controller": "document", "action": "create", "index": "town", "collection": "people"}
    await kapp.sdk.query({**create, "_id": "luca", "body": {"name": "Luca"}})
    await settle()
    assert [(n["type"], n["result"]["_id"]) for n in luca] == [("document", "luca")]
    assert luca[0]["room"] == subscribed["channel"]
    watcher.clear()
    await holder.subscription.unregister("luca-connection", room, notify=False)
    await settle()
    assert watcher == []  # nobody told
    await holder.subscription.register("luca-connection", "town", "people", {"equals": {"name": "Luca"}})
    await settle()
    watcher.clear()
    await holder.subscription.unregister("luca-connection", room)
    await settle()
    assert [(n["type"], n["user"]) for n in watcher] == [("user", "out")]
    await kapp.sdk.query({**create, "_id": "luca-2", "body": {"name": "Luca"}})
    await settle()
    assert len(luca) == 1
    with pytest.raises(KuzzleError) as missing:
        await holder.subscription.unregister("luca-connection", room)
    assert missing.value.id == "core.realtime.not_subscribed"
    with pytest.raises(KuzzleError) as offline:
        await holder.subscription.register("no-such-connection", "town", "people", {})
    assert offline.value.id == "core.realtime.unsupported_protocol"
