"""Engine settings: one ``KUZZLE_EVENTS`` dict in Django's settings, defaults here."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from kuzzle_events.core.config import Config
from kuzzle_events.errors import PluginImplementationError
from kuzzle_events.protocols.addresses import parse_networks

__all__ = ["DEFAULTS", "MQTT_DEFAULTS", "TYPES", "mqtt_settings", "Config", "load", "unknown_settings", "wrong_types"]

DEFAULTS: dict[str, Any] = {
    # ms a pipe may run before a warning is logged; 0 disables.
    "PIPE_WARN_TIME": 500,
    # ms after which a pipe is cancelled and the request fails with a 504; 0 disables.
    "PIPE_TIMEOUT": 0,
    # pipe chains running at once; further ones wait in a buffer of PIPES_BUFFER_SIZE.
    "MAX_CONCURRENT_PIPES": 50,
    "PIPES_BUFFER_SIZE": 50_000,
    # Kuzzle's limits.concurrentRequests, requestsBufferSize and requestsBufferWarningThreshold:
    # requests in flight at once; further ones wait in a buffer of REQUESTS_BUFFER_SIZE, past which
    # they get a 503; core:overload is fired while more than the threshold wait.
    "MAX_CONCURRENT_REQUESTS": 100,
    "REQUESTS_BUFFER_SIZE": 50_000,
    "REQUESTS_BUFFER_WARNING_THRESHOLD": 5_000,
    # Triggers nested in one another (a listener's app.trigger / app.sdk.query) before one fails.
    "MAX_TRIGGER_DEPTH": 16,
    # KUZZLE_DEBUG namespaces (kuzzle:events, kuzzle:funnel, kuzzle:http...), "" = off.
    "DEBUG": "",
    # Add the stack to error objects; list deprecated routes used in answers (Django's DEBUG).
    "ERROR_STACK": None,
    "DEPRECATION_WARNINGS": None,
    # Largest HTTP body accepted, in bytes.
    "MAX_REQUEST_SIZE": 1024 * 1024,
    # HTTP content types accepted besides JSON and forms (Kuzzle's
    # server.protocols.http.additionalContentTypes): read as JSON once the
    # protocol:http:beforeParsingPayload pipes have converted them.
    "ADDITIONAL_CONTENT_TYPES": [],
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
    # auth:login requests per connection and per second (Kuzzle's limits.loginsPerSecond; 0: no
    # limit). An HTTP request is a connection of its own.
    "LOGINS_PER_SECOND": 1,
    # Failed auth:login attempts allowed per username and per client address in LOGIN_WINDOW
    # seconds (0: no limit); past them, logins of that username or from that address get a 429
    # until the window ends. Counted in Django's cache LOGIN_CACHE, shared by every process that
    # shares that cache (Redis, Memcached, a database table...).
    "LOGIN_ATTEMPTS": 10,
    "LOGIN_WINDOW": 60,
    "LOGIN_CACHE": "default",
    # Addresses or networks ("10.0.0.0/8") of the reverse proxies whose X-Forwarded-For is believed;
    # from anybody else that header is ignored.
    "TRUSTED_PROXIES": [],
    # Seconds during which a process trusts its copy of roles and profiles before checking
    # whether another process changed them (requests with a token always check).
    "SECURITY_CACHE_TTL": 1.0,
    # Seconds between two checks, by a served process (ASGI lifespan), of the pipes and hooks
    # switched off and on from the admin or `manage.py kuzzle_events disable|enable` (0: never;
    # they are read at start and when this process changes them).
    "SWITCHES_POLL_INTERVAL": 0.5,
    # OpenTelemetry spans: each request a span, each pipe run a child span (needs opentelemetry-api,
    # the [otel] extra; spans go to the process's tracer provider).
    "OPENTELEMETRY": False,
    # With a Redis channel layer, seconds during which the other processes keep counting this
    # process's subscriptions (realtime:count, realtime:list) after its last refresh; it refreshes
    # them three times per period, so a killed process's subscribers are dropped within it.
    "SUBSCRIPTIONS_TTL": 6.0,
    # Kuzzle's http.cookieAuthentication: auth:login and the other actions may use the HttpOnly
    # authToken cookie (cookieAuth), and HTTP answers carry Access-Control-Allow-Credentials.
    # False: a request with cookieAuth or an authToken cookie gets security.cookie.unsupported.
    "COOKIE_AUTHENTICATION": True,
    # Kuzzle's security.debug.native_debug_protocol: the debug controller's actions but nodeVersion.
    "DEBUG_NATIVE_PROTOCOL": False,
    # Profiles given to users made by security:createRestrictedUser.
    "RESTRICTED_PROFILES": ["default"],
    # Messages a WebSocket may have waiting for a client that reads too slowly (Kuzzle's
    # WS_BACKPRESSURE_BUFFER_MAX_LENGTH); one more and the connection is closed with code 1011.
    "WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH": 50,
    # Durable hooks (app.hook.register(..., durable=True)): whether the server processes run them
    # (False when `manage.py kuzzle_worker` processes do), seconds between two looks for due
    # deliveries (a commit in the process looks at once), seconds a process holds a delivery it
    # runs (renewed meanwhile; a killed process's deliveries are taken again after it), and how
    # many deliveries a process takes and runs at once.
    "DURABLE_RUNNER": True,
    "DURABLE_POLL_INTERVAL": 1.0,
    "DURABLE_LEASE": 60.0,
    "DURABLE_BATCH": 10,
    # The API over MQTT (kuzzle_events.protocols.mqtt): MODE "off", or "external" for a broker at
    # HOST:PORT. Keys left out take their value from MQTT_DEFAULTS.
    "MQTT": {},
    # The ms controller's Redis (Kuzzle's memoryStorage): a redis:// URL, on a database of its own,
    # or None for an in-process Redis (fakeredis) that lives as long as the application.
    "MEMORY_STORAGE_URL": None,
}

MQTT_DEFAULTS: dict[str, Any] = {
    "MODE": "off",
    "HOST": "127.0.0.1",
    "PORT": 1883,
    "USERNAME": None,
    "PASSWORD": None,
    # Clients publish on REQUEST_TOPIC/<client id> and get answers on RESPONSE_TOPIC/<client id>.
    "REQUEST_TOPIC": "Kuzzle/request",
    "RESPONSE_TOPIC": "Kuzzle/response",
    # Kuzzle's realtimeNotifications: the TokenExpired notice on a client's response topic.
    "REALTIME_NOTIFICATIONS": True,
    # Seconds to wait for the broker at start.
    "CONNECT_TIMEOUT": 10,
    # "external": the shared subscription's group, so that each request reaches one process only.
    "SHARED_GROUP": "kuzzle_events",
    # "embedded": Kuzzle's allowPubSub: clients may publish on other topics than REQUEST_TOPIC.
    "ALLOW_PUB_SUB": False,
}


def _anything(value: Any) -> bool:
    return True


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_integer(value: Any) -> bool:
    return _integer(value) and value >= 1


def _positive(value: Any) -> bool:
    return _number(value) and math.isfinite(value) and value > 0


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _duration(value: Any) -> bool:
    return _number(value) or isinstance(value, str)


def _names(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _plugins(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(path, str) and (config is None or isinstance(config, dict)) for path, config in value.items()
    )


def _networks(value: Any) -> bool:
    if not _names(value):
        return False
    try:
        parse_networks(value)
    except ValueError:
        return False
    return True


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _redis_url(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.startswith(("redis://", "rediss://", "unix://")))


def _topic(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not any(c in value for c in "#+")


_MQTT_TYPES: dict[str, Callable[[Any], bool]] = {
    "MODE": lambda value: value in ("off", "external", "embedded"),
    "HOST": _text,
    "PORT": _integer,
    "USERNAME": _optional_text,
    "PASSWORD": _optional_text,
    "REQUEST_TOPIC": _topic,
    "RESPONSE_TOPIC": _topic,
    "REALTIME_NOTIFICATIONS": lambda value: isinstance(value, bool),
    "CONNECT_TIMEOUT": _number,
    "SHARED_GROUP": lambda value: _topic(value) and "/" not in value,
    "ALLOW_PUB_SUB": lambda value: isinstance(value, bool),
}


def _mqtt(value: Any) -> bool:
    return isinstance(value, dict) and all(key in _MQTT_TYPES and _MQTT_TYPES[key](item) for key, item in value.items())


def mqtt_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The MQTT settings in force: ``MQTT_DEFAULTS`` updated with ``config["MQTT"]``."""
    return {**MQTT_DEFAULTS, **(config.get("MQTT") or {})}


