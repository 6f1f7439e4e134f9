"""``manage.py runserver``: daphne's development server (HTTP and WebSocket), on Kuzzle's port.

The port defaults to ``KUZZLE_EVENTS["PORT"]`` (7512, the official clients' default) instead of
8000; ``manage.py runserver 0.0.0.0:9000`` still chooses another.
"""

from __future__ import annotations

from typing import Any

try:
    from daphne.management.commands.runserver import Command as BaseRunserver
except ImportError:  # pragma: no cover - daphne is a dependency; Django's server is the fallback
    from django.core.management.commands.runserver import Command as BaseRunserver


class Command(BaseRunserver):
    def handle(self, *args: Any, **options: Any) -> None:
        from kuzzle_events import app

        self.default_port = str(app.config.PORT)
        super().handle(*args, **options)
