"""``manage.py runserver``: daphne's development server (HTTP and WebSocket), on Kuzzle's port.

The port defaults to ``KUZZLE_EVENTS["PORT"]`` (7512, the official clients' default) instead of
8000; ``manage.py runserver 0.0.0.0:9000`` still chooses another. The application served is
``settings.ASGI_APPLICATION``, or, when the project sets none, kuzzle_events' own
(:func:`kuzzle_events.asgi.get_asgi_application`).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from kuzzle_events.asgi import get_asgi_application

try:
    from daphne.management.commands.runserver import Command as BaseRunserver

    DAPHNE = True
except ImportError:  # pragma: no cover - without the [server] extra, Django's WSGI server
    from django.core.management.commands.runserver import Command as BaseRunserver

    DAPHNE = False


def has_asgi_application() -> bool:
    """Whether the project names its ASGI application (``settings.ASGI_APPLICATION``)."""
    return bool(getattr(settings, "ASGI_APPLICATION", None))


class Command(BaseRunserver):
    def handle(self, *args: Any, **options: Any) -> None:
        from kuzzle_events import app

        self.default_port = str(app.config.PORT)
        if not DAPHNE or has_asgi_application() or not options.get("use_asgi", True):
            super().handle(*args, **options)
            return
        # daphne's handle() refuses to go on without ASGI_APPLICATION ("You have not set
        # ASGI_APPLICATION"); get_application() has an application for that case, so what it sets
        # is set here and the rest of the command runs as daphne's would.
        self.http_timeout = options.get("http_timeout")
        self.websocket_handshake_timeout = options.get("websocket_handshake_timeout", 5)
        self.websocket_max_message_size = options.get("websocket_max_message_size") or getattr(
            settings, "DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE", 1024 * 1024
        )
        self.websocket_max_frame_size = options.get("websocket_max_frame_size") or getattr(
            settings, "DAPHNE_WEBSOCKET_MAX_FRAME_SIZE", 1024 * 1024
        )
        super(BaseRunserver, self).handle(*args, **options)

    def get_application(self, options: dict[str, Any]) -> Any:
        if has_asgi_application():
            return super().get_application(options)
        application = get_asgi_application()
        # As daphne does for ASGI_APPLICATION: static files under DEBUG (or --insecure).
        static = options.get("use_static_handler", apps.is_installed("django.contrib.staticfiles"))
        if static and (settings.DEBUG or options.get("insecure_serving", False)):
            return ASGIStaticFilesHandler(application)
        return application