# What each setting accepts: (what to write, test). `manage.py check` reports a value that fails
# its test (kuzzle_events.E003) and the application refuses to start with it.
TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "PIPE_WARN_TIME": ("a number of milliseconds", _number),
    "PIPE_TIMEOUT": ("a number of milliseconds", _number),
    "MAX_CONCURRENT_PIPES": ("an integer", _integer),
    "PIPES_BUFFER_SIZE": ("an integer", _integer),
    "MAX_CONCURRENT_REQUESTS": ("an integer >= 1", _positive_integer),
    "REQUESTS_BUFFER_SIZE": ("an integer >= 1", _positive_integer),
    "REQUESTS_BUFFER_WARNING_THRESHOLD": ("an integer >= 1", _positive_integer),
    "MAX_TRIGGER_DEPTH": ("an integer >= 1", _positive_integer),
    "DEBUG": ('a string of namespaces ("" = off)', _text),
    "ERROR_STACK": ("True, False or None", lambda value: value is None or isinstance(value, bool)),
    "DEPRECATION_WARNINGS": ("True, False or None", lambda value: value is None or isinstance(value, bool)),
    "MAX_REQUEST_SIZE": ("an integer number of bytes", _integer),
    "ADDITIONAL_CONTENT_TYPES": ("a list of content types", _names),
    "NODE": ("a string", _text),
    "APP_NAME": ("a string", _text),
    "PLUGINS": ("a dict of dotted path -> config dict", _plugins),
    "DISABLED_PLUGINS": ("a list of entry-point names", _names),
    "PORT": ("an integer", _integer),
    "TOKEN_TTL": ('milliseconds, or a duration such as "1h"', _duration),
    "TOKEN_MAX_TTL": ('milliseconds, a duration such as "1h", or -1', _duration),
    "LOGINS_PER_SECOND": ("an integer (0: no limit)", _integer),
    "LOGIN_ATTEMPTS": ("an integer (0: no limit)", _integer),
    "LOGIN_WINDOW": ("a number of seconds", _number),
    "LOGIN_CACHE": ("the alias of one of Django's CACHES", _text),
    "TRUSTED_PROXIES": ('a list of IP addresses or networks ("10.0.0.0/8")', _networks),
    "SECURITY_CACHE_TTL": ("a number of seconds", _number),
    "SWITCHES_POLL_INTERVAL": ("a number of seconds (0: never)", _number),
    "OPENTELEMETRY": ("True or False", lambda value: isinstance(value, bool)),
    "SUBSCRIPTIONS_TTL": ("a number of seconds above 0", _positive),
    "COOKIE_AUTHENTICATION": ("True or False", lambda value: isinstance(value, bool)),
    "DEBUG_NATIVE_PROTOCOL": ("True or False", lambda value: isinstance(value, bool)),
    "RESTRICTED_PROFILES": ("a list of profile ids", _names),
    "WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH": ("a positive integer", _positive_integer),
    "DURABLE_RUNNER": ("True or False", lambda value: isinstance(value, bool)),
    "DURABLE_POLL_INTERVAL": ("a number of seconds above 0", _positive),
    "DURABLE_LEASE": ("a number of seconds above 0", _positive),
    "DURABLE_BATCH": ("an integer >= 1", _positive_integer),
    "MEMORY_STORAGE_URL": ("None, or a redis://, rediss:// or unix:// URL", _redis_url),
    "MQTT": (
        'a dict of MODE ("off", "external" or "embedded"), HOST, PORT, USERNAME, PASSWORD, REQUEST_TOPIC, '
        "RESPONSE_TOPIC and SHARED_GROUP (no wildcards), REALTIME_NOTIFICATIONS and ALLOW_PUB_SUB (bool), "
        "CONNECT_TIMEOUT (seconds)",
        _mqtt,
    ),
}


