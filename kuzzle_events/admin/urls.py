"""URL patterns of the admin pages (``kuzzle_events.admin_urls`` is their URLconf)."""

from __future__ import annotations

from django.urls import path

from kuzzle_events.admin.views import ControllersView, DeliveriesView, EventsView, PluginsView, SwitchView

app_name = "kuzzle_events_admin"

urlpatterns = [
    path("controllers/", ControllersView.as_view(), name="controllers"),
    path("events/", EventsView.as_view(), name="events"),
    path("events/switch/", SwitchView.as_view(), name="switch"),
    path("plugins/", PluginsView.as_view(), name="plugins"),
    path("deliveries/", DeliveriesView.as_view(), name="deliveries"),
]
