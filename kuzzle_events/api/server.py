"""The ``server`` controller: time, server information, health and the API's own description."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

from kuzzle_events import __version__, errors
from kuzzle_events.api.openapi import openapi_document, public_api
from kuzzle_events.api.table import Table, route

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions", "versions"]

_STARTED_AT = time.time()


def actions() -> Table:
    """The ``server`` controller: action -> (handler, HTTP routes)."""
    return {
        "now": (now, [route("get", "/_now")]),
        "info": (info, [route("get", "/"), route("get", "/_serverInfo")]),
        "healthCheck": (health_check, [route("get", "/_healthCheck")]),
        "publicApi": (public_api_action, [route("get", "/_publicApi")]),
        "openapi": (openapi, [route("get", "/_openapi")]),
        "capabilities": (capabilities, [route("get", "/_serverCapabilities")]),
    }


async def now(app: Application, request: KuzzleRequest) -> dict[str, int]:
    """The server's time, in milliseconds since the epoch."""
    return {"now": int(time.time() * 1000)}


async def info(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Versions, routes, node and uptime of the server."""
    return {
        "serverInfo": {
            "kuzzle": {
                "version": __version__,
                "api": {"routes": api_routes(app)},
                "versions": versions(),
                "node": app.config.NODE,
                "uptime": f"{int(time.time() - _STARTED_AT)}s",
                "plugins": app.plugin.describe(),
            },
            "services": {},
        }
    }


async def health_check(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Status of the server and its services; 503 naming those that are red.

    ``database``, and ``channelLayer`` with a shared channel layer (Redis): pinged now, red while
    it is unreachable. As Kuzzle's, ``services`` (names separated by commas) checks only those.
    """
    wanted = request.input.args.get("services")
    names = wanted.split(",") if isinstance(wanted, str) else None
    services: dict[str, str] = {}
    if names is None or "database" in names:
        services["database"] = await sync_to_async(_database_status, thread_sensitive=True)()
    if names is None or "channelLayer" in names:
        layer = await app.realtime.layer_status()
        if layer is not None:
            services["channelLayer"] = layer
    red = [f"{name} is {status}" for name, status in services.items() if status != "green"]
    if red:
        raise errors.ServiceUnavailableError(f"Service unavailable: {', '.join(red)}", "app.errors.service_unavailable")
    return {"status": "green", "services": services}


async def public_api_action(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Every controller and action with its HTTP routes, as Kuzzle's SDKs read them."""
    return public_api(app)


async def openapi(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The OpenAPI 3 document of every action with an HTTP route."""
    return openapi_document(app)


async def capabilities(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Version, routes and limits a client adapts to."""
    return {
        "version": __version__,
        "api": {"routes": public_api(app)},
        "limits": {
            "concurrentRequests": app.config.MAX_CONCURRENT_REQUESTS,
            "requestsBufferSize": app.config.REQUESTS_BUFFER_SIZE,
            "requestsBufferWarningThreshold": app.config.REQUESTS_BUFFER_WARNING_THRESHOLD,
            "maxRequestSize": app.config.MAX_REQUEST_SIZE,
        },
        "plugins": app.plugin.describe(),
    }


def versions() -> dict[str, str]:
    """Versions of kuzzle_events and what it runs on."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "kuzzle_events": __version__,
        "django": version("Django"),
        "channels": version("channels"),
        "python": platform.python_version(),
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


def _database_status() -> str:
    try:
        close_old_connections()
        connection.ensure_connection()
        return "green"
    except Exception:
        return "red"
