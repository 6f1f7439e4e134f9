"""What both MQTT modes share: each MQTT client as a connection, its requests through the funnel.

A mode says how a message reaches the server and how an answer reaches a client
(:meth:`MqttClients.answer`, :meth:`MqttClients.notify`); this module turns a client's messages
into requests with its :class:`~kuzzle_events.protocols.session.Session` (connection events,
parsing pipes, early errors, token expiry), runs them concurrently, and ends the connection with
the client.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.request import Connection, KuzzleRequest
from kuzzle_events.protocols.session import Session, request_decoder

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["MqttClient", "MqttClients", "PROTOCOL"]

PROTOCOL = "mqtt"


class MqttClient:
    """One MQTT client as the API sees it: its connection, where it is answered, its tasks."""

    __slots__ = ("id", "response_topic", "session", "ready", "tasks")

    def __init__(self, client_id: str, response_topic: str) -> None:
        self.id = client_id
        self.response_topic = response_topic
        self.session: Session | None = None
        self.ready: asyncio.Task[None] | None = None  # the session's opening, awaited by requests
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coroutine`` as a task of this client, cancelled when it leaves."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class MqttClients(abc.ABC):
    """The clients of one MQTT mode, by client id. A mode (embedded, external) gives the four
    abstract methods: how it starts and stops, how an answer and a notification reach a client."""

    def __init__(self, app: Application, settings: dict[str, Any]) -> None:
        self.app = app
        self.settings = settings
        self.request_topic: str = settings["REQUEST_TOPIC"]
        self.response_topic: str = settings["RESPONSE_TOPIC"]
        self.clients: dict[str, MqttClient] = {}
        self._leaving: set[asyncio.Task[None]] = set()

    # What a mode provides -----------------------------------------------------------------------

    @abc.abstractmethod
    async def start(self) -> None:
        """Begin serving: from now on, clients' messages arrive."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop serving: every client's connection ends."""

    @abc.abstractmethod
    async def answer(self, client: MqttClient, topic: str, text: str, correlation: bytes | None) -> None:
        """Send an envelope (or an early error) to ``client`` on ``topic``."""

    @abc.abstractmethod
    async def notify(self, client: MqttClient, text: str) -> None:
        """Send one of the realtime engine's texts (a notification, ``TokenExpired``) to ``client``."""

    # Clients ------------------------------------------------------------------------------------

    def received(self, client_id: str, text: str, reply_to: str | None = None, correlation: bytes | None = None) -> None:
        """A request from ``client_id``: run it (answered on ``reply_to``, else the client's topic)."""
        client = self.clients.get(client_id) or self.arrive(client_id, f"{self.response_topic}/{client_id}")
        client.spawn(self._handle(client, text, reply_to or client.response_topic, correlation))

    def arrive(self, client_id: str, response_topic: str) -> MqttClient:
        """A new client: its connection opens (``connection:new``)."""
        client = self.clients[client_id] = MqttClient(client_id, response_topic)
        connection = Connection(protocol=PROTOCOL, misc={"headers": {}, "clientId": client_id})

        async def send(text: str) -> None:
            await self.notify(client, text)

        client.session = Session(self.app, connection, send=send, spawn=client.spawn)
        client.ready = client.spawn(client.session.open())
        return client

    def leave_soon(self, client_id: str) -> None:
        """End ``client_id``'s connection in a task of its own (from a callback that cannot wait)."""
        if client_id in self.clients:
            task = asyncio.get_running_loop().create_task(self.leave(client_id))
            self._leaving.add(task)
            task.add_done_callback(self._leaving.discard)

    async def leave(self, client_id: str) -> None:
        """End ``client_id``'s connection: its requests cancelled, its subscriptions gone."""
        client = self.clients.pop(client_id, None)
        if client is None or client.session is None:
            return
        for task in list(client.tasks):
            task.cancel()
        await asyncio.gather(*client.tasks, return_exceptions=True)
        await client.session.close()

    async def leave_all(self) -> None:
        """End every client's connection, and wait for those already ending."""
        for client_id in list(self.clients):
            await self.leave(client_id)
        for task in list(self._leaving):
            await task

    async def _handle(self, client: MqttClient, text: str, reply_to: str, correlation: bytes | None) -> None:
        assert client.ready is not None and client.session is not None
        await client.ready
        session = client.session
        if session.debug.enabled:
            session.debug("message from %s: %s", client.id, text[:200])
        try:
            data = await session.parse(text, _decode) if session.parsing_pipes() else _decode(text)
        except errors.KuzzleError as error:
            await self.answer(client, reply_to, session.refused(error).to_json(room=True), correlation)
            return
        request = KuzzleRequest(data, connection=session.connection)
        response = await self.app.funnel.execute(request)
        if request.context.token is not None:
            session.watch_token(request)
        await self.answer(client, reply_to, response.to_json(room=True), correlation)


def text_of(payload: Any) -> str:
    """A message's payload as text (bytes that are not UTF-8 are read with replacement characters)."""
    return payload.decode("utf-8", "replace") if isinstance(payload, (bytes, bytearray)) else str(payload)


_decode = request_decoder("network.mqtt.unexpected_error")
