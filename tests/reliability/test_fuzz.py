"""Property-based fuzzing of the API's entries: whatever a client sends, it gets an answer.

The HTTP entries (the lean ASGI application, driven with raw ASGI messages, and the DRF views
through Django's test client: method, path among Kuzzle's routes and junk, query string, headers
with ``X-Kuzzle-Volatile``, ``Authorization`` and ``X-Kuzzle-Request-Id``, body bytes) and the
WebSocket entry (the Channels consumer: text and binary frames holding requests with any
controller, action, arguments, body, ``requestId``, ``volatile`` and ``jwt``). Bodies and frames are JSON, or JSON spoilt with ``NaN``, infinities, unpaired
surrogates (escaped or raw), numbers too large for a float or for Python's integer parser, nesting
too deep to read, wrong types for known arguments, or bytes that are no JSON at all.

What must hold for every case:

- an answer: one HTTP response (its headers sendable, its ``Content-Length`` right), or one
  WebSocket envelope whose ``room`` is its ``requestId`` (the client's, when the frame was a JSON
  object with a printable ``requestId``), the connection still open;
- on API paths, strict JSON; an error carries a Kuzzle ``error.id`` of the table, and ``status``
  equals the HTTP status;
- no 5xx but the server's overload answers (503 ``api.process.overloaded``,
  ``plugin.runtime.too_many_pipes``, ``api.process.shutting_down``): the built-in actions document
  no other, so any other 5xx is a bug found;
- no error message echoes an SQL statement;
- the server alive afterwards: ``server:now`` answers.

In process (the ASGI application and the consumer, driven directly: fast, where the search
happens), then fewer cases through a real uvicorn process over sockets. Runs are reproducible: a
bounded number of examples, no example database, and under ``CI`` a derandomised (fixed)
sequence. ``KUZZLE_FUZZ_EXAMPLES`` (250) sets the in-process count; the real server gets a quarter.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import quote

import jwt as pyjwt
import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kuzzle_events import Application
from kuzzle_events.asgi import KuzzleASGI
from kuzzle_events.core import jsontext
from kuzzle_events.errors import KuzzleError
from kuzzle_events.errors.table import ERROR_TABLE
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from tests.servers import UVICORN, Server, get, serve

EXAMPLES = int(os.environ.get("KUZZLE_FUZZ_EXAMPLES", "250"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    deadline=None,
    print_blob=True,
    # One application (and one WebSocket) serves every example of a test: that it stays alive
    # across cases is part of what is checked.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The 5xx a client may get from the built-in actions: the server's overload answers, and the ms
# actions' Redis refusing a value (WRONGTYPE, not an integer...), a 500 in Kuzzle too.
ALLOWED_5XX = {
    "api.process.overloaded",
    "plugin.runtime.too_many_pipes",
    "api.process.shutting_down",
    "services.cache.read_failed",
    "services.cache.write_failed",
}
SQL = re.compile(r"\b(INSERT INTO|DELETE FROM|UPDATE \S+ SET|SELECT .+ FROM)\b", re.IGNORECASE)
ANSWER_TIMEOUT = 10  # s: a bound for liveness, not a measure
INDEX, COLLECTION = "fuzz", "things"

# Values ---------------------------------------------------------------------------------------

ARGUMENTS = [
    "index", "collection", "_id", "refresh", "from", "size", "scroll", "strategy", "expiresIn",
    "global", "scope", "users", "retryOnConflict", "source", "silent", "lang", "kuid", "ids",
    "onExistingUsers", "reset", "pretty", "includeKuzzleMeta", "waitForRefresh", "cookieAuth",
]  # fmt: skip
# Actions after which the next examples could not be answered: a first administrator or default
# rights restricted close the API to anonymous examples, a shutdown stops the server.
CLOSING = {("security", "createFirstAdmin"), ("security", "restrictDefaultRights"), ("admin", "shutdown")}
NAMES = st.sampled_from([INDEX, COLLECTION, "doc-1", "doc-2", "admin", "anonymous", "default", "_private", ""])
TEXT = st.text(max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 1, 2**63, -(2**63) - 1, 10**300, 1.5, -0.0, 1e308, 5e-324])
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | NAMES
)
KEYS = st.sampled_from([*ARGUMENTS, "body", "_source", "_kuzzle_info", "query", "equals", "range", "and", "not"]) | TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=10
)
# What a client may spoil JSON text with: each of these replaces one value of a request.
BAD_TOKENS = st.sampled_from(
    [
        b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999", b"1" * 5000,  # past int's digit limit
        b'"\\ud800"', b'"a\\udfffb"', b'"\\ud83d\\ude00"', b'"\xed\xa0\x80"', b'"\xff\xfe"', b'"\x00"',
        b"[" * 100_000, b"[" * 900 + b"]" * 900, b"[" * 990 + b"]" * 990, b"{" * 3000,
        b'{"a":', b"tru", b"'single'", b'"\\x41"', b"0x10", b"01", b".5",
    ]
)  # fmt: skip
MARK = "\x00spoil\x00"


def spoil(text: str, token: bytes) -> bytes:
    """``text`` (JSON holding the ``MARK`` string once) with that value replaced by ``token``."""
    return text.encode("utf-8", "surrogatepass").replace(json.dumps(MARK).encode(), token, 1)


@st.composite
def tokens(draw: st.DrawFn) -> Any:
    """What a client puts where a token goes: junk, a forged JWT, one signed with the server's key."""
    from django.conf import settings as django_settings

    kind = draw(st.sampled_from(["junk", "none-alg", "signed", "json"]))
    if kind == "junk":
        return draw(st.sampled_from(["", "a.b.c", "Bearer", "e30.e30.", "x" * 500]) | TEXT)
    if kind == "json":
        return draw(JSON_VALUES)
    claims = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "_id": JSON_VALUES,
                "exp": st.sampled_from([int(time.time()) + 3600, -1, 0, 10**20, 1e300, "soon", None]),
                "iat": SCALARS,
            },
        )
    )
    if kind == "none-alg":
        return pyjwt.encode(claims, None, algorithm="none")
    return pyjwt.encode(claims, django_settings.SECRET_KEY, algorithm="HS256")


