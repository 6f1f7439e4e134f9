"""Back-pressure slots: a line in arrival order, refusal past the buffer, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from kuzzle_events.core.backpressure import PipeSlots
from kuzzle_events.errors import KuzzleError


def take(slots: PipeSlots) -> bool:
    """Take a slot the way the pipe loop does; False when the caller must wait."""
    if slots.free > 0:
        slots.free -= 1
        return True
    return False


def give_back(slots: PipeSlots) -> None:
    if slots.waiting:
        slots.hand_over()
    else:
        slots.free += 1


async def test_waiters_get_slots_in_arrival_order() -> None:
    slots = PipeSlots(1, 10)
    assert take(slots)
    order: list[int] = []

    async def wait(n: int) -> None:
        await slots.wait()
        order.append(n)

    waiters = [asyncio.ensure_future(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert slots.pressure == (1, 3)
    for _ in range(3):
        give_back(slots)
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]
    assert slots.pressure == (1, 0)  # the last waiter holds the slot
    give_back(slots)
    assert slots.pressure == (0, 0)


async def test_a_full_line_is_refused_at_once() -> None:
    slots = PipeSlots(1, 1)
    assert take(slots)
    waiting = asyncio.ensure_future(slots.wait())
    await asyncio.sleep(0)
    with pytest.raises(KuzzleError) as refused:
        await slots.wait()
    assert refused.value.id == "plugin.runtime.too_many_pipes"
    give_back(slots)
    await waiting


async def test_a_cancelled_waiter_leaves_the_line() -> None:
    slots = PipeSlots(1, 5)
    assert take(slots)
    waiting = asyncio.ensure_future(slots.wait())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert slots.pressure == (1, 0)
    give_back(slots)
    assert slots.free == 1


async def test_a_slot_handed_to_a_cancelled_waiter_goes_to_the_next() -> None:
    slots = PipeSlots(1, 5)
    assert take(slots)
    first = asyncio.ensure_future(slots.wait())
    second = asyncio.ensure_future(slots.wait())
    await asyncio.sleep(0)
    give_back(slots)  # to the first waiter...
    first.cancel()  # ...cancelled before it could run
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 1)
    assert slots.pressure == (1, 0)


def test_new_limits_keep_the_running_count() -> None:
    slots = PipeSlots(2, 10)
    assert take(slots)
    slots.configure(5, 3)
    assert slots.pressure == (1, 0) and slots.free == 4 and slots.buffer_size == 3
