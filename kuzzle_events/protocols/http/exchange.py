"""One HTTP exchange: an :class:`HttpInput` in, status, headers and body bytes out.

Both HTTP adapters (the lean ASGI entry point and the DRF views) call :func:`handle`, so routing,
special routes, CORS, body rules and serialisation exist once.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.request import KuzzleRequest, check_request_id
from kuzzle_events.core.response import KuzzleResponse
from kuzzle_events.core.streams import HttpStream
from kuzzle_events.core.traces import TRACE_HEADER, Trace, asks_trace
from kuzzle_events.protocols.http.encoding import ACCEPTED_ENCODINGS, compress, inflate, pick_encoding
from kuzzle_events.protocols.http.parsing import (
    HttpInput,
    bearer_token,
    check_content_type,
    connection_of,
    new_request,
    parse_body,
    parse_volatile,
)
from kuzzle_events.protocols.session import Session, debugger, keep_trusted

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import User
    from kuzzle_events.security.tokens import AuthToken

__all__ = ["HttpAnswer", "handle", "is_kuzzle_path", "answer_error", "answer_too_large"]

HTTP_OPTIONS = "http:options"  # Kuzzle's pipe on OPTIONS requests
# Kuzzle's http.accessControlAllowMethods and accessControlAllowHeaders, as it writes them (and our X-Kuzzle-Trace).
CORS_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS,HEAD"
CORS_HEADERS = (
    "Content-Type, Access-Control-Allow-Headers, Authorization, X-Requested-With, Content-Encoding, "
    "Content-Length, X-Kuzzle-Volatile, X-Kuzzle-Trace"
)


class HeaderBlock:
    """Header lines shared by many answers, with their bytes encoded once for ASGI."""

    __slots__ = ("lines", "encoded")

    def __init__(self, lines: tuple[tuple[str, str], ...]) -> None:
        self.lines = lines
        self.encoded = tuple(_encode_line(name, value) for name, value in lines)


def _encode_line(name: str, value: str) -> tuple[bytes, bytes]:
    return name.lower().encode("latin-1"), value.encode("latin-1", "replace")


_NO_LINES = HeaderBlock(())


@dataclass
class HttpAnswer:
    """Status, headers and body of an answer: ``shared`` lines first (the same for many answers),
    then this answer's own ``headers``."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    shared: HeaderBlock = _NO_LINES
    stream: HttpStream | None = None  # the body sent as it comes, after the headers (``body`` empty)

    @property
    def lines(self) -> list[tuple[str, str]]:
        """Every header line, shared ones first."""
        return [*self.shared.lines, *self.headers]

    def encoded_lines(self) -> list[tuple[bytes, bytes]]:
        """Every header line as ASGI sends it (lower-case names), ``Content-Length`` last (a
        stream's only when it declares its size: else the server sends it chunked)."""
        stream = self.stream
        if stream is None:
            size: str | None = str(len(self.body))
        else:
            size = str(stream.total_bytes) if stream.fixed_size else None
        lines = list(self.shared.encoded)
        for name, value in self.headers:  # (a loop, not a generator: one frame less per answer)
            lines.append(_encode_line(name, value))
        if size is not None:
            lines.append((b"content-length", size.encode()))
        return lines


def is_kuzzle_path(app: Application, method: str, path: str) -> bool:
    """Whether ``path`` belongs to the Kuzzle API (else it is left to Django's own URLs)."""
    if path.startswith("/_") or path == "/":
        return True
    # One match says it all: a route (tuple), the path under other verbs (False), or nothing (None).
    return app.controller.router.match(method, path) is not None


def _origin(headers: dict[str, str]) -> list[tuple[str, str]]:
    """The request's ``Origin`` allowed (and ``Vary: Origin``) when it has one, as Kuzzle does."""
    origin = headers.get("origin")
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")] if origin else []


