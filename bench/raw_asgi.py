"""What the raw ASGI baselines share: the lifespan protocol acknowledged, a WebSocket accepted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def acknowledge(receive: Receive, send: Send) -> None:
    """Answer ``lifespan.startup`` and ``lifespan.shutdown``; return after the shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def websocket_opened(scope: dict[str, Any], receive: Receive, send: Send) -> bool:
    """Serve the lifespan, or accept a WebSocket: True when ``scope`` is a WebSocket, now open."""
    if scope["type"] == "lifespan":
        await acknowledge(receive, send)
        return False
    if scope["type"] != "websocket":
        return False
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    return True