def controller_names(app: Application) -> list[str]:
    return sorted(app.controller.controllers)


def documents() -> st.SearchStrategy[Any]:
    """Bodies of the multi-document actions: ``{"documents": [{"_id", "body"}...]}``."""
    document = st.fixed_dictionaries(
        {}, optional={"_id": NAMES | JSON_VALUES, "body": JSON_VALUES, "_source": JSON_VALUES}
    )
    return st.fixed_dictionaries({"documents": st.lists(document | JSON_VALUES, max_size=4)})


@st.composite
def requests(draw: st.DrawFn, app: Application) -> dict[str, Any]:
    """A request as WebSocket frames and ``/_query`` bodies carry it, any field of any type."""
    registered = app.controller.controllers
    controller = draw(st.sampled_from(controller_names(app)) | st.sampled_from(["nope", "", "server/x"]) | JSON_VALUES)
    actions = sorted(registered[controller].actions) if isinstance(controller, str) and controller in registered else []
    action = draw(st.sampled_from(actions) | JSON_VALUES if actions else JSON_VALUES)
    if isinstance(controller, str) and isinstance(action, str) and (controller, action) in CLOSING:
        action = "createUser" if controller == "security" else "resetCache"
    request: dict[str, Any] = {"controller": controller, "action": action}
    if not rarely(draw):
        request.update(
            index=draw(parameter("index", JSON_VALUES)), collection=draw(parameter("collection", JSON_VALUES))
        )
    for key, value in draw(st.dictionaries(st.sampled_from(ARGUMENTS), NAMES | JSON_VALUES, max_size=3)).items():
        request[key] = value
    optional = {
        "requestId": st.sampled_from(["r-1", "日本", "a\x00b", "a\r\nb", "tab\t", ""]) | TEXT | JSON_VALUES,
        "body": st.dictionaries(KEYS, JSON_VALUES, max_size=4) | JSON_VALUES | documents(),
        "volatile": JSON_VALUES,
        "jwt": tokens(),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            request[key] = draw(strategy)
    return request


@st.composite
def request_texts(draw: st.DrawFn, app: Application) -> bytes:
    """A request's JSON text, maybe with one of its values spoilt, or bytes that are no JSON."""
    kind = draw(st.sampled_from(["json", "spoilt", "spoilt", "junk"]))
    if kind == "junk":
        return draw(st.binary(max_size=40) | BAD_TOKENS | st.sampled_from([b"", b"[]", b"null", b'"x"', b"{}"]))
    request = draw(requests(app))
    if kind == "spoilt":
        where = draw(st.sampled_from(["body", "volatile", "requestId", "controller", "index", "jwt", "size"]))
        request[where] = MARK if where != "body" or draw(st.booleans()) else {"nested": [MARK]}
        return spoil(json.dumps(request, ensure_ascii=draw(st.booleans())), draw(BAD_TOKENS))
    return json.dumps(request, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


# Checks ---------------------------------------------------------------------------------------


def check_envelope(envelope: Any, status: int | None = None) -> None:
    """A Kuzzle envelope: ``status`` (equal to the HTTP one), and an error from the table."""
    assert isinstance(envelope, dict), envelope
    assert isinstance(envelope.get("status"), int), envelope
    if status is not None:
        assert envelope["status"] == status, envelope
    error = envelope.get("error")
    if envelope["status"] >= 400 or error is not None:
        assert isinstance(error, dict) and error.get("id") in ERROR_TABLE, envelope
        assert error["status"] == envelope["status"], envelope
        assert not SQL.search(str(error.get("message"))), envelope
        if envelope["status"] >= 500:
            assert error["id"] in ALLOWED_5XX, f"a 5xx no action documents: {envelope}"


# HTTP -----------------------------------------------------------------------------------------


class Exchange:
    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[bytes, bytes] = {}
        self.body = b""
        self.done = False


async def call(
    asgi: KuzzleASGI, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> Exchange:
    """One HTTP exchange with the ASGI application, as a server drives it."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode("utf-8"), "query_string": query, "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 7512),
    }  # fmt: skip
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    exchange = Exchange()

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        assert not exchange.done, f"a message after the response's end: {message}"
        if message["type"] == "http.response.start":
            assert exchange.status is None, "two response starts"
            exchange.status = message["status"]
            for name, value in message.get("headers", []):
                assert isinstance(name, bytes) and isinstance(value, bytes), (name, value)
                assert not re.search(rb"[\r\n\x00]", name + value), f"a header no server can send: {name!r}: {value!r}"
                exchange.headers[name.lower()] = value
        else:
            assert message["type"] == "http.response.body" and exchange.status is not None, message
            exchange.body += message.get("body", b"")
            exchange.done = not message.get("more_body", False)

    await asyncio.wait_for(asgi(scope, receive, send), ANSWER_TIMEOUT)
    return exchange


def rarely(draw: st.DrawFn, one_in: int = 4) -> bool:
    return draw(st.integers(0, one_in - 1)) == 0


def parameter(name: str, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the index and collection that exist (so that document actions reach the database)."""
    known = {"index": INDEX, "collection": COLLECTION}.get(name)
    return st.sampled_from([known, known, known]) | other if known else NAMES | other


def http_paths(app: Application) -> st.SearchStrategy[tuple[str, str]]:
    """``(method, path)``: a route with its parameters filled, a special route, or junk."""
    routes = [(r.verb.upper(), r.path) for r in app.controller.router if (r.controller, r.action) not in CLOSING]
    special = ["/", "/_query", "/_now", "/_healthcheck", "/_ready", "/_publicApi", "/_openapi", "/_serverCapabilities"]
    methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW", "get"])
    odd_segment = st.sampled_from(["%2F", "a b", "..", "日本", "%00", "%ZZ", "_x"]) | st.text(max_size=8)

    @st.composite
    def routed(draw: st.DrawFn) -> tuple[str, str]:
        verb, path = draw(st.sampled_from(routes))
        parts = [draw(parameter(p[1:], odd_segment)) if p.startswith(":") else p for p in path.split("/")]
        return (draw(methods) if rarely(draw, 8) else verb), "/".join(parts) or "/"

    @st.composite
    def any_path(draw: st.DrawFn) -> tuple[str, str]:
        kind = draw(st.sampled_from(["route", "route", "route", "query", "query", "special", "junk"]))
        if kind == "route":
            return draw(routed())
        if kind == "query":
            return ("GET" if rarely(draw, 8) else "POST"), "/_query"
        if kind == "special":
            return draw(methods), draw(st.sampled_from(special))
        return draw(methods), draw(st.sampled_from(["/_", "/", "//", "/_query/", "/_/"])) + draw(TEXT)

    return any_path()


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=30)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
        "application/vnd.api+json", "application/x-www-form-urlencoded", "multipart/form-data",
        "multipart/form-data; boundary=xyz", "text/plain", "", ";;;", "application/json; charset",
    ]
) | HEADER_TEXT  # fmt: skip


