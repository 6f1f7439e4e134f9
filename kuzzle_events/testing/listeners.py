"""Pipes and hooks on a started application for the length of a block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kuzzle_events.core.catalog import check_listener

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["temporary_hook", "temporary_pipe"]


@contextmanager
def temporary_pipe(
    app: Application, event: str, handler: Callable[..., Any], *, priority: int = 0
) -> Iterator[str]:
    """``handler`` as a pipe on ``event`` during the block (its id given); removed after."""
    pipe_id: str = app.pipe.register(event, handler, priority=priority, owner="test")
    try:
        yield pipe_id
    finally:
        app.pipe.unregister(pipe_id)


@contextmanager
def temporary_hook(
    app: Application, event: str, handler: Callable[..., Any], *, priority: int = 0
) -> Iterator[str]:
    """``handler`` as a hook on ``event`` during the block, even on a started application
    (where ``app.hook.register`` is refused); removed after."""
    check_listener("hook", event, handler)
    # What app.hook.register does, without its before-start rule.
    hook = app._add_listener("hook", event, handler, priority, "test")
    try:
        yield hook.id
    finally:
        app.events.remove(hook.id)
