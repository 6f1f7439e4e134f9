"""The engine through the API users call, on a started application, against bare Python.

    .venv/bin/python bench/app_api.py [--rounds 7]

``bench/engine.py`` measures a bare ``EventEngine``; this measures what application code calls:
``app.trigger`` and ``app.sdk.query`` on an ``Application`` started on a migrated SQLite database
of the benchmarks' own, in one process. The rounds of each case and of its baseline alternate;
medians are printed with their ratio and the issue's target:

- ``app.trigger`` of an event nobody listens to (a name triggered before, and a new name at every
  call) vs an awaited bare dict lookup;
- ``app.trigger`` of an event with 10 async pipes vs a hand-written ``await`` loop over the same
  functions; the cost of each pipe, the slope between 1 and 10 pipes minus the bare loop's;
- ``app.trigger`` of an event with 10 hooks vs the same 10 tasks created by hand;
- ``app.sdk.query`` of a quiet action (``server:now``, nothing listening), in µs.

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import itertools  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import bench_database, print_environment  # noqa: E402
from bench.engine import HOOK_BATCH, bare_dispatch, looped, medians, report  # noqa: E402

PIPES = 10


async def _pipe(value: Any) -> Any:
    return value


async def _hook(value: Any) -> None:
    return None


async def run(rounds: int) -> bool:
    from kuzzle_events import Application

    app = Application()
    for _ in range(PIPES):
        app.pipe.register("bench:piped", _pipe)
    app.pipe.register("bench:one", _pipe)
    for _ in range(PIPES):
        app.hook.register("bench:hooked", _hook)
    await app.start()
    payload = {"x": 1}
    table: dict[str, Any] = {}

    fns = [_pipe] * PIPES

    async def hand_loop(value: Any) -> Any:
        for fn in fns:
            value = await fn(value)
        return value

    async def hand_loop_one(value: Any) -> Any:
        for fn in fns[:1]:
            value = await fn(value)
        return value

    fresh = (f"bench:new{n}" for n in itertools.count())
    fresh_bare = (f"bench:new{n}" for n in itertools.count())  # the baseline makes its names too
    results = []
    ours, bare = await medians(
        looped(lambda: app.trigger("bench:unheard", payload)),
        looped(lambda: bare_dispatch(table, "x", payload)),
        rounds,
    )
    results.append(report("app.trigger, nobody listens, vs dict lookup", ours, bare, 2.0))
    ours, bare = await medians(
        looped(lambda: app.trigger(next(fresh), payload)),
        looped(lambda: bare_dispatch(table, next(fresh_bare), payload)),
        rounds,
    )
    results.append(report("app.trigger, a new name each call, vs lookup", ours, bare, 2.0))
    ten, bare_ten = await medians(
        looped(lambda: app.trigger("bench:piped", payload)), looped(lambda: hand_loop(payload)), rounds
    )
    results.append(report(f"app.trigger, {PIPES} async pipes vs await loop", ten, bare_ten, 1.5))
    engine_ten, bare_engine = await medians(
        looped(lambda: app.events.trigger("bench:piped", payload)), looped(lambda: hand_loop(payload)), rounds
    )
    report(f"(for reference: engine.trigger, {PIPES} pipes)", engine_ten, bare_engine, 1.5)
    one, bare_one = await medians(
        looped(lambda: app.trigger("bench:one", payload)), looped(lambda: hand_loop_one(payload)), rounds
    )
    per_pipe = ((ten - one) - (bare_ten - bare_one)) / (PIPES - 1)
    ok = per_pipe <= 350
    print(
        f"{'each pipe on a chain, over the bare loop':<44} {per_pipe:>9.0f} ns  (target <= 350 ns) {'ok' if ok else 'ABOVE TARGET'}"
    )
    results.append(ok)

    async def fire_batch() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(HOOK_BATCH):
            await app.trigger("bench:hooked", payload)
        spent = loop.time() - start
        await app.events.drain_hooks()
        return spent * 1e9 / HOOK_BATCH

    kept: set[asyncio.Task[Any]] = set()

    async def by_hand_batch() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(HOOK_BATCH):
            for _ in range(PIPES):
                task = asyncio.ensure_future(_hook(payload))
                kept.add(task)
                task.add_done_callback(kept.discard)
        spent = loop.time() - start
        await asyncio.gather(*kept)
        return spent * 1e9 / HOOK_BATCH

    ours, bare = await medians(fire_batch, by_hand_batch, rounds)
    results.append(report(f"app.trigger, {PIPES} hooks vs tasks by hand", ours, bare, 1.5))

    query = {"controller": "server", "action": "now"}
    quiet, _ = await medians(
        looped(lambda: app.sdk.query(query)), looped(lambda: bare_dispatch(table, "x", payload)), rounds
    )
    ok = quiet <= 4000
    print(
        f"{'app.sdk.query of server:now (quiet)':<44} {quiet / 1000:>9.2f} µs  (target <= 4 µs) {'ok' if ok else 'ABOVE TARGET'}"
    )
    results.append(ok)
    await app.shutdown()
    return all(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    print_environment(["Django"])
    return 0 if asyncio.run(run(args.rounds)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
