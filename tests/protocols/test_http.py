"""One HTTP conformance suite, run against both adapters: the lean ASGI entry and the DRF views."""

from __future__ import annotations

import base64
import gzip
import json
import types
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.asgi import KuzzleASGI
from kuzzle_events.errors import ForbiddenError
from kuzzle_events.protocols.http.parsing import HttpInput
from kuzzle_events.urls import kuzzle_urlpatterns
from project.demo import events as demo
from tests.accounts import issue_token


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def register_test_controllers(app: Application) -> None:
    demo.register(app)

    async def echo(request: KuzzleRequest) -> dict[str, Any]:
        misc = request.context.connection.misc
        return {
            "args": request.input.args,
            "body": request.input.body,
            "jwt": request.input.jwt,
            "user": request.context.user.id,
            "volatile": request.input.volatile,
            "protocol": request.context.connection.protocol,
            "verb": misc["verb"],
            "path": misc["path"],
            "url": misc["url"],
            "header": misc["headers"].get("x-custom"),
            "flag": request.get_boolean("flag"),
        }

    async def item(request: KuzzleRequest) -> str:
        return f"item {request.input.args['id']}"

    async def special(request: KuzzleRequest) -> str:
        return "special"

    async def raw_bytes(request: KuzzleRequest) -> bytes:
        request.response.raw = True
        request.response.set_header("Content-Type", "image/png")
        return b"\x89PNG"

    async def raw_json(request: KuzzleRequest) -> dict[str, str]:
        request.response.raw = True
        request.response.status = 202
        request.response.set_header("X-Raw", "yes")
        return {"foo": "bar"}

    async def hidden(request: KuzzleRequest) -> str:
        return "only over /_query and WebSocket"

    async def with_headers(request: KuzzleRequest) -> str:
        request.response.set_header("foo", "bar")
        request.response.set_header("Alpha", "beta")
        request.response.set_header("Set-Cookie", "foo=bar")
        request.response.set_header("Content-Length", "12345")
        return "headers set"

    app.controller.register(
        "probe",
        {
            "actions": {
                "echo": {
                    "handler": echo,
                    "http": [{"verb": "post", "path": "/echo/:name"}, {"verb": "get", "path": "/echo/:name"}],
                },
                "item": {"handler": item, "http": [{"verb": "get", "path": "/items/:id"}]},
                "special": {"handler": special, "http": [{"verb": "get", "path": "/items/special"}]},
                "rawBytes": {"handler": raw_bytes},
                "rawJson": {"handler": raw_json},
                "hidden": {"handler": hidden, "http": []},
                "withHeaders": {"handler": with_headers},
            }
        },
    )


def asgi_client(app: Application) -> Callable[..., Any]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=KuzzleASGI(app=app)), base_url="http://testserver")

    async def call(method: str, url: str, *, headers: dict[str, str] | None = None, content: bytes = b"") -> Answer:
        # The body as sent (httpx would decompress it), and only the headers given (it would add
        # an Accept-Encoding of its own).
        request = client.build_request(method, url, headers=headers, content=content)
        if "accept-encoding" not in {k.lower() for k in headers or {}}:
            del request.headers["accept-encoding"]
        response = await client.send(request, stream=True)
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)

    return call


def drf_client(app: Application, settings: Any) -> Callable[..., Any]:
    urlconf = types.ModuleType("kuzzle_test_urls")
    urlconf.urlpatterns = kuzzle_urlpatterns(app)  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urlconf
    client = APIClient()

    def request(method: str, url: str, headers: dict[str, str], content: bytes) -> Answer:
        path, _, query = url.partition("?")
        extra = {"QUERY_STRING": query}
        content_type = headers.pop("content-type", "application/octet-stream")
        response = client.generic(method, path, data=content, content_type=content_type, headers=headers, **extra)
        return Answer(response.status_code, {k.lower(): v for k, v in response.items()}, response.content)

    async def call(method: str, url: str, *, headers: dict[str, str] | None = None, content: bytes = b"") -> Answer:
        return await sync_to_async(request)(method, url, dict(headers or {}), content)

    return call


