"""Back-pressure on pipe chains: ``MAX_CONCURRENT_PIPES`` run at once, ``PIPES_BUFFER_SIZE`` wait.

A chain that finds no free slot waits in line; past the buffer it is refused at once with
``plugin.runtime.too_many_pipes`` (503). A finishing chain hands its slot to the oldest waiter
rather than freeing it, so that a newcomer cannot overtake the line. No Django import.
"""

from __future__ import annotations

import asyncio
import collections
import math

from kuzzle_events import errors

__all__ = ["UNLIMITED", "PipeSlots"]


class PipeSlots:
    """The slots of running pipe chains and the line of those waiting for one.

    Taking a slot is ``slots.free -= 1`` when ``slots.free > 0``, else ``await slots.wait()``;
    giving it back is ``slots.hand_over()`` when ``slots.waiting``, else ``slots.free += 1``. The
    pipe loop writes both out: two method calls would cost a run more than the tests they stand for.
    """

    __slots__ = ("free", "limit", "buffer_size", "waiting")

    def __init__(self, limit: int, buffer_size: int) -> None:
        self.free = limit  # chains that may still start now
        self.limit = limit
        self.buffer_size = buffer_size
        self.waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    def configure(self, limit: int, buffer_size: int) -> None:
        """New limits; running and waiting chains keep their places."""
        self.free += limit - self.limit
        self.limit = limit
        self.buffer_size = buffer_size

    async def wait(self) -> None:
        """Wait in line for a slot (``plugin.runtime.too_many_pipes`` when the line is full)."""
        if len(self.waiting) >= self.buffer_size:
            raise errors.get("plugin.runtime.too_many_pipes")
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
        """Give a slot back to the oldest chain still waiting (or free it if none still waits)."""
        waiting = self.waiting
        while waiting:
            slot = waiting.popleft()
            if not slot.done():
                slot.set_result(None)
                return
        self.free += 1

    @property
    def pressure(self) -> tuple[int, int]:
        """(chains running, chains waiting)."""
        return self.limit - self.free, len(self.waiting)


# For runs that are never held back (events without payload: the application's start and stop).
UNLIMITED = PipeSlots(math.inf, 0)  # type: ignore[arg-type]
