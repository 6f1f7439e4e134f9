"""How a built-in controller is written: one table of its actions, each with its handler and routes.

A handler is ``async def handler(app, request)``; :func:`definition` binds it to the application
and gives :meth:`ControllerRegistry.register <kuzzle_events.core.controllers.ControllerRegistry.register>`
the dict form of the controller.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["Handler", "Table", "route", "definition"]

Handler = Callable[["Application", "KuzzleRequest"], Awaitable[Any]]
Table = dict[str, tuple[Handler, list[dict[str, Any]]]]
"""``{action: (handler, HTTP routes)}``; ``[]`` for an action reachable over WebSocket and ``/_query`` only."""


def route(verb: str, path: str, deprecated: tuple[str, str] | None = None) -> dict[str, Any]:
    """One HTTP route of an action: ``route("get", "/_now")``; ``deprecated``: (since, message)
    of a route Kuzzle keeps for older clients."""
    if deprecated is None:
        return {"verb": verb, "path": path}
    return {"verb": verb, "path": path, "deprecated": {"since": deprecated[0], "message": deprecated[1]}}


def _bind(app: Application, controller: str, name: str, handler: Handler) -> Callable[[KuzzleRequest], Awaitable[Any]]:
    # A partial rather than an ``async def`` calling the handler: no second coroutine to create
    # and await on every request. It keeps the handler's docstring (the action's summary in
    # /_openapi) and is still a coroutine function to the funnel (inspect unwraps partials).
    bound = functools.update_wrapper(functools.partial(handler, app), handler)
    bound.__qualname__ = f"{controller}.{name}"
    return bound


def definition(app: Application, controller: str, table: Table) -> dict[str, Any]:
    """The dict form of ``controller``, its handlers bound to ``app``."""
    return {
        "actions": {
            name: {"handler": _bind(app, controller, name, handler), "http": http}
            for name, (handler, http) in table.items()
        }
    }
