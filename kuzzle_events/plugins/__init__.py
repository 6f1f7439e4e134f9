"""``Plugin``: a reusable bundle of controllers, routes, pipes and hooks, as Kuzzle's plugins.

Two ways to declare what a plugin brings, usable together:

- Kuzzle's dict shapes, set on the instance (in ``__init__`` or ``init``)::

      self.controllers = {"greeting": {"sayHello": "say_hello"}}      # action -> method (or callable)
      self.routes = [{"verb": "get", "url": "/hello/:name", "controller": "greeting", "action": "sayHello"}]
      self.pipes = {"server:afterNow": "add_field"}                    # event -> method(s)
      self.hooks = {"greeting:afterSayHello": ["audit"]}
      self.hooks = {"document:afterCreate": {"handler": "index", "durable": True, "retries": 3}}

- decorators: ``Controller`` instances in ``self.controllers`` (``{"greeting": GreetingController()}``
  or a list of them), and methods marked ``@pipe("event")`` / ``@hook("event")`` (durable with
  ``@hook("event", durable=True, retries=5, backoff=1.0)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from kuzzle_events.core.catalog import check_listener
from kuzzle_events.core.controllers import Controller
from kuzzle_events.durable.hooks import DEFAULT_BACKOFF, DEFAULT_RETRIES, Backoff

__all__ = ["Plugin", "pipe", "hook", "PLUGIN_NAME"]

F = TypeVar("F", bound=Callable[..., Any])
PLUGIN_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


Listener = tuple[str, str, int, Callable[..., Any], dict[str, Any]]
"""``(kind, event, priority, function, options)``: options of a durable hook are
``{"durable": True, "retries": ..., "backoff": ...}``, ``{}`` for any other listener."""


class _ListenerMark:
    __slots__ = ("kind", "event", "priority", "options")

    def __init__(self, kind: str, event: str, priority: int, options: dict[str, Any]) -> None:
        self.kind = kind
        self.event = event
        self.priority = priority
        self.options = options


def _mark(kind: str, event: str, priority: int, options: dict[str, Any] | None = None) -> Callable[[F], F]:
    # Refused here, at import, rather than when the plugin loads: `@pipe` without parentheses
    # would otherwise replace the method by this decorator.
    check_listener(kind, event, decorator=kind)

    def decorate(fn: F) -> F:
        marks = list(getattr(fn, "__kuzzle_listeners__", ()))
        marks.append(_ListenerMark(kind, event, priority, options or {}))
        fn.__kuzzle_listeners__ = marks  # type: ignore[attr-defined]
        return fn

    return decorate


def pipe(event: str, *, priority: int = 0) -> Callable[[F], F]:
    """Mark a plugin method as a pipe on ``event`` (registered when the plugin is loaded)."""
    return _mark("pipe", event, priority)


def hook(
    event: str,
    *,
    priority: int = 0,
    durable: bool = False,
    retries: int = DEFAULT_RETRIES,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> Callable[[F], F]:
    """Mark a plugin method as a hook on ``event`` (registered when the plugin is loaded);
    ``durable=True`` as ``app.hook.register`` takes it (the method gets ``delivery_id``)."""
    options = {"durable": True, "retries": retries, "backoff": backoff} if durable else None
    return _mark("hook", event, priority, options)


class Plugin:
    """Base class of plugins: a ``manifest`` and an ``init(config, context)``, sync or async.

    ``manifest = {"name": "my-plugin", "version": "1.0.0", "kuzzle_events": ">=0.1,<1"}``: the
    name in kebab case, the plugin's own version, and the kuzzle_events versions it supports.
    """

    manifest: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self.controllers: dict[str, Any] | list[Controller] = {}
        self.routes: list[dict[str, Any]] = []
        self.pipes: dict[str, Any] = {}
        self.hooks: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.context: Any = None

    def init(self, config: dict[str, Any], context: Any) -> Any:
        """Called once before the application starts; ``config`` is this plugin's own settings."""
        self.config = config
        self.context = context

    def marked_listeners(self) -> list[Listener]:
        """``(kind, event, priority, bound method, options)`` of every ``@pipe`` / ``@hook`` method."""
        found = []
        for attr in dir(type(self)):
            marks = getattr(getattr(type(self), attr, None), "__kuzzle_listeners__", None)
            for mark in marks or ():
                found.append((mark.kind, mark.event, mark.priority, getattr(self, attr), mark.options))
        return found
