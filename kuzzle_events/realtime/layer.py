"""A shared channel layer (channels_redis) that comes and goes: read timeouts, outages, health.

Redis may restart (keeping nothing: groups vanish) or be unreachable for a while. The process goes
on without it: what uses the layer tries again on its own, logs each outage once, and the health
check reports the layer's state. No Django here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "GroupMember",
    "LayerHealth",
    "RETRY_INTERVAL",
    "drop_idle_connections",
    "health_of",
    "prepare",
    "probe",
    "retry_delays",
    "uncancelled",
]

READ_MARGIN = 5.0
"""Seconds by which a layer connection's read timeout outlasts the layer's blocking poll."""

CONNECT_TIMEOUT = 5.0
"""Seconds to connect to Redis (the redis client's own default, kept when the read timeout grows)."""

RETRY_INTERVAL = 1.0
"""Seconds between two tries while the layer is down (at most: the first tries come sooner)."""

CALL_TIMEOUT = 2.0
"""Seconds a group change (add, discard) may take before it counts as failed."""

QUIET = 5.0
"""Seconds without a failure after which the next failure is a new outage (logged again)."""

Message = dict[str, Any]
T = TypeVar("T")


def prepare(layer: Any) -> None:
    """Let a channels_redis layer's idle reads outlast their blocking poll.

    channels_redis reads a channel with ``BZPOPMIN`` blocking for ``brpop_timeout`` (5 s), and the
    redis client's default read timeout is 5 s too (redis 8): an idle read fails with a
    ``TimeoutError`` at about the time Redis would answer "nothing yet". Hosts that set no
    ``socket_timeout`` (in their options or their URL) get one of ``brpop_timeout + READ_MARGIN``.
    It must run before the layer's first connection on a loop (its pools are made then); running
    it again changes nothing.
    """
    poll = getattr(layer, "brpop_timeout", None)
    hosts = getattr(layer, "hosts", None)
    if not isinstance(poll, int | float) or not isinstance(hosts, list):
        return  # not a channels_redis core layer (in-memory, pub/sub...)
    for host in hosts:
        if (
            isinstance(host, dict)
            and "socket_timeout" not in host
            and "socket_timeout=" not in str(host.get("address"))
        ):
            host["socket_timeout"] = poll + READ_MARGIN
            host.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)


async def probe(layer: Any, timeout: float = CALL_TIMEOUT) -> BaseException | None:
    """None if every Redis server of ``layer`` answers a ping within ``timeout`` seconds, else the error.

    A failed ping is tried once more: the first command after a Redis restart may get a pooled
    connection that the server closed (a ping, unlike a send, is safe to repeat).
    """
    connection = getattr(layer, "connection", None)
    ring_size = getattr(layer, "ring_size", None)
    if connection is None or not isinstance(ring_size, int):
        return None  # no Redis connections of its own to ping

    async def ping_all() -> None:
        for index in range(ring_size):
            try:
                await connection(index).ping()
            except Exception:
                await connection(index).ping()

    try:
        async with asyncio.timeout(timeout):
            await ping_all()
    except Exception as error:
        return error
    return None


async def drop_idle_connections(layer: Any) -> None:
    """Close the idle pooled connections of a channels_redis layer (the next uses open new ones)."""
    connection = getattr(layer, "connection", None)
    ring_size = getattr(layer, "ring_size", None)
    if connection is None or not isinstance(ring_size, int):
        return
    for index in range(ring_size):
        with contextlib.suppress(Exception):
            await connection(index).connection_pool.disconnect(inuse_connections=False)


