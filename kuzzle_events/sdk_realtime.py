"""``app.sdk.realtime``: realtime subscriptions and publications of the server's own code, as
Kuzzle's embedded SDK offers them (``subscribe(index, collection, filters, callback)``)."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.request import NOBODY, Connection, KuzzleRequest

if TYPE_CHECKING:
    from kuzzle_events.sdk import EmbeddedSDK

__all__ = ["EmbeddedRealtime"]

Callback = Callable[[dict[str, Any]], Any]
_OPTIONS = ("scope", "users", "volatile")


class EmbeddedRealtime:
    """The realtime controller of the embedded SDK.

    Each subscription is a connection of its own (protocol ``internal``) whose notifications are
    handed to the callback, as a dict, in a task of their own: a slow callback does not hold back
    the other subscribers. A callback that raises is logged.
    """

    def __init__(self, sdk: EmbeddedSDK) -> None:
        self._sdk = sdk
        self._rooms: dict[str, list[str]] = {}  # room id -> this SDK's connections in it
        self._tasks: set[asyncio.Task[Any]] = set()

    async def subscribe(
        self,
        index: str,
        collection: str,
        filters: Mapping[str, Any],
        callback: Callback,
        options: Mapping[str, Any] | None = None,
    ) -> str:
        """Subscribe ``callback`` to the notifications of ``filters`` on ``index``/``collection``
        (Koncorde filters; ``options``: ``scope``, ``users``, ``volatile``); the room id."""
        app = self._sdk._app
        app._require_started("sdk", starting=True)
        connection = Connection(protocol="internal")
        app.realtime.attach(connection.id, self._sender(callback), protocol="internal")
        extra = {k: v for k, v in (options or {}).items() if k in _OPTIONS}
        request = KuzzleRequest(
            {"controller": "realtime", "action": "subscribe", "index": index, "collection": collection,
             "body": dict(filters), **extra},
            connection=connection,
            user=NOBODY,
        )  # fmt: skip
        await self._sdk.execute(request)
        if request.error is not None:
            await app.realtime.detach(connection.id)
            raise request.error
        room_id: str = request.result["roomId"]
        self._rooms.setdefault(room_id, []).append(connection.id)
        return room_id

    async def unsubscribe(self, room_id: str) -> None:
        """Stop every subscription of this SDK to ``room_id`` (``core.realtime.not_subscribed`` if none)."""
        connections = self._rooms.pop(room_id, None)
        if not connections:
            raise errors.get("core.realtime.not_subscribed", "app.sdk", room_id)
        realtime = self._sdk._app.realtime
        for connection_id in connections:
            # Leaving the room is leaving the connection that existed only for it.
            await realtime.detach(connection_id)

    async def publish(self, index: str, collection: str, message: Mapping[str, Any]) -> None:
        """Send ``message`` to the subscribers of ``index``/``collection`` (``realtime:publish``)."""
        await self._sdk.query(
            {"controller": "realtime", "action": "publish", "index": index, "collection": collection,
             "body": dict(message)}
        )  # fmt: skip

    async def count(self, room_id: str) -> int:
        """How many subscribers ``room_id`` has (``realtime:count``)."""
        response = await self._sdk.query({"controller": "realtime", "action": "count", "body": {"roomId": room_id}})
        return int(response["result"]["count"])

    def _sender(self, callback: Callback) -> Callable[[str], Any]:
        log = self._sdk._app.log

        async def call(notification: dict[str, Any]) -> None:
            try:
                result = callback(notification)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("kuzzle_events: a callback of app.sdk.realtime.subscribe failed")

        async def send(text: str) -> None:
            task = asyncio.get_running_loop().create_task(call(json.loads(text)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return send