@pytest.fixture(params=["asgi", "drf"])
def http(request: pytest.FixtureRequest, make_app: Callable[..., Application], settings: Any):
    app = make_app(MAX_REQUEST_SIZE=2048)
    register_test_controllers(app)
    client = asgi_client(app) if request.param == "asgi" else drf_client(app, settings)
    client.app = app  # type: ignore[attr-defined]
    return client


JSON = {"content-type": "application/json"}


async def test_server_now_envelope_and_headers(http) -> None:
    answer = await http("GET", "/_now", headers={"origin": "http://example.com"})
    envelope = answer.json()
    assert answer.status == 200 and envelope["status"] == 200
    assert set(envelope["result"]) == {"now"}
    assert answer.headers["x-kuzzle-request-id"] == envelope["requestId"]
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["access-control-allow-origin"] == "http://example.com"
    assert (envelope["controller"], envelope["action"]) == ("server", "now")
    # Kuzzle's HTTP headers, as its router writes them.
    assert answer.headers["vary"] == "Origin"
    assert answer.headers["access-control-allow-methods"] == "GET,POST,PUT,PATCH,DELETE,OPTIONS,HEAD"
    assert answer.headers["access-control-allow-headers"] == (
        # Kuzzle's own list, and the header that asks for a request's trace.
        "Content-Type, Access-Control-Allow-Headers, Authorization, X-Requested-With, Content-Encoding, "
        "Content-Length, X-Kuzzle-Volatile, X-Kuzzle-Trace"
    )
    assert answer.headers["access-control-allow-credentials"] == "true"  # COOKIE_AUTHENTICATION
    # No Origin: no Access-Control-Allow-Origin (nor Vary), as Kuzzle's; no header of DRF's.
    plain = await http("GET", "/_now")
    assert "access-control-allow-origin" not in plain.headers and "vary" not in plain.headers
    assert "allow" not in plain.headers


async def test_custom_route_path_args_query_args_and_body(http) -> None:
    answer = await http("POST", "/greeting/Ada?punctuation=%3F", headers=JSON, content=b'{"from": "test"}')
    assert answer.status == 200
    assert answer.json()["result"] == {"greeting": "Hello, Ada?", "body": {"from": "test"}}


async def test_url_params_beat_query_args_and_request_details(http) -> None:
    token = await sync_to_async(issue_token)("ada")
    answer = await http(
        "POST",
        "/echo/Ada?name=Bob&flag&other=1",
        headers={
            **JSON,
            "authorization": f"Bearer {token.jwt}",
            "x-kuzzle-volatile": '{"client": "test"}',
            "x-custom": "yes",
        },
        content=b'{"k": 1}',
    )
    result = answer.json()["result"]
    assert result["args"] == {"name": "Ada", "flag": "", "other": "1"}
    assert result["body"] == {"k": 1}
    assert result["jwt"] == token.jwt
    assert result["volatile"] == {"client": "test"}
    assert answer.json()["volatile"] == {"client": "test"}
    assert (result["protocol"], result["verb"], result["path"]) == ("http", "POST", "/echo/Ada")
    assert result["url"] == "/echo/Ada?name=Bob&flag&other=1"
    assert result["header"] == "yes"
    assert result["flag"] is True


async def test_literal_segment_beats_param_and_trailing_slash(http) -> None:
    assert (await http("GET", "/items/special")).json()["result"] == "special"
    assert (await http("GET", "/items/42")).json()["result"] == "item 42"
    assert (await http("GET", "/items/42/")).json()["result"] == "item 42"


