"""URLs of the project. Under ASGI the lean entry point answers Kuzzle's routes before Django;
under WSGI the DRF views included here do."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("kuzzle_events.urls")),
]
