"""Event engine cost against bare Python doing the same work, measured in one run.

    python bench/engine.py

Prints ns per operation (median of several rounds) and the ratio to the baseline. The rounds of
the engine and of its baseline alternate, so that other work on the machine weighs on both alike:
- an event with no listener vs an awaited bare dict lookup and call;
- a chain of 10 async pipes vs a hand-written ``for fn in fns: payload = await fn(payload)``;
- 10 hooks fired vs creating the same 10 tasks by hand (with the strong reference any correct
  fire-and-forget code must keep).

The same ratios with runtime switches in use elsewhere (listeners switched off on other events, and
on the same event), which are applied when chains are resolved and so cost dispatch nothing; and a
request through the funnel that asks for no trace vs the same funnel without the trace test, the
only thing traces add to a request that did not ask for one.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kuzzle_events.core.backpressure import UNLIMITED  # noqa: E402
from kuzzle_events.core.calling import adapter  # noqa: E402
from kuzzle_events.core.controllers import ControllerRegistry  # noqa: E402
from kuzzle_events.core.engine import EventEngine  # noqa: E402
from kuzzle_events.core.funnel import Funnel  # noqa: E402
from kuzzle_events.core.request import KuzzleRequest  # noqa: E402
from kuzzle_events.core.response import KuzzleResponse  # noqa: E402

ROUNDS = 7
N = 20_000
HOOK_BATCH = 200  # fires per timed batch; tasks are drained between batches, outside the clock


async def time_loop(op: Callable[[], Awaitable[Any]], n: int = N) -> float:
    start = time.perf_counter_ns()
    for _ in range(n):
        await op()
    return (time.perf_counter_ns() - start) / n


async def medians(
    ours: Callable[[], Awaitable[float]], bare: Callable[[], Awaitable[float]], rounds: int = ROUNDS
) -> tuple[float, float]:
    """Median of ``rounds`` measurements of each, taken in turn (after one of each to warm up)."""
    await ours()
    await bare()
    ours_rounds, bare_rounds = [], []
    for _ in range(rounds):
        ours_rounds.append(await ours())
        bare_rounds.append(await bare())
    return statistics.median(ours_rounds), statistics.median(bare_rounds)


def looped(op: Callable[[], Awaitable[Any]], n: int = N) -> Callable[[], Awaitable[float]]:
    return lambda: time_loop(op, n)


def with_switches_elsewhere() -> EventEngine:
    """An engine with 100 pipes switched off, none of them on the events measured."""

    async def idle(value: Any) -> Any:
        return value

    engine = EventEngine()
    off = []
    for n in range(100):
        listener = engine.add("pipe", f"elsewhere:event{n}", idle, is_async=True)
        off.append(("pipe", listener.event, listener.name))
    engine.switch_off(off)
    return engine


async def bare_dispatch(table: dict[str, Any], event: str, value: Any) -> Any:
    """The baseline of an event: a dict lookup, then the handlers found awaited in turn."""
    handlers = table.get(event)
    if handlers:
        for fn in handlers:
            value = await fn(value)
    return value


async def no_listener(engine: EventEngine | None = None) -> tuple[float, float]:
    engine = engine or EventEngine()
    table: dict[str, Any] = {}
    payload = {"x": 1}
    return await medians(
        looped(lambda: engine.trigger("server:beforeNow", payload)),
        looped(lambda: bare_dispatch(table, "server:beforeNow", payload)),
    )


async def pipe_chain(engine: EventEngine | None = None, switched_off: int = 0) -> tuple[float, float]:
    engine = engine or EventEngine()

    async def pipe(value: Any) -> Any:
        return value

    async def off(value: Any) -> Any:
        return value

    fns = [pipe] * 10
    for fn in fns:
        engine.add("pipe", "server:afterNow", fn, is_async=True)
    if switched_off:  # more pipes on the same event, switched off: the chain is still the 10
        listeners = [engine.add("pipe", "server:afterNow", off, is_async=True) for _ in range(switched_off)]
        engine.switch_off({*engine.switched_off, *(("pipe", p.event, p.name) for p in listeners)})
    payload = {"x": 1}

    async def hand_loop(value: Any) -> Any:
        for fn in fns:
            value = await fn(value)
        return value

    return await medians(
        looped(lambda: engine.trigger("server:afterNow", payload)),
        looped(lambda: hand_loop(payload)),
    )


async def hooks() -> tuple[float, float]:
    engine = EventEngine()

    async def hook(value: Any) -> None:
        return None

    fns = [hook] * 10
    for fn in fns:
        engine.add("hook", "server:afterNow", fn, is_async=True)
    payload = {"x": 1}
    loop = asyncio.get_running_loop()
    held: set[asyncio.Task[Any]] = set()

    async def by_hand() -> None:
        for fn in fns:
            task = loop.create_task(fn(payload))
            held.add(task)
            task.add_done_callback(held.discard)

    async def batch(op: Callable[[], Awaitable[Any]]) -> float:
        start = time.perf_counter_ns()
        for _ in range(HOOK_BATCH):
            await op()
        elapsed = time.perf_counter_ns() - start
        # Let the tasks run and finish before the next batch, outside the clock.
        await asyncio.gather(*held, *engine.hook_tasks)
        await asyncio.sleep(0)
        return elapsed / HOOK_BATCH

    return await medians(
        lambda: batch(lambda: engine.trigger("server:afterNow", payload)),
        lambda: batch(by_hand),
        ROUNDS * 10,
    )


class FunnelWithoutTraces(Funnel):
    """The funnel as it was before traces: :meth:`Funnel.execute` without its trace test."""

    async def execute(self, request: KuzzleRequest, trigger_events: bool = True, throttle: bool = True) -> KuzzleResponse:
        slots = self.slots if throttle else UNLIMITED
        if slots.free > 0:
            slots.free -= 1
        else:
            await slots.wait()
        try:
            if not trigger_events:
                await self._run_bare(request, None)
            else:
                act = self.controllers.find(request.input.controller, request.input.action)
                if act is not None and self._is_quiet(act):
                    await self._run_bare(request, act)
                else:
                    request = await self._life_cycle(request, self.events)
        finally:
            if slots.waiting:
                slots.hand_over()
            else:
                slots.free += 1
        response = KuzzleResponse(request, node=self.node, stack=self.stack)
        response.seal()
        return response


async def untraced_request() -> tuple[float, float]:
    engine = EventEngine()
    controllers = ControllerRegistry(adapter(lambda fn: fn))

    async def now(request: Any) -> dict[str, int]:
        return {"now": 1}

    controllers.register("server", {"actions": {"now": {"handler": now}}}, builtin=True)
    ours = Funnel(engine, controllers)
    before = FunnelWithoutTraces(engine, controllers)
    data = {"controller": "server", "action": "now"}
    return await medians(
        looped(lambda: ours.execute(KuzzleRequest(data))),
        looped(lambda: before.execute(KuzzleRequest(data))),
    )


def report(label: str, ours: float, bare: float, target: float) -> bool:
    ratio = ours / bare
    verdict = "ok" if ratio <= target else "ABOVE TARGET"
    print(f"{label:<44} {ours:>9.0f} ns  vs {bare:>9.0f} ns  ratio {ratio:4.2f}x  (target <= {target}x) {verdict}")
    return ratio <= target


async def main() -> int:
    print(f"python {sys.version.split()[0]}, {ROUNDS} rounds, median ns per operation")
    results = [
        report("event with no listener vs bare dict lookup", *(await no_listener()), 2.0),
        report("10 async pipes vs hand-written await loop", *(await pipe_chain()), 1.5),
        report("10 hooks fired vs 10 tasks created by hand", *(await hooks()), 1.5),
        report("no listener, 100 pipes off elsewhere, vs bare", *(await no_listener(with_switches_elsewhere())), 2.0),
        report("10 async pipes (+10 off) vs hand-written loop", *(await pipe_chain(with_switches_elsewhere(), 10)), 1.5),
        report("request, no trace asked vs funnel w/o traces", *(await untraced_request()), 1.5),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
