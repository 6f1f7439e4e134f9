"""How a user function is called from the async core, decided once when it is registered.

``async def`` functions are awaited. A plain ``def`` runs in Django's sync thread (one hop, with
stale database connections closed around it), so ORM code works unchanged. A plain ``def`` marked
with :func:`inline` is called directly on the event loop: no hop, for cheap code that touches
neither the database nor anything blocking.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Awaitable, Callable, TypeVar

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.db import DatabaseError

from . import errors

__all__ = ["inline", "adapt", "is_inline", "orm"]

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
    def call(*args: Any, **kwargs: Any) -> Any:
        # What Django does around a request, done around each call: long-lived WebSocket
        # connections would otherwise keep a dead database connection forever.
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return call


def orm(module: str, name: str) -> Callable[..., Awaitable[Any]]:
    """``module.name``, sync ORM code, as a coroutine function (for the core's own data access).

    The module is imported on the first call (models cannot be imported before Django's apps are
    ready); each call is one hop to Django's sync thread, and a database failure becomes a 500
    Kuzzle error (``core.fatal.service_unavailable``) rather than a stack trace for the client.
    """
    hopped: Callable[..., Awaitable[Any]] | None = None

    async def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal hopped
        if hopped is None:
            fn = getattr(importlib.import_module(module), name)
            hopped = sync_to_async(_with_fresh_connections(fn), thread_sensitive=True)
        try:
            return await hopped(*args, **kwargs)
        except DatabaseError as error:
            raise errors.get("core.fatal.service_unavailable", f"database ({error})") from error

    call.__qualname__ = call.__name__ = f"{module}.{name}"
    return call


def adapt(fn: Callable[..., Any]) -> tuple[Callable[..., Any], bool]:
    """``(callable, is_async)`` for ``fn`` as the core will call it."""
    if iscoroutinefunction(fn) or iscoroutinefunction(getattr(fn, "__call__", None)):
        return fn, True
    if is_inline(fn):
        return fn, False
    hopped = sync_to_async(_with_fresh_connections(fn), thread_sensitive=True)
    return hopped, True
