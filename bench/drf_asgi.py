"""Django's own ASGI handler, without kuzzle_events' lean entry point: under it, ``/_now`` is
served by the DRF adapter ``KuzzleAPIView`` and ``/bare/now`` by the bare DRF view
(``uvicorn bench.drf_asgi:application``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
