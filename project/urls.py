"""URLs of the project. Under ASGI the lean entry point answers Kuzzle's routes before Django;
under WSGI the DRF views included here do."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Before the admin's own URLs, whose catch-all would answer these paths first.
    path("admin/kuzzle/", include("kuzzle_events.admin_urls")),
    path("admin/", admin.site.urls),
    path("", include("kuzzle_events.urls")),
]
