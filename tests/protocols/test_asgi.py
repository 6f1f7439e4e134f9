"""The lean ASGI entry point: what it leaves to Django, and lifespan."""

from __future__ import annotations

from typing import Any

import httpx

from kuzzle_events import Application
from kuzzle_events.asgi import KuzzleASGI


async def test_non_kuzzle_paths_go_to_django(kapp: Application) -> None:
    seen: list[str] = []

    async def django_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<html>django</html>"})

    transport = httpx.ASGITransport(app=KuzzleASGI(django_app, app=kapp))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        admin = await client.get("/admin/")
        # Shaped like document:get (GET /:index/:collection/:_id), but under the project's /admin/.
        admin_page = await client.get("/admin/kuzzle/controllers/")
        static = await client.get("/static/admin/css/base.css")
        now = await client.get("/_now")
        unknown_api = await client.get("/_/no/such/action")
        document = await client.get("/library/books/b1")
    assert admin.text == admin_page.text == static.text == "<html>django</html>"
    assert seen == ["/admin/", "/admin/kuzzle/controllers/", "/static/admin/css/base.css"]
    assert now.json()["result"]["now"] > 0
    assert unknown_api.status_code == 404 and unknown_api.json()["error"]["id"] == "network.http.url_not_found"
    assert document.json()["action"] == "get" and document.json()["error"]["id"] == "services.storage.unknown_index"


async def test_lifespan_starts_and_stops_the_application(kapp: Application) -> None:
    calls: list[str] = []

    async def on_shutdown() -> None:
        calls.append("kuzzle:shutdown")

    kapp.pipe.register("kuzzle:shutdown", on_shutdown)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            assert kapp.started

    await KuzzleASGI(app=kapp)({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert calls == ["kuzzle:shutdown"] and kapp.state == "stopped"


async def test_lifespan_reports_a_failed_start(kapp: Application) -> None:
    async def broken() -> None:
        raise RuntimeError("cannot start")

    kapp.pipe.register("kuzzle:state:start", broken)
    messages = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await KuzzleASGI(app=kapp)({"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed" and "cannot start" in sent[0]["message"]


async def test_body_over_declared_limit_is_refused_without_reading(make_app) -> None:
    app = make_app(MAX_REQUEST_SIZE=10)
    transport = httpx.ASGITransport(app=KuzzleASGI(app=app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.post("/_query", content=b"x" * 100, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"]["id"] == "network.http.request_too_large"
