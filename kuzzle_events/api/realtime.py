"""The ``realtime`` controller: subscriptions (WebSocket), publish, count and list (``app.realtime``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["realtime_controller"]


def realtime_controller(app: Application) -> dict[str, Any]:
    async def subscribe(request: KuzzleRequest) -> dict[str, Any]:
        """Notifications of a collection's changes matching ``body`` (a filter); ``{"roomId", "channel"}``."""
        return await app.realtime.subscribe(request)

    async def unsubscribe(request: KuzzleRequest) -> dict[str, Any]:
        """Leave the room ``body.roomId``."""
        return await app.realtime.unsubscribe(request)

    async def publish(request: KuzzleRequest) -> dict[str, Any]:
        """Notify the subscribers whose filter ``body`` matches, storing nothing."""
        return await app.realtime.publish(request)

    async def count(request: KuzzleRequest) -> dict[str, Any]:
        """How many connections of this process are subscribed to ``body.roomId``."""
        return app.realtime.count(request)

    async def list_(request: KuzzleRequest) -> dict[str, Any]:
        """``{index: {collection: {roomId: count}}}`` of this process."""
        return app.realtime.list()

    return {
        "actions": {
            "subscribe": {"handler": subscribe, "http": []},
            "unsubscribe": {"handler": unsubscribe, "http": []},
            "publish": {"handler": publish, "http": [{"verb": "post", "path": "/:index/:collection/_publish"}]},
            "count": {"handler": count, "http": []},
            "list": {"handler": list_, "http": [{"verb": "get", "path": "/_listSubscriptions"}]},
        }
    }
