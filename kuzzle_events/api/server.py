"""The ``server`` controller: time, server information, configuration, metrics, health and the API's description."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.db import close_old_connections, connection

from kuzzle_events import __version__, conf, errors
from kuzzle_events.api import environment, statistics
from kuzzle_events.api.openapi import SCOPES, openapi_document, public_api
from kuzzle_events.api.table import Table, route

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions", "versions", "without_secrets"]


_INSTEAD = "Use this route instead: http://kuzzle:7512"
# (Kuzzle's own table gives these no version: "auto-version", as it answers.)
_METRICS = ("auto-version", f"{_INSTEAD}/_metrics")


def actions() -> Table:
    """The ``server`` controller: action -> (handler, HTTP routes)."""
    return {
        "adminExists": (admin_exists, [route("get", "/_adminExists")]),
        "now": (now, [route("get", "/_now")]),
        "info": (info, [route("get", "/"), route("get", "/_serverInfo")]),
        "getConfig": (get_config, [route("get", "/_getConfig")]),
        "metrics": (metrics, [route("get", "/_metrics")]),
        "healthCheck": (health_check, [route("get", "/_healthCheck")]),
        "publicApi": (public_api_action, [route("get", "/_publicApi", ("2.5.0", f"{_INSTEAD}/_openapi"))]),
        "openapi": (openapi, [route("get", "/_openapi")]),
        "capabilities": (capabilities, [route("get", "/_capabilities"), route("get", "/_serverCapabilities")]),
        "getLastStats": (statistics.get_last_stats, [route("get", "/_getLastStats", _METRICS)]),
        "getStats": (statistics.get_stats, [route("get", "/_getStats", _METRICS)]),
        "getAllStats": (statistics.get_all_stats, [route("get", "/_getAllStats", _METRICS)]),
    }


async def now(app: Application, request: KuzzleRequest) -> dict[str, int]:
    """The server's time, in milliseconds since the epoch."""
    return {"now": int(time.time() * 1000)}


