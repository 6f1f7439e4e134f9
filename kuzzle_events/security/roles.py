"""Roles and profiles of the ``security`` controller: create, read, change, delete, search.

Plain sync functions on the ORM, called through one thread hop each. The base roles and profiles
(``RESERVED``) may be changed but never deleted; a role or profile still in use may not be either
(a profile may, with ``onAssignedUsers: "remove"``: its users lose it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.models import RESERVED, Collection, Index, KuzzleUser, Profile, Role
from kuzzle_events.security.queries import Matcher, string_list
from kuzzle_events.security.rights import role_allows, validate_role

__all__ = [
    "create_role",
    "create_or_replace_role",
    "get_role",
    "m_get_roles",
    "update_role",
    "delete_role",
    "search_roles",
    "create_profile",
    "create_or_replace_profile",
    "get_profile",
    "m_get_profiles",
    "update_profile",
    "delete_profile",
    "search_profiles",
    "m_delete",
]

Known = Mapping[str, Iterable[str]] | None
"""The controllers and actions a role may name; ``None`` (``force``) skips that check."""


# Roles ------------------------------------------------------------------------------------------


def create_role(name: str, body: dict[str, Any], known: Known) -> dict[str, Any]:
    controllers, extra = _checked_role(name, body, known)
    with transaction.atomic():
        if Role.objects.filter(name=name).exists():
            raise errors.get("security.role.already_exists", name)
        return Role.objects.create(name=name, controllers=controllers, extra=extra).to_kuzzle()


def create_or_replace_role(name: str, body: dict[str, Any], known: Known) -> dict[str, Any]:
    controllers, extra = _checked_role(name, body, known)
    role, _ = Role.objects.update_or_create(name=name, defaults={"controllers": controllers, "extra": extra})
    return role.to_kuzzle()


def get_role(name: str) -> dict[str, Any]:
    return _role_row(name).to_kuzzle()


def m_get_roles(names: list[str]) -> list[dict[str, Any]]:
    """The roles among ``names`` that exist, in that order."""
    found = {role.name: role for role in Role.objects.filter(name__in=names)}
    return [found[name].to_kuzzle() for name in names if name in found]


def update_role(name: str, body: dict[str, Any], known: Known) -> dict[str, Any]:
    """Kuzzle's update: the body's fields replace the role's (``controllers`` as a whole)."""
    with transaction.atomic():
        role = _role_row(name)
        merged = {**(role.extra or {}), "controllers": role.controllers, **body}
        role.controllers, role.extra = _checked_role(role.name, merged, known)
        role.save()
    return role.to_kuzzle()


def delete_role(name: str) -> dict[str, Any]:
    return _delete_unused("role", name, _role_row, "profiles")


def search_roles(controllers: Any, match: Matcher | None) -> list[dict[str, Any]]:
    """Roles matching ``match``, or naming one of the ``controllers`` (or ``*``), by name."""
    roles = [role.to_kuzzle() for role in Role.objects.order_by("name")]
    if controllers is not None:
        names = set(string_list(controllers, "body.controllers"))
        roles = [r for r in roles if "*" in r["_source"]["controllers"] or names & set(r["_source"]["controllers"])]
    return [role for role in roles if match is None or match(role)]


def _checked_role(name: str, body: dict[str, Any], known: Known) -> tuple[dict[str, Any], dict[str, Any]]:
    controllers = validate_role(name, body.get("controllers"), known)
    if name == "anonymous" and not role_allows(controllers, "auth", "login"):
        raise errors.get("security.role.login_required")
    return controllers, {k: v for k, v in body.items() if k != "controllers"}


def _role_row(name: str) -> Role:
    found = Role.objects.filter(name=name).first()
    if found is None:
        raise errors.get("security.role.not_found", name)
    return found


# Profiles ---------------------------------------------------------------------------------------