@st.composite
def http_cases(draw: st.DrawFn, app: Application) -> tuple[str, str, bytes, list[tuple[bytes, bytes]], list[bytes]]:
    method, path = draw(http_paths(app))
    pairs = draw(st.lists(st.tuples(st.sampled_from(ARGUMENTS) | TEXT, NAMES | TEXT | SCALARS.map(str)), max_size=4))
    odd_queries = st.sampled_from(
        ["pretty", "a=%ZZ", "=&&=", "size=1e400&from=-1", "from=99999999999999999999",
         # repeated keys are lists, as in Kuzzle: every action must refuse one where it takes a scalar
         "from=1&from=2&size=a&size=b", "_id=x&_id=y&refresh=wait_for&refresh=false", "index=a&index=b&scroll=1s&scroll=2s"]
    )  # fmt: skip
    query = draw(odd_queries) if rarely(draw) else "&".join(f"{k}={v}" for k, v in pairs)
    headers: dict[str, str] = {}
    optional = {
        "content-type": CONTENT_TYPES if rarely(draw) else st.just("application/json"),
        "x-kuzzle-volatile": request_texts(app).map(lambda b: b.decode("latin-1")) | HEADER_TEXT,
        "authorization": st.tuples(st.sampled_from(["Bearer ", "bearer ", "Basic ", ""]), tokens().map(str)).map(
            "".join
        ),
        "x-kuzzle-request-id": HEADER_TEXT if rarely(draw) else st.text("abc-123", min_size=1, max_size=8),
        "origin": HEADER_TEXT,
        "content-length": st.sampled_from(["0", "5", "99999999999", "-1", "x"]),
    }
    for name, strategy in optional.items():
        if name == "content-type" or rarely(draw, 8 if name == "content-length" else 3):
            headers[name] = draw(strategy)
    if path == "/_query":
        body = draw(request_texts(app))
    else:
        bodies = st.dictionaries(KEYS, JSON_VALUES, max_size=4) | documents() | JSON_VALUES
        body = draw(bodies.map(lambda v: json.dumps(v).encode()) | request_texts(app) | st.just(b""))
    cut = draw(st.integers(0, len(body)))
    chunks = [body[:cut], body[cut:]] if rarely(draw) else [body]
    # The bytes a client may send (UTF-8 too), less the line breaks and NUL no server lets through.
    encoded = [
        (k.encode(), re.sub(rb"[\r\n\x00]", b"", v.encode("utf-8", "surrogatepass"))) for k, v in headers.items()
    ]
    return method, path, query.encode("utf-8"), encoded, chunks


