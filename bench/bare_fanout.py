"""Baseline of ``bench/realtime.py``: the same fan-out as a raw ASGI WebSocket endpoint on uvicorn.

``uvicorn bench.bare_fanout:asgi_app``: no Django, no Channels, no filters. A ``realtime:subscribe``
frame adds the connection to one process-wide set of subscribers and is answered 200 (a
``roomId``/``channel``, as Kuzzle's answer); a ``realtime:publish`` frame builds one notification
text with the fields of Kuzzle's document notification and sends it to every subscriber, then
answers the publisher. What is left between this and kuzzle_events is the consumer, the funnel, the
filter match and the hub; uvicorn and the kernel are the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.raw_asgi import websocket_opened

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]

CHANNEL = "bench-room"
_subscribers: set[Send] = set()


def _envelope(data: dict[str, Any], result: Any) -> str:
    return json.dumps(
        {"requestId": data.get("requestId"), "status": 200, "error": None, "controller": data.get("controller"),
         "action": data.get("action"), "index": data.get("index"), "collection": data.get("collection"),
         "volatile": None, "result": result, "room": data.get("requestId"), "node": "knode-1"},
        separators=(",", ":"),
    )  # fmt: skip


def notification(data: dict[str, Any]) -> str:
    """The document notification of a publish, with the keys kuzzle_events sends."""
    return json.dumps(
        {"status": 200, "requestId": data.get("requestId"), "timestamp": int(time.time() * 1000), "volatile": {},
         "index": data.get("index"), "collection": data.get("collection"), "controller": "realtime",
         "action": "publish", "protocol": "websocket", "scope": "in", "state": "done", "event": "publish",
         "type": "document", "result": {"_source": data.get("body"), "_id": None}, "room": CHANNEL,
         "node": "knode-1"},
        separators=(",", ":"),
    )  # fmt: skip


async def asgi_app(scope: Message, receive: Callable[[], Awaitable[Message]], send: Send) -> None:
    if not await websocket_opened(scope, receive, send):
        return
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            data = json.loads(message.get("text") or (message.get("bytes") or b"").decode())
            action = data.get("action")
            if action == "subscribe":
                _subscribers.add(send)
                answer = _envelope(data, {"roomId": CHANNEL, "channel": CHANNEL})
            elif action == "publish":
                text = notification(data)
                for subscriber in list(_subscribers):
                    await subscriber({"type": "websocket.send", "text": text})
                answer = _envelope(data, {"published": True})
            else:
                answer = _envelope(data, None)
            await send({"type": "websocket.send", "text": answer})
    finally:
        _subscribers.discard(send)
