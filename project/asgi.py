"""ASGI entry point: ``uvicorn project.asgi:application`` (and ``manage.py runserver``).

HTTP: Kuzzle's routes through kuzzle_events' lean entry point, everything else to Django.
WebSocket: the Kuzzle consumer. Lifespan: starts and stops the application.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from kuzzle_events.asgi import KuzzleASGI  # noqa: E402
from kuzzle_events.websocket import KuzzleConsumer  # noqa: E402

kuzzle_http = KuzzleASGI(django_application)

application = ProtocolTypeRouter(
    {
        "http": kuzzle_http,
        "websocket": KuzzleConsumer.as_asgi(),
        "lifespan": kuzzle_http,
    }
)