def check_http(exchange: Exchange, method: str) -> Any:
    """The answer's checks; its JSON payload (None for an empty HEAD or OPTIONS answer)."""
    assert exchange.status is not None and exchange.done, "no complete response"
    declared = exchange.headers.get(b"content-length")
    if declared is not None and not (method.upper() == "HEAD" and not exchange.body):  # (HEAD: the GET's length)
        assert int(declared) == len(exchange.body), "Content-Length does not match the body"
    if method.upper() in ("OPTIONS", "HEAD") and not exchange.body:
        assert exchange.status < 500 or exchange.status == 503, exchange.status
        return None
    content_type = exchange.headers.get(b"content-type", b"")
    if exchange.status == 200 and content_type in (b"text/csv", b"html/text"):
        return None  # document:export's raw answer (Kuzzle's content types), not an envelope
    assert content_type.startswith(b"application/json"), exchange.headers
    payload = jsontext.loads(exchange.body)  # strict: no NaN, no lone surrogate
    if isinstance(payload, dict) and "requestId" in payload:
        check_envelope(payload, exchange.status)
        assert exchange.headers.get(b"x-kuzzle-request-id") in (payload["requestId"].encode("latin-1", "replace"), None)
    else:  # a raw JSON answer (server:openapi's document)
        assert exchange.status in (200, 503), (exchange.status, payload)
    return payload