def create_profile(name: str, body: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    return _save_profile(name, body, strict, must_be_new=True)


def create_or_replace_profile(name: str, body: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    return _save_profile(name, body, strict, must_be_new=False)


def get_profile(name: str) -> dict[str, Any]:
    return _profile_row(name).to_kuzzle()


def m_get_profiles(names: list[str]) -> list[dict[str, Any]]:
    """The profiles among ``names`` that exist, in that order."""
    found = {p.name: p for p in Profile.objects.prefetch_related("roles").filter(name__in=names)}
    return [found[name].to_kuzzle() for name in names if name in found]


def update_profile(name: str, body: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    """The body's fields replace the profile's (``policies`` as a whole)."""
    current = _profile_row(name).to_kuzzle()["_source"]
    return _save_profile(name, {**current, **body}, strict, must_be_new=False)


def delete_profile(name: str, on_assigned_users: str = "fail") -> dict[str, Any]:
    """Delete a profile; with ``on_assigned_users`` ``"remove"``, its users lose it first (and get
    ``anonymous`` if it was their only one)."""
    if on_assigned_users not in ("fail", "remove"):
        raise errors.get("api.assert.invalid_argument", "onAssignedUsers", '"fail" or "remove"')
    if on_assigned_users == "remove" and name not in RESERVED:
        with transaction.atomic():
            profile = _profile_row(name)
            for user in KuzzleUser.objects.filter(profiles=profile).prefetch_related("profiles"):
                user.profiles.remove(profile)
                if not user.profiles.exists():
                    user.profiles.add("anonymous")
    return _delete_unused("profile", name, _profile_row, "users")


def search_profiles(roles: Any, match: Matcher | None) -> list[dict[str, Any]]:
    """Profiles matching ``match``, or holding one of the ``roles``, by name."""
    profiles = [p.to_kuzzle() for p in Profile.objects.prefetch_related("roles").order_by("name")]
    if roles is not None:
        names = set(string_list(roles, "body.roles"))
        profiles = [p for p in profiles if not names or names & {x["roleId"] for x in p["_source"]["policies"]}]
    return [profile for profile in profiles if match is None or match(profile)]


def _policies(name: str, policies: Any, strict: bool) -> list[dict[str, Any]]:
    """``body.policies`` checked as Kuzzle's ``Profile.validateDefinition``, roles included."""
    if policies is None:
        raise errors.get("api.assert.missing_argument", f"{name}.policies")
    if not isinstance(policies, list):
        raise errors.get("api.assert.invalid_type", f"{name}.policies", "object[]")
    if not policies:
        raise errors.get("api.assert.empty_argument", f"{name}.policies")
    for i, policy in enumerate(policies):
        where = f"{name}.policies[{i}]"
        if not isinstance(policy, dict) or not isinstance(policy.get("roleId"), str) or not policy["roleId"]:
            raise errors.get("api.assert.missing_argument", f"{where}.roleId")
        for member in policy:
            if member not in ("roleId", "restrictedTo"):
                raise errors.get("api.assert.unexpected_argument", f"{where}.{member}", '"roleId", "restrictedTo"')
        _check_restrictions(where, policy.get("restrictedTo"), strict)
    role_ids = [policy["roleId"] for policy in policies]
    known = set(Role.objects.filter(name__in=role_ids).values_list("name", flat=True))
    for role_id in role_ids:
        if role_id not in known:
            raise errors.get("security.role.not_found", role_id)
    if name == "anonymous" and "anonymous" not in role_ids:
        raise errors.get("security.profile.missing_anonymous_role")
    return policies


def _check_restrictions(where: str, restricted: Any, strict: bool) -> None:
    if not restricted:
        return
    if not isinstance(restricted, list):
        raise errors.get("api.assert.invalid_type", f"{where}.restrictedTo", "object[]")
    for j, restriction in enumerate(restricted):
        if not isinstance(restriction, dict):
            raise errors.get("api.assert.invalid_type", f"{where}.restrictedTo[{j}]", "object")
        index = restriction.get("index")
        if index is None:
            raise errors.get("api.assert.missing_argument", f"{where}.restrictedTo[{j}].index")
        if strict and not Index.objects.filter(name=index).exists():
            raise errors.get("services.storage.unknown_index", index)
        collections = restriction.get("collections")
        if collections is None:
            continue
        if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
            raise errors.get("api.assert.invalid_type", f"{where}.restrictedTo[{j}].collections", "string[]")
        if strict:
            existing = set(
                Collection.objects.filter(index_id=index, name__in=collections).values_list("name", flat=True)
            )
            for collection in collections:
                if collection not in existing:
                    raise errors.get("services.storage.unknown_collection", index, collection)


def _profile_row(name: str) -> Profile:
    found = Profile.objects.prefetch_related("roles").filter(name=name).first()
    if found is None:
        raise errors.get("security.profile.not_found", name)
    return found


def _save_profile(name: str, body: dict[str, Any], strict: bool, *, must_be_new: bool) -> dict[str, Any]:
    rate_limit = body.get("rateLimit", 0)
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 0:
        raise errors.get("api.assert.invalid_type", f"{name}.rateLimit", "integer >= 0")
    extra = {k: v for k, v in body.items() if k not in ("policies", "rateLimit")}
    with transaction.atomic():
        policies = _policies(name, body.get("policies"), strict)
        profile, created = Profile.objects.get_or_create(name=name)
        if must_be_new and not created:
            raise errors.get("security.profile.already_exists", name)
        profile.policies, profile.rate_limit, profile.extra = policies, rate_limit, extra
        profile.save()
        profile.roles.set([policy["roleId"] for policy in policies])
    return _profile_row(name).to_kuzzle()


def _delete_unused(kind: str, name: str, find: Callable[[str], Any], users: str) -> dict[str, Any]:
    """Delete a role or profile, unless it is a base one or still has ``users`` (a relation)."""
    if name in RESERVED:
        raise errors.get(f"security.{kind}.cannot_delete")
    with transaction.atomic():
        row = find(name)
        if getattr(row, users).exists():
            raise errors.get(f"security.{kind}.in_use", name)
        row.delete()
    return {"_id": name}


def m_delete(kind: str, names: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Delete several roles, profiles or users: the ids deleted, and the errors of the others."""
    from kuzzle_events.security.accounts import delete_user

    delete = {"role": delete_role, "profile": delete_profile, "user": delete_user}[kind]
    done: list[str] = []
    failed: list[dict[str, Any]] = []
    for name in names:
        try:
            delete(name)
        except errors.KuzzleError as error:
            failed.append(error.to_dict())
        else:
            done.append(name)
    return done, failed
