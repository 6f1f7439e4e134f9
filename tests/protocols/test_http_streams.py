"""``HttpStream`` results: sent over HTTP as they come (chunked, or with the size they declare), as
Kuzzle's; refused over other protocols (``api.assert.forbidden_stream``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kuzzle_events import Application, HttpStream
from kuzzle_events.asgi import KuzzleASGI
from kuzzle_events.errors import KuzzleError
from tests.protocols.test_http import drf_client


async def _generated() -> AsyncIterator[bytes]:
    for part in (b"Hel", b"lo"):
        yield part


def _failing() -> Any:
    raise ValueError("disk gone")
    yield b""  # (a generator)


def _register(app: Application) -> None:
    def route(name: str) -> list[dict[str, str]]:
        return [{"verb": "get", "path": f"/stream-test/{name}"}]

    async def chunked(request: Any) -> HttpStream:
        return HttpStream(["Hello", b"World"])

    async def fixed(request: Any) -> HttpStream:
        request.response.set_header("Content-Type", "text/plain")
        return HttpStream(iter([b"Hello", b"World"]), total_bytes=10)

    async def generated(request: Any) -> HttpStream:
        return HttpStream(_generated())

    async def failing(request: Any) -> HttpStream:
        return HttpStream(_failing())

    async def odd(request: Any) -> HttpStream:
        return HttpStream([1, 2])  # type: ignore[list-item]

    actions = {"chunked": chunked, "fixed": fixed, "generated": generated, "failing": failing, "odd": odd}
    app.controller.register(
        "stream-test", {"actions": {name: {"handler": fn, "http": route(name)} for name, fn in actions.items()}}
    )


async def _exchange(app: Application, path: str, method: str = "GET") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [], "query_string": b"", "http_version": "1.1"}
    await KuzzleASGI(app=app)(scope, receive, send)
    return sent


def _headers(start: dict[str, Any]) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in start["headers"]}


async def test_a_stream_is_sent_as_it_comes_without_a_content_length(make_app: Callable[..., Application]) -> None:
    app = make_app()
    _register(app)
    start, *bodies = await _exchange(app, "/stream-test/chunked")
    headers = _headers(start)
    # No Content-Length: an ASGI server sends such an answer chunked (Transfer-Encoding: chunked).
    assert start["status"] == 200 and b"content-length" not in headers
    assert headers[b"content-type"] == b"application/octet-stream" and b"x-kuzzle-request-id" in headers
    assert [(b["body"], b.get("more_body", False)) for b in bodies] == [
        (b"Hello", True),
        (b"World", True),
        (b"", False),
    ]
    start, *bodies = await _exchange(app, "/stream-test/generated")
    assert b"".join(b["body"] for b in bodies) == b"Hello"


async def test_a_stream_of_declared_size_has_its_content_length(make_app: Callable[..., Application]) -> None:
    app = make_app()
    _register(app)
    start, *bodies = await _exchange(app, "/stream-test/fixed")
    headers = _headers(start)
    assert headers[b"content-length"] == b"10" and headers[b"content-type"] == b"text/plain"
    assert b"".join(b["body"] for b in bodies) == b"HelloWorld"
    head, *rest = await _exchange(app, "/stream-test/fixed", "HEAD")
    assert [b["body"] for b in rest] == [b""]


@pytest.mark.parametrize(
    ("path", "detail"), [("failing", "disk gone"), ("odd", "a chunk must be bytes or text, not int")]
)
async def test_a_stream_that_fails_before_its_first_chunk_is_answered_with_its_error(
    make_app: Callable[..., Application], path: str, detail: str
) -> None:
    app = make_app()
    _register(app)
    start, body = await _exchange(app, f"/stream-test/{path}")
    answer = json.loads(body["body"])
    assert start["status"] == 500 and answer["error"]["id"] == "network.http.stream_errored"
    assert answer["error"]["message"] == f"Stream errored: {detail}"


async def test_a_stream_is_refused_over_other_protocols(make_app: Callable[..., Application]) -> None:
    app = make_app()
    _register(app)
    await app.start()
    with pytest.raises(KuzzleError) as refused:
        await app.sdk.query({"controller": "stream-test", "action": "chunked"})
    assert (refused.value.status, refused.value.id) == (500, "api.assert.forbidden_stream")
    assert refused.value.message == "Cannot set an HttpStream as a request's response in a non-http protocol"


async def test_the_drf_views_send_a_stream_whole(make_app: Callable[..., Application], settings: Any) -> None:
    app = make_app()
    _register(app)
    call = drf_client(app, settings)
    answer = await call("GET", "/stream-test/chunked")
    assert answer.status == 200 and answer.body == b"HelloWorld" and answer.headers["content-length"] == "10"
    failed = await call("GET", "/stream-test/failing")
    assert failed.status == 500 and json.loads(failed.body)["error"]["id"] == "network.http.stream_errored"


def test_a_stream_takes_an_iterable_of_chunks() -> None:
    with pytest.raises(TypeError):
        HttpStream(b"whole")  # type: ignore[arg-type]
