"""The Kuzzle API over WebSocket: a Channels consumer on path ``/``.

One JSON request per frame, one envelope back carrying ``room`` = ``requestId``; requests of one
connection run concurrently and each is answered as soon as it is done. ``{"p":1}`` is answered
``{"p":2}``. A bad frame gets an error envelope and the connection stays open. A client that reads
too slowly for what it is sent is disconnected with code 1011, as Kuzzle does (see
:mod:`~kuzzle_events.protocols.websocket.outbox`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer

from kuzzle_events import errors
from kuzzle_events.core.request import Connection, KuzzleRequest
from kuzzle_events.protocols.addresses import forwarded_chain
from kuzzle_events.protocols.session import Session, request_decoder, resolve_app, scope_headers
from kuzzle_events.protocols.websocket.mailbox import Inbox, inboxes, served
from kuzzle_events.protocols.websocket.outbox import Outbox
from kuzzle_events.protocols.websocket.scheduler import Scheduler
from kuzzle_events.realtime.layer import health_of, prepare, retry_delays, uncancelled

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KuzzleConsumer"]

PING = '{"p":1}'
PONG = '{"p":2}'
# Kuzzle's close frame for a client that cannot keep up with what it is sent (its
# WS_FORCED_TERMINATION_CODE: 1011, the server ends the connection on a condition of its own).
BACKPRESSURE_CLOSE_CODE = 1011
BACKPRESSURE_CLOSE_REASON = "too much backpressure: client is too slow"

Message = dict[str, Any]
_OUTAGE = "connections stay open; their channel-layer messages wait for it"


class KuzzleConsumer(AsyncWebsocketConsumer):
    """Channels consumer translating WebSocket frames to requests and envelopes back.

    It runs its own loop instead of Channels' one, which starts a task for every message it reads:
    the connection's :class:`~kuzzle_events.protocols.websocket.scheduler.Scheduler` runs each
    request in the task that read it, and gives a task of its own only to a request that waits.
    When a channel layer is configured, its messages are dispatched to the handler methods their
    types name, as Channels does: read by a task of their own, or on the in-memory layer given to
    the connection by the layer's ``send`` (:mod:`~kuzzle_events.protocols.websocket.mailbox`). Connection events,
    parsing pipes, early errors and token expiry are the connection's
    :class:`~kuzzle_events.protocols.session.Session`. Every text to the client (answers and
    notifications, in order) goes through its :class:`~kuzzle_events.protocols.websocket.outbox.Outbox`,
    whose writer is a task of the connection: no sender waits for the client.
    """

    kuzzle_app: Application | None = None
    _send_text: Callable[[str], None]  # the outbox's put: how the connection sends a text

    def __init__(self, *args: Any, kuzzle_app: Application | None = None, **kwargs: Any) -> None:
        """``KuzzleConsumer.as_asgi(kuzzle_app=...)`` serves another application than ``kuzzle_events.app``."""
        super().__init__(*args, **kwargs)
        if kuzzle_app is not None:
            self.kuzzle_app = kuzzle_app
        self.session: Session | None = None
        self._gone = False  # the session is closed

    @property
    def app(self) -> Application:
        if self.kuzzle_app is None:
            self.kuzzle_app = resolve_app(None)  # once per connection, not per message
        return self.kuzzle_app

    async def __call__(
        self, scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        """Serve one connection (ASGI): until it is closed, a handler stops the consumer, or one fails."""
        self.scope = scope
        self.base_send = send
        self.outbox = Outbox(
            send, self.app.config.WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH, failed=self._not_sent, stalled=self._stalled
        )
        self._send_text = self.outbox.put
        self.scheduler = Scheduler(receive, self._client_message, stop=StopConsumer)
        self._run = self.scheduler.run
        layer = self.channel_layer = get_channel_layer(self.channel_layer_alias)
        if layer is None:
            await self.scheduler.serve()
            return
        self.channel_name = name = await layer.new_channel()
        if not served(layer):
            self.channel_receive = functools.partial(layer.receive, name)
            await self.scheduler.serve(self._read_channel_layer())
            return
        # The in-memory layer gives this channel's messages to an inbox, which dispatches them
        # in a task of the connection made only when one comes: an idle connection has no queue
        # and no reader (see mailbox).
        boxes = inboxes(layer)
        boxes[name] = Inbox(layer, name, self.dispatch, self.scheduler.start)
        try:
            await self.scheduler.serve()
        finally:
            del boxes[name]

    def _client_message(self, message: Message) -> Awaitable[None]:
        """What handles one of the client's messages (a plain function: no coroutine of its own)."""
        if message["type"] == "websocket.receive":
            return self.receive(text_data=message.get("text"), bytes_data=message.get("bytes"))
        return self.dispatch(message)

    async def _read_channel_layer(self) -> None:
        """Dispatch the channel layer's messages (``group_send``...) to the handlers they name.

        A layer that cannot be read (Redis restarting or unreachable) does not end the connection:
        the read is tried again, soon at first, then every second; an outage is logged once for
        all the process's connections.
        """
        layer = self.channel_layer
        prepare(layer)  # (an idle read must not time out)
        health = health_of(layer, self.app.log, "websocket: channel layer", _OUTAGE)
        receive = self.channel_receive
        # channels_redis's receive cannot be cancelled safely (see uncancelled), which costs a
        # task more per connection; a subclass of the in-memory layer's can, and it reads there
        # directly (the in-memory layer itself has no reader: see mailbox).
        direct = isinstance(layer, InMemoryChannelLayer)
        delays: Iterator[float] | None = None
        while True:
            try:
                message = await (receive() if direct else uncancelled(receive()))
            except Exception as error:
                health.failed(error)
                delays = delays or retry_delays()
                await asyncio.sleep(next(delays))
                continue
            if delays is not None:
                delays = None
                health.ok()
            await self.dispatch(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # The stock dispatch hops to a thread on every message to close stale database
        # connections; actions that use the ORM do that around their own calls instead.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # As the stock one, without its database hop (see dispatch).
        if self.channel_layer is not None:
            for group in self.groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()

    def _stalled(self) -> None:
        # The writer runs only once a write has had to wait: an idle connection (or one whose
        # client reads what it is sent) keeps no task for it.
        self.scheduler.start(self._write())

    async def _write(self) -> None:
        """The connection's writer (:meth:`Outbox.run`); once the client has fallen behind, the
        connection is closed with Kuzzle's code and reason."""
        outbox = self.outbox
        await outbox.run()
        self.app.log.warning(
            "WebSocket connection %s closed (%d): too much backpressure, client is too slow (more than %d messages waiting)",
            self.connection.id,
            BACKPRESSURE_CLOSE_CODE,
            outbox.limit,
        )
        if self.channel_layer is not None:
            for group in self.groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        await self.disconnect(BACKPRESSURE_CLOSE_CODE)
        await outbox.close(BACKPRESSURE_CLOSE_CODE, BACKPRESSURE_CLOSE_REASON)
        raise StopConsumer()

    async def connect(self) -> None:
        if self.scope.get("path", "/") not in ("/", ""):
            await self.close(code=4404)
            return
        app = self.app
        if app.state != "running":
            await app.start()
        client = self.scope.get("client")
        headers = scope_headers(self.scope.get("headers", []))
        self.connection = Connection(
            protocol="websocket",
            ips=forwarded_chain(headers, client[0] if client else None),
            misc={"headers": headers, "path": self.scope.get("path", "/")},
        )
        self.session = Session(app, self.connection, send=self.outbox.send, spawn=self.scheduler.spawn)
        self._funnel = app.funnel
        # Like Kuzzle's server (the `ws` package's default), accept the first subprotocol asked for:
        # the SDK with a global WebSocket (browsers, Node.js >= 22) calls `new WebSocket(url, null)`,
        # which asks for "null", and such clients fail a handshake that does not answer with it.
        subprotocols = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=subprotocols[0] if subprotocols else None)
        await self.session.open()

    async def disconnect(self, code: int) -> None:
        if self.session is not None and not self._gone:  # (once, whoever ends the connection first)
            self._gone = True
            await self.session.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        text = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if text == PING:
            self._send_text(PONG)
            return
        session = self.session
        assert session is not None  # frames come only once connected
        if session.debug.enabled:
            session.debug("frame from %s: %s", session.connection.id, text[:200])
        try:
            data = await session.parse(text, _decode) if session.parsing_pipes() else _decode(text)
        except errors.KuzzleError as error:
            self._send_text(session.refused(error).sendable_json(room=True))
            return
        if data == {"p": 1}:
            self._send_text(PONG)
            return
        waiting = self._run(self._execute(KuzzleRequest(data, connection=session.connection)))
        if waiting is not None:
            await waiting

    async def _execute(self, request: KuzzleRequest) -> None:
        response = await self._funnel.execute(request)
        if request.context.token is not None:  # (no call per message for requests without one)
            self.session.watch_token(request)  # type: ignore[union-attr]
        self._send_text(response.sendable_json(room=True))

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        """As Channels' ``send``; a text goes through the outbox, after the texts before it."""
        if text_data is None:
            await super().send(text_data, bytes_data, close)
            return
        self._send_text(text_data)
        if close:
            await self.close(close)

    def _not_sent(self, error: BaseException) -> None:
        # The client left before its answer was ready.
        self.app.log.debug("WebSocket answer not delivered: %r", error)


_decode = request_decoder("network.websocket.unexpected_error")
