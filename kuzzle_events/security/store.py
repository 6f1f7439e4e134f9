"""The security data in Django's database: plain sync functions, called through one thread hop.

Everything a request needs is read in one call (a token, its user and the rights version), so an
authenticated request costs one hop; an anonymous one costs none.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.db.models import F

from kuzzle_events import errors
from kuzzle_events.core.request import User
from kuzzle_events.models import RESERVED, KuzzleUser, Profile, Role, SecurityState, Token
from kuzzle_events.security.lockout import Lockout
from kuzzle_events.security.rights import (
    BOOTSTRAP_RATE_LIMITS,
    BOOTSTRAP_ROLES,
    DEFAULT_PROFILES,
    DEFAULT_RATE_LIMITS,
    DEFAULT_ROLES,
    LocalChanges,
    Rights,
    restrictions_of,
)
from kuzzle_events.security.tokens import AuthToken, digest_of, issue, now_ms

__all__ = [
    "ensure_defaults",
    "restrict_defaults",
    "ensure_kuzzle_user",
    "admin_exists",
    "bump_version",
    "load_rights",
    "lookup",
    "login",
    "store_token",
    "revoke",
    "revoke_sessions",
    "refresh",
    "create_token",
    "create_api_key",
    "delete_api_key",
    "api_keys_of",
    "user_of",
]


_changes_lock = threading.Lock()


def bump_version() -> None:
    """Mark rights as changed, here (at once) and in other processes (at their next check)."""
    with _changes_lock:
        LocalChanges.count += 1
    if not SecurityState.objects.filter(pk=1).update(version=F("version") + 1):
        SecurityState.objects.get_or_create(pk=1, defaults={"version": 1})


def _version() -> int:
    return SecurityState.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def ensure_defaults() -> None:
    """Create Kuzzle's base roles and profiles where missing (never overwriting edits).

    A missing one gets Kuzzle's bootstrap rights (every action), as a new Kuzzle's do.
    """
    if Role.objects.filter(name__in=RESERVED).count() == len(RESERVED) and Profile.objects.filter(
        name__in=RESERVED
    ).count() == len(RESERVED):
        return
    with transaction.atomic():
        for name, controllers in BOOTSTRAP_ROLES.items():
            Role.objects.get_or_create(name=name, defaults={"controllers": copy.deepcopy(controllers)})
        for name in BOOTSTRAP_ROLES:
            profile, created = Profile.objects.get_or_create(
                name=name, defaults={"policies": [{"roleId": name}], "rate_limit": BOOTSTRAP_RATE_LIMITS[name]}
            )
            if created:
                profile.roles.set([name])


def restrict_defaults() -> None:
    """The base roles and profiles replaced by Kuzzle's restricted ones (``security.standard``)."""
    with transaction.atomic():
        for name, controllers in DEFAULT_ROLES.items():
            Role.objects.update_or_create(name=name, defaults={"controllers": copy.deepcopy(controllers), "extra": {}})
        for name, role_ids in DEFAULT_PROFILES.items():
            profile, _ = Profile.objects.update_or_create(
                name=name,
                defaults={
                    "policies": [{"roleId": role_id} for role_id in role_ids],
                    "rate_limit": DEFAULT_RATE_LIMITS[name],
                    "extra": {},
                },
            )
            profile.roles.set(role_ids)


def ensure_kuzzle_user(django_user: Any, kuid: str | None = None, profile_ids: list[str] | None = None) -> KuzzleUser:
    """The Kuzzle side of a Django user, created on first need.

    A new user's kuid is its username unless that is taken; its profile is ``admin`` for a superuser
    (``createsuperuser`` makes an administrator), ``default`` otherwise. The first administrator
    made on Django's side (``createsuperuser``, the admin site, the ORM: no ``profile_ids``)
    restricts the base roles, as ``security:createFirstAdmin`` with ``reset: true`` does.
    """
    existing = KuzzleUser.objects.filter(user=django_user).first()
    if existing is not None:
        if django_user.is_superuser and not existing.profiles.filter(name="admin").exists():
            ensure_defaults()
            first = not admin_exists(excluding=django_user.pk)
            existing.profiles.add("admin")
            if first:
                restrict_defaults()
        return existing
    ensure_defaults()
    if kuid is None:
        kuid = django_user.get_username()
        if KuzzleUser.objects.filter(kuid=kuid).exists():
            kuid = str(uuid.uuid4())
    first_from_django = profile_ids is None and django_user.is_superuser and not admin_exists(django_user.pk)
    kuzzle_user = KuzzleUser.objects.create(kuid=kuid, user=django_user)
    if profile_ids is None:
        profile_ids = ["admin"] if django_user.is_superuser else ["default"]
    kuzzle_user.profiles.set(profile_ids)
    if first_from_django:
        restrict_defaults()
    return kuzzle_user


