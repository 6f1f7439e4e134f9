"""The lean ASGI entry point: the Kuzzle API over HTTP without Django's per-request machinery.

``KuzzleASGI(django_asgi_app)`` answers Kuzzle's routes itself (through the shared
:func:`kuzzle_events.protocols.http.exchange.handle`) and passes every other path (admin, static
files, the project's own views) to Django. It also handles lifespan events: the application starts at
``lifespan.startup`` (or at the first request under servers that send none) and fires
``kuzzle:shutdown`` at ``lifespan.shutdown``. Given ``websocket``, it passes WebSocket scopes there.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.streams import HttpStream
from kuzzle_events.protocols.http.exchange import HttpAnswer, answer_too_large, handle
from kuzzle_events.protocols.http.parsing import HttpInput
from kuzzle_events.protocols.session import resolve_app, scope_headers

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KuzzleASGI", "django_prefixes", "django_resolves"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class KuzzleASGI:
    """ASGI application serving Kuzzle's HTTP API, in front of an optional Django ASGI app."""

    def __init__(
        self,
        django_app: Callable[..., Awaitable[None]] | None = None,
        *,
        app: Application | None = None,
        websocket: Callable[..., Awaitable[None]] | None = None,
    ):
        self.django = django_app
        self.websocket = websocket
        self._app = app
        self._django_prefixes: tuple[str, ...] | None = None

    @property
    def django_prefixes(self) -> tuple[str, ...]:
        if self._django_prefixes is None:
            self._django_prefixes = django_prefixes()
        return self._django_prefixes

    def _is_kuzzle(self, method: str, path: str) -> bool:
        # The project's own URLs (admin, static files...) stay Django's even where one of Kuzzle's
        # routes with parameters (GET /:index/:collection/:_id...) would match them too.
        if not path.startswith("/_") and path.startswith(self.django_prefixes):
            # ... except Kuzzle's routes with a reserved "_" segment (POST /admin/_loadFixtures,
            # the admin controller's), which no project URL uses: they are Kuzzle's.
            return "/_" in path and isinstance(self.app.controller.router.match(method, path), tuple)
        if path.startswith("/_") or path == "/" or isinstance(self.app.controller.router.match(method, path), tuple):
            return True
        # No route for this verb: Django's if one of the project's own patterns takes the path (or
        # would once a slash is appended, which Django redirects to), else Kuzzle's JSON 404 rather
        # than Django's page.
        return not django_resolves(path)

    @property
    def app(self) -> Application:
        if self._app is None:
            self._app = resolve_app(None)
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.django is None or self._is_kuzzle(scope["method"], scope["path"]):
                await self._http(scope, receive, send)
            else:
                await self.django(scope, receive, send)
        elif kind == "websocket" and self.websocket is not None:
            await self.websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif self.django is not None:
            await self.django(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        headers = scope_headers(scope["headers"])
        client = scope.get("client")
        http = HttpInput(
            method=scope["method"],
            path=scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            client=client[0] if client else None,
        )
        declared = headers.get("content-length")
        if (
            declared is None
            and http.method in ("GET", "HEAD")
            and "transfer-encoding" not in headers
            and scope.get("http_version", "1.1")[0] == "1"
        ):
            # HTTP/1 (RFC 9112, 6.3): without either header a request has no body, so there is
            # nothing to receive. Only for reads, the usual case: test clients (Channels'
            # HttpCommunicator...) send other bodies without a Content-Length, and HTTP/2 may.
            await _send(send, await handle(app, http), _connection_line(scope, headers))
            return
        limit = app.config.MAX_REQUEST_SIZE
        connection = _connection_line(scope, headers)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send(send, answer_too_large(app, http), connection)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                # Stop reading: the rest of the body is not buffered.
                await _send(send, answer_too_large(app, http), connection)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        http.body = b"".join(chunks)
        await _send(send, await handle(app, http), connection)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.app.start()
                except Exception as error:  # reported to the server, which refuses to start
                    await send({"type": "lifespan.startup.failed", "message": repr(error)})
                    return
                # Everything loaded so far (Django, the registry) lives as long as the process:
                # leave it out of the garbage collector's full passes, which otherwise pause the
                # server for tens of milliseconds under load.
                gc.freeze()
                # A served process follows the switches other processes set (admin, manage.py).
                self.app.switches.watch()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.app.shutdown()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return


_KEEP_ALIVE = (b"connection", b"keep-alive")
_CLOSE = (b"connection", b"close")


def _connection_line(scope: Scope, headers: dict[str, str]) -> tuple[bytes, bytes] | None:
    """The ``Connection`` line of an HTTP/1 answer, as Node's server writes it for Kuzzle:
    ``close`` when the client asked for it (or HTTP/1.0 did not ask to keep it), else
    ``keep-alive``. HTTP/2 and 3 have no such header."""
    version = scope.get("http_version", "1.1")
    if version[0] != "1":
        return None
    asked = headers.get("connection")
    tokens = {token.strip() for token in asked.lower().split(",")} if asked else set()
    if "close" in tokens or (version == "1.0" and "keep-alive" not in tokens):
        return _CLOSE
    return _KEEP_ALIVE


async def _send(send: Send, answer: HttpAnswer, connection: tuple[bytes, bytes] | None = None) -> None:
    lines = answer.encoded_lines()
    if connection is not None:
        for name, _ in answer.headers:  # (a loop, not any() of a generator: one frame less)
            if name.lower() == "connection":
                break
        else:
            lines.append(connection)
    stream = answer.stream
    if stream is not None:
        await _send_stream(send, answer.status, lines, stream)
        return
    await send({"type": "http.response.start", "status": answer.status, "headers": lines})
    await send({"type": "http.response.body", "body": answer.body})


async def _send_stream(send: Send, status: int, lines: list[tuple[bytes, bytes]], stream: HttpStream) -> None:
    """The headers, then each chunk as it comes. A stream that fails before its first chunk is
    answered with its error (``network.http.stream_errored``...); after it,
    the failure goes to the server, which cuts the answer short: the client sees it unfinished."""
    pieces = stream.pieces()
    try:
        first = await anext(pieces, None)
    except errors.KuzzleError as failure:  # (the stream says what failed: see HttpStream.pieces)
        body = json.dumps({"status": failure.status, "error": failure.to_dict()}).encode()
        lines = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": failure.status, "headers": lines})
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": status, "headers": lines})
    if first is not None:
        await send({"type": "http.response.body", "body": first, "more_body": True})
        async for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def django_prefixes() -> tuple[str, ...]:
    """Leading literal paths of the project's own URL patterns (``/admin/``...) and static files."""
    from django.conf import settings
    from django.urls import URLResolver, get_resolver
    from django.urls.resolvers import RoutePattern

    prefixes = []
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and getattr(pattern.urlconf_module, "__name__", "") == "kuzzle_events.urls":
            continue
        if isinstance(pattern.pattern, RoutePattern):
            literal = str(pattern.pattern).split("<", 1)[0]
            if literal:
                prefixes.append("/" + literal)
    static = getattr(settings, "STATIC_URL", None)
    if static:
        prefixes.append(static if static.startswith("/") else "/" + static)
    return tuple(prefixes)


def django_resolves(path: str) -> bool:
    """Whether one of the project's URL patterns, other than the Kuzzle API's own views, takes
    ``path`` (or ``path`` with a slash appended, under ``APPEND_SLASH``)."""
    from django.conf import settings
    from django.urls import Resolver404, resolve

    candidates = [path]
    if getattr(settings, "APPEND_SLASH", True) and not path.endswith("/"):
        candidates.append(path + "/")
    for candidate in candidates:
        try:
            match = resolve(candidate)
        except Resolver404:
            continue
        # (KuzzleAPIView's mark: this module does not import the DRF adapter, which imports it.)
        if not getattr(getattr(match.func, "view_class", None), "kuzzle_api", False):
            return True
    return False
