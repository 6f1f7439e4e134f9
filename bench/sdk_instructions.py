"""Instructions per ``app.sdk.query`` of a quiet action, for callgrind (the timing-free measure).

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/sdk_instructions.py --calls N
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/sdk_instructions.py --calls N --baseline

Run each once with two values of ``N`` (or with and without ``--baseline``, which runs the same
loop awaiting a bare coroutine instead) and divide the difference of the totals ("Collected") by
the difference of calls: start-up and the loop cancel out. ``--pipes N`` registers N no-op async
pipes first, spread over the events of the action's life cycle as ``BENCH_PIPES`` does for the
servers (``bench/pipes``): the count of a request that runs its whole life cycle. ``--trigger
EVENT`` counts ``app.trigger(EVENT, payload)`` instead, the ``--pipes`` all registered on ``EVENT``.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import asyncio  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import bench_database  # noqa: E402


async def _nothing(query: Any) -> None:
    return None


async def run(
    calls: int, baseline: bool, query: dict[str, Any], pipes: int = 0, trigger: str = ""
) -> dict[str, int]:
    """Run the measured loop; return the pipe calls the application counted, by event."""
    from bench.pipes.apps import DEFAULT_EVENTS, register_pipes
    from kuzzle_events import Application

    app = Application()
    name = query["action"][:1].upper() + query["action"][1:]
    own = {"server:beforeNow": f"{query['controller']}:before{name}", "server:afterNow": f"{query['controller']}:after{name}"}
    register_pipes(app, pipes, [trigger] if trigger else [own.get(event, event) for event in DEFAULT_EVENTS])
    await app.start()

    async def fire(payload: Any) -> Any:
        return await app.trigger(trigger, payload)

    measured = fire if trigger else app.sdk.query
    call = _nothing if baseline else measured
    for _ in range(200):  # warm the caches the first calls fill
        await measured(query)
    for _ in range(calls):
        await call(query)
    counted = {event: sum(p["calls"] for p in listened["pipes"]) for event, listened in app.stats()["events"].items()}
    await app.shutdown()
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--baseline", action="store_true", help="await a bare coroutine instead")
    parser.add_argument("--action", default="server:now", help="controller:action to query")
    parser.add_argument("--pipes", type=int, default=0, help="no-op async pipes on the life cycle's events")
    parser.add_argument("--trigger", metavar="EVENT", default="", help="count app.trigger(EVENT, payload) instead")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    controller, action = args.action.split(":")
    asyncio.run(run(args.calls, args.baseline, {"controller": controller, "action": action}, args.pipes, args.trigger))


if __name__ == "__main__":
    main()
