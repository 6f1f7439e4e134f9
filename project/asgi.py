"""ASGI entry point: ``uvicorn project.asgi:application`` (and ``manage.py runserver``).

HTTP: Kuzzle's routes through kuzzle_events' lean entry point, everything else to Django.
WebSocket: the Kuzzle consumer. Lifespan: starts and stops the application.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from kuzzle_events.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
