"""The ``server`` controller: time, server information and health."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import TYPE_CHECKING, Any

from .. import errors

if TYPE_CHECKING:
    from ..application import Application
    from ..request import KuzzleRequest

__all__ = ["server_controller", "versions"]

_STARTED_AT = time.time()


def versions() -> dict[str, str]:
    """Versions of kuzzle_events and what it runs on."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    from .. import __version__

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
        return {"now": int(time.time() * 1000)}

    async def info(request: KuzzleRequest) -> dict[str, Any]:
        plugins = getattr(app, "plugin_info", None)
        return {
            "serverInfo": {
                "kuzzle": {
                    "version": versions()["kuzzle_events"],
                    "api": {"routes": api_routes(app)},
                    "versions": versions(),
                    "node": app.config.NODE,
                    "uptime": f"{int(time.time() - _STARTED_AT)}s",
                    "plugins": plugins() if callable(plugins) else {},
                },
                "services": {},
            }
        }

    async def health_check(request: KuzzleRequest) -> dict[str, Any]:
        from asgiref.sync import sync_to_async

        database = await sync_to_async(_database_status, thread_sensitive=True)()
        services = {"database": database}
        status = "green" if database == "green" else "red"
        if status != "green":
            raise errors.ServiceUnavailableError(
                f"Service unavailable: database is {database}", "app.errors.service_unavailable"
            )
        return {"status": status, "services": services}

    return {
        "actions": {
            "now": {"handler": now, "http": [{"verb": "get", "path": "/_now"}]},
            "info": {
                "handler": info,
                "http": [{"verb": "get", "path": "/"}, {"verb": "get", "path": "/_serverInfo"}],
            },
            "healthCheck": {"handler": health_check, "http": [{"verb": "get", "path": "/_healthCheck"}]},
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
