"""``server:getLastStats``, ``getStats`` and ``getAllStats`` (deprecated in Kuzzle 2.56, still served).

Kuzzle writes a frame every ``stats.statsInterval`` (10 s) and keeps frames ``stats.ttl`` (1 h).
Here a frame is taken when a statistics action runs and 10 s have passed since the last one, from
this process's own counters: every action's calls and errors (the figures the admin shows),
requests running now and open WebSocket/MQTT connections. Kuzzle counts requests and connections
by protocol; these counters are not kept by protocol, so their figures come under the key ``all``.
"""

from __future__ import annotations

import collections
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["Statistics", "INTERVAL_MS", "TTL_MS"]

INTERVAL_MS = 10_000  # Kuzzle's stats.statsInterval
TTL_MS = 3_600_000  # Kuzzle's stats.ttl


def _now() -> int:
    return int(time.time() * 1000)


class Statistics:
    """Stats frames of one application: deltas of its counters between frames."""

    def __init__(self) -> None:
        self.frames: collections.deque[dict[str, Any]] = collections.deque()
        self._taken = (0, 0)  # completed and failed requests counted in the frames so far
        self._last: int | None = None

    def _totals(self, app: Application) -> tuple[int, int]:
        calls = failed = 0
        for controller in app.controller.controllers.values():
            for act in controller.actions.values():
                calls += act.stats.calls
                failed += act.stats.errors
        return calls - failed, failed

    def _current(self, app: Application, now: int) -> dict[str, Any]:
        completed, failed = self._totals(app)
        running, _ = app.request_slots.pressure
        persistent = len(getattr(app.realtime, "_senders", ()))
        return {
            "completedRequests": {"all": completed - self._taken[0]},
            "connections": {"all": persistent} if persistent else {},
            "failedRequests": {"all": failed - self._taken[1]},
            "ongoingRequests": {"all": running},
            "timestamp": now,
        }

    def tick(self, app: Application) -> None:
        """Take a frame if the interval has passed, drop those older than the TTL."""
        now = _now()
        while self.frames and self.frames[0]["timestamp"] < now - TTL_MS:
            self.frames.popleft()
        if self._last is None or now - self._last >= INTERVAL_MS:
            if self._last is not None:
                self.frames.append(self._current(app, now))
            self._taken = self._totals(app)
            self._last = now

    def last(self, app: Application) -> dict[str, Any]:
        """The last frame, or the counters since the start when there is none yet."""
        self.tick(app)
        return dict(self.frames[-1]) if self.frames else self._current(app, _now())

    def between(self, app: Application, start: int | None, stop: int | None) -> dict[str, Any]:
        """``{"hits": frames, "total"}`` with ``start <= timestamp <= stop``; as Kuzzle's, the
        counters since the last frame when there is no frame yet."""
        self.tick(app)
        now = _now()
        if start is not None and start >= now:
            return {"hits": [], "total": 0}
        if not self.frames:
            hits = [self._current(app, now)] if stop is None or stop >= now else []
        else:
            hits = [
                dict(f)
                for f in self.frames
                if (start is None or start <= f["timestamp"]) and (stop is None or stop >= f["timestamp"])
            ]
        return {"hits": hits, "total": len(hits)}


def _time(request: KuzzleRequest, name: str) -> int | None:
    value = request.input.args.get(name)
    if value in (None, "", 0):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            try:
                return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                pass
    raise errors.get("api.assert.invalid_argument", name, "number")


def _of(app: Application) -> Statistics:
    stats = getattr(app, "_kuzzle_statistics", None)
    if stats is None:
        stats = Statistics()
        app._kuzzle_statistics = stats  # type: ignore[attr-defined]
    return stats


async def get_last_stats(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _of(app).last(app)


async def get_stats(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _of(app).between(app, _time(request, "startTime"), _time(request, "stopTime"))


async def get_all_stats(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _of(app).between(app, None, None)
