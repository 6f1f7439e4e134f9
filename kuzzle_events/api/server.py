"""The ``server`` controller: time, server information, health and the API's own description."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.openapi import openapi_document, public_api

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["server_controller", "versions"]

_STARTED_AT = time.time()


def versions() -> dict[str, str]:
    """Versions of kuzzle_events and what it runs on."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    from kuzzle_events import __version__

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


def server_controller(app: Application) -> dict[str, Any]:
    async def now(request: KuzzleRequest) -> dict[str, int]:
        """The server's time, in milliseconds since the epoch."""
        return {"now": int(time.time() * 1000)}

    async def info(request: KuzzleRequest) -> dict[str, Any]:
        """Versions, routes, node and uptime of the server."""
        return {
            "serverInfo": {
                "kuzzle": {
                    "version": versions()["kuzzle_events"],
                    "api": {"routes": api_routes(app)},
                    "versions": versions(),
                    "node": app.config.NODE,
                    "uptime": f"{int(time.time() - _STARTED_AT)}s",
                    "plugins": app.plugin.describe(),
                },
                "services": {},
            }
        }

    async def health_check(request: KuzzleRequest) -> dict[str, Any]:
        """Status of the server and its services (503 when one is down)."""
        from asgiref.sync import sync_to_async

        database = await sync_to_async(_database_status, thread_sensitive=True)()
        services = {"database": database}
        status = "green" if database == "green" else "red"
        if status != "green":
            raise errors.ServiceUnavailableError(
                f"Service unavailable: database is {database}", "app.errors.service_unavailable"
            )
        return {"status": status, "services": services}

    async def public_api_action(request: KuzzleRequest) -> dict[str, Any]:
        """Every controller and action with its HTTP routes, as Kuzzle's SDKs read them."""
        return public_api(app)

    async def openapi(request: KuzzleRequest) -> dict[str, Any]:
        """The OpenAPI 3 document of every action with an HTTP route."""
        return openapi_document(app)

    async def capabilities(request: KuzzleRequest) -> dict[str, Any]:
        """Version, routes and limits a client adapts to."""
        return {
            "version": versions()["kuzzle_events"],
            "api": {"routes": public_api(app)},
            "limits": {
                "requestsBufferSize": app.config.PIPES_BUFFER_SIZE,
                "maxRequestSize": app.config.MAX_REQUEST_SIZE,
            },
            "plugins": app.plugin.describe(),
        }

    return {
        "actions": {
            "now": {"handler": now, "http": [{"verb": "get", "path": "/_now"}]},
            "info": {
                "handler": info,
                "http": [{"verb": "get", "path": "/"}, {"verb": "get", "path": "/_serverInfo"}],
            },
            "healthCheck": {"handler": health_check, "http": [{"verb": "get", "path": "/_healthCheck"}]},
            "publicApi": {"handler": public_api_action, "http": [{"verb": "get", "path": "/_publicApi"}]},
            "openapi": {"handler": openapi, "http": [{"verb": "get", "path": "/_openapi"}]},
            "capabilities": {"handler": capabilities, "http": [{"verb": "get", "path": "/_serverCapabilities"}]},
        }
    }


def _database_status() -> str:
    try:
        from django.db import close_old_connections, connection

        close_old_connections()
        connection.ensure_connection()
        return "green"
    except Exception:
        return "red"
