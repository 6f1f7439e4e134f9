"""URLs of the project; the Kuzzle API itself is served by kuzzle_events' ASGI entry point."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
