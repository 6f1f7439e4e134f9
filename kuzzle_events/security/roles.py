"""Roles and profiles of the ``security`` controller: create, read, change, delete, search.

Plain sync functions on the ORM, called through one thread hop each. The base roles and profiles
(``RESERVED``) may be changed but never deleted; a role or profile still in use may not be either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.models import RESERVED, Profile, Role
from kuzzle_events.security.queries import string_list
from kuzzle_events.security.rights import role_allows, validate_role

__all__ = [
    "create_role",
    "create_or_replace_role",
    "get_role",
    "update_role",
    "delete_role",
    "search_roles",
    "create_profile",
    "create_or_replace_profile",
    "get_profile",
    "update_profile",
    "delete_profile",
    "search_profiles",
]

Known = Mapping[str, Iterable[str]] | None
"""The controllers and actions a role may name; ``None`` (``force``) skips that check."""


# Roles ------------------------------------------------------------------------------------------


def create_role(name: str, controllers: Any, known: Known) -> dict[str, Any]:
    controllers = _checked_role(name, controllers, known)
    with transaction.atomic():
        if Role.objects.filter(name=name).exists():
            raise errors.get("security.role.already_exists", name)
        return Role.objects.create(name=name, controllers=controllers).to_kuzzle()


def create_or_replace_role(name: str, controllers: Any, known: Known) -> dict[str, Any]:
    controllers = _checked_role(name, controllers, known)
    role, _ = Role.objects.update_or_create(name=name, defaults={"controllers": controllers})
    return role.to_kuzzle()


def get_role(name: str) -> dict[str, Any]:
    return _role_row(name).to_kuzzle()


def update_role(name: str, update: Any, known: Known) -> dict[str, Any]:
    """Merge ``update`` (``body.controllers``) into the role's, controller by controller."""
    if not isinstance(update, dict):
        raise errors.get("api.assert.invalid_type", "body.controllers", "object")
    with transaction.atomic():
        role = _role_row(name)
        role.controllers = _checked_role(role.name, {**role.controllers, **update}, known)
        role.save()
    return role.to_kuzzle()


def delete_role(name: str) -> dict[str, Any]:
    return _delete_unused("role", name, _role_row, "profiles")


def search_roles(wanted: Any) -> list[dict[str, Any]]:
    """Roles, or those naming one of ``wanted`` controllers (or ``*``), by name."""
    roles = Role.objects.order_by("name")
    if wanted is not None:
        names = set(string_list(wanted, "body.controllers"))
        return [r.to_kuzzle() for r in roles if "*" in r.controllers or names & set(r.controllers)]
    return [r.to_kuzzle() for r in roles]


def _checked_role(name: str, controllers: Any, known: Known) -> dict[str, Any]:
    validate_role(name, controllers, known)
    if name == "anonymous" and not role_allows(controllers, "auth", "login"):
        raise errors.get("security.role.login_required")
    return controllers


def _role_row(name: str) -> Role:
    found = Role.objects.filter(name=name).first()
    if found is None:
        raise errors.get("security.role.not_found", name)
    return found


# Profiles ---------------------------------------------------------------------------------------


def create_profile(name: str, policies: Any) -> dict[str, Any]:
    return _save_profile(name, _role_ids(name, policies), must_be_new=True)


def create_or_replace_profile(name: str, policies: Any) -> dict[str, Any]:
    return _save_profile(name, _role_ids(name, policies), must_be_new=False)


def get_profile(name: str) -> dict[str, Any]:
    return _profile_row(name).to_kuzzle()


def update_profile(name: str, policies: Any) -> dict[str, Any]:
    _profile_row(name)
    return _save_profile(name, _role_ids(name, policies), must_be_new=False)


def delete_profile(name: str) -> dict[str, Any]:
    return _delete_unused("profile", name, _profile_row, "users")


def search_profiles(wanted: Any) -> list[dict[str, Any]]:
    """Profiles, or those holding one of the ``wanted`` roles, by name."""
    profiles = list(Profile.objects.prefetch_related("roles").order_by("name"))
    if wanted is not None:
        names = set(string_list(wanted, "body.roles"))
        profiles = [p for p in profiles if names & {r.name for r in p.roles.all()}]
    return [p.to_kuzzle() for p in profiles]


def _role_ids(name: str, policies: Any) -> list[str]:
    """The roles of ``body.policies``, each checked to exist."""
    if not isinstance(policies, list) or not policies:
        raise errors.get("api.assert.invalid_type", "body.policies", "non-empty array")
    role_ids = []
    for policy in policies:
        if not isinstance(policy, dict) or not isinstance(policy.get("roleId"), str):
            raise errors.get("api.assert.invalid_type", "body.policies[].roleId", "string")
        role_ids.append(policy["roleId"])
    known = set(Role.objects.filter(name__in=role_ids).values_list("name", flat=True))
    for role_id in role_ids:
        if role_id not in known:
            raise errors.get("security.role.not_found", role_id)
    if name == "anonymous" and "anonymous" not in role_ids:
        raise errors.get("security.profile.missing_anonymous_role")
    return role_ids


def _profile_row(name: str) -> Profile:
    found = Profile.objects.prefetch_related("roles").filter(name=name).first()
    if found is None:
        raise errors.get("security.profile.not_found", name)
    return found


def _save_profile(name: str, role_ids: list[str], *, must_be_new: bool) -> dict[str, Any]:
    with transaction.atomic():
        profile, created = Profile.objects.get_or_create(name=name)
        if must_be_new and not created:
            raise errors.get("security.profile.already_exists", name)
        profile.roles.set(role_ids)
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
