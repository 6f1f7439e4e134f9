"""The Python peers of ``bench/peers.py``, each answering ``GET /_now`` (uvicorn, one worker):

- ``bench.peer_apps:raw_asgi``: a raw ASGI callable (no framework), the same envelope as
  kuzzle_events (``bench/envelope.py``);
- ``bench.peer_apps:starlette_plain``: bare Starlette answering ``{"now": ms}`` only (what the
  envelope itself costs, against ``bench.bare_starlette:app``);

FastAPI's peer is ``bench/fastapi_app.py`` (a module of its own: only its server imports FastAPI).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.envelope import dumps, now_envelope

_JSON_HEADERS = [(b"content-type", b"application/json")]


async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``GET /_now``: the envelope; 404 for anything else; lifespan acknowledged."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] != "/_now" or scope["method"] != "GET":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = dumps(now_envelope(str(uuid.uuid4()))).encode()
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _plain_now(request: Request) -> Response:
    return Response(json.dumps({"now": int(time.time() * 1000)}).encode(), media_type="application/json")


starlette_plain = Starlette(routes=[Route("/_now", _plain_now, methods=["GET"])])
