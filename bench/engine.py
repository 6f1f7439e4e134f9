"""Event engine cost against bare Python doing the same work, measured in one run.

    python bench/engine.py

Prints ns per operation (median of several rounds) and the ratio to the baseline. The rounds of
the engine and of its baseline alternate, so that other work on the machine weighs on both alike:
- an event with no listener vs an awaited bare dict lookup and call;
- a chain of 10 async pipes vs a hand-written ``for fn in fns: payload = await fn(payload)``;
- 10 hooks fired vs creating the same 10 tasks by hand (with the strong reference any correct
  fire-and-forget code must keep).
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

from kuzzle_events.core.engine import EventEngine  # noqa: E402

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


async def no_listener() -> tuple[float, float]:
    engine = EventEngine()
    table: dict[str, Any] = {}
    payload = {"x": 1}

    async def bare_trigger(event: str, value: Any) -> Any:
        handlers = table.get(event)
        if handlers:
            for fn in handlers:
                value = await fn(value)
        return value

    return await medians(
        looped(lambda: engine.trigger("server:beforeNow", payload)),
        looped(lambda: bare_trigger("server:beforeNow", payload)),
    )


async def pipe_chain() -> tuple[float, float]:
    engine = EventEngine()

    async def pipe(value: Any) -> Any:
        return value

    fns = [pipe] * 10
    for fn in fns:
        engine.add("pipe", "server:afterNow", fn, is_async=True)
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
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
