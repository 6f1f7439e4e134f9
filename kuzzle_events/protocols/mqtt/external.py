"""The MQTT adapter for an external broker: messages to requests, envelopes to messages.

The server is one client of the broker (aiomqtt, MQTT 5). It subscribes to the request topic and to
its per-client subtopics as a *shared subscription* (``$share/<SHARED_GROUP>/...``): when several
server processes use one broker, each request reaches one of them only, and is run once. The
process that hears a client's goodbye (its will) tells the others on ``<RESPONSE_TOPIC>/<client
id>/$left``, so that every process ends that client's connection. A lost broker is reconnected to,
with a growing delay, until the server stops.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from kuzzle_events.core import jsontext
from kuzzle_events.protocols.mqtt.clients import MqttClient, MqttClients, text_of
from kuzzle_events.protocols.session import TOKEN_EXPIRED

if TYPE_CHECKING:
    import aiomqtt

    from kuzzle_events.application import Application

__all__ = ["ExternalBroker"]

LEFT = "$left"
RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)  # seconds between attempts; the last one repeats


class ExternalBroker(MqttClients):
    """The API served through the broker at ``HOST:PORT``, from :meth:`start` to :meth:`stop`."""

    def __init__(self, app: Application, settings: dict[str, Any]) -> None:
        super().__init__(app, settings)
        self._prefix = self.request_topic + "/"
        self._left_suffix = "/" + LEFT
        self._mqtt: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None
        # The last notification published: the hub hands the same text to each subscriber of a
        # channel, and one publication on the channel topic reaches them all.
        self._last_notification: str | None = None

    # Life ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the broker and listen to the request topics (raises if the broker is away)."""
        client = await self._connect()
        self._reader = asyncio.get_running_loop().create_task(self._serve(client))
        self.app.log.info("kuzzle_events: MQTT requests read on %s/<client id> at %s:%s", *self._where())

    def _where(self) -> tuple[str, str, int]:
        return self.request_topic, self.settings["HOST"], self.settings["PORT"]

    async def _connect(self) -> aiomqtt.Client:
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
        shared = f"$share/{s['SHARED_GROUP']}/"
        topics = [(shared + self.request_topic, 1), (shared + self._prefix + "+", 1)]
        topics.append((f"{self.response_topic}/+/{LEFT}", 1))
        try:
            await client.subscribe(topics)
        except BaseException:
            await client.__aexit__(None, None, None)
            raise
        self._mqtt = client
        return client

    async def stop(self) -> None:
        """Close every client's connection, then the broker's."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await self.leave_all()
        client, self._mqtt = self._mqtt, None
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except Exception as error:  # the broker is already gone
                self.app.log.debug("MQTT disconnection: %r", error)

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Read the broker's messages; on a lost connection, connect again (clients stay known)."""
        while True:
            try:
                async for message in client.messages:
                    self._receive(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.app.log.error("kuzzle_events: MQTT broker connection lost: %r", error)
            self._mqtt = None
            client = await self._reconnect()

    async def _reconnect(self) -> aiomqtt.Client:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
            try:
                client = await self._connect()
            except Exception as error:
                if attempt == 1:
                    self.app.log.warning("kuzzle_events: MQTT broker unreachable, retrying: %r", error)
                continue
            self.app.log.info("kuzzle_events: MQTT broker reconnected after %s attempt(s)", attempt)
            return client

    # Messages -----------------------------------------------------------------------------------

    def _receive(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        if topic.endswith(self._left_suffix):  # another process heard a client's goodbye
            self.leave_soon(topic[len(self.response_topic) + 1 : -len(self._left_suffix)])
            return
        properties = message.properties
        reply_to = getattr(properties, "ResponseTopic", None) if properties is not None else None
        correlation = getattr(properties, "CorrelationData", None) if reply_to else None
        if topic.startswith(self._prefix):
            client_id = topic[len(self._prefix) :]
        elif reply_to:
            client_id = reply_to
        else:
            self.app.log.warning("MQTT message on %s without a client id nor a response topic: dropped", topic)
            return
        if not message.payload:  # the client's will, or its goodbye: every process forgets it
            self.leave_soon(client_id)
            asyncio.get_running_loop().create_task(self.publish(f"{self.response_topic}/{client_id}/{LEFT}", ""))
            return
        if client_id not in self.clients:
            self.arrive(client_id, reply_to if client_id == reply_to else f"{self.response_topic}/{client_id}")
        self.received(client_id, text_of(message.payload), reply_to, correlation)

    async def answer(self, client: MqttClient, topic: str, text: str, correlation: bytes | None) -> None:
        await self.publish(topic, text, correlation)

    async def notify(self, client: MqttClient, text: str) -> None:
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
            self.app.log.warning("MQTT publication on %s dropped: the broker is unreachable", topic)
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
