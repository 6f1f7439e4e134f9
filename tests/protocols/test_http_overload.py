"""HTTP under overload, through the ASGI application: the 503 envelope past the buffer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.asgi import KuzzleASGI


async def test_past_the_buffer_http_gets_kuzzles_503(make_app: Callable[..., Application]) -> None:
    app = make_app(MAX_CONCURRENT_REQUESTS=1, REQUESTS_BUFFER_SIZE=2, REQUESTS_BUFFER_WARNING_THRESHOLD=1)
    gate = asyncio.Event()
    started: list[str] = []

    async def wait(request: KuzzleRequest) -> str:
        started.append(request.input.args["tag"])
        await gate.wait()
        return "done"

    app.controller.register(
        "hold", {"actions": {"wait": {"handler": wait, "http": [{"verb": "get", "path": "/hold/:tag"}]}}}
    )
    transport = httpx.ASGITransport(app=KuzzleASGI(app=app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await app.start()
        held = [asyncio.ensure_future(client.get(f"/hold/{n}")) for n in range(3)]

        async def full() -> None:
            while app.request_slots.pressure != (1, 2):
                await asyncio.sleep(0)

        await asyncio.wait_for(full(), 5)
        not_ready = await client.get("/_ready")
        refused = await client.get("/hold/refused", headers={"x-kuzzle-request-id": "r-1"})
        gate.set()
        answers = await asyncio.wait_for(asyncio.gather(*held), 5)
        ready = await client.get("/_ready")
    # Requests waiting for a slot: not ready (a load balancer sends the next ones elsewhere).
    assert not_ready.status_code == 503
    # Kuzzle's: an envelope of no action, its status only.
    assert {k: not_ready.json()[k] for k in ("status", "error", "controller", "action", "result")} == {
        "status": 503,
        "error": None,
        "controller": None,
        "action": None,
        "result": None,
    }
    assert ready.status_code == 200
    assert refused.status_code == 503
    envelope: dict[str, Any] = refused.json()
    assert envelope["status"] == 503 and envelope["requestId"] == "r-1"
    assert (envelope["controller"], envelope["action"]) == ("hold", "wait")
    assert envelope["error"]["id"] == "api.process.overloaded"
    assert envelope["error"]["code"] == 0x02020002
    assert envelope["error"]["message"] == "Request discarded: Kuzzle Server is temporarily overloaded."
    assert envelope["result"] is None
    assert [answer.json()["result"] for answer in answers] == ["done"] * 3
    assert started == ["0", "1", "2"]
