"""Controllers: named groups of API actions, declared as dicts or as ``Controller`` classes.

Both forms end up as the same :class:`ControllerDef`; everything about an action (its function,
whether to await it, its routes, the names of its events) is settled here, at registration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from kuzzle_events import errors
from kuzzle_events.core.catalog import action_events
from kuzzle_events.core.routes import VERBS, DuplicateRoute, Route, Router
from kuzzle_events.core.stats import HandlerStats

__all__ = ["Controller", "action", "ActionDef", "ControllerDef", "ControllerRegistry", "kebab_case", "camel_case"]

# Kuzzle's native controllers: their names stay reserved even where we do not implement them yet,
# so that an application never shadows an action an official client expects.
BUILTIN_CONTROLLERS = frozenset(
    {
        "admin",
        "auth",
        "bulk",
        "cluster",
        "collection",
        "debug",
        "document",
        "index",
        "memoryStorage",
        "ms",
        "realtime",
        "security",
        "server",
    }
)
_ACTION_KEYS = frozenset({"handler", "http"})
_ROUTE_KEYS = frozenset({"verb", "path", "openapi", "deprecated"})
_ACTION_NAME = re.compile(r"^[A-Za-z_][\w-]*$")


def kebab_case(name: str) -> str:
    """``sayHello`` -> ``say-hello``; ``MyGreeting`` -> ``my-greeting``; ``say_hello`` -> ``say-hello``."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name)
    name = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"-\1", name)
    return name.replace("_", "-").lower()


