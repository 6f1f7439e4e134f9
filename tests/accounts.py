"""Users and tokens for tests, made the way the product makes them (sync: ORM code)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from kuzzle_events.models import KuzzleUser
from kuzzle_events.security import store
from kuzzle_events.security.tokens import AuthToken


def make_user(
    username: str, password: str = "secret-pw", *, profiles: list[str] | None = None, superuser: bool = False
) -> KuzzleUser:
    """A Django user and its Kuzzle side (profiles ``default``, or ``admin`` for a superuser)."""
    model = get_user_model()
    if superuser:
        user = model.objects.create_superuser(username, f"{username}@example.com", password)
    else:
        user = model(username=username)
        user.set_password(password)
        if profiles is not None:
            user._kuzzle_profile_ids = profiles
        user.save()
    return KuzzleUser.objects.get(user=user)


def issue_token(username: str, ttl_ms: int = 3_600_000, **user_options: object) -> AuthToken:
    """A user (created if needed) and a fresh token of theirs."""
    existing = KuzzleUser.objects.filter(user__username=username).select_related("user").first()
    kuzzle_user = existing or make_user(username, **user_options)  # type: ignore[arg-type]
    return store.store_token(kuzzle_user, str(settings.SECRET_KEY), ttl_ms)


def open_to_anonymous(*actions: str) -> None:
    """Grant ``"controller:action"`` entries to the ``anonymous`` role (Kuzzle's restricted one has
    no ``server:now``...), as a project widens it."""
    from kuzzle_events.models import Role

    role = Role.objects.get(name="anonymous")
    for entry in actions:
        controller, action = entry.split(":")
        role.controllers.setdefault(controller, {"actions": {}})["actions"][action] = True
    role.save()
