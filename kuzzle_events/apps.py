"""Django integration: ``INSTALLED_APPS = [..., "kuzzle_events"]``."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class KuzzleEventsConfig(AppConfig):
    name = "kuzzle_events"
    verbose_name = "Kuzzle events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Built-in controllers were registered when `app` was created; applications register
        # theirs in their own ready(). Plugins are collected here and initialised at start, which
        # the entry points trigger after every ready() (see kuzzle_events.application).
        from django.core.signals import setting_changed

        from kuzzle_events import app
        from kuzzle_events.security import signals

        signals.connect()
        app.plugin.use_settings(app.config.PLUGINS, app.config.DISABLED_PLUGINS)

        def reload(setting: str, **kwargs: object) -> None:
            if setting == "KUZZLE_EVENTS":
                app.reload_config()

        setting_changed.connect(reload, weak=False, dispatch_uid="kuzzle_events.reload_config")
        checks.register(check_plugins, "kuzzle_events")


def check_plugins(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check``: load every configured plugin in a scratch application.

    This runs each plugin's ``init`` once more than the server will, so that a plugin that cannot
    start is reported before the server is.
    """
    from kuzzle_events import Application
    from kuzzle_events.errors import KuzzleError

    from kuzzle_events import app as live_app

    scratch = Application(config=dict(live_app._config_overrides))
    try:
        scratch.plugin.use_settings(scratch.config.PLUGINS, scratch.config.DISABLED_PLUGINS)
        scratch.run_sync(scratch.plugin.initialise)
    except KuzzleError as error:
        return [checks.Error(f"Plugin error: {error.message}", hint=error.id, id="kuzzle_events.E001")]
    return []
