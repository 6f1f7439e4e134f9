"""Django integration: ``INSTALLED_APPS = [..., "kuzzle_events"]``."""

from __future__ import annotations

from django.apps import AppConfig


class KuzzleEventsConfig(AppConfig):
    name = "kuzzle_events"
    verbose_name = "Kuzzle events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration of the built-in controllers happened when `app` was created; applications
        # register theirs in their own ready(). Starting is left to the entry points (see
        # kuzzle_events.application), which all run after every ready().
        from django.core.signals import setting_changed

        from . import app

        def reload(setting: str, **kwargs: object) -> None:
            if setting == "KUZZLE_EVENTS" and app.state == "stopped":
                app._config = None
                app._events = None
                app._funnel = None

        setting_changed.connect(reload, weak=False, dispatch_uid="kuzzle_events.reload_config")
