"""The MQTT adapter for an external broker: messages to requests, envelopes to messages.

The server is one client of the broker (aiomqtt, MQTT 5). It subscribes to the request topic and to
its per-client subtopics; each client id it hears from becomes a connection with its
:class:`~kuzzle_events.protocols.session.Session` (connection events, parsing pipes, early errors,
token expiry), whose requests run concurrently through the funnel, each answered when done.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core import jsontext
from kuzzle_events.core.request import Connection, KuzzleRequest
from kuzzle_events.protocols.session import TOKEN_EXPIRED, Session, request_decoder

if TYPE_CHECKING:
    import aiomqtt

    from kuzzle_events.application import Application

__all__ = ["ExternalBroker"]

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


class ExternalBroker:
    """The API served through the broker at ``HOST:PORT``, from :meth:`start` to :meth:`stop`."""

    def __init__(self, app: Application, settings: dict[str, Any]) -> None:
        self.app = app
        self.settings = settings
        self.request_topic: str = settings["REQUEST_TOPIC"]
        self.response_topic: str = settings["RESPONSE_TOPIC"]
        self.clients: dict[str, MqttClient] = {}
        self._prefix = self.request_topic + "/"
        self._mqtt: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._leaving: set[asyncio.Task[None]] = set()
        # The last notification published: the hub hands the same text to each subscriber of a
        # channel, and one publication on the channel topic reaches them all.
        self._last_notification: str | None = None

    # Life ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the broker and listen to the request topics (raises if the broker is away)."""
        import aiomqtt  # the [mqtt] extra, needed only when MQTT is on

        s = self.settings
        client = aiomqtt.Client(
            s["HOST"],
            s["PORT"],
            username=s["USERNAME"],
            password=s["PASSWORD"],
            identifier=f"kuzzle-events-{uuid.uuid4().hex}",
            protocol=aiomqtt.ProtocolVersion.V5,
            timeout=s["CONNECT_TIMEOUT"],
        )
        await client.__aenter__()
        try:
            await client.subscribe([(self.request_topic, 1), (self._prefix + "+", 1)])
        except BaseException:
            await client.__aexit__(None, None, None)
            raise
        self._mqtt = client
        self._reader = asyncio.get_running_loop().create_task(self._read(client))
        self.app.log.info("kuzzle_events: MQTT requests read on %s/<client id> at %s:%s", *self._where())

    def _where(self) -> tuple[str, str, int]:
        return self.request_topic, self.settings["HOST"], self.settings["PORT"]

    async def stop(self) -> None:
        """Close every client's connection, then the broker's."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        for client_id in list(self.clients):
            await self._leave(client_id)
        for task in list(self._leaving):
            await task
        client, self._mqtt = self._mqtt, None
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except Exception as error:  # the broker is already gone
                self.app.log.debug("MQTT disconnection: %r", error)

    async def _read(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                self._receive(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.app.log.error("kuzzle_events: MQTT broker connection lost: %r", error)

    # Messages -----------------------------------------------------------------------------------

    def _receive(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        properties = message.properties
        reply_to = getattr(properties, "ResponseTopic", None) if properties is not None else None
        correlation = getattr(properties, "CorrelationData", None) if reply_to else None
        if topic.startswith(self._prefix):
            client_id = topic[len(self._prefix) :]
            default_topic = f"{self.response_topic}/{client_id}"
        elif reply_to:
            client_id = default_topic = reply_to
        else:
            self.app.log.warning("MQTT message on %s without a client id nor a response topic: dropped", topic)
            return
        payload = message.payload
        if not payload:  # the client's will, or its goodbye
            if client_id in self.clients:
                task = asyncio.get_running_loop().create_task(self._leave(client_id))
                self._leaving.add(task)
                task.add_done_callback(self._leaving.discard)
            return
        client = self.clients.get(client_id) or self._arrive(client_id, default_topic)
        text = payload.decode("utf-8", "replace") if isinstance(payload, (bytes, bytearray)) else str(payload)
        client.spawn(self._handle(client, text, reply_to or client.response_topic, correlation))

    def _arrive(self, client_id: str, response_topic: str) -> MqttClient:
        client = self.clients[client_id] = MqttClient(client_id, response_topic)
        connection = Connection(protocol=PROTOCOL, misc={"headers": {}, "clientId": client_id})

        async def send(text: str) -> None:
            await self._notify(client, text)

        client.session = Session(self.app, connection, send=send, spawn=client.spawn)
        client.ready = client.spawn(client.session.open())
        return client

    async def _leave(self, client_id: str) -> None:
        client = self.clients.pop(client_id, None)
        if client is None or client.session is None:
            return
        for task in list(client.tasks):
            task.cancel()
        await asyncio.gather(*client.tasks, return_exceptions=True)
        await client.session.close()

    async def _handle(self, client: MqttClient, text: str, reply_to: str, correlation: bytes | None) -> None:
        assert client.ready is not None and client.session is not None
        await client.ready
        session = client.session
        if session.debug.enabled:
            session.debug("message from %s: %s", client.id, text[:200])
        try:
            data = await session.parse(text, _decode) if session.parsing_pipes() else _decode(text)
        except errors.KuzzleError as error:
            await self.publish(reply_to, session.refused(error).to_json(room=True), correlation)
            return
        request = KuzzleRequest(data, connection=session.connection)
        response = await self.app.funnel.execute(request)
        if request.context.token is not None:
            session.watch_token(request)
        await self.publish(reply_to, response.to_json(room=True), correlation)

    async def _notify(self, client: MqttClient, text: str) -> None:
        if text is TOKEN_EXPIRED:
            if self.settings["REALTIME_NOTIFICATIONS"]:
                await self.publish(client.response_topic, text)
            return
        if text is self._last_notification:
            return
        self._last_notification = text
        channel = jsontext.loads(text).get("room")
        if isinstance(channel, str) and channel:
            await self.publish(channel, text)

    async def publish(self, topic: str, text: str, correlation: bytes | None = None) -> None:
        """Publish ``text`` on ``topic`` (QoS 0, as Kuzzle does), with MQTT 5 correlation data when given."""
        client = self._mqtt
        if client is None:
            return
        try:
            await client.publish(topic, text.encode(), qos=0, properties=_properties(correlation))
        except Exception as error:  # the broker went away: the client will not get this one
            self.app.log.warning("MQTT publication on %s failed: %r", topic, error)


def _properties(correlation: bytes | None) -> Any:
    if correlation is None:
        return None
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.PUBLISH)
    properties.CorrelationData = correlation
    return properties


_decode = request_decoder("network.mqtt.unexpected_error")
