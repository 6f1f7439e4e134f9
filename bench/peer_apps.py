"""The Python peers of ``bench/peers.py``, each answering ``GET /_now`` (uvicorn, one worker):

- ``bench.peer_apps:raw_asgi``: a raw ASGI callable (no framework), the same envelope as
  kuzzle_events (``bench/envelope.py``);
- ``bench.peer_apps:raw_asgi_kuzzle_headers``: the same, with the header lines kuzzle_events
  sends (what writing them costs the server: ``bench/server_instructions.py``);
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
from bench.raw_asgi import acknowledge

_JSON_HEADERS = [(b"content-type", b"application/json")]


# What kuzzle_events answers GET /_now with, but for the request id's value and Content-Length.
_KUZZLE_HEADERS = [
    (b"access-control-allow-methods", b"GET,POST,PUT,PATCH,DELETE,OPTIONS,HEAD"),
    (
        b"access-control-allow-headers",
        b"Content-Type, Access-Control-Allow-Headers, Authorization, X-Requested-With, Content-Encoding, "
        b"Content-Length, X-Kuzzle-Volatile, X-Kuzzle-Trace",
    ),
    (b"access-control-allow-credentials", b"true"),
    (b"x-kuzzle-node", b"knode-1"),
    (b"accept-encoding", b"gzip,deflate,identity"),
    (b"content-type", b"application/json"),
]


async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``GET /_now``: the envelope; 404 for anything else; lifespan acknowledged."""
    await _raw(scope, receive, send, kuzzle_headers=False)


async def raw_asgi_kuzzle_headers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """:func:`raw_asgi` with kuzzle_events' header lines."""
    await _raw(scope, receive, send, kuzzle_headers=True)


async def _raw(scope: dict[str, Any], receive: Any, send: Any, kuzzle_headers: bool) -> None:
    if scope["type"] == "lifespan":
        await acknowledge(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] != "/_now" or scope["method"] != "GET":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    request_id = str(uuid.uuid4())
    body = dumps(now_envelope(request_id)).encode()
    if kuzzle_headers:
        headers = [
            *_KUZZLE_HEADERS,
            (b"x-kuzzle-request-id", request_id.encode()),
            (b"content-encoding", b"identity"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"keep-alive"),
        ]
    else:
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _plain_now(request: Request) -> Response:
    return Response(json.dumps({"now": int(time.time() * 1000)}).encode(), media_type="application/json")


starlette_plain = Starlette(routes=[Route("/_now", _plain_now, methods=["GET"])])