async def keep_fixtures(app: Application, envelope: Any) -> None:
    """Create again the index or collection an example deleted, so that the next ones can write."""
    if isinstance(envelope, dict) and envelope.get("status") == 200 and envelope.get("action") in ("delete", "mDelete"):
        if envelope.get("controller") in ("index", "collection"):
            await ensure_fixtures(app)


async def ensure_fixtures(app: Application) -> None:
    for request in (
        {"controller": "index", "action": "create", "index": INDEX},
        {"controller": "collection", "action": "create", "index": INDEX, "collection": COLLECTION},
    ):
        try:
            await app.sdk.query(request)
        except KuzzleError:  # it exists
            pass


@pytest.fixture
async def fuzz_app(make_app: Callable[..., Application], settings: Any) -> AsyncIterator[Application]:
    """A started application with one index and collection, where document actions can write.

    On Channels' in-memory layer whatever ``REDIS_URL`` says: the faults of the Redis layer are
    tests/reliability/test_redis_restart.py's, these tests are about what clients send.
    """
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    app = make_app()
    await app.start()
    await ensure_fixtures(app)
    yield app
    await app.events.drain_hooks()


async def server_now(asgi: KuzzleASGI) -> None:
    alive = await call(asgi, "GET", "/_now", b"", [], [b""])
    assert alive.status == 200 and json.loads(alive.body)["result"]["now"] > 0, alive.body


@FUZZ
@given(data=st.data())
async def test_http_entry(fuzz_app: Application, data: st.DataObject) -> None:
    asgi = KuzzleASGI(app=fuzz_app)
    method, path, query, headers, chunks = data.draw(http_cases(fuzz_app), label="request")
    await keep_fixtures(fuzz_app, check_http(await call(asgi, method, path, query, headers, chunks), method))
    await server_now(asgi)


# WebSocket ------------------------------------------------------------------------------------

NOTIFICATIONS = {"document", "user", "TokenExpired"}


