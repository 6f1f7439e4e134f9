"""An event loop of its own thread that a sync thread borrows while it is idle.

``Application.run_sync`` (WSGI views, management commands) runs coroutines as tasks of such a
loop: the loop outlives each call, so hooks a request starts are not cancelled with it, and while
the loop is idle the task's first step runs in the calling thread, so a request that never waits
costs no hop between threads (the DRF adapter under WSGI depends on it).

Why private asyncio APIs, kept to this module: running a task's step in a thread other than its
loop's needs the loop to be that thread's running loop for the step (``asyncio._set_running_loop``
and ``_get_running_loop``: the public ``get_running_loop`` raises where ``None`` is the answer
sought) and debug mode's thread check to accept it (``_check_thread``). No public API does this on
Python 3.11: ``asyncio.Runner`` and ``asyncio.run`` own a loop per thread and close it, which ends
the hooks, and eager tasks (``asyncio.eager_task_factory``) arrive in 3.12 and still run on the
loop's thread. ``tests/protocols/test_run_sync.py`` runs it under ``PYTHONASYNCIODEBUG=1``, where
asyncio checks the thread of every call, and fails on any error or warning asyncio logs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import selectors
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["BorrowedLoop"]

T = TypeVar("T")


class _UnlockedSelector(selectors.DefaultSelector):
    """A selector that releases ``lock`` while it waits for I/O or timers."""

    def __init__(self, lock: threading.Lock) -> None:
        super().__init__()
        self._lock = lock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self._lock.release()
        try:
            return super().select(timeout)
        finally:
            self._lock.acquire()


_CAPTURE: Any = object()  # BorrowedLoop._first_step: keep the next call_soon (a new task's first step)


class BorrowedLoop(asyncio.SelectorEventLoop):
    """A loop served by its own thread, which a sync thread may borrow while it is idle.

    The loop's own thread holds ``lock`` except while it waits for I/O or timers, so a thread that
    takes the lock has the loop to itself. :meth:`run` creates the task there and then runs its
    first step in the calling thread, as the loop's thread would (the task is the current task,
    the loop the running loop); only a task that then waits is left to the loop's thread. What the
    step scheduled (hooks, timers, callbacks) wakes the loop's thread once the lock is released.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        super().__init__(_UnlockedSelector(self.lock))
        self._borrowed = False
        self._wake_after = False
        self._first_step: Any = None

    @classmethod
    def in_thread(cls, name: str) -> BorrowedLoop:
        """A new loop, served from now on by a daemon thread called ``name``."""
        loop = cls()
        threading.Thread(target=loop.serve, name=name, daemon=True).start()
        return loop

    def serve(self) -> None:
        """Run the loop forever in the current thread (the loop's own thread)."""
        with self.lock:
            self.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` as a task of this loop from another thread and return its result."""
        if asyncio._get_running_loop() is not None or not self.lock.acquire(blocking=False):
            # The loop is busy (or called from a loop's thread): queue the task behind its work.
            return asyncio.run_coroutine_threadsafe(coro, self).result()
        try:
            task = self._start_here(coro)
            if not task.done():
                outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
                task.add_done_callback(functools.partial(_copy_outcome, outcome))
        finally:
            scheduled, self._wake_after = self._wake_after, False
            self.lock.release()
        if scheduled:
            self.call_soon_threadsafe(_nothing)  # wakes the loop's thread
        return task.result() if task.done() else outcome.result()

    def _start_here(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """A new task of this loop, its first step run in the calling thread (which holds the lock)."""
        asyncio._set_running_loop(self)
        self._borrowed = True
        self._first_step = _CAPTURE
        try:
            task = self.create_task(coro)
            step, args, context = self._first_step
            context.run(step, *args)
        finally:
            self._first_step = None
            self._borrowed = False
            asyncio._set_running_loop(None)
        return task

    def call_soon(  # type: ignore[override]
        self, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        if self._borrowed:
            if self._first_step is _CAPTURE:
                # The first step of the task that run() creates: run() calls it itself.
                self._first_step = (callback, args, context)
                return asyncio.Handle(callback, args, self, context)
            self._wake_after = True
        return super().call_soon(callback, *args, context=context)

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.TimerHandle:
        if self._borrowed:
            self._wake_after = True
        return super().call_at(when, callback, *args, context=context)

    def _check_thread(self) -> None:
        # Debug mode's check: while it holds the lock, the borrowing thread is the loop's thread.
        if not self._borrowed:
            super()._check_thread()  # type: ignore[misc]


def _nothing() -> None:
    """A callback that does nothing: scheduling it wakes a loop."""


def _copy_outcome(outcome: concurrent.futures.Future[Any], task: asyncio.Task[Any]) -> None:
    """Give ``outcome`` (what the calling thread waits on) the finished ``task``'s outcome."""
    if task.cancelled():
        outcome.cancel()
    elif (error := task.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(task.result())
