"""Login attempts per user and per address, in a sliding window. No Django here.

Per server process: each process counts the attempts it receives.
"""

from __future__ import annotations

import time
from collections import deque

__all__ = ["AttemptLimiter"]


class AttemptLimiter:
    """At most ``limit`` attempts per key in any ``window`` seconds (``limit`` 0: no limit)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._attempts: dict[str, deque[float]] = {}

    def allow(self, *keys: str) -> bool:
        """Count one attempt under each key; ``False`` if any key is over its limit."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        horizon = now - self.window
        allowed = True
        for key in keys:
            attempts = self._attempts.setdefault(key, deque())
            while attempts and attempts[0] <= horizon:
                attempts.popleft()
            if len(attempts) >= self.limit:
                allowed = False
            else:
                attempts.append(now)
        if len(self._attempts) > 10_000:
            self._forget(horizon)
        return allowed

    def reset(self) -> None:
        self._attempts.clear()

    def _forget(self, horizon: float) -> None:
        # Keys of addresses and names seen once must not pile up for the life of the process.
        for key in [k for k, attempts in self._attempts.items() if not attempts or attempts[-1] <= horizon]:
            del self._attempts[key]
