"""How a user function is called from the async core, decided once when it is registered.

``async def`` functions are awaited. A plain ``def`` is handed to a *sync runner*: the Django side
gives one that runs it in Django's sync thread (:func:`kuzzle_events.orm.adapt`). A plain ``def``
marked with :func:`inline` is called directly on the event loop: no hop, for cheap code that
touches neither the database nor anything blocking.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction

__all__ = ["inline", "is_inline", "is_async", "adapter", "Adapt"]

F = TypeVar("F", bound=Callable[..., Any])
Adapt = Callable[[Callable[..., Any]], tuple[Callable[..., Any], bool]]
"""``fn -> (callable, is_async)``: how the core will call ``fn``."""


def inline(fn: F) -> F:
    """Mark a plain function as safe to call on the event loop (no thread hop)."""
    fn.__kuzzle_inline__ = True  # type: ignore[attr-defined]
    return fn


def is_inline(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` (or the function of a bound method) was marked with :func:`inline`."""
    target = getattr(fn, "__func__", fn)
    return bool(getattr(target, "__kuzzle_inline__", False))


def is_async(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` returns an awaitable: a coroutine function, or an object whose
    ``__call__`` is one (asgiref's test, which also knows its ``markcoroutinefunction`` marks)."""
    # Not a callable test (B004): the question is whether the object's __call__ is async.
    return iscoroutinefunction(fn) or iscoroutinefunction(getattr(type(fn), "__call__", None))  # noqa: B004


def adapter(run_sync: Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]) -> Adapt:
    """An :data:`Adapt` that gives plain functions to ``run_sync`` unless they are :func:`inline`."""

    def adapt(fn: Callable[..., Any]) -> tuple[Callable[..., Any], bool]:
        if is_async(fn):
            return fn, True
        if is_inline(fn):
            return fn, False
        return run_sync(fn), True

    return adapt
