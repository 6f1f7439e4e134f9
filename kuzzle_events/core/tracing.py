"""``KUZZLE_DEBUG`` namespaces, in the manner of the ``debug`` package's ``DEBUG``.

``KUZZLE_DEBUG=kuzzle:events,kuzzle:http`` (``*`` wildcards, ``-name`` exclusions) turns on
messages such as ``kuzzle:events Triggering pipe "server:beforeNow" with payload: [...] +0ms``.
They go through Python's logging (logger ``kuzzle_events.debug.<namespace>``) and, when the logger
has nowhere to go, to stderr. A namespace that is off costs one boolean test at the call site.
"""

from __future__ import annotations

import fnmatch
import logging
import sys
from time import perf_counter
from typing import Any

__all__ = ["Debugger", "enabled_namespaces", "NAMESPACES", "shortened"]

NAMESPACES = ("kuzzle:events", "kuzzle:funnel", "kuzzle:http", "kuzzle:websocket", "kuzzle:plugins")

_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(message)s"))


def enabled_namespaces(spec: str, namespace: str) -> bool:
    """Whether ``namespace`` is switched on by a ``KUZZLE_DEBUG`` value."""
    on = False
    for part in (p.strip() for p in spec.replace(" ", ",").split(",")):
        if not part:
            continue
        if part.startswith("-"):
            if fnmatch.fnmatchcase(namespace, part[1:]):
                return False
        elif fnmatch.fnmatchcase(namespace, part) or fnmatch.fnmatchcase(namespace, part.rstrip("*").rstrip(":")):
            on = True
    return on


class Debugger:
    """Messages of one namespace; ``enabled`` is read by callers before building a message."""

    def __init__(self, namespace: str, spec: str) -> None:
        self.namespace = namespace
        self.enabled = enabled_namespaces(spec, namespace)
        self.logger = logging.getLogger("kuzzle_events.debug." + namespace.replace(":", "."))
        self._last: float | None = None
        if self.enabled:
            self.logger.setLevel(logging.DEBUG)
            if not self.logger.hasHandlers() and _handler not in self.logger.handlers:
                self.logger.addHandler(_handler)

    def __call__(self, message: str, *args: Any) -> None:
        if not self.enabled:
            return
        now = perf_counter()
        delta = 0 if self._last is None else round((now - self._last) * 1000)
        self._last = now
        text = message % args if args else message
        self.logger.debug("%s %s +%dms", self.namespace, text, delta)


def shortened(payload: tuple[Any, ...], limit: int = 500) -> str:
    """An event's payload as a debug message shows it: its repr, cut past ``limit`` characters."""
    text = repr(list(payload))
    return text if len(text) <= limit else text[:limit] + "...]"
