"""The ``realtime`` controller: subscriptions (WebSocket), publish, count and list (``app.realtime``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events.api.table import Table, route

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions"]


def actions() -> Table:
    """The ``realtime`` controller: action -> (handler, HTTP routes)."""
    return {
        "subscribe": (subscribe, []),
        "unsubscribe": (unsubscribe, []),
        "publish": (publish, [route("post", "/:index/:collection/_publish")]),
        "count": (count, []),
        "list": (list_, [route("get", "/_listSubscriptions")]),
    }


async def subscribe(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Notifications of a collection's changes matching ``body`` (a filter); ``{"roomId", "channel"}``."""
    return await app.realtime.subscribe(request)


async def unsubscribe(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Leave the room ``body.roomId``."""
    return await app.realtime.unsubscribe(request)


async def publish(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Notify the subscribers whose filter ``body`` matches, storing nothing."""
    return await app.realtime.publish(request)


async def count(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """How many connections are subscribed to ``body.roomId``, on every process sharing the channel layer."""
    return await app.realtime.count(request)


async def list_(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """``{index: {collection: {roomId: count}}}`` of every process sharing the channel layer."""
    return await app.realtime.list()