def unknown_settings(values: Mapping[str, Any]) -> dict[str, str | None]:
    """Each key of ``values`` that is not a setting -> the closest setting name (None if none is close)."""
    return {
        key: next(iter(difflib.get_close_matches(str(key).upper(), DEFAULTS, n=1)), None)
        for key in values
        if key not in DEFAULTS
    }


def wrong_types(values: Mapping[str, Any], given: Collection[str] | None = None) -> dict[str, str]:
    """Each setting of ``values`` whose value has the wrong type -> what it should be.

    ``given``: the settings written by the user (default: all of ``values``), on which a conflict
    between settings is reported.
    """
    wrong = {}
    for key, value in values.items():
        expected, accepts = TYPES.get(key, ("", _anything))
        if not accepts(value):
            wrong[key] = expected
    if not wrong.keys() & set(_REQUEST_LIMITS):
        wrong.update(_request_limits_conflict(values, values.keys() if given is None else given))
    return wrong


_FROM_DEBUG = ("ERROR_STACK", "DEPRECATION_WARNINGS")  # None: Django's DEBUG
_REQUEST_LIMITS = ("MAX_CONCURRENT_REQUESTS", "REQUESTS_BUFFER_SIZE", "REQUESTS_BUFFER_WARNING_THRESHOLD")


