"""Users of the ``security`` controller, on Django's users: create, read, change, delete, search.

Plain sync functions on the ORM, called through one thread hop each. Whatever they change reaches
every process's rights through the receivers of :mod:`kuzzle_events.security.signals`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.core.request import User
from kuzzle_events.models import KuzzleUser, Profile
from kuzzle_events.security.queries import Matcher, string_list
from kuzzle_events.security.store import admin_exists, restrict_defaults, user_of

__all__ = [
    "create_user",
    "create_restricted_user",
    "create_first_admin",
    "get_user",
    "update_user",
    "delete_user",
    "search_users",
    "restrict_default_rights",
    "m_get_users",
    "replace_user",
    "upsert_user",
    "profile_ids_of",
    "revoke_tokens",
]


def create_user(kuid: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """A user with credentials (``local``) and ``content.profileIds``."""
    content = body.get("content", {})
    profile_ids = string_list(
        content.get("profileIds") if isinstance(content, dict) else None, "body.content.profileIds"
    )
    return _create(kuid, body, profile_ids)


def create_restricted_user(kuid: str | None, body: dict[str, Any], profile_ids: list[str]) -> dict[str, Any]:
    """A user with ``profile_ids`` (the configured ``RESTRICTED_PROFILES``), which the caller may not choose."""
    _refuse_profile_ids(body)
    return _create(kuid, body, profile_ids)


def create_first_admin(kuid: str | None, body: dict[str, Any], reset: bool) -> dict[str, Any]:
    """The first administrator (a Django superuser); ``reset`` restricts the base roles and profiles.

    Without ``reset`` the base roles keep what they grant (at first, every action), as Kuzzle's.
    """
    if admin_exists():
        raise errors.get("api.process.admin_exists")
    _refuse_profile_ids(body)
    if _credentials(body) is None:
        raise errors.get("api.assert.missing_argument", "body.credentials")
    with transaction.atomic():
        created = _create(kuid, body, ["admin"], superuser=True)
        if reset:
            restrict_default_rights()
    return created


def restrict_default_rights() -> None:
    """The base roles and profiles given Kuzzle's restricted rights (``security.standard``)."""
    restrict_defaults()


def get_user(kuid: str) -> dict[str, Any]:
    return _user_row(kuid).to_kuzzle()


def request_user(kuid: str) -> User:
    """The stored user ``kuid`` as a request's user (``security.user.not_found`` if none)."""
    return user_of(_user_row(kuid))


def update_user(kuid: str, body: dict[str, Any]) -> dict[str, Any]:
    """Merge ``body`` into the user's content; ``body.profileIds`` replaces its profiles."""
    body = dict(body)
    with transaction.atomic():
        kuzzle_user = _user_row(kuid)
        if "profileIds" in body:
            profile_ids = string_list(body.pop("profileIds"), "body.profileIds")
            if not profile_ids:
                raise errors.get("api.assert.empty_argument", "body.profileIds")
            _check_profiles(profile_ids)
            kuzzle_user.profiles.set(profile_ids)
        kuzzle_user.content = {**kuzzle_user.content, **body}
        kuzzle_user.save(update_fields=["content"])
    return _user_row(kuzzle_user.kuid).to_kuzzle()


def delete_user(kuid: str) -> dict[str, Any]:
    """Delete the user and its Django user; its tokens and API keys die with it."""
    kuzzle_user = _user_row(kuid)
    kuzzle_user.user.delete()
    return {"_id": kuzzle_user.kuid}


def search_users(match: Matcher) -> list[dict[str, Any]]:
    """Users matching ``match`` (see :func:`kuzzle_events.security.queries.matcher`), by kuid."""
    users = (u.to_kuzzle() for u in KuzzleUser.objects.prefetch_related("profiles").order_by("kuid"))
    return [user for user in users if match(user)]


def m_get_users(kuids: list[str]) -> list[dict[str, Any]]:
    """The users among ``kuids`` that exist, in that order."""
    found = {u.kuid: u for u in KuzzleUser.objects.prefetch_related("profiles").filter(kuid__in=kuids)}
    return [found[kuid].to_kuzzle() for kuid in kuids if kuid in found]


