"""The demo application: Kuzzle's guide examples, registered the Django way."""

from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "project.demo"
    label = "demo"
    verbose_name = "kuzzle_events demo"

    def ready(self) -> None:
        from django.conf import settings

        from kuzzle_events import app

        from . import events

        events.register(app, format_now=settings.DEMO_FORMAT_NOW)
