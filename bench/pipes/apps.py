"""``BENCH_PIPES=N`` registers N no-op ``async def p(request): return request`` pipes, spread
round-robin over the events ``server:now`` fires (``BENCH_PIPE_EVENTS``, comma-separated, to
choose others)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig

# Every pipe event a successful server:now goes through, in life-cycle order.
DEFAULT_EVENTS = (
    "request:beforeExecution",
    "request:onAuthorized",
    "request:onExecution",
    "server:beforeNow",
    "server:afterNow",
    "request:onSuccess",
    "request:afterExecution",
)


def register_pipes(app: Any, count: int, events: Sequence[str] = DEFAULT_EVENTS) -> dict[str, int]:
    """Register ``count`` no-op async pipes on ``app``, round-robin over ``events``; return how
    many each event got."""
    placed: dict[str, int] = {}
    for i in range(count):

        async def p(request):  # a new function object per pipe, as N separate plugins would have
            return request

        event = events[i % len(events)]
        app.pipe.register(event, p)
        placed[event] = placed.get(event, 0) + 1
    return placed


class BenchPipesConfig(AppConfig):
    name = "bench.pipes"
    label = "bench_pipes"

    def ready(self) -> None:
        count = int(os.environ.get("BENCH_PIPES", "0") or 0)
        if count <= 0:
            return
        from kuzzle_events import app

        events = [e for e in os.environ.get("BENCH_PIPE_EVENTS", ",".join(DEFAULT_EVENTS)).split(",") if e]
        placed = register_pipes(app, count, events)
        # The benchmark checks this line in the server's log.
        print(f"bench.pipes: registered {count} pipes: {placed}", file=sys.stderr, flush=True)
