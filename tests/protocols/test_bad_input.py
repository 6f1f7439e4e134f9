"""Bad input and answers that cannot be encoded, on every entry: each is answered with a Kuzzle
envelope on the same connection, never a plain-text 500, a dropped connection or a closed WebSocket.

Entries: the lean ASGI entry and the DRF views (body, ``X-Kuzzle-Volatile``, ``/_query``,
``X-Kuzzle-Request-Id``) and WebSocket frames.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from tests.protocols.test_http import asgi_client, drf_client

BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400"]
# A string with an unpaired surrogate: escaped in JSON text, or as raw (CESU-8) bytes.
ESCAPED_SURROGATE = b'"a\\ud800b"'
RAW_SURROGATE = b'"a\xed\xa0\x80b"'
BAD_REQUEST_IDS: list[Any] = ["a\x00b", "a\r\nX-Injected: 1", "tab\there", 42, ["r"], {"id": 1}]


def register_probes(app: Application) -> None:
    async def echo(request: KuzzleRequest) -> Any:
        return request.input.body

    async def surrogate(request: KuzzleRequest) -> str:
        return "bad \ud800 text"

    async def raw_surrogate(request: KuzzleRequest) -> str:
        request.response.raw = True
        return "raw \udc00"

    async def header(request: KuzzleRequest) -> str:
        request.response.set_header("X-Bad", request.get_string("value"))
        return "with a header"

    async def failing(request: KuzzleRequest) -> str:
        raise ValueError("message \ud800 here")

    async def bad_volatile(request: KuzzleRequest) -> str:
        request.input.volatile = {"n": float("nan")}
        return "volatile data no JSON carries"

    app.controller.register(
        "bad",
        {
            "actions": {
                "echo": {"handler": echo, "http": [{"verb": "post", "path": "/bad/echo"}]},
                "surrogate": {"handler": surrogate},
                "rawSurrogate": {"handler": raw_surrogate},
                "header": {"handler": header},
                "failing": {"handler": failing},
                "badVolatile": {"handler": bad_volatile},
            }
        },
    )


@pytest.fixture(params=["asgi", "drf"])
def http(request: pytest.FixtureRequest, make_app: Callable[..., Application], settings: Any):
    app = make_app()
    register_probes(app)
    return asgi_client(app) if request.param == "asgi" else drf_client(app, settings)


JSON = {"content-type": "application/json"}


def kuzzle_error(answer: Any, status: int, error_id: str) -> dict[str, Any]:
    assert answer.headers["content-type"] == "application/json"
    envelope = answer.json()
    assert (answer.status, envelope["status"], envelope["error"]["id"]) == (status, status, error_id)
    return envelope


@pytest.mark.parametrize("value", BAD_NUMBERS)
async def test_http_body_nan_and_infinity(http, value: str) -> None:
    answer = await http("POST", "/bad/echo", headers=JSON, content=f'{{"n": [{value}]}}'.encode())
    kuzzle_error(answer, 400, "network.http.body_parse_failed")
    answer = await http("POST", "/_query", headers=JSON, content=f'{{"controller":"bad","action":"echo","body":{value}}}'.encode())
    kuzzle_error(answer, 400, "network.http.body_parse_failed")


@pytest.mark.parametrize("text", [ESCAPED_SURROGATE, RAW_SURROGATE])
async def test_http_body_unpaired_surrogates(http, text: bytes) -> None:
    answer = await http("POST", "/bad/echo", headers=JSON, content=b'{"s": ' + text + b"}")
    kuzzle_error(answer, 400, "network.http.body_parse_failed")
    query = b'{"controller":"bad","action":"echo","body":{"s":' + text + b"}}"
    kuzzle_error(await http("POST", "/_query", headers=JSON, content=query), 400, "network.http.body_parse_failed")


@pytest.mark.parametrize("value", [*BAD_NUMBERS, '"\\udfff"'])
async def test_http_volatile_header(http, value: str) -> None:
    headers = {**JSON, "x-kuzzle-volatile": f'{{"v": {value}}}'}
    kuzzle_error(await http("POST", "/bad/echo", headers=headers, content=b"{}"), 400, "network.http.volatile_parse_failed")
    query = b'{"controller":"bad","action":"echo"}'
    kuzzle_error(await http("POST", "/_query", headers=headers, content=query), 400, "network.http.volatile_parse_failed")


@pytest.mark.parametrize("request_id", BAD_REQUEST_IDS)
async def test_http_query_request_id_not_printable_text(http, request_id: Any) -> None:
    body = json.dumps({"controller": "server", "action": "now", "requestId": request_id}).encode()
    answer = await http("POST", "/_query", headers=JSON, content=body)
    expected = "api.assert.invalid_argument" if isinstance(request_id, str) else "api.assert.invalid_type"
    envelope = kuzzle_error(answer, 400, expected)
    assert envelope["requestId"] != request_id and answer.headers["x-kuzzle-request-id"] == envelope["requestId"]


async def test_http_request_id_header_with_control_characters(make_app: Callable[..., Application]) -> None:
    # (Only the lean entry: Django's test client refuses such a header before sending it.)
    http = asgi_client(make_app())
    answer = await http("GET", "/_now", headers={"x-kuzzle-request-id": "a\tb"})
    kuzzle_error(answer, 400, "api.assert.invalid_argument")
    assert "\t" not in answer.headers["x-kuzzle-request-id"]


async def test_http_non_latin1_request_id_is_answered_in_the_envelope(http) -> None:
    body = json.dumps({"controller": "server", "action": "now", "requestId": "日本"}).encode()
    answer = await http("POST", "/_query", headers=JSON, content=body)
    assert answer.status == 200 and answer.json()["requestId"] == "日本"


@pytest.mark.parametrize("action", ["surrogate", "rawSurrogate"])
async def test_http_result_that_cannot_be_encoded(http, action: str) -> None:
    answer = await http("GET", f"/_/bad/{action.replace('S', '-s')}")
    kuzzle_error(answer, 500, "plugin.controller.unserializable_response")


@pytest.mark.parametrize("action", ["failing", "bad-volatile"])
async def test_http_error_message_or_volatile_that_cannot_be_encoded(http, action: str) -> None:
    answer = await http("GET", f"/_/bad/{action}")
    kuzzle_error(answer, 500, "plugin.controller.unserializable_response")


@pytest.mark.parametrize("value", ["line\r\nX-Injected: 1", "nul\x00", "日本"])
async def test_http_header_that_cannot_be_sent(http, value: str) -> None:
    body = json.dumps({"controller": "bad", "action": "header", "value": value}).encode()
    answer = await http("POST", "/_query", headers=JSON, content=body)
    envelope = kuzzle_error(answer, 500, "plugin.controller.unserializable_response")
    assert "x-bad" not in answer.headers and "x-injected" not in answer.headers
    assert envelope["headers"] == {}


async def test_http_latin1_header_is_sent(http) -> None:
    body = json.dumps({"controller": "bad", "action": "header", "value": "café"}).encode()
    answer = await http("POST", "/_query", headers=JSON, content=body)
    assert answer.status == 200 and answer.json()["result"] == "with a header"


# WebSocket ----------------------------------------------------------------------------------


@pytest.fixture
def ws_app(kapp: Application) -> Application:
    register_probes(kapp)
    return kapp


async def expect_error(ws: WebsocketCommunicator, status: int, error_id: str) -> dict[str, Any]:
    envelope = await ws.receive_json_from()
    assert (envelope["status"], envelope["error"]["id"]) == (status, error_id)
    assert envelope["room"] == envelope["requestId"]
    return envelope


async def still_open(ws: WebsocketCommunicator) -> None:
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "after"})
    assert (await ws.receive_json_from())["room"] == "after"


async def test_websocket_frames_with_bad_values(ws_app: Application) -> None:
    ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ws_app), "/")
    assert (await ws.connect())[0]
    frames = [f'{{"controller":"bad","action":"echo","body":{{"n":{value}}}}}' for value in BAD_NUMBERS]
    frames.append('{"controller":"bad","action":"echo","body":"a\ud800b"}')  # a raw surrogate in the text
    for frame in frames:
        await ws.send_to(text_data=frame)
        await expect_error(ws, 400, "network.websocket.unexpected_error")
    await ws.send_to(bytes_data=b'{"controller":"bad","action":"echo","body":' + RAW_SURROGATE + b"}")
    assert (await ws.receive_json_from())["result"] == "a\ufffd\ufffd\ufffdb"  # as text frames would be decoded
    for request_id in BAD_REQUEST_IDS:
        await ws.send_json_to({"controller": "server", "action": "now", "requestId": request_id})
        expected = "api.assert.invalid_argument" if isinstance(request_id, str) else "api.assert.invalid_type"
        assert (await expect_error(ws, 400, expected))["requestId"] != request_id
    await still_open(ws)
    await ws.disconnect()


async def test_websocket_answers_that_cannot_be_encoded(ws_app: Application) -> None:
    ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ws_app), "/")
    assert (await ws.connect())[0]
    for action in ["surrogate", "rawSurrogate", "failing", "badVolatile"]:
        await ws.send_json_to({"controller": "bad", "action": action, "requestId": action})
        envelope = await expect_error(ws, 500, "plugin.controller.unserializable_response")
        assert envelope["room"] == action
        await still_open(ws)
    await ws.disconnect()