# A header name (RFC 9110's token) and a field value (visible latin-1 characters, spaces and tabs).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def _sendable_header(name: str, value: str) -> bool:
    return _HEADER_NAME.fullmatch(name) is not None and _HEADER_VALUE.fullmatch(value) is not None


@functools.cache
def _shared_lines(node: str, credentials: bool, content_type: str | None) -> HeaderBlock:
    """The lines every answer of a node carries: Kuzzle's CORS headers (credentials allowed with
    cookie authentication, ``COOKIE_AUTHENTICATION``), ``X-Kuzzle-Node`` (when the node's name
    can be a header), ``Accept-Encoding``, and the ``Content-Type`` of an enveloped answer. Built
    and encoded once: they were most of the cost of writing a quick answer's headers."""
    lines = [("Access-Control-Allow-Methods", CORS_METHODS), ("Access-Control-Allow-Headers", CORS_HEADERS)]
    if credentials:
        lines.append(("Access-Control-Allow-Credentials", "true"))
    if _sendable_header("X-Kuzzle-Node", node):
        lines.append(("X-Kuzzle-Node", node))
    lines.append(("Accept-Encoding", ACCEPTED_ENCODINGS))
    if content_type is not None:
        lines.append(("Content-Type", content_type))
    return HeaderBlock(tuple(lines))


def _handler_headers(response: KuzzleResponse) -> list[tuple[str, str]]:
    """The headers the action set, as header lines (a list value, such as several cookies, is one
    line per item)."""
    lines: list[tuple[str, str]] = []
    for name, value in response.request.response.headers.items():
        if isinstance(value, (list, tuple)):
            lines.extend((str(name), str(item)) for item in value)
        else:
            lines.append((str(name), str(value)))
    return lines


def _request_id_line(request_id: str) -> list[tuple[str, str]]:
    # (Printable ASCII, the ids we make included, is what a header carries; else the full test.
    # A /_query requestId beyond latin-1 is only in the envelope: a header cannot carry it.)
    if (request_id.isascii() and request_id.isprintable()) or _sendable_header("X-Kuzzle-Request-Id", request_id):
        return [("X-Kuzzle-Request-Id", request_id)]
    return []


def _serialize(response: KuzzleResponse, http: HttpInput, pretty: bool, credentials: bool) -> HttpAnswer:
    request = response.request
    if request.error is None and type(request.result) is HttpStream:
        return _streamed(response, request.result, http, credentials)
    handler_headers = _handler_headers(response) if request.response.headers else []
    bad = next((k for k, v in handler_headers if not _sendable_header(k, v)), None) if handler_headers else None
    if bad is not None:
        # A header no HTTP response can carry (a line break, a character beyond latin-1...): the
        # client gets a 500 envelope instead of a connection the server drops.
        request.response.headers.clear()
        request.set_error(
            errors.get(
                "plugin.controller.unserializable_response",
                request.input.controller,
                request.input.action,
                f"the response header {bad!r} cannot be sent over HTTP",
            )
        )
        handler_headers = []
    headers = _origin(http.headers) + _request_id_line(request.id)
    handler_names = {k.lower() for k, _ in handler_headers} if handler_headers else ()
    if response.raw:
        body, content_type = response.raw_body()
        shared = _shared_lines(response.node, credentials, None if "content-type" in handler_names else content_type)
    else:
        text = response.sendable_json()
        if pretty:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        body = text.encode()
        shared = _shared_lines(response.node, credentials, "application/json")
    # An enveloped answer is always JSON: a handler's Content-Type only applies to raw answers.
    # Its Content-Length is never sent: the adapter writes the body's own.
    if handler_headers:
        headers.extend(
            (k, v)
            for k, v in handler_headers
            if k.lower() != "content-length" and (response.raw or k.lower() != "content-type")
        )
    if http.method == "HEAD":
        body = b""
    elif "content-encoding" not in handler_names:
        # (A raw answer the handler encoded itself is sent as it is.)
        accept = http.headers.get("accept-encoding")
        coding = pick_encoding(accept) if accept else None
        if coding is not None:
            body = compress(body, coding)
        headers.append(("Content-Encoding", coding or "identity"))
    return HttpAnswer(response.status, headers, body, shared)