def _request_limits_conflict(values: Mapping[str, Any], given: Collection[str]) -> dict[str, str]:
    """Kuzzle's rule: concurrent requests < buffer size, and the warning threshold between them.

    The conflict is reported on a setting of ``given`` (the others take their defaults).
    """
    written = [key for key in _REQUEST_LIMITS if key in given]
    if not written:
        return {}
    limit, size, threshold = ({**DEFAULTS, **values}[key] for key in _REQUEST_LIMITS)
    if limit >= size:
        if "MAX_CONCURRENT_REQUESTS" in written:
            return {"MAX_CONCURRENT_REQUESTS": f"an integer lower than REQUESTS_BUFFER_SIZE ({size})"}
        return {"REQUESTS_BUFFER_SIZE": f"an integer greater than MAX_CONCURRENT_REQUESTS ({limit})"}
    if limit <= threshold <= size:
        return {}
    between = f"between MAX_CONCURRENT_REQUESTS ({limit}) and REQUESTS_BUFFER_SIZE ({size})"
    if "REQUESTS_BUFFER_WARNING_THRESHOLD" in written:
        return {"REQUESTS_BUFFER_WARNING_THRESHOLD": f"an integer {between}"}
    if threshold < limit:
        return {written[0]: f"an integer at most REQUESTS_BUFFER_WARNING_THRESHOLD ({threshold})"}
    return {written[-1]: f"an integer at least REQUESTS_BUFFER_WARNING_THRESHOLD ({threshold})"}


def load(overrides: Mapping[str, Any] | None = None) -> Config:
    """Defaults, then ``settings.KUZZLE_EVENTS`` (when Django is configured), then ``overrides``."""
    values = dict(DEFAULTS)
    given: set[str] = set(overrides or {})
    try:
        from django.conf import settings

        if settings.configured:
            written = getattr(settings, "KUZZLE_EVENTS", {}) or {}
            values.update(written)
            given.update(written)
            for key in _FROM_DEBUG:
                if values.get(key) is None:
                    values[key] = bool(settings.DEBUG)
    except ImportError:  # pragma: no cover - Django is a dependency; the engine works without it
        pass
    values.update(overrides or {})
    problems = [
        f"{key!r} is not a setting" + (f" (did you mean {close!r}?)" if close else "")
        for key, close in unknown_settings(values).items()
    ]
    problems += [
        f"{key} must be {expected}, not {values[key]!r}" for key, expected in wrong_types(values, given).items()
    ]
    if problems:
        raise PluginImplementationError(f"Invalid KUZZLE_EVENTS: {'; '.join(problems)}")
    values.update({key: bool(values[key]) for key in _FROM_DEBUG})
    return Config(values)