async def test_default_route_and_no_route(http) -> None:
    answer = await http("GET", "/_/probe/raw-json")
    assert answer.status == 202
    # No default route for an action declared without HTTP routes: the path is document:get's.
    answer = await http("GET", "/_/probe/hidden")
    assert (answer.json()["controller"], answer.json()["action"]) == ("document", "get")
    assert answer.status == 412 and answer.json()["error"]["id"] == "services.storage.unknown_index"
    answer = await http("POST", "/_query", headers=JSON, content=b'{"controller": "probe", "action": "hidden"}')
    assert answer.status == 200 and answer.json()["result"] == "only over /_query and WebSocket"


async def test_query_route_takes_a_whole_request(http) -> None:
    body = {"controller": "greeting", "action": "sayHello", "name": "Bo", "body": {"x": 1}, "requestId": "q1"}
    answer = await http("POST", "/_query", headers=JSON, content=json.dumps(body).encode())
    envelope = answer.json()
    assert envelope["requestId"] == "q1"
    assert envelope["result"] == {"greeting": "Hello, Bo!", "body": {"x": 1}}


async def test_query_route_reads_token_and_volatile_headers(http) -> None:
    token = await sync_to_async(issue_token)("ada")
    body = {"controller": "probe", "action": "echo", "name": "x"}
    headers = {**JSON, "authorization": f"Bearer {token.jwt}", "x-kuzzle-volatile": '{"h": 1}'}
    result = (await http("POST", "/_query", headers=headers, content=json.dumps(body).encode())).json()["result"]
    assert (result["jwt"], result["volatile"]) == (token.jwt, {"h": 1})
    other = await sync_to_async(issue_token)("bob")
    body.update(jwt=other.jwt, volatile={"b": 2})
    answer = (await http("POST", "/_query", headers=headers, content=json.dumps(body).encode())).json()
    # The body's token wins over the header's, as in Kuzzle: the request is Bob's.
    assert (answer["result"]["jwt"], answer["result"]["volatile"]) == (other.jwt, {"b": 2})
    assert answer["result"]["user"] == "bob"


async def test_special_routes(http) -> None:
    info = await http("GET", "/")
    assert info.json()["action"] == "info" and "serverInfo" in info.json()["result"]
    assert (await http("GET", "/_healthcheck")).status == 200
    ready = await http("GET", "/_ready")
    assert ready.status == 200
    public = (await http("GET", "/_publicApi")).json()["result"]
    assert public["greeting"]["sayHello"]["http"][0]["url"] == "/greeting/:name"
    assert public["server"]["now"]["http"] == [{"verb": "GET", "url": "/_now", "path": "/_now"}]
    # The document itself, as Kuzzle answers it: the application's routes in scope=app.
    openapi = (await http("GET", "/_openapi?scope=app")).json()
    assert "/greeting/{name}" in openapi["paths"]


async def test_healthcheck_bypasses_the_pipeline(http) -> None:
    async def closed(request: KuzzleRequest) -> KuzzleRequest:
        raise ForbiddenError("closed")

    http.app.pipe.register("request:beforeExecution", closed)
    answer = await http("GET", "/_healthcheck", headers={"x-kuzzle-request-id": "probe-1"})
    assert answer.status == 200
    # Kuzzle's body: an envelope of no action, result null, with the node's headers.
    envelope = answer.json()
    assert envelope["requestId"] == "probe-1" and answer.headers["x-kuzzle-request-id"] == "probe-1"
    assert {k: envelope[k] for k in ("status", "error", "controller", "action", "index", "collection", "result")} == {
        "status": 200,
        "error": None,
        "controller": None,
        "action": None,
        "index": None,
        "collection": None,
        "result": None,
    }
    assert "x-kuzzle-node" in answer.headers
    assert (await http("GET", "/_now")).status == 403


async def test_options_answers_cors(http) -> None:
    answer = await http("OPTIONS", "/greeting/Ada", headers={"origin": "http://front.example"})
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == "http://front.example"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "Authorization" in answer.headers["access-control-allow-headers"]
    # Kuzzle's body: an envelope of no action whose result is {}.
    assert answer.headers["content-type"] == "application/json"
    envelope = answer.json()
    assert (envelope["status"], envelope["result"], envelope["error"]) == (200, {}, None)
    assert (envelope["controller"], envelope["action"]) == (None, None)


