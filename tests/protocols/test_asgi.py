"""The lean ASGI entry point: what it leaves to Django, and lifespan."""

from __future__ import annotations

import json
import types
from typing import Any

import httpx
import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, re_path

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


async def test_options_sends_one_content_length(kapp: Application) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "OPTIONS", "path": "/_now", "headers": [(b"origin", b"http://front.example")]}
    await KuzzleASGI(app=kapp)(scope, receive, send)
    lines = [name.lower() for name, _ in sent[0]["headers"]]
    # Two Content-Length lines, even equal, make clients such as Node's fetch refuse the answer.
    assert lines.count(b"content-length") == 1 and len(lines) == len(set(lines))
    assert sent[0]["status"] == 200 and json.loads(sent[1]["body"])["result"] == {}


def _project_view(request: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("project view", content_type="text/plain")


async def test_paths_no_pattern_takes_get_kuzzles_404(kapp: Application, settings: Any) -> None:
    urlconf = types.ModuleType("wire_test_urls")
    urlconf.urlpatterns = [  # type: ignore[attr-defined]
        path("admin/", admin.site.urls),
        # A pattern with no literal prefix: Django's, though nothing in front of it says so.
        re_path(r"^(?P<year>[0-9]{4})/report/$", _project_view),
        path("", include("kuzzle_events.urls")),
    ]
    settings.ROOT_URLCONF = urlconf
    seen: list[str] = []

    async def django_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<html>django</html>"})

    transport = httpx.ASGITransport(app=KuzzleASGI(django_app, app=kapp))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        report = await client.get("/2024/report/")
        unslashed = await client.get("/2024/report")  # Django redirects it (APPEND_SLASH)
        admin_root = await client.get("/admin")
        unknown = await client.get("/no/such/page/here/at/all")
        favicon = await client.get("/favicon.ico")
    assert seen == ["/2024/report/", "/2024/report", "/admin"]
    assert report.text == unslashed.text == admin_root.text == "<html>django</html>"
    for answer in (unknown, favicon):
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
        assert answer.json()["error"]["id"] == "network.http.url_not_found"


async def test_the_admin_controllers_routes_are_kuzzles_under_the_projects_admin_prefix(kapp: Application) -> None:
    seen: list[str] = []

    async def django_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 302, "headers": [(b"location", b"/admin/login/")]})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=KuzzleASGI(django_app, app=kapp))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        fixtures = await client.post(
            "/admin/_loadFixtures", content=b"{}", headers={"content-type": "application/json"}
        )
        await client.get("/admin/_nothing_of_kuzzles")
    # POST /admin/_loadFixtures is the admin controller's route: a Kuzzle envelope, not Django's page.
    assert fixtures.json()["controller"] == "admin" and fixtures.json()["action"] == "loadFixtures"
    assert seen == ["/admin/_nothing_of_kuzzles"]  # no Kuzzle route: the project's


async def _exchange(app: Application, scope: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[int, Any, int]:
    """Status, JSON body and how many times ``receive`` was called, for one ASGI exchange."""
    sent: list[dict[str, Any]] = []
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await KuzzleASGI(app=app)({"type": "http", "query_string": b"", **scope}, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"]), calls


async def test_a_request_without_a_body_is_answered_without_receiving(kapp: Application) -> None:
    status, body, calls = await _exchange(kapp, {"method": "GET", "path": "/_now", "headers": []}, [])
    assert status == 200 and body["result"]["now"] > 0 and calls == 0


async def test_bodies_are_read_whenever_one_may_come(kapp: Application) -> None:
    query = b'{"controller": "server", "action": "now"}'
    chunked = {"method": "POST", "path": "/_query", "headers": [(b"transfer-encoding", b"chunked")]}
    status, body, calls = await _exchange(kapp, chunked, [{"type": "http.request", "body": query}])
    assert (status, body["action"], calls) == (200, "now", 1)
    # HTTP/2 may send a body with neither Content-Length nor Transfer-Encoding.
    h2 = {"method": "POST", "path": "/_query", "headers": [], "http_version": "2"}
    status, body, calls = await _exchange(kapp, h2, [{"type": "http.request", "body": query}])
    assert (status, body["action"], calls) == (200, "now", 1)
    # Test clients (Channels' HttpCommunicator) send a body with neither, over HTTP/1.1.
    bare = {"method": "POST", "path": "/_query", "headers": [], "http_version": "1.1"}
    status, body, calls = await _exchange(kapp, bare, [{"type": "http.request", "body": query}])
    assert (status, body["action"], calls) == (200, "now", 1)
    sized = {"method": "POST", "path": "/_query", "headers": [(b"content-length", str(len(query)).encode())]}
    status, body, calls = await _exchange(kapp, sized, [{"type": "http.request", "body": query}])
    assert (status, body["action"], calls) == (200, "now", 1)


async def _response_lines(app: Application, scope: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await KuzzleASGI(app=app)({"type": "http", "query_string": b"", "path": "/_now", **scope}, receive, send)
    return [(name.lower(), value) for name, value in sent[0]["headers"]]


@pytest.mark.parametrize(
    ("version", "asked", "expected"),
    [
        ("1.1", None, b"keep-alive"),
        ("1.1", b"keep-alive", b"keep-alive"),
        ("1.1", b"Close", b"close"),
        ("1.1", b"TE, close", b"close"),
        ("1.0", None, b"close"),
        ("1.0", b"keep-alive", b"keep-alive"),
        ("2", None, None),
    ],
)
async def test_answers_say_whether_the_connection_stays_open(
    kapp: Application, version: str, asked: bytes | None, expected: bytes | None
) -> None:
    headers = [(b"connection", asked)] if asked is not None else []
    for method in ("GET", "POST"):
        lines = await _response_lines(kapp, {"method": method, "headers": headers, "http_version": version})
        connection = [value for name, value in lines if name == b"connection"]
        assert connection == ([] if expected is None else [expected])


async def test_a_connection_header_the_action_set_is_the_only_one(kapp: Application) -> None:
    async def closing(request: Any) -> Any:
        request.response.set_header("Connection", "close")
        return {}

    kapp.controller.register(
        "probe", {"actions": {"shut": {"handler": closing, "http": [{"verb": "get", "path": "/probe/shut"}]}}}
    )
    lines = await _response_lines(kapp, {"method": "GET", "path": "/probe/shut", "headers": [], "http_version": "1.1"})
    assert [value for name, value in lines if name == b"connection"] == [b"close"]


async def test_websocket_scopes_go_to_the_websocket_application(kapp: Application) -> None:
    seen: list[str] = []

    async def websocket_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(f"websocket {scope['path']}")

    async def django_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(f"django {scope['type']}")

    async def nothing() -> dict[str, Any]:
        raise AssertionError("not read")

    async def ignore(message: dict[str, Any]) -> None:
        raise AssertionError("not sent")

    entry = KuzzleASGI(django_app, app=kapp, websocket=websocket_app)
    await entry({"type": "websocket", "path": "/"}, nothing, ignore)
    await entry({"type": "custom", "path": "/"}, nothing, ignore)
    # Without a WebSocket application, the scope is Django's (Channels' own routing, if any).
    await KuzzleASGI(django_app, app=kapp)({"type": "websocket", "path": "/"}, nothing, ignore)
    assert seen == ["websocket /", "django custom", "django websocket"]


def test_the_projects_asgi_application_is_the_lean_entry_with_the_consumer() -> None:
    from kuzzle_events.asgi import get_asgi_application

    application = get_asgi_application()
    assert isinstance(application, KuzzleASGI)
    assert application.websocket is not None and application.django is not None
