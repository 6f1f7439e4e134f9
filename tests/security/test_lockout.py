"""Failed logins per username and address in Django's cache (kuzzle_events.security.lockout)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from kuzzle_events.security.lockout import Lockout

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "lockout-tests"}
BROKEN = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}


@pytest.fixture
def lockout(settings: Any) -> Iterator[Lockout]:
    settings.CACHES = {"default": LOCMEM, "other": {**LOCMEM, "LOCATION": "lockout-tests-2"}}
    limiter = Lockout("default", 2, 60)
    yield limiter
    limiter.reset()


def test_locks_a_key_after_its_failures(lockout: Lockout) -> None:
    user, address = Lockout.key("user", "ada"), Lockout.key("ip", "10.0.0.1")
    lockout.failed([user, address])
    assert not lockout.locked([user])
    lockout.failed([user])
    assert lockout.locked([user]) and lockout.locked([Lockout.key("user", "bob"), user])
    assert not lockout.locked([address])
    lockout.succeeded(user)
    assert not lockout.locked([user])


def test_counts_are_in_the_cache_not_the_object(lockout: Lockout) -> None:
    user = Lockout.key("user", "ada")
    lockout.failed([user])
    Lockout("default", 2, 60).failed([user])
    assert Lockout("default", 2, 60).locked([user])
    assert not Lockout("other", 2, 60).locked([user])
    assert caches["default"].get(user) == 2


def test_reset_forgets_what_this_process_counted(lockout: Lockout) -> None:
    user = Lockout.key("user", "ada")
    lockout.failed([user, user])
    Lockout("default", 2, 60).reset()
    assert not lockout.locked([user])


def test_no_limit(lockout: Lockout) -> None:
    off = Lockout("default", 0, 60)
    key = Lockout.key("user", "ada")
    for _ in range(5):
        off.failed([key])
    assert not off.locked([key]) and caches["default"].get(key) is None


def test_an_unreachable_cache_never_stops_logins(settings: Any, warnings_log: pytest.LogCaptureFixture) -> None:
    settings.CACHES = {"default": LOCMEM, "down": BROKEN}
    down = Lockout("down", 1, 60)
    key = Lockout.key("user", "ada")
    down.failed([key])
    assert not down.locked([key])
    assert "login lockout unavailable" in warnings_log.text
