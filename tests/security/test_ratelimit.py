"""Logins per connection and per second (kuzzle_events.security.ratelimit)."""

from __future__ import annotations

import pytest

from kuzzle_events.security.ratelimit import LoginsPerSecond


def test_counts_each_connection_within_one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.2]
    monkeypatch.setattr("kuzzle_events.security.ratelimit.time.monotonic", lambda: now[0])
    limiter = LoginsPerSecond(2)
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")  # another connection has its own count
    now[0] = 1001.0  # the next second starts afresh
    assert limiter.allow("a")


def test_no_limit() -> None:
    limiter = LoginsPerSecond(0)
    assert all(limiter.allow("a") for _ in range(100))
