"""HTTP routes of actions: compiled once, matched segment by segment.

Literal segments win over ``:param`` segments, trailing slashes are ignored, and a URL that matches
a path under another verb is told apart from one that matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Route", "Router", "VERBS", "normalize_path", "DuplicateRoute"]

VERBS = ("get", "head", "post", "put", "patch", "delete")


def normalize_path(path: str) -> str:
    """``/a//b/`` -> ``/a/b``; the root stays ``/``."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts)


@dataclass(frozen=True)
class Route:
    verb: str
    path: str
    controller: str
    action: str
    openapi: dict[str, Any] | None = field(default=None, compare=False)
    # (version, message): a route kept for older clients, named in the answers' "deprecations".
    deprecated: tuple[str, str] | None = field(default=None, compare=False)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(p for p in self.path.split("/") if p)

    @property
    def shape(self) -> str:
        """The path with parameter names erased: two routes of one shape collide."""
        return "/" + "/".join(":" if s.startswith(":") else s for s in self.segments)


class DuplicateRoute(ValueError):
    def __init__(self, route: Route, existing: Route) -> None:
        super().__init__(
            f"{route.verb.upper()} {route.path} ({route.controller}:{route.action}) is already used by "
            f"{existing.controller}:{existing.action}"
        )
        self.route = route
        self.existing = existing


class _Node:
    __slots__ = ("literal", "param", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.routes: dict[str, Route] = {}


class Router:
    """Routes of every action, matched by verb and path."""

    def __init__(self) -> None:
        self._root = _Node()
        self._routes: list[Route] = []
        # Routes without parameters by (verb, path as written in the route): most requests name
        # one (GET /_now, POST /_login...), found with one dict lookup instead of a walk. The walk
        # would find the same route: it tries literal segments before parameters.
        self._static: dict[tuple[str, str], Route] = {}
        # Routes by (verb, shape): a new route's collision is one lookup, not a pass over every
        # route (an application registers hundreds of them at its construction).
        self._shapes: dict[tuple[str, str], Route] = {}

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def find_duplicate(self, route: Route) -> Route | None:
        return self._shapes.get((route.verb, route.shape))

    def add(self, route: Route) -> None:
        existing = self.find_duplicate(route)
        if existing is not None:
            raise DuplicateRoute(route, existing)
        node = self._root
        for segment in route.segments:
            if segment.startswith(":"):
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.literal.setdefault(segment, _Node())
        node.routes[route.verb] = route
        self._routes.append(route)
        self._shapes[(route.verb, route.shape)] = route
        if all(not segment.startswith(":") for segment in route.segments):
            self._static[(route.verb, normalize_path(route.path))] = route

    def add_all(self, routes: Iterable[Route]) -> None:
        for route in routes:
            self.add(route)

    def match(self, verb: str, path: str) -> tuple[Route, dict[str, str]] | None | bool:
        """``(route, params)``; ``False`` if the path exists under other verbs; ``None`` if not at all."""
        verb = verb.lower()
        static = self._static
        if static:
            route = static.get((verb, path))
            if route is None and verb == "head":
                route = static.get(("get", path))
            if route is not None:
                return route, {}
        segments = [s for s in path.split("/") if s]
        found: tuple[Route, list[str]] | bool | None = self._walk(self._root, segments, 0, verb, [])
        if isinstance(found, tuple):
            route, values = found
            names = [s[1:] for s in route.segments if s.startswith(":")]
            return route, dict(zip(names, values))
        return found

    def _walk(self, node: _Node, segments: list[str], i: int, verb: str, values: list[str]) -> Any:
        if i == len(segments):
            if not node.routes:
                return None
            route = node.routes.get(verb) or (node.routes.get("get") if verb == "head" else None)
            return (route, list(values)) if route else False
        partial: Any = None
        child = node.literal.get(segments[i])
        if child is not None:
            found = self._walk(child, segments, i + 1, verb, values)
            if isinstance(found, tuple):
                return found
            if found is False:
                partial = False
        if node.param is not None:
            values.append(segments[i])
            found = self._walk(node.param, segments, i + 1, verb, values)
            values.pop()
            if isinstance(found, tuple):
                return found
            if found is False:
                partial = False
        return partial

    def verbs_for(self, path: str) -> list[str]:
        return [v for v in VERBS if isinstance(self.match(v, path), tuple)]
