"""Baselines of ``bench/websocket.py`` answering ``server:now`` with the same envelope
(``room`` = ``requestId``):

- ``python -m bench.bare_ws --port P``: a bare ``websockets`` server on uvloop;
- ``uvicorn bench.bare_ws:asgi_app``: a raw ASGI WebSocket endpoint (no Django, no Channels).
"""

from __future__ import annotations

import argparse
import asyncio
import json

from bench.envelope import dumps, now_envelope
from bench.raw_asgi import websocket_opened


def answer(text: str) -> str:
    data = json.loads(text)
    return dumps(now_envelope(str(data.get("requestId")), room=True))


async def handler(ws) -> None:
    async for message in ws:
        await ws.send(answer(message if isinstance(message, str) else message.decode()))


async def serve(port: int) -> None:
    from websockets.asyncio.server import serve as ws_serve

    async with ws_serve(handler, "127.0.0.1", port, ping_interval=None, max_queue=None):
        await asyncio.get_running_loop().create_future()


async def asgi_app(scope, receive, send) -> None:
    if not await websocket_opened(scope, receive, send):
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode()
        await send({"type": "websocket.send", "text": answer(text)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    import uvloop

    uvloop.run(serve(parser.parse_args().port))