async def info(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Versions, routes, plugins, process, machine and services of the server."""
    return {
        "serverInfo": {
            "kuzzle": {
                "version": __version__,
                "api": {"routes": api_routes(app)},
                "application": {"name": app.config.APP_NAME},
                "memoryUsed": environment.memory_used(),
                "nodeVersion": environment.runtime_version(),
                "versions": versions(),
                "node": app.config.NODE,
                "uptime": environment.uptime(),
                "plugins": app.plugin.describe(),
                "system": environment.system(),
            },
            "services": await _services(app),
        }
    }


async def health_check(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Kuzzle's health check: ``{"services": {...}, "status": "green"}``.

    Its services, on what serves them here: ``internalCache`` (Django's cache), ``memoryStorage``
    (the ``ms`` controller's Redis, which answers a PING), ``storageEngine`` (the database) and,
    with a shared channel layer (Redis), ``channelLayer``; each checked now.
    As Kuzzle's, ``services`` (names separated by commas) checks only those, and a red service
    makes the answer a 500 ``core.fatal.service_unavailable`` whose result still lists them all,
    ``status`` ``"red"``.
    """
    wanted = request.input.args.get("services")
    names = wanted.split(",") if isinstance(wanted, str) else None
    services: dict[str, str] = {}
    causes: list[str] = []
    for name in ("internalCache", "memoryStorage", "storageEngine", "channelLayer"):
        if names is not None and name not in names:
            continue
        if name == "memoryStorage":
            problem = await app.memory_storage.status()
        elif name == "channelLayer":
            layer = await app.realtime.layer_status()
            if layer is None:
                continue  # no shared channel layer: nothing to check
            problem = None if layer == "green" else "the channel layer is unreachable"
        else:
            probe = _cache_problem if name == "internalCache" else _database_problem
            problem = await sync_to_async(probe, thread_sensitive=True)()
        services[name] = "green" if problem is None else "red"
        if problem is not None:
            causes.append(f"{name}: {problem}")
    result = {"services": services, "status": "red" if causes else "green"}
    if causes:
        error = errors.get("core.fatal.service_unavailable", "; ".join(causes))
        error.result = result
        raise error
    return result


async def public_api_action(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Every controller and action with its HTTP routes, as Kuzzle's SDKs read them."""
    return public_api(app)


async def openapi(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The OpenAPI document itself: Kuzzle's own API (``scope=kuzzle``), or the application's (``app``)."""
    scope = request.get_string("scope", "kuzzle")
    if scope not in SCOPES:
        raise errors.get("api.assert.unexpected_argument", scope, list(SCOPES))
    fmt = request.get_string("format", "json")
    if fmt != "json":
        raise errors.get("api.assert.unexpected_argument", fmt, ["json"])
    request.response.raw = True
    request.response.set_header("Content-Type", "application/json")
    return openapi_document(app, scope)


async def capabilities(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Version, limits, plugins, routes and services a client adapts to."""
    return {
        "version": __version__,
        "limits": _limits(app),
        "plugins": {name: {"version": p.get("version")} for name, p in app.plugin.describe().items()},
        "routes": public_api(app),
        "services": {
            name: {"backend": service["backend"], "version": service["version"]}
            for name, service in (await _services(app)).items()
        },
    }


async def admin_exists(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Whether a user with the ``admin`` profile exists."""
    return {"exists": (await app.security.rights()).admin_exists}


async def get_config(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The configuration in force, in the sections of Kuzzle's, without secrets."""
    return without_secrets(_configuration(app, await _services(app)))


async def metrics(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Requests running and waiting, open connections, realtime rooms and subscriptions of this process."""
    running, waiting = app.request_slots.pressure
    rooms = app.realtime.rooms.rooms
    # Connections that can be notified: WebSocket and MQTT clients of this process.
    persistent = len(getattr(app.realtime, "_senders", ()))
    return {
        "api": {"concurrentRequests": running, "pendingRequests": waiting},
        "network": {"connections": {"persistent": persistent}},
        "realtime": {"rooms": len(rooms), "subscriptions": sum(room.count() for room in rooms.values())},
    }


def versions() -> dict[str, str]:
    """Versions of kuzzle_events and what it runs on."""
    return {
        "kuzzle_events": __version__,
        "django": environment.package_version("Django"),
        "channels": environment.package_version("channels"),
        "python": environment.runtime_version()[1:],
    }


def api_routes(app: Application) -> dict[str, dict[str, Any]]:
    """Every controller and action with its HTTP routes, as ``server:info`` lists them."""
    routes: dict[str, dict[str, Any]] = {}
    for name, controller in sorted(app.controller.controllers.items()):
        routes[name] = {
            action: {
                "controller": name,
                "action": action,
                "http": [{"verb": r.verb.upper(), "url": r.path} for r in act.routes],
            }
            for action, act in sorted(controller.actions.items())
        }
    return routes


async def _services(app: Application) -> dict[str, Any]:
    services = await sync_to_async(_described_services, thread_sensitive=True)()
    services["memoryStorage"] = await app.memory_storage.describe()
    return services


def _described_services() -> dict[str, Any]:
    close_old_connections()
    return environment.services()


def _limits(app: Application) -> dict[str, Any]:
    c = app.config
    return {
        "concurrentRequests": c.MAX_CONCURRENT_REQUESTS,
        "requestsBufferSize": c.REQUESTS_BUFFER_SIZE,
        "requestsBufferWarningThreshold": c.REQUESTS_BUFFER_WARNING_THRESHOLD,
        "maxRequestSize": c.MAX_REQUEST_SIZE,
    }


def _configuration(app: Application, services: dict[str, Any]) -> dict[str, Any]:
    """Kuzzle's configuration sections, filled from this server's settings."""
    c = app.config
    plugins = app.plugin.describe()
    return {
        # No Kuzzle cluster: processes share their state through the database and the channel
        # layer. (Kourou's app:doctor reads cluster.enabled.)
        "cluster": {"enabled": False},
        "dump": {"enabled": False},
        "http": {"maxRequestSize": c.MAX_REQUEST_SIZE},
        "internal": {"node": c.NODE, "securityCacheTtl": c.SECURITY_CACHE_TTL},
        "limits": _limits(app),
        "plugins": {"common": {"include": sorted(plugins)}, "configurations": dict(c.PLUGINS)},
        "realtime": {"subscriptionsTtl": c.SUBSCRIPTIONS_TTL},
        "repositories": {"common": {"cacheTTL": c.SECURITY_CACHE_TTL}},
        "server": {
            "port": c.PORT,
            "maxRequestSize": c.MAX_REQUEST_SIZE,
            "protocols": {
                "http": {"enabled": True},
                "websocket": {
                    "enabled": True,
                    "backpressureBufferMaxLength": c.WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH,
                },
                "mqtt": conf.mqtt_settings(c),
            },
        },
        "services": services,
        "stats": {"enabled": True, "statsInterval": statistics.INTERVAL_MS // 1000, "ttl": statistics.TTL_MS // 1000},
        "validation": {},
        "version": __version__,
        # Every setting of KUZZLE_EVENTS, as this server reads them.
        "kuzzle_events": {**c, "MEMORY_STORAGE_URL": _without_password(c.MEMORY_STORAGE_URL)},
    }


# Keys whose values are secrets, in any section (Kuzzle drops its "security" section and VAULT_KEY).
_SECRET = re.compile(r"password|passwd|secret|private|credential|vault|(^|_)key$|api_?key", re.IGNORECASE)


def without_secrets(value: Any) -> Any:
    """``value`` with every entry whose key names a secret left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if not (isinstance(k, str) and _SECRET.search(k))}
    if isinstance(value, (list, tuple)):
        return [without_secrets(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _without_password(url: str | None) -> str | None:
    """A Redis URL with its password left out (``redis://user@host:6379/8``)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}" + (f":{parts.port}" if parts.port else "")))


def _database_problem() -> str | None:
    """Why the database cannot be reached, or None."""
    try:
        close_old_connections()
        connection.ensure_connection()
        return None
    except Exception as error:
        return str(error) or type(error).__name__


def _cache_problem() -> str | None:
    """Why Django's cache (Kuzzle's internal cache) does not answer, or None."""
    try:
        caches["default"].get("kuzzle_events:health-check")
        return None
    except Exception as error:
        return str(error) or type(error).__name__
