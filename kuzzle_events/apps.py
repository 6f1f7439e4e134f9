"""Django integration: ``INSTALLED_APPS = [..., "kuzzle_events"]``."""

from __future__ import annotations

from django.apps import AppConfig


class KuzzleEventsConfig(AppConfig):
    name = "kuzzle_events"
    verbose_name = "Kuzzle events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Built-in controllers were registered when `app` was created; applications register
        # theirs in their own ready(). Plugins are collected here and initialised at start, which
        # the entry points trigger after every ready() (see kuzzle_events.application).
        from django.core.signals import setting_changed

        from kuzzle_events import app, checks, errors
        from kuzzle_events.security import signals

        signals.connect()
        checks.register()
        try:
            config = app.config
        except errors.KuzzleError:
            # Invalid KUZZLE_EVENTS: not raised here, so that `manage.py check` can say what is
            # wrong (kuzzle_events.E002, E003); the next use of app.config raises it again.
            pass
        else:
            app.plugin.use_settings(config.PLUGINS, config.DISABLED_PLUGINS)

        def reload(setting: str, **kwargs: object) -> None:
            if setting == "KUZZLE_EVENTS":
                try:
                    app.reload_config()
                except errors.KuzzleError:
                    pass  # as above: reported by the settings check, raised again on next use

        setting_changed.connect(reload, weak=False, dispatch_uid="kuzzle_events.reload_config")