def admin_exists(excluding: Any = None) -> bool:
    """Whether an active user has the ``admin`` profile or is a Django superuser (but ``excluding``)."""
    kuzzle_admins = KuzzleUser.objects.filter(profiles__name="admin", user__is_active=True)
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
    if excluding is not None:
        kuzzle_admins = kuzzle_admins.exclude(user__pk=excluding)
        superusers = superusers.exclude(pk=excluding)
    return kuzzle_admins.exists() or superusers.exists()


def load_rights(known_version: int | None = None) -> Rights | None:
    """Every role and profile, and whether an administrator exists; ``None`` if ``known_version`` is current."""
    # The common case, checked every SECURITY_CACHE_TTL: nothing changed, one small query.
    if known_version is not None and _version() == known_version:
        return None
    ensure_defaults()
    version = _version()
    roles = {role.name: role.controllers for role in Role.objects.all()}
    profiles: dict[str, list[str]] = {name: [] for name in Profile.objects.values_list("name", flat=True)}
    for profile_id, role_id in Profile.roles.through.objects.values_list("profile_id", "role_id"):
        profiles[profile_id].append(role_id)
    restrictions = {
        name: restrictions_of(policies) for name, policies in Profile.objects.values_list("name", "policies")
    }
    return Rights(roles, profiles, admin_exists=admin_exists(), version=version, restrictions=restrictions)


def user_of(kuzzle_user: KuzzleUser) -> User:
    """``request.context.user`` for a stored user (``default`` if it was left without profile)."""
    return User(kuzzle_user.kuid, kuzzle_user.profile_ids() or ["default"], dict(kuzzle_user.content))


def lookup(jwt: str, kuid: str) -> tuple[AuthToken, int, Any] | None:
    """The stored token, the rights version and the Django user; ``None`` if it is not honoured.

    Not honoured: revoked (no row), user deleted (cascade), deactivated, or whose password changed
    since the token was issued.
    """
    row = (
        Token.objects.select_related("user__user")
        .prefetch_related("user__profiles")
        .filter(digest=digest_of(jwt), user_id=kuid)
        .first()
    )
    if row is None:
        return None
    django_user = row.user.user
    if not django_user.is_active or row.auth_hash != django_user.get_session_auth_hash():
        return None
    if row.expires_at != -1 and row.expires_at <= now_ms():
        return None
    if row.single_use and not Token.objects.filter(pk=row.pk).delete()[0]:
        return None  # used meanwhile, by another request
    ttl = -1 if row.expires_at == -1 else max(row.expires_at - now_ms(), 0)
    token = AuthToken(jwt, kuid, row.expires_at, ttl, row.api_key, user_of(row.user))
    return token, _version(), django_user


def store_token(
    kuzzle_user: KuzzleUser,
    secret: str,
    ttl_ms: int,
    *,
    api_key: str | None = None,
    description: str = "",
    single_use: bool = False,
) -> AuthToken:
    """Issue a JWT for ``kuzzle_user`` and record it; it is honoured from now on."""
    # Expired rows are dead weight: each new token of a user clears that user's.
    Token.objects.filter(user=kuzzle_user, expires_at__gte=0, expires_at__lte=now_ms()).delete()
    jwt, expires_at = issue(secret, kuzzle_user.kuid, ttl_ms)
    Token.objects.create(
        digest=digest_of(jwt),
        user=kuzzle_user,
        auth_hash=kuzzle_user.user.get_session_auth_hash(),
        expires_at=expires_at,
        api_key=api_key,
        description=description,
        ttl=ttl_ms,
        single_use=single_use,
    )
    return AuthToken(jwt, kuzzle_user.kuid, expires_at, ttl_ms, api_key, user_of(kuzzle_user))