async def test_http_options_pipes_change_the_answer(http) -> None:
    seen: list[str] = []

    def allow_more(kuzzle_request: Any) -> Any:
        seen.append(kuzzle_request.context.connection.protocol)
        kuzzle_request.response.set_header("Access-Control-Max-Age", "600")
        kuzzle_request.set_result({"preflight": True}, 200)
        return kuzzle_request

    http.app.pipe.register("http:options", allow_more)
    await http("GET", "/_now")  # started: OPTIONS runs the pipes of a running application
    answer = await http("OPTIONS", "/_now", headers={"origin": "http://front.example"})
    assert (answer.status, answer.json()["result"]) == (200, {"preflight": True})
    assert answer.headers["access-control-max-age"] == "600" and seen == ["http"]


async def test_pretty(http) -> None:
    answer = await http("GET", "/_now?pretty")
    assert answer.body.startswith(b'{\n  "requestId"')


async def test_forms_and_files(http) -> None:
    answer = await http(
        "POST",
        "/echo/form",
        headers={"content-type": "application/x-www-form-urlencoded"},
        content=b"a=1&b=two",
    )
    assert answer.json()["result"]["body"] == {"a": "1", "b": "two"}
    boundary = "XyZ"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nfile content\r\n--{boundary}--\r\n"
    ).encode()
    answer = await http(
        "POST", "/echo/upload", headers={"content-type": f"multipart/form-data; boundary={boundary}"}, content=multipart
    )
    body = answer.json()["result"]["body"]
    assert body["title"] == "hello"
    assert body["doc"]["filename"] == "a.txt"
    assert body["doc"]["encoding"] == "7bit"
    assert base64.b64decode(body["doc"]["file"]) == b"file content"


@pytest.mark.parametrize(
    ("headers", "content", "status", "error_id"),
    [
        ({"content-type": "application/json; charset=iso-8859-1"}, b'{"a": 1}', 400, "network.http.unsupported_charset"),
        (JSON, b'{"a": ', 400, "network.http.body_parse_failed"),
        (JSON, b"\xff\xfe", 400, "network.http.body_parse_failed"),
        (JSON, b'{"a": ["\\ud800"]}', 400, "network.http.body_parse_failed"),
        (JSON, b"[" * 2000, 400, "network.http.body_parse_failed"),
        ({"content-type": "application/xml"}, b"<a/>", 400, "network.http.unsupported_content"),
        (JSON, b'{"a": "' + b"x" * 4096 + b'"}', 413, "network.http.request_too_large"),
        ({**JSON, "x-kuzzle-volatile": "{bad"}, b"{}", 400, "network.http.volatile_parse_failed"),
        ({**JSON, "x-kuzzle-volatile": '{"a": "\\udfff"}'}, b"{}", 400, "network.http.volatile_parse_failed"),
    ],
)
async def test_bad_bodies_get_kuzzle_errors(http, headers, content, status, error_id) -> None:
    answer = await http("POST", "/echo/x", headers=dict(headers), content=content)
    assert answer.status == status
    error = answer.json()["error"]
    assert (error["id"], error["status"]) == (error_id, status)
    assert answer.headers["content-type"] == "application/json"


async def test_bad_query_body(http) -> None:
    answer = await http("POST", "/_query", headers=JSON, content=b"[1, 2]")
    assert answer.status == 400 and answer.json()["error"]["id"] == "api.assert.invalid_type"


async def test_raw_responses(http) -> None:
    card = await http("GET", "/greeting-card/Bob")
    assert card.status == 200
    assert card.body == b"Dear Bob, hello."
    assert card.headers["content-type"].startswith("text/plain")
    assert card.headers["x-greeting-card"] == "1"
    png = await http("GET", "/_/probe/raw-bytes")
    assert (png.body, png.headers["content-type"]) == (b"\x89PNG", "image/png")
    raw = await http("GET", "/_/probe/raw-json")
    assert (raw.status, raw.json(), raw.headers["x-raw"]) == (202, {"foo": "bar"}, "yes")


