"""A project's whole ASGI application in one call, as ``django.core.asgi.get_asgi_application()``.

::

    # myproject/asgi.py
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")

    from kuzzle_events.asgi import get_asgi_application

    application = get_asgi_application()

HTTP: Kuzzle's routes through the lean entry point (:class:`KuzzleASGI`), every other path to
Django. WebSocket: the Kuzzle consumer, after the project's own Channels routes if any. Lifespan:
the application starts at startup and fires ``kuzzle:shutdown`` at shutdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kuzzle_events.protocols.http.asgi import KuzzleASGI

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["get_asgi_application", "KuzzleASGI"]


def get_asgi_application(
    websocket_urlpatterns: Sequence[Any] = (),
    *,
    http: Any = None,
    app: Application | None = None,
) -> Any:
    """The ASGI application of a project serving the Kuzzle API beside its own Django views.

    ``websocket_urlpatterns``: the project's own Channels routes (``path("ws/chat/",
    ChatConsumer.as_asgi())``...), tried before the Kuzzle consumer, which answers every other
    path. ``http``: the ASGI application behind the lean entry (default: Django's own, from
    ``django.core.asgi.get_asgi_application()``). ``app``: the Kuzzle application (default:
    ``kuzzle_events.app``).
    """
    # Django is set up before anything imports a model (the consumer's modules do).
    from django.core.asgi import get_asgi_application as django_asgi_application

    django_app = http if http is not None else django_asgi_application()

    from channels.routing import URLRouter
    from django.urls import re_path

    from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer

    consumer = KuzzleConsumer.as_asgi(kuzzle_app=app)
    websocket: Any = consumer
    if websocket_urlpatterns:
        websocket = URLRouter([*websocket_urlpatterns, re_path(r"", consumer)])
    # The lean entry dispatches the scope types itself (Channels' ProtocolTypeRouter would be one
    # more coroutine on every request).
    return KuzzleASGI(django_app, app=app, websocket=websocket)