def login(
    username: str, password: str, secret: str, ttl_ms: int, lockout: Lockout | None = None, address: str | None = None
) -> AuthToken | None:
    """Check local credentials against Django's authentication backends; a new token or ``None``.

    With a ``lockout``, a username or client ``address`` with too many recent failures is refused
    (``api.process.too_many_logins_requests``) before its password is checked, and a failure counts.
    """
    keys: list[str] = []
    if lockout is not None:
        keys = [lockout.key("user", username)] + ([lockout.key("ip", address)] if address else [])
        if lockout.locked(keys):
            raise errors.get("api.process.too_many_logins_requests")
    django_user = authenticate(username=username, password=password)
    if django_user is None:
        if lockout is not None:
            lockout.failed(keys)
        return None
    if lockout is not None:
        lockout.succeeded(keys[0])
    return store_token(ensure_kuzzle_user(django_user), secret, ttl_ms)


def revoke(jwt: str) -> bool:
    """Stop honouring one token; whether it was honoured."""
    deleted, _ = Token.objects.filter(digest=digest_of(jwt)).delete()
    return deleted > 0


def revoke_sessions(kuid: str) -> int:
    """Stop honouring every authentication token of a user (API keys stay); how many there were."""
    deleted, _ = Token.objects.filter(user_id=kuid, api_key__isnull=True).delete()
    return deleted


def refresh(jwt: str, kuid: str, secret: str, ttl_ms: int) -> AuthToken | None:
    """Swap a token for a new one, atomically; ``None`` if it was revoked meanwhile."""
    with transaction.atomic():
        row = Token.objects.select_related("user__user").select_for_update().filter(digest=digest_of(jwt)).first()
        if row is None or row.user_id != kuid:
            return None
        kuzzle_user = row.user
        row.delete()
        return store_token(kuzzle_user, secret, ttl_ms)


def create_token(kuid: str, secret: str, ttl_ms: int, single_use: bool) -> AuthToken:
    """``auth:createToken``: another token of a user, honoured once if ``single_use``."""
    kuzzle_user = KuzzleUser.objects.select_related("user").filter(kuid=kuid).first()
    if kuzzle_user is None:
        raise errors.get("security.user.not_found", kuid)
    return store_token(kuzzle_user, secret, ttl_ms, single_use=single_use)


def create_api_key(kuid: str, key_id: str | None, description: str, secret: str, ttl_ms: int) -> dict[str, Any]:
    """A new API key of a user (a token with an id and a description), with its token.

    Its id is ``key_id``, or else its fingerprint (the SHA-256 of its token), as Kuzzle's.
    """
    with transaction.atomic():
        if key_id is not None and Token.objects.filter(api_key=key_id).exists():
            raise errors.get("services.storage.document_already_exists")
        kuzzle_user = KuzzleUser.objects.select_related("user").filter(kuid=kuid).first()
        if kuzzle_user is None:
            raise errors.get("security.user.not_found", kuid)
        jwt, expires_at = issue(secret, kuid, ttl_ms)
        digest = digest_of(jwt)
        row = Token.objects.create(
            digest=digest,
            user=kuzzle_user,
            auth_hash=kuzzle_user.user.get_session_auth_hash(),
            expires_at=expires_at,
            api_key=key_id or digest,
            description=description,
            ttl=ttl_ms,
        )
    answer = _api_key(row)
    answer["_source"]["token"] = jwt
    return answer


def delete_api_key(kuid: str, key_id: str) -> bool:
    deleted, _ = Token.objects.filter(user_id=kuid, api_key=key_id).delete()
    return deleted > 0


def _api_key(row: Token) -> dict[str, Any]:
    source = {
        "userId": row.user_id,
        "description": row.description,
        "expiresAt": row.expires_at,
        "ttl": row.ttl,
        "fingerprint": row.digest,
    }
    return {"_id": row.api_key, "_source": source}


def api_keys_of(kuid: str) -> list[dict[str, Any]]:
    """The API keys of a user, oldest first (never their tokens)."""
    rows = Token.objects.filter(user_id=kuid, api_key__isnull=False).order_by("created_at")
    return [_api_key(row) for row in rows]
