"""Plain functions called from the async core, Django's way: in the sync thread, with fresh
database connections, and database failures as Kuzzle errors.

``adapt`` is the core's :data:`kuzzle_events.core.calling.Adapt` for a Django project; ``orm``
wraps the core's own data access.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections

from kuzzle_events import errors
from kuzzle_events.core.calling import adapter

__all__ = ["adapt", "in_sync_thread", "orm"]


def _with_fresh_connections(fn: Callable[..., Any]) -> Callable[..., Any]:
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


def in_sync_thread(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``fn`` as a coroutine function run in Django's sync thread, connections kept fresh."""
    return sync_to_async(_with_fresh_connections(fn), thread_sensitive=True)


adapt = adapter(in_sync_thread)


def orm(module: str, name: str) -> Callable[..., Awaitable[Any]]:
    """``module.name``, sync ORM code, as a coroutine function (for the core's own data access).

    The module is imported on the first call (models cannot be imported before Django's apps are
    ready); each call is one hop to Django's sync thread, and a database failure is raised as its
    Kuzzle error (:func:`kuzzle_events.errors.from_exception`), which callers of the core catch.
    """
    hopped: Callable[..., Awaitable[Any]] | None = None

    async def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal hopped
        if hopped is None:
            hopped = in_sync_thread(getattr(importlib.import_module(module), name))
        try:
            return await hopped(*args, **kwargs)
        except DatabaseError as error:
            raise errors.from_exception(error) from error

    call.__qualname__ = call.__name__ = f"{module}.{name}"
    return call
