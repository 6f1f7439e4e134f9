"""Engine settings: one ``KUZZLE_EVENTS`` dict in Django's settings, defaults here."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["DEFAULTS", "Config", "load"]

DEFAULTS: dict[str, Any] = {
    # ms a pipe may run before a warning is logged; 0 disables.
    "PIPE_WARN_TIME": 500,
    # ms after which a pipe is cancelled and the request fails with a 504; 0 disables.
    "PIPE_TIMEOUT": 0,
    # pipe chains running at once; further ones wait in a buffer of PIPES_BUFFER_SIZE.
    "MAX_CONCURRENT_PIPES": 50,
    "PIPES_BUFFER_SIZE": 50_000,
    # KUZZLE_DEBUG namespaces (kuzzle:events, kuzzle:funnel, kuzzle:http...), "" = off.
    "DEBUG": "",
    # Add the stack to error objects (defaults to Django's DEBUG).
    "ERROR_STACK": None,
    # Largest HTTP body accepted, in bytes.
    "MAX_REQUEST_SIZE": 1024 * 1024,
    # Name of this node in response envelopes.
    "NODE": "knode-1",
    # Application name, used as the owner of its pipes and hooks in logs and the admin.
    "APP_NAME": "application",
    # Plugins: dotted path of a Plugin class (or instance) -> its config dict (which may hold its
    # own "PIPE_WARN_TIME"). Installed packages declaring the "kuzzle_events.plugins" entry point
    # are loaded too, unless their entry-point name is in DISABLED_PLUGINS.
    "PLUGINS": {},
    "DISABLED_PLUGINS": [],
    # Port of `manage.py runserver`.
    "PORT": 7512,
    # Authentication tokens: lifetime when auth:login gives no expiresIn, and the longest one
    # allowed (-1: no maximum). Milliseconds, or durations such as "1h".
    "TOKEN_TTL": "1h",
    "TOKEN_MAX_TTL": -1,
    # auth:login attempts allowed per username and per client address in LOGIN_WINDOW seconds
    # (0: no limit); further attempts get a 429.
    "LOGIN_ATTEMPTS": 10,
    "LOGIN_WINDOW": 60,
    # Seconds during which a process trusts its copy of roles and profiles before checking
    # whether another process changed them (requests with a token always check).
    "SECURITY_CACHE_TTL": 1.0,
    # Profiles given to users made by security:createRestrictedUser.
    "RESTRICTED_PROFILES": ["default"],
}


class Config(dict):  # type: ignore[type-arg]
    """The settings in force: attribute or key access (``app.config.PIPE_WARN_TIME``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def load(overrides: Mapping[str, Any] | None = None) -> Config:
    """Defaults, then ``settings.KUZZLE_EVENTS`` (when Django is configured), then ``overrides``."""
    values = dict(DEFAULTS)
    try:
        from django.conf import settings

        if settings.configured:
            values.update(getattr(settings, "KUZZLE_EVENTS", {}) or {})
            if values.get("ERROR_STACK") is None:
                values["ERROR_STACK"] = bool(settings.DEBUG)
    except ImportError:  # pragma: no cover - Django is a dependency; the engine works without it
        pass
    values.update(overrides or {})
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        from kuzzle_events.errors import PluginImplementationError

        raise PluginImplementationError(f"Unknown KUZZLE_EVENTS setting(s): {', '.join(sorted(unknown))}")
    values["ERROR_STACK"] = bool(values["ERROR_STACK"])
    return Config(values)
