"""Back-pressure: so many runs at once, so many waiting in line, the rest refused at once.

Two uses: pipe chains (``MAX_CONCURRENT_PIPES`` run, ``PIPES_BUFFER_SIZE`` wait, then
``plugin.runtime.too_many_pipes``) and requests (``MAX_CONCURRENT_REQUESTS`` in flight,
``REQUESTS_BUFFER_SIZE`` wait, then ``api.process.overloaded``, both 503). A finishing run hands
its slot to the oldest waiter rather than freeing it, so that a newcomer cannot overtake the line.
No Django import.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable

from kuzzle_events import errors

__all__ = ["UNLIMITED", "RequestSlots", "Slots", "overload_percentage"]

PIPES_REFUSAL = "plugin.runtime.too_many_pipes"
REQUESTS_REFUSAL = "api.process.overloaded"


class Slots:
    """The slots of running work and the line of those waiting for one.

    Taking a slot is ``slots.free -= 1`` when ``slots.free > 0``, else ``await slots.wait()``;
    giving it back is ``slots.hand_over()`` when ``slots.waiting``, else ``slots.free += 1``. The
    pipe loop and the funnel write both out: two method calls would cost a run more than the tests
    they stand for.
    """

    __slots__ = ("free", "limit", "buffer_size", "waiting", "refusal")

    def __init__(self, limit: int, buffer_size: int, refusal: str = PIPES_REFUSAL) -> None:
        self.free = limit  # runs that may still start now
        self.limit = limit
        self.buffer_size = buffer_size
        self.refusal = refusal  # the error id past the buffer
        self.waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    def configure(self, limit: int, buffer_size: int) -> None:
        """New limits; running and waiting runs keep their places (a raised limit lets waiters in)."""
        self.free += limit - self.limit
        self.limit = limit
        self.buffer_size = buffer_size
        while self.free > 0 and self.waiting:
            self.free -= 1
            self.hand_over()

    async def wait(self) -> None:
        """Wait in line for a slot (the ``refusal`` error when the line is full)."""
        if len(self.waiting) >= self.buffer_size:
            raise errors.get(self.refusal)
        slot = asyncio.get_running_loop().create_future()
        self.waiting.append(slot)
        try:
            await slot
        except asyncio.CancelledError:
            if slot.done() and not slot.cancelled():
                # The slot was handed over just as we were cancelled: pass it on.
                self.hand_over()
            else:
                self.waiting.remove(slot)
            raise

    def hand_over(self) -> None:
        """Give a slot back to the oldest run still waiting (or free it if none still waits)."""
        if self.free < 0:
            # The limit was lowered below the runs holding a slot: this one is not given on.
            self.free += 1
            return
        waiting = self.waiting
        while waiting:
            slot = waiting.popleft()
            if not slot.done():
                slot.set_result(None)
                return
        self.free += 1

    @property
    def pressure(self) -> tuple[int, int]:
        """(runs holding a slot, runs waiting)."""
        return self.limit - self.free, len(self.waiting)


# Kuzzle warns of an overload at most this often (seconds).
OVERLOAD_WARNING_INTERVAL = 0.5


class RequestSlots(Slots):
    """Requests in flight, with Kuzzle's overload warning.

    While requests wait, a newcomer finding more than ``warning_threshold`` of them in line calls
    ``on_overload`` with the line's fill in percent (two decimals), at most every half second, as
    Kuzzle fires ``core:overload``; ``on_refusal`` gets each refused request's error, and
    ``on_recovery`` is called once the line is empty again after a warning.
    """

    __slots__ = ("warning_threshold", "warned_at", "warned", "on_overload", "on_refusal", "on_recovery")

    def __init__(self, limit: int, buffer_size: int, warning_threshold: int) -> None:
        super().__init__(limit, buffer_size, REQUESTS_REFUSAL)
        self.warning_threshold = warning_threshold
        self.warned_at = -math.inf
        self.warned = False
        self.on_overload: Callable[[float], None] | None = None
        self.on_refusal: Callable[[errors.KuzzleError], None] | None = None
        self.on_recovery: Callable[[], None] | None = None

    def configure(self, limit: int, buffer_size: int, warning_threshold: int | None = None) -> None:
        """New limits; running and waiting requests keep their places."""
        if warning_threshold is not None:
            self.warning_threshold = warning_threshold
        super().configure(limit, buffer_size)

    async def wait(self) -> None:
        """Wait in line; warn of the overload first, and report a refusal."""
        queued = len(self.waiting)
        if queued > self.warning_threshold:
            now = time.monotonic()
            if now - self.warned_at > OVERLOAD_WARNING_INTERVAL:
                self.warned_at = now
                self.warned = True
                if self.on_overload is not None:
                    self.on_overload(overload_percentage(queued, self.buffer_size))
        try:
            await super().wait()
        except errors.KuzzleError as error:
            if self.on_refusal is not None:
                self.on_refusal(error)
            raise

    def hand_over(self) -> None:
        """Give the slot to the oldest waiter; tell of the recovery when none is left after a warning."""
        super().hand_over()
        if self.warned and not self.waiting:
            self.warned = False
            if self.on_recovery is not None:
                self.on_recovery()


def overload_percentage(queued: int, buffer_size: int) -> float:
    """How full the line is, in percent rounded to two decimals (half up, as JavaScript rounds)."""
    return math.floor(10000 * queued / buffer_size + 0.5) / 100 if buffer_size else 100.0


# For runs that are never held back (events without payload: the application's start and stop).
UNLIMITED = Slots(math.inf, 0)  # type: ignore[arg-type]
