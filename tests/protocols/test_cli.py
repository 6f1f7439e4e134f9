"""The ``kuzzle`` command's remote transports, against small servers run in a thread.

The command line against the real server is in ``tests/management/test_commands.py``; here, what a
real server seldom does: notifications before the answer, bodies that are not envelopes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from kuzzle_events.protocols.cli import TransportError, send_over_http, send_over_websocket


@pytest.fixture
def websocket_server() -> Iterator[Callable[[Callable[[ServerConnection], None]], int]]:
    """Start a WebSocket server on a free port with the given handler; its port."""
    servers: list[Any] = []

    def start(handler: Callable[[ServerConnection], None]) -> int:
        server = serve(handler, "127.0.0.1", 0)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return int(server.socket.getsockname()[1])

    yield start
    for server in servers:
        server.shutdown()


def test_websocket_skips_what_is_not_its_answer(websocket_server: Any) -> None:
    received: list[dict[str, Any]] = []

    def handler(connection: ServerConnection) -> None:
        request = json.loads(connection.recv())
        received.append(request)
        connection.send("not json")
        connection.send(json.dumps({"type": "TokenExpired", "status": 200}))
        connection.send(json.dumps({"room": "someone-else", "status": 200, "result": "theirs"}))
        connection.send(json.dumps({"room": request["requestId"], "status": 200, "result": "mine"}))

    port = websocket_server(handler)
    answer = send_over_websocket({"controller": "server", "action": "now"}, "127.0.0.1", port)
    assert answer["result"] == "mine"
    assert received[0]["controller"] == "server" and received[0]["action"] == "now"
    assert answer["room"] == received[0]["requestId"]


class Canned(BaseHTTPRequestHandler):
    """Answers every POST with the status, content type and body of the server's ``canned``."""

    def do_POST(self) -> None:
        server: Any = self.server
        status, content_type, body = server.canned
        server.requests.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Canned)
    server.requests = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def post(server: ThreadingHTTPServer, status: int, content_type: str, body: bytes) -> Any:
    server.canned = (status, content_type, body)  # type: ignore[attr-defined]
    return send_over_http({"controller": "server", "action": "now"}, "127.0.0.1", server.server_address[1])


def test_http_sends_the_whole_request_and_returns_the_envelope_whatever_its_status(
    http_server: ThreadingHTTPServer,
) -> None:
    envelope = {"status": 403, "error": {"id": "x"}, "result": None}
    assert post(http_server, 403, "application/json", json.dumps(envelope).encode()) == envelope
    assert http_server.requests == [{"controller": "server", "action": "now"}]  # type: ignore[attr-defined]


def test_http_returns_a_raw_body_as_text(http_server: ThreadingHTTPServer) -> None:
    assert post(http_server, 200, "text/plain", b"Dear Bo, hello.") == "Dear Bo, hello."


@pytest.mark.parametrize(
    ("status", "content_type", "body", "message"),
    [
        (502, "text/html", b"<h1>Bad Gateway</h1>", r"answered 502: <h1>Bad Gateway</h1>"),
        (200, "application/json", b"{broken", r"answered 200 with invalid JSON"),
    ],
)
def test_http_answers_that_are_no_envelope_are_transport_errors(
    http_server: ThreadingHTTPServer, status: int, content_type: str, body: bytes, message: str
) -> None:
    with pytest.raises(TransportError, match=message) as caught:
        post(http_server, status, content_type, body)
    assert caught.value.error is None
