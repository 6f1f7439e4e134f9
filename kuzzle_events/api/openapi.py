"""The API described from the controller registry: ``server:publicApi`` and ``server:openapi``.

Both are built from ``app.controller`` when asked. As Kuzzle's, ``server:openapi`` has two scopes:
``kuzzle``, the built-in controllers as a Swagger 2.0 document in the shape Kuzzle generates, and
``app``, the application's and plugins' controllers as an OpenAPI 3.1 document.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

from kuzzle_events import __version__
from kuzzle_events.core.catalog import action_events

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.controllers import ActionDef
    from kuzzle_events.core.routes import Route

__all__ = ["public_api", "openapi_document", "kuzzle_document", "app_document", "OPENAPI_VERSION", "SCOPES"]

OPENAPI_VERSION = "3.1.0"
SCOPES = ("kuzzle", "app")
_CORE = "core"
_INFO = {
    "contact": {"name": "Kuzzle team", "url": "https://kuzzle.io", "email": "support@kuzzle.io"},
    "license": {"name": "Apache 2", "url": "http://opensource.org/licenses/apache2.0"},
}
_EXTERNAL_DOCS = {"description": "Kuzzle API Documentation", "url": "https://docs.kuzzle.io/core/2/api/"}
_BODY_VERBS = frozenset({"post", "put", "patch"})
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def public_api(app: Application) -> dict[str, dict[str, dict[str, Any]]]:
    """Every controller and action with its HTTP routes, in Kuzzle's shape (what its SDKs read).

    ``{"server": {"now": {"action": "now", "controller": "server", "http": [{"verb": "GET", "url":
    "/_now", "path": "/_now"}]}}}``; as in Kuzzle, an action without routes has no ``http`` key.
    ``:params`` are kept: the SDK fills them in.
    """
    api: dict[str, dict[str, dict[str, Any]]] = {}
    controllers = app.controller.controllers
    for name, controller in sorted(controllers.items()):
        # As Kuzzle's, the memoryStorage alias is listed with the routes of ms.
        routed = controllers.get("ms", controller) if name == "memoryStorage" else controller
        actions = api[name] = {}
        for action_name, act in sorted(controller.actions.items()):
            entry: dict[str, Any] = {"action": action_name, "controller": name}
            actions[action_name] = entry
            routes = act.routes or (routed.actions[action_name].routes if action_name in routed.actions else ())
            if routes:
                entry["http"] = [{"verb": r.verb.upper(), "url": r.path, "path": r.path} for r in routes]
    return api


def openapi_document(app: Application, scope: str = "app") -> dict[str, Any]:
    """The document of ``scope``: ``kuzzle`` (:func:`kuzzle_document`) or ``app`` (:func:`app_document`)."""
    return kuzzle_document(app) if scope == "kuzzle" else app_document(app)


def kuzzle_document(app: Application) -> dict[str, Any]:
    """The built-in controllers' routes as a Swagger 2.0 document, as Kuzzle generates its own.

    Each operation is tagged with its controller and summarised as ``Action: <action>.``; a
    route's ``openapi`` dict, when it has one, is the operation.
    """
    paths: dict[str, dict[str, Any]] = {}
    by_shape: dict[str, str] = {}
    tags: list[dict[str, str]] = []
    for controller_name, controller in sorted(app.controller.controllers.items()):
        if controller.owner != _CORE:
            continue
        tags.append(
            {"description": f"{controller_name[:1].upper()}{controller_name[1:]} Controller", "name": controller_name}
        )
        for action_name, act in sorted(controller.actions.items()):
            for route in act.routes:
                path = by_shape.setdefault(route.shape, _openapi_path(route))
                if route.verb in paths.setdefault(path, {}):
                    continue
                operation: dict[str, Any] = route.openapi or {
                    "description": f"Controller: {controller_name}.",
                    "summary": f"Action: {action_name}.",
                    "tags": [controller_name],
                    "responses": {"200": {"description": "OK"}},
                }
                names = _path_names(path)
                if names and not route.openapi:
                    operation["parameters"] = [
                        {"in": "path", "name": n, "required": True, "type": "string"} for n in names
                    ]
                paths[path][route.verb] = operation
    return {
        "swagger": "2.0",
        "info": {"title": "Kuzzle API", "description": "Kuzzle HTTP API definition", **_INFO, "version": __version__},
        "externalDocs": _EXTERNAL_DOCS,
        "tags": tags,
        "schemes": ["https", "http"],
        "paths": dict(sorted(paths.items())),
    }


def _path_names(path: str) -> list[str]:
    return [s[1:-1] for s in path.split("/") if s.startswith("{")]


def app_document(app: Application) -> dict[str, Any]:
    """An OpenAPI 3.1 document of every application and plugin action that has an HTTP route.

    Actions without a route are listed under ``x-kuzzle-actions-without-http-route``: they stay
    reachable over WebSocket and ``POST /_query``. A route's ``openapi`` dict is merged over the
    operation generated for it.
    """
    paths: dict[str, dict[str, Any]] = {}
    # Paths that differ only by parameter names are one path to OpenAPI: the first one seen names it.
    by_shape: dict[str, str] = {}
    operation_ids: set[str] = set()
    without_route: list[dict[str, Any]] = []
    tags: list[dict[str, str]] = []

    for controller_name, controller in sorted(app.controller.controllers.items()):
        if controller.owner == _CORE:
            continue
        tags.append({"name": controller_name})
        for action_name, act in sorted(controller.actions.items()):
            if not act.routes:
                events = action_events(controller_name, action_name)
                without_route.append({"controller": controller_name, "action": action_name, "events": events})
                continue
            for n, route in enumerate(act.routes, start=1):
                path = by_shape.setdefault(route.shape, _openapi_path(route))
                operation = _operation(act, route, path, _unique_id(act, n, operation_ids))
                paths.setdefault(path, {})[route.verb] = operation

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{app.config.APP_NAME} API",
            "version": __version__,
            "description": (
                "The application's and plugins' API actions reachable over HTTP (scope=kuzzle describes "
                "the built-in ones). Any action can also be called over WebSocket, or over HTTP with "
                "POST /_query and a body holding the whole request."
            ),
            **_INFO,
        },
        "externalDocs": _EXTERNAL_DOCS,
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": _schemas()},
        "x-kuzzle-actions-without-http-route": without_route,
    }


def _openapi_path(route: Route) -> str:
    """``/greeting/:name`` -> ``/greeting/{name}``."""
    return "/" + "/".join(f"{{{s[1:]}}}" if s.startswith(":") else s for s in route.segments)


def _unique_id(act: ActionDef, n: int, taken: set[str]) -> str:
    base = _UNSAFE_ID.sub("_", f"{act.controller}_{act.name}_{n}")
    candidate, suffix = base, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{base}_{suffix}"
    taken.add(candidate)
    return candidate


def _operation(act: ActionDef, route: Route, path: str, operation_id: str) -> dict[str, Any]:
    doc = inspect.getdoc(act.handler) or ""
    summary, _, description = doc.partition("\n")
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [act.controller],
        "summary": summary.strip() or f"{act.controller}:{act.name}",
        "x-kuzzle-controller": act.controller,
        "x-kuzzle-action": act.name,
        "x-kuzzle-events": action_events(act.controller, act.name),
    }
    if description.strip():
        operation["description"] = description.strip()
    names = _path_names(path)
    if names:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
        ]
    if route.verb in _BODY_VERBS:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    operation["responses"] = {
        "200": _response("Kuzzle's response envelope, the action's result in result", _ref("KuzzleResponse")),
        "default": _response(
            "Kuzzle's response envelope with the error; the HTTP status equals error.status",
            {
                "allOf": [
                    _ref("KuzzleResponse"),
                    {"type": "object", "required": ["error"], "properties": {"error": _ref("KuzzleError")}},
                ]
            },
        ),
    }
    return _merge(operation, route.openapi) if route.openapi else operation


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, dicts merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _schemas() -> dict[str, Any]:
    nullable_string = {"type": ["string", "null"]}
    return {
        "KuzzleError": {
            "type": "object",
            "required": ["id", "code", "message", "status", "props"],
            "properties": {
                "id": {"type": "string", "example": "api.process.action_not_found"},
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "integer", "example": 404},
                "props": {"type": "array", "items": {}},
                "stack": {"type": "string", "description": "Only in debug mode."},
            },
        },
        "KuzzleResponse": {
            "type": "object",
            "required": ["requestId", "status", "error", "controller", "action", "result"],
            "properties": {
                "requestId": {"type": "string"},
                "status": {"type": "integer"},
                "error": {"anyOf": [_ref("KuzzleError"), {"type": "null"}]},
                "controller": {"type": "string"},
                "action": {"type": "string"},
                "collection": nullable_string,
                "index": nullable_string,
                "volatile": {"type": ["object", "null"], "additionalProperties": True},
                "headers": {"type": "object", "additionalProperties": True},
                "node": {"type": "string"},
                "deprecations": {"type": "array", "items": {}, "description": "Only when there are some."},
                "result": {"description": "The action's result; null on error."},
            },
        },
    }
