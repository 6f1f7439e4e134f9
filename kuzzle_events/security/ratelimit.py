"""Kuzzle's ``limits.loginsPerSecond``: ``auth:login`` requests per connection and per second.

No Django here. A connection lives in one process, so each process counts its own.
"""

from __future__ import annotations

import time

__all__ = ["LoginsPerSecond"]


class LoginsPerSecond:
    """At most ``limit`` logins per connection within each second (``limit`` 0: no limit)."""

    __slots__ = ("limit", "_second", "_counts")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._second = 0
        self._counts: dict[str, int] = {}

    def allow(self, connection_id: str) -> bool:
        """Count one login of ``connection_id``; ``False`` past the limit of this second."""
        if self.limit <= 0:
            return True
        second = int(time.monotonic())
        if second != self._second:
            # As Kuzzle's frame, reset every second: nothing piles up.
            self._second = second
            self._counts.clear()
        count = self._counts[connection_id] = self._counts.get(connection_id, 0) + 1
        return count <= self.limit

    def reset(self) -> None:
        self._counts.clear()
