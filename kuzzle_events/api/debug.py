"""The ``debug`` controller, as Kuzzle 2.56's: ``nodeVersion``, and the native debug protocol's actions.

``nodeVersion`` gives the runtime's version (Python's, written as Kuzzle writes Node's: ``v3.12.3``);
Kourou's ``app:doctor`` reads it. The other actions drive Node's inspector in Kuzzle; as there,
they are refused with ``core.debugger.native_debug_protocol_usage_denied`` unless the setting
``DEBUG_NATIVE_PROTOCOL`` (Kuzzle's ``security.debug.native_debug_protocol``) is on. This server has
no Chrome DevTools Protocol to drive, so with the setting on they answer Kuzzle's
``core.debugger.not_enabled`` (``addListener`` and ``removeListener`` first ask, as Kuzzle's, for a
WebSocket connection).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api import environment
from kuzzle_events.api.table import Table

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions"]


def actions() -> Table:
    """The ``debug`` controller: Kuzzle gives its actions no HTTP route (``/_query`` reaches them)."""
    return {
        "nodeVersion": (node_version, []),
        "enable": (native, []),
        "disable": (native, []),
        "post": (post, []),
        "addListener": (listener, []),
        "removeListener": (listener, []),
    }


async def node_version(app: Application, request: KuzzleRequest) -> str:
    """The runtime's version: ``"v3.12.3"``."""
    return environment.runtime_version()


def _allowed(app: Application) -> None:
    if not app.config.DEBUG_NATIVE_PROTOCOL:
        raise errors.get("core.debugger.native_debug_protocol_usage_denied")


async def native(app: Application, request: KuzzleRequest) -> Any:
    """``enable`` / ``disable``: refused unless ``DEBUG_NATIVE_PROTOCOL``; no inspector here."""
    _allowed(app)
    raise errors.get("core.debugger.not_enabled")


async def post(app: Application, request: KuzzleRequest) -> Any:
    """A method of the debug protocol: its body checked as Kuzzle's (``method``, ``params``), then refused."""
    _allowed(app)
    body = request.get_body({})
    if not isinstance(body, dict) or not isinstance(body.get("method"), str):
        raise errors.get("api.assert.missing_argument", "body.method")
    if not isinstance(body.get("params", {}), dict):
        raise errors.get("api.assert.invalid_type", "body.params", "object")
    raise errors.get("core.debugger.not_enabled")


async def listener(app: Application, request: KuzzleRequest) -> Any:
    """``addListener`` / ``removeListener``: a WebSocket's, as in Kuzzle; no inspector events here."""
    _allowed(app)
    protocol = request.context.connection.protocol
    if protocol != "websocket":
        raise errors.get("api.assert.unsupported_protocol", protocol, f"debug:{request.input.action}")
    body = request.get_body({})
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise errors.get("api.assert.missing_argument", "body.event")
    raise errors.get("core.debugger.not_enabled")
