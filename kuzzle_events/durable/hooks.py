"""Durable hooks: what is decided when one is registered, and the recorder the engine awaits.

A durable hook is registered in the engine as a *recorder* (``kind="durable"``): when its event
fires, once the pipes have succeeded and before the trigger returns, the recorder stores a
delivery (the hook's key, the event, the payload's JSON form) in the database, in the transaction
of the code that fired the event if there is one. The hook itself runs later, from the delivery,
in a :class:`~kuzzle_events.durable.runner.DurableRunner`. Ordinary hooks are untouched: whether a
hook is durable is decided here, once, never per event.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction

from kuzzle_events import errors
from kuzzle_events.core.listeners import Listener, qualified_name
from kuzzle_events.core.request import KuzzleRequest
from kuzzle_events.durable.payload import to_json
from kuzzle_events.orm import adapt

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.durable.runner import DurableRunner

__all__ = ["Backoff", "DurableHook", "DurableHooks", "DEFAULT_RETRIES", "DEFAULT_BACKOFF", "retry_delay"]

Backoff = float | int | Callable[[int], float]
"""Seconds before the first retry, doubled for each next one; or ``f(tries so far) -> seconds``."""

DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 1.0


def retry_delay(backoff: Backoff, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed try: ``backoff * 2 ** (attempts - 1)``,
    or what ``backoff(attempts)`` says when it is a function."""
    if callable(backoff):
        return max(0.0, float(backoff(attempts)))
    return float(backoff) * 2 ** (attempts - 1)


@dataclass(frozen=True)
class DurableHook:
    """A registered durable hook: ``key`` names it in deliveries, across processes and restarts."""

    key: str
    event: str
    owner: str
    name: str
    call: Callable[..., Any]  # awaitable: the handler, plain functions run in Django's sync thread
    retries: int
    backoff: Backoff

    def retry_in(self, attempts: int) -> float | None:
        """Seconds before the next try after ``attempts`` failed ones; None once none is left."""
        return None if attempts > self.retries else retry_delay(self.backoff, attempts)


class DurableHooks:
    """``app.durable``: the application's durable hooks by key, and its runner while it runs."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self.hooks: dict[str, DurableHook] = {}
        self.runner: DurableRunner | None = None
        # What the built-in writes reserve (kuzzle_events.durable.reservations): the plan of each
        # action by (controller, action), with the engine's generation it was made at; and the
        # reservations of the requests in flight, (hook key, event) -> (delivery id, holder).
        self.plans: dict[tuple[Any, Any], tuple[int, tuple[tuple[str, tuple[str, ...]], ...]]] = {}
        self.reserved: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[str, str]]] = (
            weakref.WeakKeyDictionary()
        )

    def register(
        self,
        event: str,
        handler: Callable[..., Any],
        owner: str | None = None,
        priority: int = 0,
        retries: int = DEFAULT_RETRIES,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> Listener:
        """Register ``handler`` as a durable hook on ``event`` (its recorder, returned, in the engine);
        ``owner``: the application (``APP_NAME``) unless told.

        ``plugin.assert.invalid_hook`` when the handler takes no ``delivery_id`` keyword, when
        ``retries`` or ``backoff`` is not a count or a number of seconds, or when the same function
        of the same owner is already a durable hook on ``event`` (the key would be ambiguous).
        """
        if not callable(handler):
            raise errors.get("plugin.assert.invalid_hook", event, repr(handler), "A handler must be a function.")
        owner = owner or self._app._registration_config().APP_NAME
        name = qualified_name(handler)
        _check(event, handler, name, retries, backoff)
        key = f"{owner}:{name}@{event}"
        if key in self.hooks:
            raise errors.get(
                "plugin.assert.invalid_hook", event, name, f"{name} of {owner} is already a durable hook on this event."
            )
        fn, is_async = adapt(handler)
        if not is_async:  # an inline (on-loop) plain function: awaited through a coroutine too
            fn = _awaitable(fn)
        self.hooks[key] = DurableHook(key, event, owner, name, fn, retries, backoff)
        return self._app.events.add(
            "durable", event, _recorder(self, key), is_async=True, priority=priority, owner=owner, name=name
        )

    def new_runner(self) -> DurableRunner:
        """A runner of these hooks with the application's settings (not started)."""
        from kuzzle_events.durable.runner import DurableRunner

        c = self._app.config
        return DurableRunner(
            self, poll_interval=c.DURABLE_POLL_INTERVAL, lease=c.DURABLE_LEASE, batch=c.DURABLE_BATCH, log=self._app.log
        )

    def wake(self) -> None:
        """Tell the runner that deliveries were committed (callable from any thread)."""
        runner = self.runner
        if runner is not None:
            runner.wake()


def _awaitable(fn: Callable[..., Any]) -> Callable[..., Any]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return call


def _check(event: str, handler: Callable[..., Any], name: str, retries: Any, backoff: Any) -> None:
    def refuse(why: str) -> errors.KuzzleError:
        return errors.get("plugin.assert.invalid_hook", event, name, why)

    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise refuse(f"A durable hook's retries must be an integer >= 0, not {retries!r}.")
    if not callable(backoff) and (
        isinstance(backoff, bool)
        or not isinstance(backoff, (int, float))
        or not math.isfinite(backoff)
        or backoff < 0
    ):
        raise refuse(f"A durable hook's backoff must be a number of seconds >= 0 or a function, not {backoff!r}.")
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return  # no signature to read (a builtin): the first delivery will tell
    if not any(
        p.kind is p.VAR_KEYWORD or (p.name == "delivery_id" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in parameters
    ):
        raise refuse("A durable hook is called with a delivery_id keyword argument: add delivery_id to its parameters.")


def _recorder(durable: DurableHooks, key: str) -> Callable[..., Any]:
    """What the engine awaits for the durable hook ``key``: ``record(event, *payload)``; a
    delivery reserved by the request's write (one of the payload) is confirmed instead."""
    hopped = sync_to_async(_record_here, thread_sensitive=True)
    reserved = durable.reserved

    async def record(event: str, *payload: Any) -> None:
        held = _reservation(reserved, payload, key, event) if reserved else None
        await hopped(key, event, to_json(payload, key, event), durable.wake, held)

    record.__qualname__ = record.__name__ = f"record {key}"
    record.durable_key = key  # type: ignore[attr-defined]
    return record


def _reservation(
    reserved: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[str, str]]],
    payload: tuple[Any, ...],
    key: str,
    event: str,
) -> tuple[str, str] | None:
    for argument in payload:
        held = reserved.get(argument) if isinstance(argument, KuzzleRequest) else None
        if held:
            return held.pop((key, event), None)
    return None


def _record_here(
    key: str, event: str, payload: list[Any], wake: Callable[[], None], held: tuple[str, str] | None = None
) -> None:
    from django.db import DatabaseError

    from kuzzle_events.durable import store

    # In a transaction of the code that fired the event (a sync caller's atomic block, this same
    # thread), the delivery is part of it: refreshing the connection would end that transaction.
    in_transaction = transaction.get_connection().in_atomic_block
    if not in_transaction:
        close_old_connections()
    try:
        if held is not None:
            # Not confirmed: its hold ended, and it ran (or runs) as reserved; not recorded twice.
            store.confirm(held[0], held[1], payload, wake)
        else:
            store.record([key], event, payload, wake)
    except DatabaseError as error:
        raise errors.from_exception(error) from error
    finally:
        if not in_transaction:
            close_old_connections()
