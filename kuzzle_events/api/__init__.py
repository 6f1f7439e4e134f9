"""Kuzzle's built-in controllers that kuzzle_events implements, one module per family.

Each module declares its controllers as one table (action -> handler, HTTP routes; see
:mod:`kuzzle_events.api.table`); the services they call live in ``security/``, ``documents/``,
``realtime/`` and ``memory_storage/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kuzzle_events.api import (
    admin,
    auth,
    bulk,
    collections,
    debug,
    documents,
    memory_storage,
    realtime,
    security,
    server,
)
from kuzzle_events.api.table import Table, definition

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["register_builtins", "BUILTINS"]

# Built-in controllers in registration order.
BUILTINS: dict[str, Callable[[], Table]] = {
    "server": server.actions,
    "auth": auth.actions,
    "security": security.actions,
    "index": collections.index_actions,
    "collection": collections.collection_actions,
    "document": documents.document_actions,
    "bulk": bulk.bulk_actions,
    "realtime": realtime.actions,
    "admin": admin.actions,
    "debug": debug.actions,
    "ms": memory_storage.actions,
    "memoryStorage": memory_storage.alias_actions,
}


def register_builtins(app: Application) -> None:
    """Register the built-in controllers on ``app``."""
    for name, actions in BUILTINS.items():
        app.controller.register(name, definition(app, name, actions()), owner="core", builtin=True)
    documents.attach_generic_events(app)