def _streamed(response: KuzzleResponse, stream: HttpStream, http: HttpInput, credentials: bool) -> HttpAnswer:
    """The answer of an action that returned an :class:`HttpStream`: its headers (a
    ``Content-Type`` of its own, else ``application/octet-stream``), then the stream as it comes,
    neither enveloped nor compressed, as Kuzzle sends one."""
    request = response.request
    handler = [(k, v) for k, v in _handler_headers(response) if _sendable_header(k, v)]
    named = {k.lower() for k, _ in handler}
    headers = _origin(http.headers) + _request_id_line(request.id)
    headers.extend((k, v) for k, v in handler if k.lower() not in ("content-length", "transfer-encoding"))
    content_type = None if "content-type" in named else "application/octet-stream"
    shared = _shared_lines(response.node, credentials, content_type)
    return HttpAnswer(response.status, headers, b"", shared, None if http.method == "HEAD" else stream)


async def handle_whole(
    app: Application, http: HttpInput, *, user: User | None = None, token: AuthToken | None = None
) -> HttpAnswer:
    """:func:`handle`, with a stream's body read whole (for a server that answers in one piece:
    the DRF views)."""
    answer = await handle(app, http, user=user, token=token)
    if answer.stream is not None:
        try:
            answer.body = await answer.stream.read()
        except errors.KuzzleError as error:
            return answer_error(app, http, error)
        answer.stream = None
    return answer


def answer_error(
    app: Application, http: HttpInput, error: errors.KuzzleError, session: Session | None = None
) -> HttpAnswer:
    """An error envelope for a request that never reached the funnel (bad body, unknown URL...)."""
    if session is None:
        session = Session(app, connection_of(http))
    refused = session.refused(error, http.headers.get("x-kuzzle-request-id"))
    return _serialize(refused, http, pretty=False, credentials=app.config.COOKIE_AUTHENTICATION)


def answer_too_large(app: Application, http: HttpInput) -> HttpAnswer:
    """The 413 of a body over ``MAX_REQUEST_SIZE`` (declared, streamed or read)."""
    return answer_error(app, http, errors.get("network.http.request_too_large"))


def _probe(app: Application, http: HttpInput, status: int) -> HttpAnswer:
    """Kuzzle's answer to ``/_healthcheck`` and ``/_ready``: an envelope of no action, its status
    only (200, or 503 while not ready), ``result`` null."""
    request_id = http.headers.get("x-kuzzle-request-id")
    request = KuzzleRequest({"requestId": request_id} if request_id else {}, connection=connection_of(http))
    request.status = status
    response = KuzzleResponse(request, node=app.config.NODE, stack=app.config.ERROR_STACK)
    return _serialize(response, http, pretty=False, credentials=app.config.COOKIE_AUTHENTICATION)


async def _options(app: Application, http: HttpInput) -> HttpAnswer:
    """Kuzzle's answer to ``OPTIONS`` (a browser's CORS preflight): the CORS headers and an envelope
    of no action with ``result`` ``{}``, after the ``http:options`` pipes, which get the request
    and may change its headers or result, as in Kuzzle."""
    request_id = http.headers.get("x-kuzzle-request-id")
    request = KuzzleRequest({"requestId": request_id} if request_id else {}, connection=connection_of(http))
    request.set_result({}, 200)
    if app.started and app.events.has_listeners(HTTP_OPTIONS):
        try:
            changed = await app.events.trigger(HTTP_OPTIONS, request)
        except Exception as error:
            return answer_error(app, http, errors.from_exception(error))
        request = changed if isinstance(changed, KuzzleRequest) else request
    response = KuzzleResponse(request, node=app.config.NODE, stack=app.config.ERROR_STACK)
    return _serialize(response, http, pretty=False, credentials=app.config.COOKIE_AUTHENTICATION)


