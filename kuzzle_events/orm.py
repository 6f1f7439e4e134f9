"""Plain functions called from the async core, Django's way: in the sync thread, with fresh
database connections, and database failures as Kuzzle errors.

``adapt`` is the core's :data:`kuzzle_events.core.calling.Adapt` for a Django project; ``orm``
wraps the core's own data access.
"""

from __future__ import annotations

import concurrent.futures
import functools
import importlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.sync import AsyncToSync, SyncToAsync, sync_to_async
from django.db import DatabaseError, close_old_connections, transaction

from kuzzle_events import errors
from kuzzle_events.core.calling import adapter

T = TypeVar("T")

__all__ = ["adapt", "in_sync_thread", "orm", "in_caller_transaction", "CallerThread"]


def _with_fresh_connections(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        # What Django does around a request, done around each call: long-lived WebSocket
        # connections would otherwise keep a dead database connection forever. Not inside a
        # caller's transaction (a sync caller's atomic block, this thread): that would end it.
        if transaction.get_connection().in_atomic_block:
            return fn(*args, **kwargs)
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


def in_caller_transaction() -> bool:
    """Whether the calling (sync) thread is inside a transaction of Django's default database."""
    return transaction.get_connection().in_atomic_block


class CallerThread(concurrent.futures.Executor):
    """Django's sync thread for a coroutine run from a sync caller: the caller's own thread while
    it waits (:meth:`serve_until`), so that the coroutine's database calls share its connection
    and transaction; once it stopped waiting, the thread Django's async side uses otherwise (for
    what outlives the call: the hooks it started)."""

    def __init__(self) -> None:
        self._here = CurrentThreadExecutor(None)
        self._lock = threading.Lock()
        self._serving = True

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        with self._lock:
            if self._serving:
                try:
                    return self._here.submit(fn, *args, **kwargs)
                except RuntimeError:  # the caller has just stopped waiting
                    pass
        return SyncToAsync.single_thread_executor.submit(fn, *args, **kwargs)

    async def serving(self, coro: Coroutine[Any, Any, T]) -> T:
        """``coro``, its thread-sensitive calls (and those of the tasks it starts) sent to this
        executor: asgiref's place for it, as ``async_to_sync`` sets it, set in the task itself
        (asgiref keeps it per thread)."""
        AsyncToSync.executors.current = self
        return await coro

    def serve_until(self, future: concurrent.futures.Future[Any]) -> None:
        """Run the calls submitted, in this thread, until ``future`` is done."""
        # asgiref marks a thread that ran its calls with their loop (SyncToAsync.threadlocal): given
        # back as it was, or this thread would later pass for a thread of an async server.
        local = SyncToAsync.threadlocal
        marks = {name: getattr(local, name, _UNSET) for name in _MARKS}
        try:
            self._here.run_until_future(future)
        finally:
            with self._lock:
                self._serving = False
            for name, value in marks.items():
                if value is _UNSET:
                    local.__dict__.pop(name, None)
                else:
                    setattr(local, name, value)


_MARKS = ("main_event_loop", "main_event_loop_pid", "task_context")
_UNSET: Any = object()
