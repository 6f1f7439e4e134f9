"""Back-pressure slots: a line in arrival order, refusal past the buffer, cancellation, overload."""

from __future__ import annotations

import asyncio

import pytest

from kuzzle_events.core import backpressure
from kuzzle_events.core.backpressure import RequestSlots, Slots, overload_percentage
from kuzzle_events.errors import KuzzleError


def take(slots: Slots) -> bool:
    """Take a slot the way the pipe loop does; False when the caller must wait."""
    if slots.free > 0:
        slots.free -= 1
        return True
    return False


def give_back(slots: Slots) -> None:
    if slots.waiting:
        slots.hand_over()
    else:
        slots.free += 1


async def test_waiters_get_slots_in_arrival_order() -> None:
    slots = Slots(1, 10)
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
    slots = Slots(1, 1)
    assert take(slots)
    waiting = asyncio.ensure_future(slots.wait())
    await asyncio.sleep(0)
    with pytest.raises(KuzzleError) as refused:
        await slots.wait()
    assert refused.value.id == "plugin.runtime.too_many_pipes"
    give_back(slots)
    await waiting


async def test_a_cancelled_waiter_leaves_the_line() -> None:
    slots = Slots(1, 5)
    assert take(slots)
    waiting = asyncio.ensure_future(slots.wait())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert slots.pressure == (1, 0)
    give_back(slots)
    assert slots.free == 1


async def test_a_slot_handed_to_a_cancelled_waiter_goes_to_the_next() -> None:
    slots = Slots(1, 5)
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
    slots = Slots(2, 10)
    assert take(slots)
    slots.configure(5, 3)
    assert slots.pressure == (1, 0) and slots.free == 4 and slots.buffer_size == 3


async def test_a_raised_limit_lets_waiters_in_and_a_lowered_one_holds_them() -> None:
    slots = Slots(1, 10)
    assert take(slots)
    first, second = asyncio.ensure_future(slots.wait()), asyncio.ensure_future(slots.wait())
    await asyncio.sleep(0)
    slots.configure(2, 10)
    await asyncio.wait_for(first, 1)
    assert slots.pressure == (2, 1) and not second.done()
    slots.configure(1, 10)  # two hold a slot where one may now
    give_back(slots)
    await asyncio.sleep(0)
    assert slots.pressure == (1, 1) and not second.done()
    give_back(slots)
    await asyncio.wait_for(second, 1)
    assert slots.pressure == (1, 0)


class Reports:
    def __init__(self, slots: RequestSlots) -> None:
        self.loads: list[float] = []
        self.refusals: list[str] = []
        self.recoveries = 0
        slots.on_overload = self.loads.append
        slots.on_refusal = lambda error: self.refusals.append(error.id)
        slots.on_recovery = self.recovered

    def recovered(self) -> None:
        self.recoveries += 1


async def test_request_slots_warn_at_most_every_half_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(backpressure.time, "monotonic", lambda: now[0])
    slots = RequestSlots(1, 4, 1)
    reports = Reports(slots)
    assert take(slots)
    waiters = [asyncio.ensure_future(slots.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert reports.loads == [50.0]  # the third found 2 waiting: more than 1, half the buffer
    now[0] += 0.5
    waiters.append(asyncio.ensure_future(slots.wait()))
    await asyncio.sleep(0)
    assert reports.loads == [50.0]  # not half a second later yet
    now[0] += 0.01
    with pytest.raises(KuzzleError) as refused:
        await slots.wait()
    assert refused.value.id == "api.process.overloaded" and refused.value.status == 503
    assert reports.loads == [50.0, 100.0] and reports.refusals == ["api.process.overloaded"]
    for _ in range(3):
        give_back(slots)
    assert reports.recoveries == 0
    give_back(slots)  # the last waiter gets the slot: the line is empty again
    assert reports.recoveries == 1
    await asyncio.wait_for(asyncio.gather(*waiters), 1)
    give_back(slots)
    assert slots.pressure == (0, 0) and reports.recoveries == 1


async def test_request_slots_without_overload_warn_nobody() -> None:
    slots = RequestSlots(1, 3, 3)
    reports = Reports(slots)
    assert take(slots)
    waiters = [asyncio.ensure_future(slots.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    for _ in range(4):
        give_back(slots)
    await asyncio.wait_for(asyncio.gather(*waiters), 1)
    assert reports.loads == [] and reports.recoveries == 0


def test_overload_percentage_rounds_as_kuzzle() -> None:
    assert overload_percentage(3, 3) == 100
    assert overload_percentage(2, 3) == 66.67
    assert overload_percentage(1, 800) == 0.13  # 0.125: half up, as Math.round
    assert overload_percentage(5_001, 50_000) == 10
