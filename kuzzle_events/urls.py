"""``include("kuzzle_events.urls")``: the Kuzzle API through the DRF views, under WSGI or ASGI.

Loaded after every ``AppConfig.ready()``, so the patterns cover every registered route.
"""

from __future__ import annotations

from kuzzle_events.protocols.http.urls import kuzzle_urlpatterns

urlpatterns = kuzzle_urlpatterns()
