"""How a user function is called from the async core, decided once when it is registered.

``async def`` functions are awaited. A plain ``def`` runs in Django's sync thread (one hop, with
stale database connections closed around it), so ORM code works unchanged. A plain ``def`` marked
with :func:`inline` is called directly on the event loop: no hop, for cheap code that touches
neither the database nor anything blocking.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from asgiref.sync import iscoroutinefunction, sync_to_async

__all__ = ["inline", "adapt", "is_inline"]

F = TypeVar("F", bound=Callable[..., Any])


def inline(fn: F) -> F:
    """Mark a plain function as safe to call on the event loop (no thread hop)."""
    fn.__kuzzle_inline__ = True  # type: ignore[attr-defined]
    return fn


def is_inline(fn: Callable[..., Any]) -> bool:
    target = getattr(fn, "__func__", fn)
    return bool(getattr(target, "__kuzzle_inline__", False))


def _with_fresh_connections(fn: Callable[..., Any]) -> Callable[..., Any]:
    from django.db import close_old_connections

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        # What Django does around a request, done around each call: long-lived WebSocket
        # connections would otherwise keep a dead database connection forever.
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()

    return call


def adapt(fn: Callable[..., Any]) -> tuple[Callable[..., Any], bool]:
    """``(callable, is_async)`` for ``fn`` as the core will call it."""
    if iscoroutinefunction(fn) or iscoroutinefunction(getattr(fn, "__call__", None)):
        return fn, True
    if is_inline(fn):
        return fn, False
    hopped = sync_to_async(_with_fresh_connections(fn), thread_sensitive=True)
    return hopped, True
