"""The messages of Channels' in-memory layer to a connection's ``channel_name``, without a reader.

Channels' own consumer reads its channel with ``layer.receive(channel_name)`` for as long as it
lives: on the in-memory layer, that is an ``asyncio.Queue`` (about 2.4 KiB, with its deques and
event) and a task waiting on it, for every connection, although most connections are never sent
anything by name (realtime subscriptions do not use it). Here the layer's ``send`` hands a
message for a registered channel straight to its connection (:meth:`Inbox.put`), which starts a
task to dispatch it only then; the task ends once nothing more waits. The messages are what the
layer's ``receive`` would have given, in the same order, under the same limits: a deep copy of
each, at most the layer's capacity waiting (``ChannelFull`` beyond, which ``group_send`` ignores),
and one left waiting past the layer's ``expiry`` is dropped and its channel leaves its groups, as
the layer's own clean-up does.

Only the exact :class:`~channels.layers.InMemoryChannelLayer` is served this way: a subclass may
send or receive otherwise, and it is read as any other layer.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from copy import deepcopy
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

__all__ = ["Inbox", "inboxes", "served"]

Message = dict[str, Any]
_INBOXES = "_kuzzle_inboxes"  # the layer's attribute holding its registered channels


class Inbox:
    """What waits for one connection's channel: ``dispatch`` handles each message, in a task that
    ``start`` runs (the connection's), made at the first message and ended when none is left."""

    __slots__ = ("layer", "channel", "_dispatch", "_start", "_waiting")

    def __init__(
        self,
        layer: InMemoryChannelLayer,
        channel: str,
        dispatch: Callable[[Message], Awaitable[None]],
        start: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self.layer = layer
        self.channel = channel
        self._dispatch = dispatch
        self._start = start
        self._waiting: deque[tuple[float, Message]] | None = None  # (expiry, message); None: no task

    def put(self, message: Message) -> None:
        """As the layer's ``send`` to this channel: the message waits for its connection's task."""
        layer = self.layer
        assert isinstance(message, dict), "message is not a dict"
        assert "__asgi_channel__" not in message
        item = (time.time() + layer.expiry, deepcopy(message))
        waiting = self._waiting
        if waiting is None:
            self._waiting = deque((item,))
            self._start(self._drain())
        elif 0 < layer.get_capacity(self.channel) <= len(waiting):  # (as a Queue's maxsize: 0 is no bound)
            raise ChannelFull(self.channel)
        else:
            waiting.append(item)

    async def _drain(self) -> None:
        waiting = self._waiting
        assert waiting is not None
        try:
            while waiting:
                expiry, message = waiting.popleft()
                if expiry < time.time():  # as the layer's _clean_expired
                    self.layer._remove_from_groups(self.channel)
                    continue
                await self._dispatch(message)
        finally:
            self._waiting = None


def inboxes(layer: InMemoryChannelLayer) -> dict[str, Inbox]:
    """The channels of ``layer`` read by their :class:`Inbox`: its ``send`` gives them their messages."""
    boxes: dict[str, Inbox] | None = layer.__dict__.get(_INBOXES)
    if boxes is None:
        boxes = {}
        setattr(layer, _INBOXES, boxes)
        layer_send = layer.send  # the class's, bound (group_send sends through self.send too)

        async def send(channel: str, message: Message) -> None:
            box = boxes.get(channel)
            if box is None:
                await layer_send(channel, message)
            else:
                box.put(message)

        layer.send = send
    return boxes


def served(layer: Any) -> bool:
    """Whether ``layer``'s channels are read by an :class:`Inbox` (the exact in-memory layer)."""
    return type(layer) is InMemoryChannelLayer
