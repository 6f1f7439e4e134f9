"""What every protocol does around a client's requests, written once.

A :class:`Session` is one client connection as the API sees it: a WebSocket for as long as it is
open, an HTTP request for its own duration. Adapters turn bytes into payloads and envelopes into
bytes; the session does what protocols share:

- ``connection:new`` / ``connection:remove``, with the connection's id, protocol, ips and headers;
- the ``protocol:<protocol>:beforeParsingPayload`` / ``afterParsingPayload`` pipes around the
  decoding of a payload;
- the envelope of a request refused before the funnel (bad JSON, too large, not an object...);
- for a connection that stays open (``send``): realtime notifications, and Kuzzle's
  ``TokenExpired`` notice when the token its requests use expires.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import kuzzle_events
from kuzzle_events.core import jsontext
from kuzzle_events.core.request import Connection, KuzzleRequest, check_request_id
from kuzzle_events.core.response import KuzzleResponse
from kuzzle_events.core.tracing import Debugger
from kuzzle_events.errors import KuzzleError, from_exception, get
from kuzzle_events.protocols.addresses import trusted_chain, trusted_proxies

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["Session", "SERVER_CHANNEL", "TOKEN_EXPIRED", "debugger", "request_decoder", "resolve_app", "scope_headers"]

# Kuzzle's server notification, sent when the token of a connection's requests expires, on the
# channel Kuzzle sends server notifications on (no subscription needed).
SERVER_CHANNEL = "kuzzle:notification:server"
TOKEN_EXPIRED = json.dumps(
    {
        "status": 200,
        "info": "This is an automated server notification",
        "message": "Authentication Token Expired",
        "type": "TokenExpired",
        "room": SERVER_CHANNEL,
    }
)

Send = Callable[[str], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None]], object]


def resolve_app(app: Application | None) -> Application:
    """``app``, or ``kuzzle_events.app`` (built on first use) for an adapter given none."""
    return kuzzle_events.app if app is None else app


def scope_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """An ASGI scope's headers: names lower-cased, a repeated header's values joined with ``", "``."""
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


def keep_trusted(app: Application, connection: Connection) -> None:
    """Keep of ``connection.ips`` what trusted proxies vouch for: the adapters give the whole
    ``X-Forwarded-For`` chain, then the peer (a :class:`Session` does this for its connection)."""
    if len(connection.ips) > 1:
        connection.ips = trusted_chain(connection.ips, trusted_proxies(tuple(app.config["TRUSTED_PROXIES"])))


def debugger(app: Application, protocol: str) -> Debugger:
    """The ``kuzzle:<protocol>`` debug messages (``KUZZLE_DEBUG``): one per protocol and setting."""
    return _debugger(protocol, app.config["DEBUG"])


@functools.cache
def _debugger(protocol: str, spec: str) -> Debugger:
    return Debugger(f"kuzzle:{protocol}", spec)


@functools.cache
def _parsing_events(protocol: str) -> tuple[str, str]:
    return f"protocol:{protocol}:beforeParsingPayload", f"protocol:{protocol}:afterParsingPayload"


class Session:
    """One client connection: its events, the parsing of its payloads, its early errors, its token.

    ``send`` and ``spawn`` (which runs a coroutine as a task of the connection, cancelled with it)
    are how a connection that stays open is told things; without them (HTTP), nothing is pushed to
    the client.
    """

    __slots__ = (
        "app",
        "connection",
        "debug",
        "_events",
        "_parsing",
        "_parsing_plan",
        "_send",
        "_spawn",
        "_expiry",
        "_watched_jwt",
    )

    def __init__(
        self, app: Application, connection: Connection, *, send: Send | None = None, spawn: Spawn | None = None
    ) -> None:
        self.app = app
        keep_trusted(app, connection)
        self.connection = connection
        self.debug = debugger(app, connection.protocol)
        self._events = app.events
        self._parsing = _parsing_events(connection.protocol)
        self._parsing_plan = (-1, False)  # (event generation, whether parsing pipes listen)
        if (send is None) != (spawn is None):
            raise TypeError("a Session is given both send and spawn, or neither")
        self._send = send
        self._spawn = spawn
        self._expiry: asyncio.TimerHandle | None = None
        self._watched_jwt: str | None = None

    # Connection events ---------------------------------------------------------------------------

    async def open(self) -> None:
        """The client is connected: notifications can reach it, and ``connection:new`` fires."""
        if self._send is not None:
            self.app.realtime.attach(self.connection.id, self._send, self.connection.protocol)
        await self._connection_event("connection:new")

    async def close(self) -> None:
        """The client is gone: its token is no longer watched, its subscriptions die with it, and
        ``connection:remove`` fires."""
        self._stop_watching()
        if self._send is not None:
            await self.app.realtime.detach(self.connection.id)
        await self._connection_event("connection:remove")

    async def _connection_event(self, event: str) -> None:
        events = self._events
        if events.has_listeners(event):
            c = self.connection
            try:
                await events.trigger(
                    event, {"id": c.id, "protocol": c.protocol, "ips": c.ips, "headers": c.misc["headers"]}
                )
            except KuzzleError as error:
                self.app.log.warning("%s failed: %s", event, error)

    # Payloads and early errors -----------------------------------------------------------------------

    def parsing_pipes(self) -> bool:
        """Whether the protocol's parsing pipes have listeners (asked again only once listeners
        change): without them, an adapter decodes a payload itself, with no coroutine in between."""
        plan = self._parsing_plan
        generation = self._events.generation
        if plan[0] != generation:
            plan = self._parsing_plan = (generation, self._events.any_listeners(self._parsing))
        return plan[1]

    async def parse(self, payload: Any, decode: Callable[[Any], Any], *, message: Any = None) -> Any:
        """``decode(payload)`` between the protocol's ``before`` and ``afterParsingPayload`` pipes,
        which get ``{"connection", "payload"}``, and ``"message"`` too when given (HTTP: the request,
        as Kuzzle's pipes get its ``HttpMessage``); a refused payload raises its :class:`KuzzleError`."""
        events = self._events
        before, after = self._parsing
        extra = {} if message is None else {"message": message}
        if events.has_listeners(before):
            event = {"connection": self.connection, "payload": payload, **extra}
            payload = (await events.trigger(before, event))["payload"]
        data = decode(payload)
        if events.has_listeners(after):
            event = {"connection": self.connection, "payload": data, **extra}
            data = (await events.trigger(after, event))["payload"]
        return data

    def refused(self, error: BaseException, request_id: str | None = None) -> KuzzleResponse:
        """The envelope of a request refused before the funnel: bad payload, too large, no route...

        A ``request_id`` that cannot be echoed (see :func:`check_request_id`) is replaced by a new one."""
        try:
            check_request_id(request_id)
        except KuzzleError:
            request_id = None
        request = KuzzleRequest({"requestId": request_id}, connection=self.connection)
        # The one place where an adapter's failure becomes a Kuzzle error.
        request.set_error(from_exception(error))
        config = self.app.config
        return KuzzleResponse(request, node=config.NODE, stack=config.ERROR_STACK)

    # Token expiry ----------------------------------------------------------------------------------

    def watch_token(self, request: KuzzleRequest) -> None:
        """After an answered request: tell the client when the token its requests use expires, as
        Kuzzle does (a successful ``auth:logout`` stops that)."""
        token = request.context.token
        if token is None or self._spawn is None:
            return
        if request.input.controller == "auth" and request.input.action == "logout" and request.error is None:
            self._stop_watching()
            return
        if token.expires_at == -1 or token.jwt == self._watched_jwt:
            return
        self._stop_watching()
        self._watched_jwt = token.jwt
        delay = max(token.expires_at / 1000 - time.time(), 0)
        self._expiry = asyncio.get_running_loop().call_later(delay, self._token_expired)

    def _stop_watching(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = self._watched_jwt = None

    def _token_expired(self) -> None:
        self._expiry = self._watched_jwt = None
        if self._send is not None and self._spawn is not None:  # always, once watching
            self._spawn(self._send(TOKEN_EXPIRED))


def request_decoder(error_id: str) -> Callable[[str], dict[str, Any]]:
    """How a message-based protocol (WebSocket, MQTT) reads one message's request.

    Text that is not a JSON object gets ``error_id``; a ``requestId`` that is not printable text
    gets the core's 400 (:func:`check_request_id`).
    """

    def decode(text: str) -> dict[str, Any]:
        try:
            data = jsontext.loads(text)
        except (ValueError, TypeError) as error:
            raise get(error_id, f"invalid JSON: {error}") from None
        if type(data) is not dict:
            raise get(error_id, "a request must be a JSON object")
        request_id = data.get("requestId")
        if type(request_id) is not str or not request_id.isprintable():  # (the usual case without a call)
            check_request_id(request_id)
        return data

    return decode
