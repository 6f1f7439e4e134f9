"""How ``manage.py kuzzle`` reaches the API: in this process, or a running server over HTTP or WebSocket.

Each transport takes a request as non-HTTP protocols send it (``{"controller", "action", ...}``)
and returns the envelope (a dict), or, over HTTP, a raw body as the server sent it. A request that
gets no envelope raises :class:`TransportError`, whose message is meant for the user.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from kuzzle_events.core.request import Connection, KuzzleRequest
from kuzzle_events.errors import KuzzleError
from kuzzle_events.protocols.session import resolve_app

__all__ = ["TIMEOUT", "TransportError", "run_in_process", "send_over_http", "send_over_websocket"]

TIMEOUT = 10.0  # seconds, for connecting to a server and for its answer


class TransportError(Exception):
    """No envelope for the request: the server could not be reached or did not answer well, or
    the application could not start (``error``: the Kuzzle error object saying why)."""

    def __init__(self, message: str, error: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error = error


def run_in_process(request: dict[str, Any]) -> dict[str, Any]:
    """Start the application and execute ``request`` through the funnel, events included."""
    app = resolve_app(None)
    try:
        app.start_sync()
    except KuzzleError as error:
        raise TransportError("The application could not start", error.to_dict()) from None
    # The funnel, not app.sdk: it answers with the envelope of a failure too, as servers do.
    kuzzle_request = KuzzleRequest(request, connection=Connection(protocol="internal"))
    # Whoever runs manage.py owns the server: rights apply only to the user of a --jwt.
    kuzzle_request.context.check_rights = False
    response = app.run_sync(app.funnel.execute, kuzzle_request)
    # Hooks started by the request run to their end before the process exits.
    app.run_sync(app.events.drain_hooks)
    return response.to_dict()


def send_over_http(request: dict[str, Any], host: str, port: int) -> Any:
    """``POST http://host:port/_query`` with the whole request as its JSON body."""
    url = f"http://{host}:{port}/_query"
    outgoing = urllib.request.Request(
        url,
        data=json.dumps(request).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=TIMEOUT) as answer:
            status, content_type, body = answer.status, answer.headers.get_content_type(), answer.read()
    except urllib.error.HTTPError as error:
        with error:
            status, content_type, body = error.code, error.headers.get_content_type(), error.read()
    except TimeoutError:
        raise TransportError(f"No answer from {url} within {TIMEOUT:g} s.") from None
    except OSError as error:
        raise TransportError(f"Cannot reach {url}: {getattr(error, 'reason', None) or error}") from None
    if content_type == "application/json":
        try:
            return json.loads(body)
        except ValueError as error:
            raise TransportError(f"{url} answered {status} with invalid JSON: {error}") from None
    text = body.decode("utf-8", "replace")
    if status >= 400:
        raise TransportError(f"{url} answered {status}: {text[:500]}")
    return text


def send_over_websocket(request: dict[str, Any], host: str, port: int) -> dict[str, Any]:
    """Send ``request`` over ``ws://host:port/`` and wait for the envelope of its ``requestId``."""
    # Not a dependency of the app (requirements-dev.txt): imported when used.
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    uri = f"ws://{host}:{port}/"
    request_id = str(uuid.uuid4())
    deadline = time.monotonic() + TIMEOUT
    try:
        with connect(uri, open_timeout=TIMEOUT, close_timeout=1) as websocket:
            websocket.send(json.dumps({**request, "requestId": request_id}))
            while True:
                message = websocket.recv(timeout=max(deadline - time.monotonic(), 0))
                try:
                    data = json.loads(message)
                except ValueError:
                    continue
                # Notifications and answers to other requests may come first.
                if isinstance(data, dict) and request_id in (data.get("room"), data.get("requestId")):
                    return data
    except TimeoutError:
        raise TransportError(f"No answer from {uri} within {TIMEOUT:g} s.") from None
    except (OSError, WebSocketException) as error:
        raise TransportError(f"Cannot reach {uri}: {error}") from None