def replace_user(kuid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The user's content replaced by ``body``, its profiles by ``body.profileIds``."""
    profile_ids = string_list(body.get("profileIds"), "body.profileIds")
    with transaction.atomic():
        kuzzle_user = _user_row(kuid)
        _check_profiles(profile_ids)
        kuzzle_user.profiles.set(profile_ids)
        kuzzle_user.content = {k: v for k, v in body.items() if k not in ("profileIds", "_id")}
        kuzzle_user.save(update_fields=["content"])
    return _user_row(kuid).to_kuzzle()


def upsert_user(kuid: str, body: dict[str, Any]) -> dict[str, Any]:
    """Update the user with ``body.content``, or create it with ``body.default`` under that content."""
    content = body.get("content")
    if not isinstance(content, dict):
        raise errors.get("api.assert.invalid_type", "body.content", "object")
    string_list(content.get("profileIds"), "body.content.profileIds")
    defaults = body.get("default", {})
    if not isinstance(defaults, dict):
        raise errors.get("api.assert.invalid_type", "body.default", "object")
    with transaction.atomic():
        if KuzzleUser.objects.filter(kuid=kuid).exists():
            return update_user(kuid, content)
        return create_user(kuid, {**body, "content": {**defaults, **content}})


def profile_ids_of(kuid: str) -> list[str]:
    """The profiles of a user (``security.user.not_found`` if there is none such)."""
    return _user_row(kuid).profile_ids() or ["default"]


def revoke_tokens(kuid: str) -> None:
    """Every token of a user revoked, API keys included."""
    _user_row(kuid).tokens.all().delete()


def _create(
    kuid: str | None, body: dict[str, Any], profile_ids: list[str], *, superuser: bool = False
) -> dict[str, Any]:
    """One Django user and its Kuzzle side, or nothing at all."""
    content = body.get("content", {})
    if not isinstance(content, dict):
        raise errors.get("api.assert.invalid_type", "body.content", "object")
    if not profile_ids:
        raise errors.get("api.assert.empty_argument", "body.content.profileIds")
    kuid = kuid or uuid.uuid4().hex
    credentials = _credentials(body)
    user_model = get_user_model()
    username = credentials[0] if credentials else kuid
    with transaction.atomic():
        _check_profiles(profile_ids)
        if KuzzleUser.objects.filter(kuid=kuid).exists():
            raise errors.get("security.user.already_exists", kuid)
        if user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).exists():
            raise errors.get("security.credentials.rejected", f'Login "{username}" is already used.')
        django_user = user_model(**{user_model.USERNAME_FIELD: username})
        django_user.is_staff = django_user.is_superuser = superuser
        if credentials:
            _set_password(django_user, credentials[1])
        else:
            django_user.set_unusable_password()
        # Read by the post_save receiver, which creates the Kuzzle side of every Django user.
        django_user._kuzzle_kuid = kuid
        django_user._kuzzle_profile_ids = profile_ids
        django_user.save()
        kuzzle_user = KuzzleUser.objects.get(kuid=kuid)
        kuzzle_user.content = {k: v for k, v in content.items() if k != "profileIds"}
        kuzzle_user.save(update_fields=["content"])
    return kuzzle_user.to_kuzzle()


def _refuse_profile_ids(body: dict[str, Any]) -> None:
    content = body.get("content", {})
    if isinstance(content, dict) and "profileIds" in content:
        raise errors.get("api.assert.forbidden_argument", "body.content.profileIds")


def _user_row(kuid: str) -> KuzzleUser:
    found = KuzzleUser.objects.select_related("user").prefetch_related("profiles").filter(kuid=kuid).first()
    if found is None:
        raise errors.get("security.user.not_found", kuid)
    return found


def _check_profiles(profile_ids: list[str]) -> None:
    known = set(Profile.objects.filter(name__in=profile_ids).values_list("name", flat=True))
    for profile_id in profile_ids:
        if profile_id not in known:
            raise errors.get("security.profile.not_found", profile_id)


def _credentials(body: dict[str, Any]) -> tuple[str, str] | None:
    credentials = body.get("credentials")
    if credentials is None:
        return None
    if not isinstance(credentials, dict):
        raise errors.get("api.assert.invalid_type", "body.credentials", "object")
    for strategy in credentials:
        if strategy != "local":
            raise errors.get("security.credentials.unknown_strategy", strategy)
    local = credentials.get("local")
    if not isinstance(local, dict):
        raise errors.get("api.assert.invalid_type", "body.credentials.local", "object")
    username, password = local.get("username"), local.get("password")
    for name, value in (("username", username), ("password", password)):
        if not isinstance(value, str) or not value:
            raise errors.get("api.assert.missing_argument", f"body.credentials.local.{name}")
    return str(username), str(password)


def _set_password(django_user: Any, password: str) -> None:
    try:
        password_validation.validate_password(password, django_user)
    except ValidationError as error:
        raise errors.get("security.credentials.rejected", " ".join(error.messages)) from None
    django_user.set_password(password)
