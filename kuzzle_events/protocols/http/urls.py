"""URL patterns of the Kuzzle API through the DRF views (``kuzzle_events.urls`` is their URLconf).

Patterns are built from the routes registered when the URLconf is loaded (after every
``AppConfig.ready()``), plus Kuzzle's special routes and, last, a catch-all: a path no pattern
before it took gets Kuzzle's JSON ``network.http.url_not_found`` (404) rather than Django's page,
as under the lean ASGI entry point (the view leaves the project's own paths to Django: see
:meth:`KuzzleAPIView.dispatch`). Include these patterns last.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.urls import re_path

from kuzzle_events.protocols.http.drf import KuzzleAPIView

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["kuzzle_urlpatterns"]


def _regex(path: str) -> str:
    parts = [
        "[^/]+" if segment.startswith(":") else re.escape(segment) for segment in path.split("/") if segment
    ]
    return "/".join(parts)


def kuzzle_urlpatterns(app: Application | None = None) -> list[Any]:
    """URL patterns of every route of ``app`` (default: ``kuzzle_events.app``)."""
    if app is None:
        from kuzzle_events import app as default_app

        app = default_app
    view = KuzzleAPIView.as_view(kuzzle_app=app)
    seen: set[str] = set()
    patterns = []
    for route in app.controller.router:
        body = _regex(route.path)
        if body in seen:
            continue
        seen.add(body)
        patterns.append(re_path(rf"^(?P<kuzzle_path>{body})/?$", view))
    # Special routes, then any other /_... path: a Kuzzle 404 rather than Django's page.
    patterns.append(re_path(r"^(?P<kuzzle_path>_(?:query|healthcheck|ready))/?$", view))
    patterns.append(re_path(r"^(?P<kuzzle_path>_.*)$", view))
    patterns.append(re_path(r"^(?P<kuzzle_path>.*)$", view))
    return patterns

