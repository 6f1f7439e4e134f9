"""kuzzle_events: Kuzzle's controllers, pipes, hooks and events for Django.

Importing this package touches neither models, nor DRF, nor Channels: the public API is usable in
settings-free code, and ``app`` reads ``settings.KUZZLE_EVENTS`` on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import errors
from .application import Application
from .controllers import Controller, action
from .handlers import inline
from .request import KuzzleRequest

__all__ = ["app", "Application", "KuzzleRequest", "Controller", "action", "inline", "errors", "__version__"]

app = Application()
