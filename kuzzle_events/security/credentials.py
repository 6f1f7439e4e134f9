"""The ``local`` strategy on Django's users: a username and a password, checked by Django.

What Kuzzle asks of a strategy (exists, validate, create, update, delete, getInfo, getById, search),
as plain sync functions on the ORM. A user "has local credentials" when its Django user has a
usable password. As in Kuzzle, creating, changing or deleting credentials through these functions
leaves the user's tokens valid; a password changed elsewhere (Django's admin, ``set_password`` in
code) revokes them, as Django's sessions (a token keeps the password hash it was issued under).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.models import KuzzleUser, Token
from kuzzle_events.security.queries import matcher
from kuzzle_events.security.strategies import FIELDS, STRATEGIES, check_strategy

__all__ = [
    "STRATEGIES",
    "FIELDS",
    "check_strategy",
    "exists",
    "validate",
    "create",
    "update",
    "delete",
    "get_info",
    "get_by_id",
    "search",
    "strategies_of",
]



def _django_user(kuid: str) -> Any:
    row = KuzzleUser.objects.select_related("user").filter(kuid=kuid).first()
    if row is None:
        raise errors.get("security.user.not_found", kuid)
    return row.user


def exists(kuid: str, strategy: str = "local") -> bool:
    check_strategy(strategy)
    row = KuzzleUser.objects.select_related("user").filter(kuid=kuid).first()
    return row is not None and row.user.has_usable_password()


def strategies_of(kuid: str) -> list[str]:
    """The strategies a user can log in with."""
    _django_user(kuid)
    return [strategy for strategy in STRATEGIES if exists(kuid, strategy)]


def validate(kuid: str | None, body: Any, is_update: bool, strategy: str = "local") -> bool:
    """``true`` if ``body`` would be accepted as the user's credentials; ``security.credentials.rejected`` else."""
    check_strategy(strategy)
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    if "kuid" in body:
        raise errors.get("security.credentials.rejected", "kuid cannot be specified in credentials.")
    username, password = body.get("username"), body.get("password")
    for name, value in (("username", username), ("password", password)):
        if value is None and is_update:
            continue
        if not isinstance(value, str) or not value:
            raise errors.get("security.credentials.rejected", f"{name.capitalize()} required.")
    user_model = get_user_model()
    django_user = _django_user(kuid) if kuid is not None and KuzzleUser.objects.filter(kuid=kuid).exists() else None
    if username is not None:
        taken = user_model.objects.filter(**{user_model.USERNAME_FIELD: username})
        if django_user is not None:
            taken = taken.exclude(pk=django_user.pk)
        if taken.exists():
            raise errors.get("security.credentials.rejected", f'Login "{username}" is already used.')
    if password is not None:
        try:
            password_validation.validate_password(password, django_user)
        except ValidationError as error:
            raise errors.get("security.credentials.rejected", " ".join(error.messages)) from None
    return True


def create(kuid: str, body: Any, strategy: str = "local") -> dict[str, Any]:
    """Give a user local credentials: ``{"username", "kuid"}``."""
    check_strategy(strategy)
    with transaction.atomic():
        validate(kuid, body, False)
        django_user = _django_user(kuid)
        if django_user.has_usable_password():
            raise errors.get("security.credentials.rejected", f'A strategy already exists for user "{kuid}".')
        return _save(django_user, kuid, body)


def update(kuid: str, body: Any, strategy: str = "local") -> dict[str, Any]:
    """Change a user's username and/or password: ``{"username", "kuid"}``."""
    check_strategy(strategy)
    with transaction.atomic():
        validate(kuid, body, True)
        return _save(_django_user(kuid), kuid, body)


def _save(django_user: Any, kuid: str, body: dict[str, Any]) -> dict[str, Any]:
    before = django_user.get_session_auth_hash()
    if body.get("username") is not None:
        setattr(django_user, type(django_user).USERNAME_FIELD, body["username"])
    if body.get("password") is not None:
        django_user.set_password(body["password"])
    django_user.save()
    _keep_tokens(kuid, before, django_user)
    return {"username": django_user.get_username(), "kuid": kuid}


def _keep_tokens(kuid: str, before: str, django_user: Any) -> None:
    # Kuzzle's strategies leave tokens alone: those valid under the former password stay valid.
    after = django_user.get_session_auth_hash()
    if after != before:
        Token.objects.filter(user_id=kuid, auth_hash=before).update(auth_hash=after)


def delete(kuid: str, strategy: str = "local") -> None:
    """Take a user's local credentials away; its tokens stay valid until they expire, as in Kuzzle."""
    check_strategy(strategy)
    with transaction.atomic():
        django_user = _django_user(kuid)
        if not django_user.has_usable_password():
            raise errors.get("services.storage.not_found", kuid, "kuzzle", "credentials")
        before = django_user.get_session_auth_hash()
        django_user.set_unusable_password()
        django_user.save()
        _keep_tokens(kuid, before, django_user)


def get_info(kuid: str, strategy: str = "local") -> dict[str, Any]:
    """``{"username", "kuid"}`` of a user's local credentials."""
    check_strategy(strategy)
    django_user = _django_user(kuid)
    if not django_user.has_usable_password():
        raise errors.get("services.storage.not_found", kuid, "kuzzle", "credentials")
    return {"username": django_user.get_username(), "kuid": kuid}


def get_by_id(username: str, strategy: str = "local") -> dict[str, Any]:
    """The local credentials named ``username`` (the strategy's own id): ``{"username", "kuid"}``."""
    check_strategy(strategy)
    user_model = get_user_model()
    row = KuzzleUser.objects.select_related("user").filter(**{f"user__{user_model.USERNAME_FIELD}": username}).first()
    if row is None or not row.user.has_usable_password():
        raise errors.get("services.storage.not_found", username, "kuzzle", "credentials")
    return {"username": username, "kuid": row.kuid}


def search(query: Any, start: int, size: int, strategy: str = "local", lang: str = "elasticsearch") -> dict[str, Any]:
    """``security:searchUsersByCredentials``: ``{"hits": [{"username", "kuid"}], "total"}``."""
    check_strategy(strategy)
    match = matcher(query, lang)
    found = []
    for row in KuzzleUser.objects.select_related("user").order_by("kuid"):
        if row.user.has_usable_password():
            credentials = {"username": row.user.get_username(), "kuid": row.kuid}
            if match({"_id": row.kuid, "_source": credentials}):
                found.append(credentials)
    return {"hits": found[start : start + size], "total": len(found)}
