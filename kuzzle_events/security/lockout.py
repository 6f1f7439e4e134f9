"""Failed logins per username and per client address, in Django's cache: every process sharing
that cache (Redis, Memcached, a database table) sees the same counts.

A key is locked once ``limit`` failed attempts were counted within ``window`` seconds of the first
one; it unlocks when that window ends. Successful logins are never counted, and one clears its
username's count. Sync functions, called from the ORM thread within the login's single hop.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from django.core.cache import caches

__all__ = ["Lockout", "forget"]

logger = logging.getLogger("kuzzle_events.security")

_PREFIX = "kuzzle_events:login-failures:"

# The keys this process counted (by cache alias), so that reset() can forget them.
_counted: dict[str, set[str]] = {}


class Lockout:
    """The failed-login counts of one cache (``LOGIN_CACHE``)."""

    def __init__(self, alias: str, limit: int, window: float) -> None:
        self.alias = alias
        self.limit = limit
        self.window = window

    @staticmethod
    def key(kind: str, value: str) -> str:
        # Hashed: a username may hold characters some cache backends refuse in keys.
        return _PREFIX + kind + ":" + hashlib.sha256(value.encode()).hexdigest()

    def locked(self, keys: Iterable[str]) -> bool:
        """Whether any of ``keys`` had ``limit`` failures within the window."""
        if self.limit <= 0:
            return False
        keys = list(keys)
        try:
            counts = caches[self.alias].get_many(keys)
        except Exception as error:  # noqa: BLE001 - an unreachable cache must not stop every login
            logger.warning("kuzzle_events: login lockout unavailable (cache %r): %s", self.alias, error)
            return False
        return any(int(count) >= self.limit for count in counts.values())

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failed attempt under each key."""
        if self.limit <= 0:
            return
        try:
            cache = caches[self.alias]
            timeout = max(int(self.window), 1)
            for key in keys:
                # add() starts the window at the first failure; incr() never extends it.
                if not cache.add(key, 1, timeout=timeout):
                    try:
                        cache.incr(key)
                    except ValueError:  # expired between add() and incr()
                        cache.add(key, 1, timeout=timeout)
                counted = _counted.setdefault(self.alias, set())
                if len(counted) < 10_000:
                    counted.add(key)
        except Exception as error:  # noqa: BLE001
            logger.warning("kuzzle_events: login lockout unavailable (cache %r): %s", self.alias, error)

    def succeeded(self, key: str) -> None:
        """A successful login: its username starts afresh."""
        try:
            caches[self.alias].delete(key)
        except Exception as error:  # noqa: BLE001
            logger.warning("kuzzle_events: login lockout unavailable (cache %r): %s", self.alias, error)

    def reset(self) -> None:
        """Forget the counts this process made in this cache."""
        counted = _counted.pop(self.alias, None)
        if counted:
            try:
                caches[self.alias].delete_many(list(counted))
            except Exception as error:  # noqa: BLE001
                logger.warning("kuzzle_events: login lockout unavailable (cache %r): %s", self.alias, error)


def forget() -> None:
    """Forget the counts this process made, in every cache."""
    for alias in list(_counted):
        Lockout(alias, 0, 0).reset()
