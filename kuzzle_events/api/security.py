"""The ``security`` controller: users, profiles, roles, their credentials, API keys and mappings.

Each action reads its arguments here, then makes one hop to its service, on Django's models:
users in :mod:`kuzzle_events.security.accounts`, their ``local`` credentials in
:mod:`kuzzle_events.security.credentials`, roles and profiles in :mod:`kuzzle_events.security.roles`,
mappings in :mod:`kuzzle_events.security.mappings`. Searches and scrolls are in
:mod:`kuzzle_events.api.security_search`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api import auth
from kuzzle_events.api.security_credentials import (
    create_credentials,
    delete_credentials,
    get_all_credential_fields,
    get_credential_fields,
    get_credentials,
    get_credentials_by_id,
    has_credentials,
    update_credentials,
    validate_credentials,
)
from kuzzle_events.api.security_search import (
    scroll_profiles,
    scroll_users,
    search_profiles,
    search_roles,
    search_users,
    search_users_by_credentials,
)
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route
from kuzzle_events.core.request import ANONYMOUS
from kuzzle_events.security.rights import PSEUDO_ACTIONS

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions"]

SECURITY_COLLECTIONS = ("users", "profiles", "roles")


def actions() -> Table:
    """The ``security`` controller: action -> (handler, HTTP routes), Kuzzle's."""
    credentials = "/credentials/:strategy/:_id"
    keys = "/users/:userId/api-keys"
    return {
        # Users
        "createFirstAdmin": (
            create_first_admin,
            [route("post", "/_createFirstAdmin"), route("post", "/_createFirstAdmin/:_id")],
        ),
        "restrictDefaultRights": (restrict_default_rights, [route("post", "/_restrictDefaultRights")]),
        "createUser": (create_user, [route("post", "/users/_create"), route("post", "/users/:_id/_create")]),
        "createRestrictedUser": (
            create_restricted_user,
            [route("post", "/users/_createRestricted"), route("post", "/users/:_id/_createRestricted")],
        ),
        "getUser": (get_user, [route("get", "/users/:_id")]),
        "mGetUsers": (m_get_users, [route("post", "/users/_mGet"), route("get", "/users/_mGet")]),
        "updateUser": (update_user, [route("put", "/users/:_id/_update")]),
        "upsertUser": (upsert_user, [route("post", "/users/:_id/_upsert")]),
        "replaceUser": (replace_user, [route("put", "/users/:_id/_replace")]),
        "deleteUser": (delete_user, [route("delete", "/users/:_id")]),
        "mDeleteUsers": (m_delete_users, [route("post", "/users/_mDelete")]),
        "searchUsers": (search_users, [route("post", "/users/_search")]),
        "scrollUsers": (scroll_users, [route("get", "/users/_scroll/:scrollId")]),
        "getUserRights": (get_user_rights, [route("get", "/users/:_id/_rights")]),
        "getUserStrategies": (get_user_strategies, [route("get", "/users/:_id/_strategies")]),
        "checkRights": (check_rights, [route("post", "/_checkRights/:userId")]),
        "revokeTokens": (revoke_tokens, [route("delete", "/users/:_id/tokens")]),
        # API keys of any user
        "createApiKey": (create_api_key, [route("post", f"{keys}/_create")]),
        "searchApiKeys": (search_api_keys, [route("post", f"{keys}/_search")]),
        "deleteApiKey": (delete_api_key, [route("delete", f"{keys}/:_id")]),
        # Credentials
        "createCredentials": (create_credentials, [route("post", f"{credentials}/_create")]),
        "updateCredentials": (update_credentials, [route("put", f"{credentials}/_update")]),
        "hasCredentials": (has_credentials, [route("get", f"{credentials}/_exists")]),
        "validateCredentials": (validate_credentials, [route("post", f"{credentials}/_validate")]),
        "deleteCredentials": (delete_credentials, [route("delete", credentials)]),
        "getCredentials": (get_credentials, [route("get", credentials)]),
        "getCredentialsById": (get_credentials_by_id, [route("get", f"{credentials}/_byId")]),
        "getCredentialFields": (get_credential_fields, [route("get", "/credentials/:strategy/_fields")]),
        "getAllCredentialFields": (get_all_credential_fields, [route("get", "/credentials/_fields")]),
        "searchUsersByCredentials": (
            search_users_by_credentials,
            [route("post", "/credentials/:strategy/users/_search")],
        ),
        # Roles
        "createRole": (create_role, [route("post", "/roles/:_id/_create")]),
        "createOrReplaceRole": (create_or_replace_role, [route("put", "/roles/:_id")]),
        "getRole": (get_role, [route("get", "/roles/:_id")]),
        "mGetRoles": (m_get_roles, [route("post", "/roles/_mGet")]),
        "updateRole": (update_role, [route("put", "/roles/:_id/_update")]),
        "deleteRole": (delete_role, [route("delete", "/roles/:_id")]),
        "mDeleteRoles": (m_delete_roles, [route("post", "/roles/_mDelete")]),
        "searchRoles": (search_roles, [route("post", "/roles/_search")]),
        # Profiles
        "createProfile": (create_profile, [route("post", "/profiles/:_id/_create")]),
        "createOrReplaceProfile": (create_or_replace_profile, [route("put", "/profiles/:_id")]),
        "getProfile": (get_profile, [route("get", "/profiles/:_id")]),
        "mGetProfiles": (m_get_profiles, [route("post", "/profiles/_mGet")]),
        "updateProfile": (update_profile, [route("put", "/profiles/:_id/_update")]),
        "deleteProfile": (delete_profile, [route("delete", "/profiles/:_id")]),
        "mDeleteProfiles": (m_delete_profiles, [route("post", "/profiles/_mDelete")]),
        "searchProfiles": (search_profiles, [route("post", "/profiles/_search")]),
        "scrollProfiles": (scroll_profiles, [route("get", "/profiles/_scroll/:scrollId")]),
        "getProfileRights": (get_profile_rights, [route("get", "/profiles/:_id/_rights")]),
        # Collections
        "getUserMapping": (get_user_mapping, [route("get", "/users/_mapping")]),
        "updateUserMapping": (update_user_mapping, [route("put", "/users/_mapping")]),
        "getProfileMapping": (get_profile_mapping, [route("get", "/profiles/_mapping")]),
        "updateProfileMapping": (update_profile_mapping, [route("put", "/profiles/_mapping")]),
        "getRoleMapping": (get_role_mapping, [route("get", "/roles/_mapping")]),
        "updateRoleMapping": (update_role_mapping, [route("put", "/roles/_mapping")]),
        "refresh": (refresh, [route("post", "/_security/:collection/_refresh")]),
    }