class Client:
    """One WebSocket to the consumer, kept across examples; opened again only after a failure."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.ws: WebsocketCommunicator | None = None
        self.count = 0

    async def connect(self) -> WebsocketCommunicator:
        if self.ws is None:
            self.ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=self.app), "/")
            connected, _ = await self.ws.connect()
            assert connected
        return self.ws

    async def answer(self) -> dict[str, Any]:
        """The next frame that is not a notification (the fuzzer may subscribe and publish)."""
        ws = await self.connect()
        while True:
            output = await ws.receive_output(ANSWER_TIMEOUT)
            if output["type"] == "websocket.close":
                self.ws = None
                raise AssertionError(f"the server closed the WebSocket: {output}")
            assert output["type"] == "websocket.send" and output.get("text") is not None, output
            frame = jsontext.loads(output["text"])  # strict: no NaN, no lone surrogate
            assert isinstance(frame, dict), frame
            if frame.get("type") not in NOTIFICATIONS:
                return frame

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.disconnect()


def frame_request_id(text: str) -> str | None:
    """The ``requestId`` the answer must carry: the frame's, if it is a request that can echo it."""
    try:
        data = jsontext.loads(text)
    except ValueError:
        return None
    request_id = data.get("requestId") if isinstance(data, dict) else None
    return request_id if isinstance(request_id, str) and request_id.isprintable() else None


def too_deep(envelope: dict[str, Any]) -> bool:
    """A frame refused for its nesting: how deep Python can read depends on the stack it reads
    on, deeper in a server than in this test, so such a frame may be read here and not there."""
    return "nested too deeply" in str((envelope.get("error") or {}).get("message"))


def as_text(frame: bytes) -> str:
    """A text frame's text (raw surrogates kept: an ASGI server in Python could pass them on)."""
    try:
        return frame.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return frame.decode("utf-8", "replace")


@pytest.fixture
async def client(fuzz_app: Application) -> AsyncIterator[Client]:
    client = Client(fuzz_app)
    yield client
    await client.close()


@FUZZ
@given(data=st.data())
async def test_websocket_entry(fuzz_app: Application, client: Client, data: st.DataObject) -> None:
    frame = data.draw(request_texts(fuzz_app), label="frame")
    as_bytes = data.draw(st.booleans(), label="binary frame")
    ws = await client.connect()
    if as_bytes:
        await ws.send_input({"type": "websocket.receive", "bytes": frame})
        text = frame.decode("utf-8", "replace")  # as the consumer reads a binary frame
    else:
        text = as_text(frame)
        await ws.send_input({"type": "websocket.receive", "text": text})
    answer = await client.answer()
    if answer == {"p": 2}:  # the frame was {"p":1}
        return
    check_envelope(answer)
    assert isinstance(answer.get("requestId"), str) and answer.get("room") == answer["requestId"], answer
    expected = frame_request_id(text)
    if expected is not None:
        assert answer["requestId"] == expected, answer
    await keep_fixtures(fuzz_app, answer)
    client.count += 1
    alive = f"alive-{client.count}"
    await ws.send_to(text_data=json.dumps({"controller": "server", "action": "now", "requestId": alive}))
    assert (await client.answer())["room"] == alive


# Against a real server ------------------------------------------------------------------------
# The same cases through uvicorn's HTTP parser and WebSocket implementation, over sockets: what
# the in-process runs cannot see (a header uvicorn refuses to send, a connection it drops). Fewer
# cases: the in-process runs are where the search happens.

