"""The ``security`` controller: users, profiles and roles (see :mod:`.security_actions`).

Its actions use Django's models, which cannot be imported before Django's apps are ready, while
built-in controllers are registered when an application is created; so each handler imports the
actions module on its first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["security_controller", "ROUTES"]


def _route(verb: str, path: str) -> dict[str, str]:
    return {"verb": verb, "path": path}


# Kuzzle's HTTP routes of each action.
ROUTES: dict[str, list[dict[str, str]]] = {
    "createFirstAdmin": [_route("post", "/_createFirstAdmin"), _route("post", "/:_id/_createFirstAdmin")],
    "createUser": [_route("post", "/users/_create"), _route("post", "/users/:_id/_create")],
    "createRestrictedUser": [
        _route("post", "/users/_createRestricted"),
        _route("post", "/users/:_id/_createRestricted"),
    ],
    "getUser": [_route("get", "/users/:_id")],
    "updateUser": [_route("put", "/users/:_id/_update")],
    "deleteUser": [_route("delete", "/users/:_id")],
    "searchUsers": [_route("post", "/users/_search")],
    "updateCredentials": [_route("put", "/credentials/:strategy/:_id/_update")],
    "createRole": [_route("post", "/roles/:_id/_create")],
    "createOrReplaceRole": [_route("put", "/roles/:_id")],
    "getRole": [_route("get", "/roles/:_id")],
    "updateRole": [_route("put", "/roles/:_id/_update")],
    "deleteRole": [_route("delete", "/roles/:_id")],
    "searchRoles": [_route("post", "/roles/_search")],
    "createProfile": [_route("post", "/profiles/:_id/_create")],
    "createOrReplaceProfile": [_route("put", "/profiles/:_id")],
    "getProfile": [_route("get", "/profiles/:_id")],
    "updateProfile": [_route("put", "/profiles/:_id/_update")],
    "deleteProfile": [_route("delete", "/profiles/:_id")],
    "searchProfiles": [_route("post", "/profiles/_search")],
}


def _deferred(app: Application, name: str) -> Callable[[KuzzleRequest], Any]:
    # A plain function: the core runs it in Django's sync thread, where the ORM may be used.
    def handler(request: KuzzleRequest) -> Any:
        from kuzzle_events.api.security_actions import HANDLERS

        return HANDLERS[name](app, request)

    handler.__name__ = handler.__qualname__ = f"security.{name}"
    return handler


def security_controller(app: Application) -> dict[str, Any]:
    return {"actions": {name: {"handler": _deferred(app, name), "http": http} for name, http in ROUTES.items()}}