_accounts = Service("kuzzle_events.security.accounts")
_credentials = Service("kuzzle_events.security.credentials")
_roles = Service("kuzzle_events.security.roles")
_mappings = Service("kuzzle_events.security.mappings")


# Users ------------------------------------------------------------------------------------------


async def create_first_admin(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    kuid, reset = request.get_string("_id", None), request.get_boolean("reset")
    return await _accounts.create_first_admin(kuid, request.get_body(), reset)


async def restrict_default_rights(app: Application, request: KuzzleRequest) -> None:
    """Give the base roles and profiles Kuzzle's rights again."""
    await _accounts.restrict_default_rights()


async def create_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.create_user(request.get_string("_id", None), request.get_body())


async def create_restricted_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    kuid, profile_ids = request.get_string("_id", None), list(app.config.RESTRICTED_PROFILES)
    return await _accounts.create_restricted_user(kuid, request.get_body(), profile_ids)


async def get_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.get_user(request.get_id())


async def m_get_users(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The users of ``body.ids`` (or ``ids``, an array or a comma-separated string) that exist."""
    body = request.input.body if isinstance(request.input.body, dict) else {}
    ids = body.get("ids") if body.get("ids") else request.input.args.get("ids")
    if isinstance(ids, str):
        ids = [part for part in ids.split(",") if part]
    return {"hits": await _accounts.m_get_users(_ids(ids, "ids"))}


async def update_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.update_user(request.get_id(), request.get_body())


async def upsert_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.upsert_user(request.get_id(), request.get_body())


async def replace_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.replace_user(request.get_id(), request.get_body())


async def delete_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _accounts.delete_user(request.get_id())


async def m_delete_users(app: Application, request: KuzzleRequest) -> list[str]:
    return await _m_delete(request, "user")


async def get_user_rights(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Every action of the API, allowed or denied for a user."""
    return await _rights_of(app, await _accounts.profile_ids_of(request.get_id()))


async def get_user_strategies(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    kuid = request.get_id()
    strategies = [] if kuid == ANONYMOUS.id else await _credentials.strategies_of(kuid)
    return {"strategies": strategies, "total": len(strategies)}


async def check_rights(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Whether the user ``userId`` may run the request in the body: ``{"allowed": bool}``."""
    profile_ids = await _accounts.profile_ids_of(request.get_string("userId"))
    return {"allowed": await auth.allowed(app, request, profile_ids)}


async def revoke_tokens(app: Application, request: KuzzleRequest) -> None:
    """Revoke every token of a user, API keys included."""
    await _accounts.revoke_tokens(request.get_id())


# API keys ---------------------------------------------------------------------------------------


async def create_api_key(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """An API key for the user ``userId`` (``TOKEN_MAX_TTL`` does not apply, as in Kuzzle)."""
    return await auth.new_api_key(app, request, request.get_string("userId"), check_max_ttl=False)


async def search_api_keys(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await auth.find_api_keys(app, request, request.get_string("userId"))


async def delete_api_key(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await auth.drop_api_key(app, request.get_string("userId"), request.get_id())


# Roles ------------------------------------------------------------------------------------------


def _known_actions(app: Application, request: KuzzleRequest) -> dict[str, list[str]] | None:
    """The actions a role may name, ``None`` when ``force`` skips the check."""
    if request.get_boolean("force"):
        return None
    known = {name: list(c.actions) for name, c in app.controller.controllers.items()}
    for controller, actions in PSEUDO_ACTIONS.items():  # rights a role may grant besides actions
        known.setdefault(controller, []).extend(actions)
    return known


async def create_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return await _roles.create_role(name, request.get_body(), _known_actions(app, request))


async def create_or_replace_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return await _roles.create_or_replace_role(name, request.get_body(), _known_actions(app, request))


async def get_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.get_role(request.get_id())


async def m_get_roles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return {"hits": await _roles.m_get_roles(_ids(request.get_body().get("ids"), "body.ids"))}


async def update_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Replace the role's ``controllers`` (and any other field the body gives), as Kuzzle does."""
    return await _roles.update_role(request.get_id(), request.get_body(), _known_actions(app, request))


async def delete_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.delete_role(request.get_id())


async def m_delete_roles(app: Application, request: KuzzleRequest) -> list[str]:
    return await _m_delete(request, "role")


# Profiles ---------------------------------------------------------------------------------------


async def create_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A new profile; ``strict``: the indexes and collections of ``restrictedTo`` must exist."""
    name = _new_id(request)
    return await _roles.create_profile(name, request.get_body(), request.get_boolean("strict"))


async def create_or_replace_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return await _roles.create_or_replace_profile(name, request.get_body(), request.get_boolean("strict"))


async def get_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _roles.get_profile(request.get_id())


async def m_get_profiles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return {"hits": await _roles.m_get_profiles(_ids(request.get_body().get("ids"), "body.ids"))}


async def update_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    body = request.get_body()
    return await _roles.update_profile(request.get_id(), body, request.get_boolean("strict"))


async def delete_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete a profile; ``onAssignedUsers: "remove"`` takes it from its users first."""
    on_assigned_users = request.get_string("onAssignedUsers", "fail")
    return await _roles.delete_profile(request.get_id(), on_assigned_users)


async def m_delete_profiles(app: Application, request: KuzzleRequest) -> list[str]:
    return await _m_delete(request, "profile")


async def get_profile_rights(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Every action of the API, allowed or denied for a profile."""
    profile = await _roles.get_profile(request.get_id())
    return await _rights_of(app, [profile["_id"]])


# Collections ------------------------------------------------------------------------------------


async def get_user_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _mappings.get_mapping("users")


async def update_user_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _mappings.update_mapping("users", request.get_body())


async def get_profile_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _mappings.get_mapping("profiles")


async def update_profile_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _mappings.update_mapping("profiles", request.get_body())


async def get_role_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _mappings.get_mapping("roles")


async def update_role_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _mappings.update_mapping("roles", request.get_body())


async def refresh(app: Application, request: KuzzleRequest) -> None:
    """Kuzzle's index refresh: nothing to wait for in a database, but the collection is checked."""
    collection = request.get_collection()
    if collection not in SECURITY_COLLECTIONS:
        raise errors.get("api.assert.unexpected_argument", collection, list(SECURITY_COLLECTIONS))


# Shared -----------------------------------------------------------------------------------------


async def _rights_of(app: Application, profile_ids: list[str]) -> dict[str, Any]:
    rights = await app.security.rights()
    known = [(c.name, a) for c in app.controller.controllers.values() for a in c.actions]
    hits = rights.granted(profile_ids, known)
    return {"hits": hits, "total": len(hits)}


async def _m_delete(request: KuzzleRequest, kind: str) -> list[str]:
    """Delete ``body.ids``; 206 ``services.storage.incomplete_delete`` listing those that failed."""
    done, failed = await _roles.m_delete(kind, _ids(request.get_body().get("ids"), "body.ids"))
    if failed:
        error = errors.get("services.storage.incomplete_delete", ", ".join(e["message"] for e in failed))
        if isinstance(error, errors.PartialError):
            error.errors = failed
        raise error
    return done


def _ids(value: Any, name: str) -> list[str]:
    if value is None:
        raise errors.get("api.assert.missing_argument", name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.get("api.assert.invalid_type", name, "array of strings")
    return value


def _new_id(request: KuzzleRequest) -> str:
    """The ``_id`` of a role or profile to create: not empty, not starting with ``_``."""
    _id = request.get_string("_id")
    if not _id:
        raise errors.get("api.assert.empty_argument", "_id")
    if _id.startswith("_"):
        raise errors.get("api.assert.invalid_id")
    return _id
