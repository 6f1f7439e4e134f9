"""The ``security`` controller: users, profiles and roles.

Each action reads its arguments here, then makes one hop to its service, on Django's models:
users in :mod:`kuzzle_events.security.accounts`, roles and profiles in
:mod:`kuzzle_events.security.roles`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.paging import page
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions"]


def actions() -> Table:
    """The ``security`` controller: action -> (handler, HTTP routes)."""
    return {
        "createFirstAdmin": (
            create_first_admin,
            [route("post", "/_createFirstAdmin"), route("post", "/:_id/_createFirstAdmin")],
        ),
        "createUser": (create_user, [route("post", "/users/_create"), route("post", "/users/:_id/_create")]),
        "createRestrictedUser": (
            create_restricted_user,
            [route("post", "/users/_createRestricted"), route("post", "/users/:_id/_createRestricted")],
        ),
        "getUser": (get_user, [route("get", "/users/:_id")]),
        "updateUser": (update_user, [route("put", "/users/:_id/_update")]),
        "deleteUser": (delete_user, [route("delete", "/users/:_id")]),
        "searchUsers": (search_users, [route("post", "/users/_search")]),
        "updateCredentials": (update_credentials, [route("put", "/credentials/:strategy/:_id/_update")]),
        "createRole": (create_role, [route("post", "/roles/:_id/_create")]),
        "createOrReplaceRole": (create_or_replace_role, [route("put", "/roles/:_id")]),
        "getRole": (get_role, [route("get", "/roles/:_id")]),
        "updateRole": (update_role, [route("put", "/roles/:_id/_update")]),
        "deleteRole": (delete_role, [route("delete", "/roles/:_id")]),
        "searchRoles": (search_roles, [route("post", "/roles/_search")]),
        "createProfile": (create_profile, [route("post", "/profiles/:_id/_create")]),
        "createOrReplaceProfile": (create_or_replace_profile, [route("put", "/profiles/:_id")]),
        "getProfile": (get_profile, [route("get", "/profiles/:_id")]),
        "updateProfile": (update_profile, [route("put", "/profiles/:_id/_update")]),
        "deleteProfile": (delete_profile, [route("delete", "/profiles/:_id")]),
        "searchProfiles": (search_profiles, [route("post", "/profiles/_search")]),
    }


_accounts = Service("kuzzle_events.security.accounts")
_roles = Service("kuzzle_events.security.roles")


# Users ------------------------------------------------------------------------------------------


async def create_first_admin(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    kuid, reset = request.get_string("_id", None), request.get_boolean("reset")
    return await _accounts.create_first_admin(kuid, request.get_body(), reset)


async def create_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.create_user(request.get_string("_id", None), request.get_body())


async def create_restricted_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    kuid, profile_ids = request.get_string("_id", None), list(app.config.RESTRICTED_PROFILES)
    return await _accounts.create_restricted_user(kuid, request.get_body(), profile_ids)


async def get_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.get_user(request.get_id())


async def update_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.update_user(request.get_id(), request.get_body())


async def delete_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.delete_user(request.get_id())


async def search_users(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return page(request, await _accounts.search_users(request.get_body({}).get("query")))


async def update_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    strategy = request.get_string("strategy")
    return await _accounts.update_credentials(request.get_id(), strategy, request.get_body())


# Roles ------------------------------------------------------------------------------------------


def _known_actions(app: Application, request: KuzzleRequest) -> dict[str, list[str]] | None:
    """The actions a role may name, ``None`` when ``force`` skips the check."""
    if request.get_boolean("force"):
        return None
    return {name: list(c.actions) for name, c in app.controller.controllers.items()}


async def create_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    controllers = request.get_body().get("controllers")
    return await _roles.create_role(name, controllers, _known_actions(app, request))


async def create_or_replace_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    controllers = request.get_body().get("controllers")
    return await _roles.create_or_replace_role(name, controllers, _known_actions(app, request))


async def get_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.get_role(request.get_id())


async def update_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    update = request.get_body().get("controllers")
    return await _roles.update_role(request.get_id(), update, _known_actions(app, request))


async def delete_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.delete_role(request.get_id())


async def search_roles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return page(request, await _roles.search_roles(request.get_body({}).get("controllers")))


# Profiles ---------------------------------------------------------------------------------------


async def create_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return await _roles.create_profile(name, request.get_body().get("policies"))


async def create_or_replace_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return await _roles.create_or_replace_profile(name, request.get_body().get("policies"))


async def get_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.get_profile(request.get_id())


async def update_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.update_profile(request.get_id(), request.get_body().get("policies"))


async def delete_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.delete_profile(request.get_id())


async def search_profiles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return page(request, await _roles.search_profiles(request.get_body({}).get("roles")))


def _new_id(request: KuzzleRequest) -> str:
    """The ``_id`` of a role or profile to create: not empty, not starting with ``_``."""
    _id = request.get_string("_id")
    if not _id:
        raise errors.get("api.assert.empty_argument", "_id")
    if _id.startswith("_"):
        raise errors.get("api.assert.invalid_id")
    return _id
