"""A test kit for code that extends kuzzle_events: applications, events, clients, listeners.

::

    from kuzzle_events.testing import KuzzleClient, capture_events, started_app

    async def test_greeting_fires_its_event():
        async with started_app() as app, capture_events(app) as events:
            envelope = await KuzzleClient(app).query({"controller": "server", "action": "now"})
        assert envelope["status"] == 200
        assert events.names("server:*") == ["server:beforeNow", "server:afterNow"]

It is also a pytest plugin (loaded through its ``pytest11`` entry point, or with
``pytest_plugins = ["kuzzle_events.testing.plugin"]``) giving the fixtures ``kuzzle_app``,
``kuzzle_settings``, ``captured_events`` and ``kuzzle_client``: see
:mod:`kuzzle_events.testing.plugin`.
"""

from kuzzle_events.testing.apps import started_app, wait_for_hooks
from kuzzle_events.testing.client import KuzzleClient, WebSocketSession
from kuzzle_events.testing.events import EventLog, Fired, capture_events
from kuzzle_events.testing.listeners import temporary_hook, temporary_pipe

__all__ = [
    "EventLog",
    "Fired",
    "KuzzleClient",
    "WebSocketSession",
    "capture_events",
    "started_app",
    "temporary_hook",
    "temporary_pipe",
    "wait_for_hooks",
]
