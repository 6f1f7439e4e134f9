"""The Kuzzle API over MQTT: a broker in the server process, or one the server connects to.

``MQTT["MODE"] = "embedded"`` (:mod:`~kuzzle_events.protocols.mqtt.embedded`): the server is the
broker, as Kuzzle's is, and answers each client privately on ``Kuzzle/response``.

``MQTT["MODE"] = "external"`` (:mod:`~kuzzle_events.protocols.mqtt.external`): the server is one
client of a shared broker, where every subscriber of a topic gets what is published on it. Clients
therefore name themselves in the topic:

- a client publishes a request (a JSON object, as a WebSocket frame, ``requestId`` and ``jwt``
  included) on ``<REQUEST_TOPIC>/<client id>``, and gets its envelope, with ``room`` =
  ``requestId``, on ``<RESPONSE_TOPIC>/<client id>``;
- an MQTT 5 client may publish on ``<REQUEST_TOPIC>`` (or its own request topic) with a *response
  topic* and *correlation data* instead: the envelope goes to that topic, with that data;
- the notifications of a subscription made over MQTT are published on the subscription's channel
  topic (the ``channel`` of ``realtime:subscribe``'s result), which the client subscribes to, as
  Kuzzle's MQTT protocol does; ``TokenExpired`` goes to the client's response topic;
- an empty message on ``<REQUEST_TOPIC>/<client id>`` ends that client's connection (its
  subscriptions, ``connection:remove``): set it as the client's MQTT *will*, which the broker
  publishes when the client vanishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kuzzle_events.conf import mqtt_settings
from kuzzle_events.protocols.mqtt.clients import MqttClients
from kuzzle_events.protocols.mqtt.embedded import EmbeddedBroker
from kuzzle_events.protocols.mqtt.external import ExternalBroker

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["EmbeddedBroker", "ExternalBroker", "MqttClients", "start"]


async def start(app: Application) -> MqttClients | None:
    """Serve ``app`` over MQTT as its settings say; None when ``MQTT["MODE"]`` is ``"off"``."""
    settings = mqtt_settings(app.config)
    if settings["MODE"] == "off":
        return None
    broker: EmbeddedBroker | ExternalBroker
    broker = EmbeddedBroker(app, settings) if settings["MODE"] == "embedded" else ExternalBroker(app, settings)
    await broker.start()
    return broker
