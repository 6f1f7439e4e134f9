"""``path("admin/kuzzle/", include("kuzzle_events.admin_urls"))``, before ``admin.site.urls``."""

from __future__ import annotations

from kuzzle_events.admin.urls import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
