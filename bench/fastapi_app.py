"""FastAPI peer of ``bench/peers.py`` (``uvicorn bench.fastapi_app:app``), written as FastAPI is
ordinarily used: the endpoint returns the envelope as a dict and FastAPI encodes it
(``jsonable_encoder``, then ``JSONResponse``: the same compact JSON text). No response model, no
OpenAPI routes: nothing validates the answer, which is the cheapest way FastAPI answers a dict."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from bench.envelope import now_envelope

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/_now")
async def now():  # no return annotation: it would become a response model validated per request
    return now_envelope(str(uuid.uuid4()))
