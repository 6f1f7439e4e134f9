"""What the server runs on, as ``server:info``, ``server:capabilities`` and ``server:getConfig`` show it.

The storage (Django's database), the cache (Django's default cache) and the channel layer
(Channels'), each with its backend and version; the machine and the process.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from importlib import metadata
from typing import Any

__all__ = ["services", "system", "memory_used", "uptime", "runtime_version", "package_version"]

_STARTED_AT = time.monotonic()


def package_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, ``"unknown"`` if it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def runtime_version() -> str:
    """The runtime's version, as Kuzzle gives Node's: ``v3.11.9``."""
    return f"v{platform.python_version()}"


def uptime() -> str:
    """Seconds since this process imported kuzzle_events, as Kuzzle writes it: ``"12.5s"``."""
    return f"{time.monotonic() - _STARTED_AT:.3f}s"


def memory_used() -> int:
    """This process's resident memory, in bytes (Node's ``process.memoryUsage().rss``)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        # Peak rather than current where /proc is missing; ru_maxrss is in KiB on Linux, bytes on macOS.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)


def system() -> dict[str, Any]:
    """The machine: CPUs and memory, in the shape of Kuzzle's ``serverInfo.kuzzle.system``."""
    memory: dict[str, int] = {}
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = {"total": pages * size, "free": os.sysconf("SC_AVPHYS_PAGES") * size}
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpus": [{"model": platform.processor() or platform.machine()} for _ in range(os.cpu_count() or 1)],
        "memory": memory,
        "platform": sys.platform,
        "release": platform.release(),
    }


def storage() -> dict[str, Any]:
    """Django's default database: its vendor and server version (sync: it may connect)."""
    from django.db import connection

    described: dict[str, Any] = {"type": "database", "backend": connection.vendor, "version": "unknown"}
    try:
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            import sqlite3

            described["version"] = sqlite3.sqlite_version
        elif connection.vendor == "postgresql":
            number = int(connection.pg_version)
            described["version"] = f"{number // 10000}.{number % 10000}"
        else:
            described["version"] = ".".join(str(part) for part in getattr(connection, "mysql_version", ()))
        described["status"] = "green"
    except Exception as error:  # the database is down: say so rather than fail server:info
        described["status"] = "red"
        described["error"] = str(error)
    return described


def cache() -> dict[str, Any]:
    """Django's default cache: its backend, and the Redis server's version when it is Redis (sync)."""
    from django.core.cache import cache as default_cache

    backend = type(default_cache)
    described: dict[str, Any] = {
        "type": "cache",
        "backend": f"{backend.__module__}.{backend.__qualname__}",
        "version": package_version("Django"),
    }
    client: Any = getattr(default_cache, "_cache", None)
    if client is not None and hasattr(client, "get_client"):  # django.core.cache.backends.redis.RedisCache
        try:
            described["version"] = str(client.get_client().info("server").get("redis_version", "unknown"))
            described["backend"] = "redis"
        except Exception as error:
            described["status"], described["error"] = "red", str(error)
    return described


def channel_layer() -> dict[str, Any]:
    """Channels' default layer: its backend class and the version of the package providing it."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return {"type": "channelLayer", "backend": "none", "version": "unknown"}
    backend = type(layer)
    package = backend.__module__.split(".")[0].replace("_", "-")
    return {
        "type": "channelLayer",
        "backend": f"{backend.__module__}.{backend.__qualname__}",
        "version": package_version(package),
    }


def services() -> dict[str, Any]:
    """Kuzzle's service names, on what serves them here (sync: it may connect to the database).

    Kuzzle's internal and public storage are both Django's database; its internal cache is Django's
    cache; the memory storage of Kuzzle's ``ms`` controller is the application's
    (``server:info`` asks it: :meth:`kuzzle_events.memory_storage.MemoryStorage.describe`).
    """
    database = storage()
    return {
        "internalStorage": database,
        "publicStorage": database,
        "internalCache": cache(),
        "channelLayer": channel_layer(),
    }