async def handle(
    app: Application, http: HttpInput, *, user: User | None = None, token: AuthToken | None = None
) -> HttpAnswer:
    """Route, parse, execute and serialise one HTTP request.

    ``user`` and ``token``: the caller as the adapter authenticated them (DRF). A token stands only
    for the request that carries it (a ``/_query`` body may name another).
    """
    debug = debugger(app, "http")
    if debug.enabled:
        debug("%s %s", http.method, http.path)
    method = http.method.upper()
    if method == "OPTIONS":
        return await _options(app, http)
    path = http.path.rstrip("/") or "/"
    if path in ("/_healthcheck", "/_ready") and method in ("GET", "HEAD"):
        # Outside the pipeline: answers while the application starts or is overloaded.
        ready = path == "/_healthcheck" or (
            app.started and app.events.pressure[1] == 0 and not app.request_slots.waiting
        )
        return _probe(app, http, 200 if ready else 503)
    if app.state != "running":
        await app.start()
    config = app.config

    if len(http.body) > config.MAX_REQUEST_SIZE:
        return answer_too_large(app, http)

    connection = connection_of(http)
    # A session only for a body to parse (or an early error): most requests have neither.
    session = Session(app, connection) if http.body else None
    if session is None:
        keep_trusted(app, connection)
    try:
        check_request_id(http.headers.get("x-kuzzle-request-id"))
        body = await _body(app, session, http) if session is not None else None
        if path == "/_query" and method == "POST":
            data = body
            if not isinstance(data, dict):
                raise errors.get("api.assert.invalid_type", "body", "object")
            check_request_id(data.get("requestId"))
            request = KuzzleRequest(data, connection=connection)
            # The token and volatile data may come as headers, as on any other route.
            request.input.jwt = request.input.jwt or bearer_token(http.headers)
            if request.input.volatile is None:
                request.input.volatile = parse_volatile(http.headers)
        else:
            found = app.controller.router.match(method, path)
            if not isinstance(found, tuple):
                raise errors.get("network.http.url_not_found", f"{method} {http.path}")
            route, params = found
            request = new_request(
                http, connection, controller=route.controller, action=route.action, params=params, body=body
            )
            if route.deprecated is not None and config.DEPRECATION_WARNINGS:
                request.add_deprecation(*route.deprecated)
    except errors.KuzzleError as error:
        return answer_error(app, http, error, session or Session(app, connection))
    if token is not None and token.jwt == request.input.jwt:
        request.context.token = token
        request.context.user = token.user or user or request.context.user
    elif user is not None and not request.input.jwt:
        request.context.user = user
    asked = http.headers.get(TRACE_HEADER)
    if asked is not None and request.trace is None and asks_trace(asked):
        request.trace = Trace()
    response = await app.funnel.execute(request)
    return _serialize(response, http, pretty="pretty" in request.input.args, credentials=config.COOKIE_AUTHENTICATION)


async def _body(app: Application, session: Session, http: HttpInput) -> Any:
    """The body as Kuzzle reads it: its type checked, decompressed, then parsed between the
    ``protocol:http:*ParsingPayload`` pipes, which get ``{"message", "connection", "payload"}``
    (``message``: the :class:`HttpInput`, its headers and all; ``payload``: the body's bytes,
    then its parsed value)."""
    extra = app.config.ADDITIONAL_CONTENT_TYPES
    pipes = session.parsing_pipes()
    if pipes:  # (else parse_body checks it)
        check_content_type(http.headers, extra)
    payload = http.body
    coding = http.headers.get("content-encoding")
    if coding:
        payload = inflate(coding, payload, app.config.MAX_REQUEST_SIZE)
    decode = functools.partial(parse_body, http.headers, extra=extra)
    if not pipes:
        return decode(payload)
    return await session.parse(payload, decode, message=http)
