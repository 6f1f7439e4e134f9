"""Per-handler figures since start: calls, errors, slow-pipe warnings, mean and p99 duration.

Durations are kept in a bounded window of recent samples. Pipes are sampled (one chain run in
``SAMPLE_EVERY`` is timed pipe by pipe) so that counting costs the hot loop nothing per pipe.
"""

from __future__ import annotations

import collections
from typing import Any

__all__ = ["HandlerStats", "SAMPLE_EVERY"]

SAMPLE_EVERY = 64  # one chain run in SAMPLE_EVERY is timed pipe by pipe
WINDOW = 1024


class HandlerStats:
    __slots__ = ("calls", "errors", "slow", "samples")

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.slow = 0
        self.samples: collections.deque[float] = collections.deque(maxlen=WINDOW)

    def summary(self) -> dict[str, Any]:
        """``calls``, ``errors``, ``slow_warnings``, ``mean_ms``, ``p99_ms`` (None without samples)."""
        samples = sorted(self.samples)
        mean = p99 = None
        if samples:
            mean = round(sum(samples) / len(samples) * 1000, 3)
            p99 = round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 3)
        return {
            "calls": self.calls,
            "errors": self.errors,
            "slow_warnings": self.slow,
            "mean_ms": mean,
            "p99_ms": p99,
            "samples": len(samples),
        }