REAL = settings(FUZZ, max_examples=max(1, EXAMPLES // 4))
STANDARD_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve("fuzzed", UVICORN, tmp_path_factory.mktemp("fuzzed-server"))


@pytest.fixture(scope="module")
def shapes() -> Application:
    """An application that is never started: its routes and controllers shape the cases."""
    return Application()


def djangos_own(exchange: Exchange, path: str) -> bool:
    """Whether Django answered: a path that none of Kuzzle's routes takes, outside ``/_``, is the
    project's (its 404 page...). Never a 5xx, never for an API path."""
    if not exchange.headers.get(b"content-type", b"").startswith(b"text/html"):
        return False  # (an empty answer to OPTIONS or HEAD is check_http's; Django's redirects are HTML)
    assert not path.startswith("/_") and path != "/", f"Django answered an API path: {path!r}"
    assert exchange.status is not None and exchange.status < 500, exchange.body[:500]
    return True


def over_socket(
    port: int, case: tuple[str, str, bytes, list[tuple[bytes, bytes]], list[bytes]]
) -> tuple[str, Exchange]:
    """Send one case as HTTP/1.1 bytes (a method and length a server can read); its response."""
    method, path, query, headers, chunks = case
    method = method if method in STANDARD_METHODS else "GET"
    body = b"".join(chunks)
    target = quote(path, safe="/%") + ("?" + quote(query.decode("utf-8"), safe="=&%+") if query else "")
    lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    # (Control characters in a header: uvicorn's parser answers its own plain-text 400 first.)
    lines += [k + b": " + re.sub(rb"[\x00-\x08\x0a-\x1f\x7f]", b"", v) for k, v in headers if k != b"content-length"]
    lines.append(b"Content-Length: %d" % len(body))
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        exchange = Exchange()
        exchange.status = response.status
        exchange.headers = {k.lower().encode("latin-1"): v.encode("latin-1") for k, v in response.getheaders()}
        exchange.body, exchange.done = response.read(), True
    return method, exchange


def test_http_entry_on_a_real_server(real_server: Server, shapes: Application) -> None:
    @REAL
    @given(case=http_cases(shapes))
    def one(case: tuple[str, str, bytes, list[tuple[bytes, bytes]], list[bytes]]) -> None:
        method, exchange = over_socket(real_server.port, case)
        if not djangos_own(exchange, case[1]):
            check_http(exchange, method)

    one()
    status, _, body = get(real_server.port, "/_now")
    assert status == 200 and json.loads(body)["result"]["now"] > 0, real_server.output()


def test_websocket_entry_on_a_real_server(real_server: Server, shapes: Application) -> None:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{real_server.port}/", open_timeout=ANSWER_TIMEOUT, max_size=None) as ws:

        def answer() -> dict[str, Any]:
            while True:
                frame = jsontext.loads(ws.recv(timeout=ANSWER_TIMEOUT))
                if frame.get("type") not in NOTIFICATIONS:
                    return frame

        @REAL
        @given(frame=request_texts(shapes))
        def one(frame: bytes) -> None:
            try:
                text = frame.decode("utf-8")  # a text frame is UTF-8: anything else goes as bytes
                ws.send(text)
            except UnicodeDecodeError:
                text = frame.decode("utf-8", "replace")
                ws.send(frame)
            envelope = answer()
            if envelope != {"p": 2}:
                check_envelope(envelope)
                assert envelope.get("room") == envelope.get("requestId"), envelope
                expected = frame_request_id(text)
                if expected is not None and not too_deep(envelope):
                    assert envelope["requestId"] == expected, envelope
            ws.send(json.dumps({"controller": "server", "action": "now", "requestId": "alive"}))
            assert answer()["room"] == "alive"

        one()


# The DRF views --------------------------------------------------------------------------------


@pytest.fixture
def drf(fuzz_app: Application, settings: Any) -> Callable[..., Any]:
    from tests.protocols.test_http import drf_client

    return drf_client(fuzz_app, settings)


@REAL
@given(data=st.data())
async def test_drf_entry(fuzz_app: Application, drf: Callable[..., Any], data: st.DataObject) -> None:
    method, path, query, headers, chunks = data.draw(http_cases(fuzz_app), label="request")
    # Header values as a WSGI server gives them (latin-1 text), less what Django's client refuses.
    text_headers = {
        k.decode(): re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "", v.decode("latin-1"))
        for k, v in headers
        if k != b"content-length"
    }
    url = quote(path, safe="/%") + ("?" + quote(query.decode("utf-8"), safe="=&%+") if query else "")
    answer = await drf(method, url, headers=text_headers, content=b"".join(chunks))
    exchange = Exchange()
    exchange.status, exchange.body, exchange.done = answer.status, answer.body, True
    exchange.headers = {k.encode(): v.encode("latin-1", "replace") for k, v in answer.headers.items()}
    if not djangos_own(exchange, path):
        await keep_fixtures(fuzz_app, check_http(exchange, method))