async def test_unknown_url_and_wrong_verb(http) -> None:
    answer = await http("GET", "/_/nothing/here/at/all")
    assert answer.status == 404 and answer.json()["error"]["id"] == "network.http.url_not_found"
    answer = await http("PATCH", "/greeting/Ada")
    assert answer.status == 404 and answer.json()["error"]["id"] == "network.http.url_not_found"


async def test_error_status_line_equals_error_status(http) -> None:
    answer = await http("POST", "/greeting/stranger", headers=JSON, content=b"{}")
    assert answer.status == 403
    assert answer.json()["error"] == {
        "id": "demo.greeting.stranger",
        "code": 0,
        "message": "The demo does not greet strangers",
        "status": 403,
        "props": [],
    }


async def test_head_has_no_body(http) -> None:
    answer = await http("HEAD", "/_now")
    assert answer.status == 200 and answer.body == b""


async def test_http_parsing_pipes(http) -> None:
    async def before(payload: dict[str, Any]) -> dict[str, Any]:
        payload["payload"] = payload["payload"].replace(b"before", b"BEFORE")
        return payload

    async def after(payload: dict[str, Any]) -> dict[str, Any]:
        assert payload["connection"].protocol == "http"
        payload["payload"]["after"] = True
        return payload

    http.app.pipe.register("protocol:http:beforeParsingPayload", before)
    http.app.pipe.register("protocol:http:afterParsingPayload", after)
    answer = await http("POST", "/echo/x", headers=JSON, content=b'{"word": "before"}')
    assert answer.json()["result"]["body"] == {"word": "BEFORE", "after": True}


@pytest.mark.parametrize("accept", ["text/csv", "application/xml", "text/html"])
async def test_accept_header_does_not_change_the_answer(http, accept: str) -> None:
    answer = await http("GET", "/_now", headers={"accept": accept})
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json()["status"] == 200


async def test_content_headers_reach_the_request(http) -> None:
    headers = {"x-custom": "yes", "content-type": "application/json", "x-kuzzle-volatile": '{"v": 1}'}
    answer = await http("POST", "/echo/x", headers=headers, content=b'{"a": 1}')
    result = answer.json()["result"]
    assert (result["header"], result["body"], result["volatile"]) == ("yes", {"a": 1}, {"v": 1})


# The wire, as Kuzzle's ----------------------------------------------------------------------------


async def test_headers_an_action_sets(http) -> None:
    answer = await http("GET", "/_/probe/with-headers")
    assert answer.status == 200
    # Every header reaches the HTTP answer, set-cookie included, but its Content-Length is the body's.
    assert (answer.headers["foo"], answer.headers["alpha"], answer.headers["set-cookie"]) == ("bar", "beta", "foo=bar")
    assert answer.headers["content-length"] == str(len(answer.body))
    # The envelope names them lower-cased, without set-cookie (nor the server's own headers).
    assert answer.json()["headers"] == {"foo": "bar", "alpha": "beta", "content-length": "12345"}
    assert answer.headers["x-kuzzle-node"] == http.app.config.NODE == answer.json()["node"]
    assert answer.headers["content-encoding"] == "identity"


@pytest.mark.parametrize(
    ("accept", "coding"),
    [("gzip", "gzip"), ("deflate", "deflate"), ("deflate, gzip", "gzip"), ("gzip;q=0.5, deflate", "deflate"),
     ("br, gzip;q=0", None), ("br", None)],
)  # fmt: skip
async def test_answers_compressed_as_the_client_accepts(http, accept: str, coding: str | None) -> None:
    answer = await http("GET", "/echo/x?word=hello", headers={"accept-encoding": accept})
    assert answer.headers["content-encoding"] == (coding or "identity")
    body = answer.body
    if coding == "gzip":
        body = gzip.decompress(body)
    elif coding == "deflate":
        body = zlib.decompress(body)
    assert json.loads(body)["result"]["args"] == {"name": "x", "word": "hello"}
    assert answer.headers["content-length"] == str(len(answer.body))