def camel_case(name: str) -> str:
    """``say_hello`` -> ``sayHello``; names without underscores are kept."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest if part)


class ActionDef:
    """One action, ready to run: the funnel only reads these attributes."""

    __slots__ = (
        "controller",
        "name",
        "fn",
        "is_async",
        "handler",
        "routes",
        "before",
        "after",
        "error",
        "owner",
        "stats",
        "generic",
        "plan",
    )

    def __init__(
        self,
        controller: str,
        name: str,
        handler: Callable[..., Any],
        fn: Callable[..., Any],
        is_async: bool,
        routes: list[Route],
        owner: str,
    ) -> None:
        self.controller = controller
        self.name = name
        self.handler = handler
        self.fn = fn
        self.is_async = is_async
        self.routes = routes
        self.owner = owner
        self.before, self.after, self.error = action_events(controller, name)
        self.stats = HandlerStats()
        # Events fired around before<Action> and after<Action> (the generic document events),
        # with `before(events, request)` and `after(events, request)`; None for most actions.
        self.generic: Any = None
        # The funnel's (event generation, quiet) for this action; see Funnel._is_quiet.
        # (events generation, whether quiet, funnel.Listened): the funnel's, for this generation.
        self.plan: tuple[int, bool, Any] = (-1, False, None)


class ControllerDef:
    __slots__ = ("name", "owner", "actions")

    def __init__(self, name: str, owner: str, actions: dict[str, ActionDef]) -> None:
        self.name = name
        self.owner = owner
        self.actions = actions


class _ActionMark:
    __slots__ = ("name", "http")

    def __init__(self, name: str | None, http: list[dict[str, Any]] | None) -> None:
        self.name = name
        self.http = http


def action(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    http: list[dict[str, Any]] | None = None,
) -> Any:
    """Mark a ``Controller`` method as an API action.

    ``say_hello`` becomes the action ``sayHello`` unless ``name`` says otherwise; ``http`` is the
    route list of the dict form (``[{"verb": "post", "path": "/greeting/:name"}]``), ``[]`` for none.
    The mark is only metadata: the action exists once the controller is registered.
    """

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__kuzzle_action__ = _ActionMark(name, http)  # type: ignore[attr-defined]
        return method

    return mark(fn) if fn is not None else mark


class Controller:
    """Base class of class-form controllers; see :func:`action`.

    The controller name is ``name`` if set, else the class name in kebab case without its
    ``Controller`` suffix (``GreetingController`` -> ``greeting``).
    """

    name: ClassVar[str | None] = None

    @classmethod
    def controller_name(cls) -> str:
        if cls.name:
            return cls.name
        base = cls.__name__
        if base.endswith("Controller") and base != "Controller":
            base = base[: -len("Controller")]
        return kebab_case(base)

    def definition(self) -> dict[str, Any]:
        """The dict form of this controller, built from its ``@action`` methods."""
        actions: dict[str, Any] = {}
        for attr in dir(type(self)):
            mark = getattr(getattr(type(self), attr, None), "__kuzzle_action__", None)
            if not isinstance(mark, _ActionMark):
                continue
            spec: dict[str, Any] = {"handler": getattr(self, attr)}
            if mark.http is not None:
                spec["http"] = mark.http
            actions[mark.name or camel_case(attr)] = spec
        return {"actions": actions}


Adapter = Callable[[Callable[..., Any]], tuple[Callable[..., Any], bool]]


class ControllerRegistry:
    """``app.controller``: every controller, their actions and HTTP routes."""

    def __init__(self, adapt: Adapter, guard: Callable[[str], None] | None = None) -> None:
        self._adapt = adapt
        self._guard = guard
        self.controllers: dict[str, ControllerDef] = {}
        self.router = Router()

    def register(
        self,
        name: str,
        definition: dict[str, Any],
        *,
        owner: str = "application",
        route_prefix: str = "",
        builtin: bool = False,
    ) -> ControllerDef:
        """Add the controller ``name``; ``plugin.assert.invalid_controller_definition`` if it is wrong."""
        if self._guard is not None and not builtin:
            self._guard("controller")

        def invalid(detail: str) -> errors.KuzzleError:
            return errors.get("plugin.assert.invalid_controller_definition", name, detail)

        if not isinstance(name, str) or not name:
            raise invalid("the controller name must be a non-empty string")
        if not builtin and name in BUILTIN_CONTROLLERS:
            raise invalid(f'"{name}" is the name of a built-in controller')
        if name in self.controllers:
            raise invalid(f'a controller named "{name}" is already registered')
        if not isinstance(definition, dict):
            raise invalid('the definition must be a dict with an "actions" key')
        unknown = set(definition) - {"actions"}
        if unknown:
            raise invalid(f"unknown key(s) {sorted(unknown)} (expected: actions)")
        actions = definition.get("actions")
        if not isinstance(actions, dict):
            raise invalid('"actions" must be a dict of action name -> {"handler": ..., "http": [...]}')

        built: dict[str, ActionDef] = {}
        routes: list[Route] = []
        for action_name, spec in actions.items():
            built[action_name] = self._build_action(name, action_name, spec, owner, route_prefix, invalid)
            routes.extend(built[action_name].routes)
        staged = Router()
        for route in routes:
            existing = self.router.find_duplicate(route)
            try:
                if existing is not None:
                    raise DuplicateRoute(route, existing)
                staged.add(route)
            except DuplicateRoute as duplicate:
                raise invalid(f"duplicate HTTP route: {duplicate}") from None
        # Validated whole: now nothing below can fail half-way.
        self.router.add_all(routes)
        controller = ControllerDef(name, owner, built)
        self.controllers[name] = controller
        return controller

    def _build_action(
        self,
        controller: str,
        name: Any,
        spec: Any,
        owner: str,
        route_prefix: str,
        invalid: Callable[[str], errors.KuzzleError],
    ) -> ActionDef:
        if not isinstance(name, str) or not _ACTION_NAME.match(name):
            raise invalid(f"invalid action name {name!r}")
        if not isinstance(spec, dict):
            raise invalid(f'action "{name}": expected a dict with a "handler"')
        unknown = set(spec) - _ACTION_KEYS
        if unknown:
            raise invalid(f'action "{name}": unknown key(s) {sorted(unknown)} (expected: handler, http)')
        handler = spec.get("handler")
        if not callable(handler):
            raise invalid(f'action "{name}": the handler {handler!r} is not callable')
        http = spec.get("http")
        routes: list[Route] = []
        if http is None:
            # Plugin controllers ("<plugin>/<controller>") default under their plugin's prefix.
            base = kebab_case(controller.rpartition("/")[2])
            path = f"{route_prefix}/{base}/{kebab_case(name)}" if route_prefix else f"/_/{base}/{kebab_case(name)}"
            routes.append(Route("get", path, controller, name))
        elif not isinstance(http, list):
            raise invalid(f'action "{name}": "http" must be a list of {{"verb", "path"}} routes')
        else:
            for item in http:
                routes.append(self._build_route(controller, name, item, route_prefix, invalid))
        fn, is_async = self._adapt(handler)
        return ActionDef(controller, name, handler, fn, is_async, routes, owner)

    @staticmethod
    def _build_route(
        controller: str, action: str, item: Any, prefix: str, invalid: Callable[[str], errors.KuzzleError]
    ) -> Route:
        if not isinstance(item, dict):
            raise invalid(f'action "{action}": each route must be a dict with "verb" and "path"')
        unknown = set(item) - _ROUTE_KEYS
        if unknown:
            raise invalid(f'action "{action}": unknown route key(s) {sorted(unknown)}')
        verb, path = item.get("verb"), item.get("path")
        if not isinstance(verb, str) or verb.lower() not in VERBS:
            raise invalid(f'action "{action}": verb {verb!r} is not one of {", ".join(VERBS)}')
        if not isinstance(path, str) or not path.strip():
            raise invalid(f'action "{action}": path {path!r} must be a non-empty string')
        full = path if path.startswith("/") or prefix else f"/_/{path}"
        full = "/" + "/".join(p for p in f"{prefix}/{full}".split("/") if p)
        deprecated = item.get("deprecated")
        if deprecated is not None:
            if not (
                isinstance(deprecated, dict)
                and isinstance(deprecated.get("since"), str)
                and isinstance(deprecated.get("message"), str)
            ):
                raise invalid(f'action "{action}": "deprecated" must be {{"since": str, "message": str}}')
            deprecated = (deprecated["since"], deprecated["message"])
        return Route(verb.lower(), full, controller, action, item.get("openapi"), deprecated)

    def use(self, controller: Controller, *, owner: str = "application", route_prefix: str = "") -> ControllerDef:
        """Register a ``Controller`` instance under its :meth:`Controller.controller_name`."""
        if not isinstance(controller, Controller):
            raise errors.get(
                "plugin.assert.invalid_controller_definition",
                type(controller).__name__,
                "app.controller.use() takes an instance of kuzzle_events.Controller",
            )
        definition = controller.definition()
        if not definition["actions"]:
            raise errors.get(
                "plugin.assert.invalid_controller_definition",
                controller.controller_name(),
                f"{type(controller).__qualname__} has no @action method: mark its actions with "
                "@action (from kuzzle_events import action)",
            )
        return self.register(controller.controller_name(), definition, owner=owner, route_prefix=route_prefix)

    def find(self, controller: Any, action: Any) -> ActionDef | None:
        """The action, or None when there is none (without building the error :meth:`get` raises)."""
        try:
            found = self.controllers.get(controller)
            return found.actions.get(action) if found is not None else None
        except TypeError:  # an unhashable name sent by a client
            return None

    def get(self, controller: str | None, action: str | None) -> ActionDef:
        """The action, or Kuzzle's 404 ``api.process.controller_not_found`` / ``action_not_found``
        (400 ``api.assert.invalid_type`` for a name that is not a string)."""
        for argument, value in (("controller", controller), ("action", action)):
            if value is None or value == "":  # (Kuzzle's funnel: a request must name both)
                raise errors.get("api.assert.missing_argument", argument)
            if not isinstance(value, str):
                raise errors.get("api.assert.invalid_type", argument, "string")
        found = self.controllers.get(controller)  # type: ignore[arg-type]
        if found is None:
            raise errors.get("api.process.controller_not_found", controller)
        act = found.actions.get(action)  # type: ignore[arg-type]
        if act is None:
            raise errors.get("api.process.action_not_found", controller, action)
        return act
