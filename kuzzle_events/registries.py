"""``app.pipe`` and ``app.hook``: how an application's pipes and hooks are registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.catalog import check_listener
from kuzzle_events.durable import DEFAULT_BACKOFF, DEFAULT_RETRIES, Backoff

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["HookRegistry", "PipeRegistry"]

Handler = Callable[..., Any]


class PipeRegistry:
    """``app.pipe``: functions awaited in order on an event, each returning the payload."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def register(
        self, event: str, handler: Handler | None = None, *, priority: int = 0, owner: str | None = None
    ) -> Any:
        """Register ``handler`` on ``event`` and return its pipe id (usable with :meth:`unregister`).

        Without ``handler``, return a decorator that registers the function it decorates.
        Higher ``priority`` runs first; equal priorities run in registration order.
        ``plugin.assert.invalid_pipe`` for a hook-only event or a decorator without its event.
        """
        check_listener("pipe", event, handler)
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.register(event, fn, priority=priority, owner=owner)
                return fn

            return decorator
        return self._app._add_listener("pipe", event, handler, priority, owner).id

    def unregister(self, pipe_id: str) -> None:
        """Remove a pipe; ``plugin.runtime.unknown_pipe`` if no pipe has that id."""
        if not isinstance(pipe_id, str) or not pipe_id.startswith("pipe-"):
            raise errors.get("plugin.runtime.unknown_pipe", pipe_id)
        self._app.events.remove(pipe_id)


class HookRegistry:
    """``app.hook``: functions started on an event, never awaited by the request."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def register(
        self,
        event: str,
        handler: Handler | None = None,
        *,
        priority: int = 0,
        owner: str | None = None,
        durable: bool = False,
        retries: int = DEFAULT_RETRIES,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> Any:
        """Register ``handler`` on ``event``; returns the hook id, or a decorator without ``handler``.

        ``durable=True``: the call is recorded in the database when the event fires (in the
        transaction of the code firing it, if any) and run after commit, by a server process or
        ``manage.py kuzzle_worker``, as ``handler(*payload, delivery_id=...)`` with the payload's
        JSON form; retried ``retries`` times, ``backoff`` seconds after the first failure and
        twice as long after each next one (or ``backoff(tries)`` seconds if it is a function),
        then kept as failed.
        """
        check_listener("hook", event, handler)
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.register(
                    event, fn, priority=priority, owner=owner, durable=durable, retries=retries, backoff=backoff
                )
                return fn

            return decorator
        self._app._require_not_started("hook.register")
        if durable:
            return self._app.durable.register(event, handler, owner, priority, retries, backoff).id
        return self._app._add_listener("hook", event, handler, priority, owner).id
