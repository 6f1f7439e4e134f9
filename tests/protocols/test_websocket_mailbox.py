"""Messages to a connection's ``channel_name``: an inbox on the in-memory layer, a reader on others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from kuzzle_events.protocols.websocket.mailbox import inboxes, served

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class SubclassedLayer(InMemoryChannelLayer):
    """A layer of the project's own, on the in-memory one: read through its receive."""


class Greeted(KuzzleConsumer):
    groups = ["kuzzle-events-test-inbox"]
    made: list[Greeted] = []
    hold: asyncio.Event | None = None  # set: a greeting waits for it

    async def connect(self) -> None:
        await super().connect()
        Greeted.made.append(self)

    async def greeting(self, message: dict[str, Any]) -> None:
        if Greeted.hold is not None:
            await Greeted.hold.wait()
        await self.send(text_data=message["text"])


@pytest.fixture
async def greeted(kapp: Application) -> Any:
    Greeted.made, Greeted.hold = [], None
    ws = WebsocketCommunicator(Greeted.as_asgi(kuzzle_app=kapp), "/")
    assert (await ws.connect())[0]
    yield ws, Greeted.made[0]
    await ws.disconnect()


@pytest.fixture
def in_memory(settings: Any) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY


async def test_a_message_to_the_channel_name_reaches_its_handler(greeted: Any) -> None:
    # On the layer the run uses: in-memory, or channels_redis when REDIS_URL is set.
    ws, consumer = greeted
    await get_channel_layer().send(consumer.channel_name, {"type": "greeting", "text": "hello"})
    assert await ws.receive_from(timeout=5) == "hello"
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "still"})
    assert (await ws.receive_json_from(timeout=5))["room"] == "still"


async def test_an_idle_connection_has_no_queue_nor_reader(in_memory: None, greeted: Any) -> None:
    ws, consumer = greeted
    layer = get_channel_layer()
    assert served(layer) and consumer.channel_name in inboxes(layer)
    assert consumer.channel_name not in layer.channels  # no asyncio.Queue of the layer's
    assert not consumer.scheduler.in_flight  # no task reading it
    await layer.group_send(Greeted.groups[0], {"type": "greeting", "text": "one"})
    assert await ws.receive_from() == "one"
    await asyncio.sleep(0)
    assert not consumer.scheduler.in_flight  # the task that dispatched it has ended


async def test_messages_arrive_in_order_as_copies(in_memory: None, greeted: Any) -> None:
    ws, consumer = greeted
    layer = get_channel_layer()
    message = {"type": "greeting", "text": "first"}
    await layer.send(consumer.channel_name, message)
    message["text"] = "changed after sending"  # the layer sends a copy
    await layer.send(consumer.channel_name, {"type": "greeting", "text": "second"})
    assert [await ws.receive_from(), await ws.receive_from()] == ["first", "second"]


async def test_the_layers_capacity_bounds_what_waits(in_memory: None, greeted: Any) -> None:
    ws, consumer = greeted
    layer = get_channel_layer()
    layer.capacity = 2
    Greeted.hold = asyncio.Event()
    await layer.send(consumer.channel_name, {"type": "greeting", "text": "1"})
    await asyncio.sleep(0.05)  # dispatched: it waits in its handler
    await layer.send(consumer.channel_name, {"type": "greeting", "text": "2"})
    await layer.send(consumer.channel_name, {"type": "greeting", "text": "3"})
    with pytest.raises(ChannelFull):
        await layer.send(consumer.channel_name, {"type": "greeting", "text": "4"})
    # As the layer's own queue of an unread channel: full at the same count.
    unread = await layer.new_channel()
    await layer.send(unread, {"type": "x"})
    await layer.send(unread, {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send(unread, {"type": "x"})
    Greeted.hold.set()
    assert [await ws.receive_from() for _ in range(3)] == ["1", "2", "3"]


async def test_an_expired_message_is_dropped_and_its_channel_leaves_its_groups(in_memory: None, greeted: Any) -> None:
    ws, consumer = greeted
    layer = get_channel_layer()
    assert consumer.channel_name in layer.groups[Greeted.groups[0]]
    layer.expiry = -1  # every message has expired by the time it is read, as in the layer's _clean_expired
    await layer.send(consumer.channel_name, {"type": "greeting", "text": "late"})
    assert await ws.receive_nothing(timeout=0.2)
    assert consumer.channel_name not in layer.groups.get(Greeted.groups[0], {})


async def test_a_closed_connection_leaves_the_layer_as_it_was(in_memory: None, kapp: Application) -> None:
    Greeted.made = []
    ws = WebsocketCommunicator(Greeted.as_asgi(kuzzle_app=kapp), "/")
    assert (await ws.connect())[0]
    name = Greeted.made[0].channel_name
    layer = get_channel_layer()
    await ws.disconnect()
    assert name not in inboxes(layer)
    await layer.send(name, {"type": "greeting", "text": "nobody"})  # the layer's own send again
    assert (await layer.receive(name))["text"] == "nobody"


async def test_a_subclass_of_the_in_memory_layer_is_read_by_a_task(settings: Any, greeted_subclass: Any) -> None:
    ws, consumer = greeted_subclass
    layer = get_channel_layer()
    assert not served(layer) and len(consumer.scheduler.in_flight) == 1  # its reader
    await layer.send(consumer.channel_name, {"type": "greeting", "text": "read"})
    assert await ws.receive_from() == "read"


@pytest.fixture
async def greeted_subclass(settings: Any, kapp: Application) -> Any:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.SubclassedLayer"}}
    Greeted.made, Greeted.hold = [], None
    ws = WebsocketCommunicator(Greeted.as_asgi(kuzzle_app=kapp), "/")
    assert (await ws.connect())[0]
    yield ws, Greeted.made[0]
    await ws.disconnect()
