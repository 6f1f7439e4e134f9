"""The MQTT adapter with a broker of its own (amqtt) in the server process, as Kuzzle's.

Clients connect to the server itself (``HOST:PORT``), publish requests on ``REQUEST_TOPIC`` and get
each answer privately on ``RESPONSE_TOPIC``: the broker hands it to the requesting client alone,
and hands each realtime notification to each subscriber alone on the subscription's channel topic.
The topics are guarded as Kuzzle guards them: no one may subscribe to the request topic nor use a
wildcard; clients publish on the request topic only, unless ``ALLOW_PUB_SUB`` (Kuzzle's
``allowPubSub``), which still keeps the response topic read-only. Each MQTT client is a
connection: ``connection:new`` when it connects, ``connection:remove`` when it leaves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kuzzle_events.core import jsontext
from kuzzle_events.protocols.mqtt.clients import MqttClient, MqttClients, text_of
from kuzzle_events.protocols.session import SERVER_CHANNEL, TOKEN_EXPIRED

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["EmbeddedBroker"]


class EmbeddedBroker(MqttClients):
    """An MQTT broker listening on ``HOST:PORT`` that serves the API, from :meth:`start` to :meth:`stop`."""

    def __init__(self, app: Application, settings: dict[str, Any]) -> None:
        super().__init__(app, settings)
        self._broker: Any = None

    async def start(self) -> None:
        """Listen on ``HOST:PORT`` (raises if the address is taken)."""
        from amqtt.broker import Broker  # the [mqtt-broker] extra, needed only in this mode

        s = self.settings
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{s['HOST']}:{s['PORT']}"}},
            # Who the client is matters to the API only (``jwt`` in each request), as in Kuzzle.
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
                f"{__name__}.KuzzleTopics": {"server": self},
            },
        }
        # A namespace of its own: amqtt keeps one plugin manager per namespace, process-wide.
        broker = Broker(config, plugin_namespace=f"kuzzle_events.mqtt.{uuid.uuid4().hex}")
        await broker.start()
        self._broker = broker
        self.app.log.info("kuzzle_events: MQTT broker on %s:%s, requests on %s", s["HOST"], s["PORT"], self.request_topic)

    async def stop(self) -> None:
        """Close every client's connection, then the broker."""
        broker, self._broker = self._broker, None
        await self.leave_all()
        if broker is not None:
            await broker.shutdown()

    # The broker's calls (through KuzzleTopics) --------------------------------------------------

    def allowed(self, topic: str | None, publishing: bool) -> bool:
        """Kuzzle's rules for the topics a client may publish on or subscribe to."""
        if not topic or "#" in topic or "+" in topic:
            return False
        if publishing:
            if self.settings["ALLOW_PUB_SUB"]:
                return topic != self.response_topic
            return topic == self.request_topic
        return topic != self.request_topic

    def connected(self, client_id: str) -> None:
        if client_id not in self.clients:
            self.arrive(client_id, self.response_topic)

    def message(self, client_id: str, topic: str, payload: Any) -> None:
        if topic == self.request_topic and payload:
            self.received(client_id, text_of(payload))

    # Answers ------------------------------------------------------------------------------------

    async def answer(self, client: MqttClient, topic: str, text: str, correlation: bytes | None) -> None:
        await self._send(client.id, topic, text)

    async def notify(self, client: MqttClient, text: str) -> None:
        if text is TOKEN_EXPIRED:  # on Kuzzle's server notification topic, as Kuzzle's MQTT does
            if self.settings["REALTIME_NOTIFICATIONS"]:
                await self._send(client.id, SERVER_CHANNEL, text)
            return
        channel = jsontext.loads(text).get("room")
        if isinstance(channel, str) and channel:
            await self._send(client.id, channel, text)

    async def _send(self, client_id: str, topic: str, text: str) -> None:
        """Hand ``text`` to one client on ``topic`` (QoS 0, as Kuzzle), whatever it subscribed to."""
        broker = self._broker
        found = broker.sessions.get(client_id) if broker is not None else None
        handler = found[1] if found else None
        if handler is None:
            return  # the client left before its answer was ready
        try:
            await handler.mqtt_publish(topic, text.encode(), 0, False)
        except Exception as error:  # its connection broke meanwhile
            self.app.log.debug("MQTT answer to %s not delivered: %r", client_id, error)


try:
    from amqtt.contexts import Action
    from amqtt.plugins.base import BaseTopicPlugin
except ImportError:  # without the [mqtt-broker] extra: this mode cannot be chosen
    pass
else:

    class KuzzleTopics(BaseTopicPlugin):
        """The amqtt plugin through which the broker asks the server and tells it what happens."""

        @dataclass
        class Config:
            server: Any = None

        @property
        def server(self) -> EmbeddedBroker:
            server: EmbeddedBroker = self.config.server
            return server

        async def topic_filtering(self, *, session: Any = None, topic: str | None = None, action: Any = None) -> bool:
            return self.server.allowed(topic, action == Action.PUBLISH)

        async def on_broker_client_connected(self, *, client_id: str, client_session: Any) -> None:
            self.server.connected(client_id)

        async def on_broker_client_disconnected(self, *, client_id: str, client_session: Any) -> None:
            self.server.leave_soon(client_id)

        async def on_broker_message_received(self, *, client_id: str, message: Any) -> None:
            if message is not None:
                self.server.message(client_id, message.topic, message.data)
