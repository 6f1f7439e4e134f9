"""A test kit for code that extends kuzzle_events: applications, events, clients, listeners.

::

    from kuzzle_events.testing import KuzzleClient, capture_events, started_app

    async def test_greeting_fires_its_event():
        async with started_app() as app:
            with capture_events(app) as events:
                envelope = await KuzzleClient(app).query({"controller": "server", "action": "now"})
        assert envelope["status"] == 200
        assert events.names("server:*") == ["server:beforeNow", "server:afterNow"]

It is also a pytest plugin (loaded through its ``pytest11`` entry point, or with
``pytest_plugins = ["kuzzle_events.testing.plugin"]``) giving the fixtures ``kuzzle_app``,
``kuzzle_settings``, ``kuzzle_setup``, ``captured_events`` and ``kuzzle_client``: see
:mod:`kuzzle_events.testing.plugin`. Names are imported when first used, so that pytest can load
the plugin before Django is set up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers; at run time, __getattr__ below
    from kuzzle_events.testing.apps import started_app, wait_for_hooks
    from kuzzle_events.testing.client import KuzzleClient, WebSocketSession
    from kuzzle_events.testing.durable import run_durable_hooks
    from kuzzle_events.testing.events import EventLog, Fired, capture_events
    from kuzzle_events.testing.listeners import temporary_hook, temporary_pipe

__all__ = [
    "EventLog",
    "Fired",
    "KuzzleClient",
    "WebSocketSession",
    "capture_events",
    "run_durable_hooks",
    "started_app",
    "temporary_hook",
    "temporary_pipe",
    "wait_for_hooks",
]

_WHERE = {
    "EventLog": "events",
    "Fired": "events",
    "capture_events": "events",
    "KuzzleClient": "client",
    "WebSocketSession": "client",
    "run_durable_hooks": "durable",
    "started_app": "apps",
    "wait_for_hooks": "apps",
    "temporary_hook": "listeners",
    "temporary_pipe": "listeners",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'kuzzle_events.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"kuzzle_events.testing.{_WHERE[name]}"), name)