def _compressed(data: bytes, codings: str) -> bytes:
    for coding in codings.split(","):
        coding = coding.strip()
        if coding == "gzip":
            data = gzip.compress(data)
        elif coding == "deflate":
            data = zlib.compress(data)
    return data


@pytest.mark.parametrize("codings", ["gzip", "deflate", "deflate, gzip, identity", "identity"])
async def test_compressed_requests(http, codings: str) -> None:
    body = json.dumps({"word": "squeezed"}).encode()
    for path in ("/echo/x", "/_query"):
        payload = {"controller": "probe", "action": "echo", "name": "x", "body": {"word": "squeezed"}}
        raw = body if path == "/echo/x" else json.dumps(payload).encode()
        headers = {**JSON, "content-encoding": codings}
        answer = await http("POST", path, headers=headers, content=_compressed(raw, codings))
        assert answer.status == 200, answer.body
        assert answer.json()["result"]["body"] == {"word": "squeezed"}


@pytest.mark.parametrize(
    ("codings", "content", "status", "error"),
    [
        ("br", b"{}", 400, "network.http.unsupported_compression"),
        ("gzip, gzip, gzip, gzip", b"{}", 400, "network.http.too_many_encodings"),
        ("gzip", b"not gzip at all", 400, "network.http.unexpected_error"),
        ("gzip", gzip.compress(b"{}")[:-12], 400, "network.http.unexpected_error"),
        # Small compressed, over MAX_REQUEST_SIZE (2048) once inflated.
        ("gzip", gzip.compress(b'{"a": "' + b"x" * 10_000 + b'"}'), 413, "network.http.request_too_large"),
    ],
)
async def test_bad_compressed_requests(http, codings: str, content: bytes, status: int, error: str) -> None:
    answer = await http("POST", "/echo/x", headers={**JSON, "content-encoding": codings}, content=content)
    assert (answer.status, answer.json()["error"]["id"]) == (status, error)


async def test_query_without_controller_or_action(http) -> None:
    for body, missing in (({}, "controller"), ({"controller": "server"}, "action"), ({"action": "now"}, "controller")):
        answer = await http("POST", "/_query", headers=JSON, content=json.dumps(body).encode())
        error = answer.json()["error"]
        assert answer.status == 400 and error["id"] == "api.assert.missing_argument"
        assert error["message"] == f'Missing argument "{missing}".'


async def test_parsing_pipe_gets_the_message_and_reads_another_type(make_app, settings: Any) -> None:
    seen: list[tuple[str, Any]] = []

    async def from_lines(event: dict[str, Any]) -> dict[str, Any]:
        # A "key: value" per line, as a YAML mapping, turned into JSON.
        message: HttpInput = event["message"]
        seen.append((message.headers.get("content-type", ""), event["payload"]))
        if message.headers.get("content-type") == "application/x-lines":
            pairs = (line.split(":", 1) for line in event["payload"].decode().splitlines())
            event["payload"] = json.dumps({k.strip(): v.strip() for k, v in pairs})
        return event

    for extra, status in (([], 400), (["application/x-lines"], 200)):
        app = make_app(ADDITIONAL_CONTENT_TYPES=extra)
        register_test_controllers(app)
        app.pipe.register("protocol:http:beforeParsingPayload", from_lines)
        for client in (asgi_client(app), drf_client(app, settings)):
            seen.clear()
            answer = await client("POST", "/echo/x", headers={"content-type": "application/x-lines"}, content=b"name: Martial")
            assert answer.status == status
            if status == 400:
                # Refused before the pipes, as Kuzzle does.
                assert answer.json()["error"]["id"] == "network.http.unsupported_content" and seen == []
            else:
                assert answer.json()["result"]["body"] == {"name": "Martial"}
                assert seen == [("application/x-lines", b"name: Martial")]
