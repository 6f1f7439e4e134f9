"""``context.accessors.subscription``: a plugin subscribes a client's connection to a room, or
takes it out of one, as Kuzzle's plugin context lets it (without going through the API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kuzzle_events.core.request import Connection, KuzzleRequest

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["Subscriptions"]


class Subscriptions:
    """Subscriptions of connected clients, made by a plugin."""

    def __init__(self, app: Application) -> None:
        self._app = app

    async def register(
        self, connection_id: str, index: str, collection: str, filters: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Subscribe the connection ``connection_id`` (a client's, that receives notifications) to
        ``filters`` on ``index``/``collection``: ``{"roomId", "channel"}``, as ``realtime:subscribe``
        answers (``core.realtime.unsupported_protocol`` for a connection without notifications)."""
        request = KuzzleRequest(
            {"controller": "realtime", "action": "subscribe", "index": index, "collection": collection,
             "body": dict(filters)},
            connection=Connection(connection_id, protocol=self._app.realtime.protocol_of(connection_id)),
        )  # fmt: skip
        return await self._app.realtime.subscribe(request)

    async def unregister(self, connection_id: str, room_id: str, notify: bool = True) -> None:
        """Take the connection out of ``room_id`` (``core.realtime.not_subscribed`` if it is not
        in it); with ``notify``, the room's other members are told, as when a client leaves it."""
        request = KuzzleRequest(
            {"controller": "realtime", "action": "unsubscribe", "body": {"roomId": room_id}},
            connection=Connection(connection_id, protocol=self._app.realtime.protocol_of(connection_id)),
        )
        await self._app.realtime.unsubscribe(request, notify=notify)
