"""Baseline of ``bench/http.py``: a bare Starlette endpoint answering ``GET /_now`` with the
same envelope (``uvicorn bench.bare_starlette:app``)."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.envelope import dumps, now_envelope


async def now(request: Request) -> Response:
    return Response(dumps(now_envelope(str(uuid.uuid4()))).encode(), media_type="application/json")


app = Starlette(routes=[Route("/_now", now, methods=["GET"])])
