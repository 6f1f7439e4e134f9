"""kuzzle_events: Kuzzle's controllers, pipes, hooks and events for Django.

Importing this package imports nothing else: ``app`` (the process's :class:`Application`) is built
on first use, and reads ``settings.KUZZLE_EVENTS`` then; the other public names are imported when
first read.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from kuzzle_events import errors
    from kuzzle_events.application import Application
    from kuzzle_events.core.calling import inline
    from kuzzle_events.core.controllers import Controller, action
    from kuzzle_events.core.request import KuzzleRequest
    from kuzzle_events.core.streams import HttpStream

    app: Application

__all__ = [
    "app",
    "Application",
    "KuzzleRequest",
    "HttpStream",
    "Controller",
    "action",
    "inline",
    "errors",
    "__version__",
]

_PUBLIC = {
    "Application": "kuzzle_events.application",
    "Controller": "kuzzle_events.core.controllers",
    "action": "kuzzle_events.core.controllers",
    "inline": "kuzzle_events.core.calling",
    "KuzzleRequest": "kuzzle_events.core.request",
    "HttpStream": "kuzzle_events.core.streams",
}
_app_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name == "app":
        with _app_lock:
            if "app" not in globals():
                application = importlib.import_module("kuzzle_events.application")
                globals()["app"] = application.Application()
        return globals()["app"]
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name == "errors":
        return importlib.import_module("kuzzle_events.errors")
    raise AttributeError(f"module 'kuzzle_events' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