async def uncancelled(awaitable: Awaitable[T]) -> T:
    """``await awaitable`` in a task of its own, so that cancelling the caller always ends it.

    Under Python 3.11, the redis client loses a cancellation that lands as it finishes sending a
    command (its ``asyncio.wait_for`` returns the send's result instead), and channels_redis then
    goes on reading, for ever on an idle channel: a closed WebSocket's reader would never end.
    Here the caller ends at once, and the task is cancelled again until it is done.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_retrieve)
        _cancel_until_done(task)
        raise


def _cancel_until_done(task: asyncio.Future[Any]) -> None:
    if not task.done():
        task.cancel()
        task.get_loop().call_later(0.1, _cancel_until_done, task)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # (no "exception never retrieved" for a read nobody waits for any more)


def retry_delays() -> Iterator[float]:
    """Seconds to wait before each new try: soon at first, then every ``RETRY_INTERVAL``."""
    delay = 0.1
    while True:
        yield delay
        delay = min(delay * 2, RETRY_INTERVAL)


class LayerHealth:
    """Whether a layer worked at its last use; logs each outage once, and its end.

    ``failed`` after each failed use, ``ok`` after each successful one. An outage is logged when it
    starts, not at each failure; a failure after ``QUIET`` seconds without one starts a new outage
    (for users of the layer that cannot tell when it is back, such as an idle read).
    """

    def __init__(self, log: logging.Logger, what: str, consequence: str) -> None:
        self._log = log
        self._what = what
        self._consequence = consequence
        self.down_since: float | None = None
        self._last_failure = -math.inf

    @property
    def status(self) -> str:
        """``"green"``, or ``"red"`` from a failure to the next success."""
        return "green" if self.down_since is None else "red"

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        if self.down_since is None or now - self._last_failure > QUIET:
            self.down_since = now
            self._log.warning("%s unreachable (%s): %s: %s", self._what, self._consequence, type(error).__name__, error)
        self._last_failure = now

    def ok(self) -> bool:
        """A successful use: whether it ends an outage."""
        if self.down_since is None:
            return False
        down_for = time.monotonic() - self.down_since
        self.down_since = None
        self._log.info("%s reachable again after %.1f s", self._what, down_for)
        return True


_healths: weakref.WeakKeyDictionary[Any, LayerHealth] = weakref.WeakKeyDictionary()


def health_of(layer: Any, log: logging.Logger, what: str, consequence: str) -> LayerHealth:
    """The one :class:`LayerHealth` of ``layer`` for all its users in this process: one log line
    per outage, not one per connection."""
    health = _healths.get(layer)
    if health is None:
        health = _healths[layer] = LayerHealth(log, what, consequence)
    return health


class GroupMember:
    """A channel of this process in a group of the layer: joined, read, sent to, kept up.

    While joined, the channel is added to the group again every ``RETRY_INTERVAL`` seconds
    (``group_add`` is idempotent; a restarted Redis has lost the group, and channels_redis also
    drops members older than its ``group_expiry``), and a failed read is tried again. While the
    layer is known to be down, sends are skipped instead of each one waiting on it: what this
    process's own connections need never depends on the layer. The layer is probed meanwhile,
    and sends resume once it answers.
    """

    def __init__(
        self, layer: Any, group: str, on_message: Callable[[Message], Awaitable[None]], health: LayerHealth
    ) -> None:
        self.layer = layer
        self.group = group
        self.health = health
        self._on_message = on_message
        self._log = logging.getLogger("kuzzle_events")
        self._channel: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None

    @property
    def joined(self) -> bool:
        return self._channel is not None

    async def join(self) -> None:
        """Read the group's messages from now on: in the group when this returns, unless the
        layer is down (then as soon as it is back)."""
        if self._channel is not None:
            return
        channel = await self.layer.new_channel()
        if self._channel is not None:  # joined meanwhile
            return
        self._channel = channel
        self._reader = asyncio.get_running_loop().create_task(self._read(channel))
        self._keep()
        if self.health.status == "green":
            await self._add(channel)

    async def leave(self) -> None:
        """Stop reading; out of the group (if the layer is down, its members expire there)."""
        channel, reader = self._channel, self._reader
        self._channel = self._reader = None
        if reader is not None:
            reader.cancel()
        if channel is not None and self.health.status == "green":
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    await self.layer.group_discard(self.group, channel)
            except Exception as error:
                self._failed(error)

    async def send(self, message: Message) -> None:
        """``group_send``, unless the layer is down: then the other processes miss this one."""
        if self.health.status != "green":
            return
        try:
            await self.layer.group_send(self.group, message)
        except Exception as error:
            self._failed(error)

    async def status(self) -> str:
        """The layer's state now (a ping): ``"green"`` or ``"red"``."""
        error = await probe(self.layer)
        if error is None:
            await self._recovered()
            return "green"
        self._failed(error)
        return "red"

    async def close(self) -> None:
        await self.leave()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()

    def _failed(self, error: BaseException) -> None:
        self.health.failed(error)
        self._keep()

    async def _recovered(self) -> None:
        if self.health.ok():
            # Pooled connections idle since before the outage may be ones a restarted Redis
            # closed: the next send on one would fail (and a send, unlike a ping, is not retried).
            await drop_idle_connections(self.layer)

    def _keep(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep_up())

    async def _keep_up(self) -> None:
        """While joined, rejoin; while the layer is down, probe it; else nothing to do."""
        while self._channel is not None or self.health.status == "red":
            await asyncio.sleep(RETRY_INTERVAL)
            channel = self._channel
            if channel is not None:
                await self._add(channel)
            else:
                await self.status()

    async def _add(self, channel: str) -> None:
        # Tried twice: the first command after a Redis restart may get a connection the server closed.
        try:
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    await self.layer.group_add(self.group, channel)
            except Exception:
                async with asyncio.timeout(CALL_TIMEOUT):
                    await self.layer.group_add(self.group, channel)
        except Exception as error:
            self.health.failed(error)
            return
        await self._recovered()
        if self._channel != channel:  # left meanwhile: out of the group again
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CALL_TIMEOUT):
                    await self.layer.group_discard(self.group, channel)

    async def _read(self, channel: str) -> None:
        delays: Iterator[float] | None = None
        while True:
            try:
                message = await uncancelled(self.layer.receive(channel))
            except Exception as error:  # Redis gone or restarting: read again, soon
                self._failed(error)
                delays = delays or retry_delays()
                await asyncio.sleep(next(delays))
                continue
            delays = None
            try:
                await self._on_message(message)
            except Exception as error:  # a bad message must not end the reading
                self._log.warning("realtime: a notification from another process failed: %r", error)
