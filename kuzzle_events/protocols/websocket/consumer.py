"""The Kuzzle API over WebSocket: a Channels consumer on path ``/``.

One JSON request per frame, one envelope back carrying ``room`` = ``requestId``; requests of one
connection run concurrently and each is answered as soon as it is done. ``{"p":1}`` is answered
``{"p":2}``. A bad frame gets an error envelope and the connection stays open.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

from kuzzle_events import errors
from kuzzle_events.core.request import Connection, KuzzleRequest
from kuzzle_events.protocols.addresses import forwarded_chain
from kuzzle_events.protocols.session import Session, request_decoder, resolve_app, scope_headers
from kuzzle_events.protocols.websocket.scheduler import Scheduler

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KuzzleConsumer"]

PING = '{"p":1}'
PONG = '{"p":2}'

Message = dict[str, Any]


class KuzzleConsumer(AsyncWebsocketConsumer):
    """Channels consumer translating WebSocket frames to requests and envelopes back.

    It runs its own loop instead of Channels' one, which starts a task for every message it reads:
    the connection's :class:`~kuzzle_events.protocols.websocket.scheduler.Scheduler` runs each
    request in the task that read it, and gives a task of its own only to a request that waits.
    When a channel layer is configured, its messages are read by a task of their own and
    dispatched to the handler methods their types name, as Channels does. Connection events,
    parsing pipes, early errors and token expiry are the connection's
    :class:`~kuzzle_events.protocols.session.Session`.
    """

    kuzzle_app: Application | None = None

    def __init__(self, *args: Any, kuzzle_app: Application | None = None, **kwargs: Any) -> None:
        """``KuzzleConsumer.as_asgi(kuzzle_app=...)`` serves another application than ``kuzzle_events.app``."""
        super().__init__(*args, **kwargs)
        if kuzzle_app is not None:
            self.kuzzle_app = kuzzle_app
        self.session: Session | None = None

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
        self.scheduler = Scheduler(receive, self._client_message, stop=StopConsumer)
        self._run = self.scheduler.run
        layer_reader: list[Coroutine[Any, Any, None]] = []  # only with a channel layer
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            layer_reader.append(self._read_channel_layer())
        await self.scheduler.serve(*layer_reader)

    def _client_message(self, message: Message) -> Awaitable[None]:
        """What handles one of the client's messages (a plain function: no coroutine of its own)."""
        if message["type"] == "websocket.receive":
            return self.receive(text_data=message.get("text"), bytes_data=message.get("bytes"))
        return self.dispatch(message)

    async def _read_channel_layer(self) -> None:
        """Dispatch the channel layer's messages (``group_send``...) to the handlers they name."""
        receive = self.channel_receive
        while True:
            await self.dispatch(await receive())

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
        self.session = Session(app, self.connection, send=self._send_text, spawn=self.scheduler.spawn)
        self._funnel = app.funnel
        # Like Kuzzle's server (the `ws` package's default), accept the first subprotocol asked for:
        # the SDK with a global WebSocket (browsers, Node.js >= 22) calls `new WebSocket(url, null)`,
        # which asks for "null", and such clients fail a handshake that does not answer with it.
        subprotocols = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=subprotocols[0] if subprotocols else None)
        await self.session.open()

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            await self.session.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        text = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if text == PING:
            await self._send_text(PONG)
            return
        session = self.session
        assert session is not None  # frames come only once connected
        if session.debug.enabled:
            session.debug("frame from %s: %s", session.connection.id, text[:200])
        try:
            data = await session.parse(text, _decode) if session.parsing_pipes() else _decode(text)
        except errors.KuzzleError as error:
            await self._send_text(session.refused(error).sendable_json(room=True))
            return
        if data == {"p": 1}:
            await self._send_text(PONG)
            return
        waiting = self._run(self._execute(KuzzleRequest(data, connection=session.connection)))
        if waiting is not None:
            await waiting

    async def _execute(self, request: KuzzleRequest) -> None:
        response = await self._funnel.execute(request)
        if request.context.token is not None:  # (no call per message for requests without one)
            self.session.watch_token(request)  # type: ignore[union-attr]
        await self._send_text(response.sendable_json(room=True))

    async def _send_text(self, text: str) -> None:
        try:
            # What self.send(text_data=...) sends, without its two layers of calls.
            await self.base_send({"type": "websocket.send", "text": text})
        except Exception as error:  # the client left before its answer was ready
            self.app.log.debug("WebSocket answer not delivered: %r", error)


_decode = request_decoder("network.websocket.unexpected_error")
