"""Back to Kuzzle's base security: no users, only the base roles and profiles (``admin:resetSecurity``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from kuzzle_events.models import KuzzleUser, Profile, Role
from kuzzle_events.security.store import ensure_defaults

__all__ = ["reset_security"]


def reset_security() -> dict[str, int]:
    """Delete every user (with its tokens and API keys), profile and role, then create the base ones.

    Returns Kuzzle's counts: ``deletedUsers``, ``deletedProfiles``, ``deletedRoles``.
    """
    with transaction.atomic():
        users = KuzzleUser.objects.count()
        # A Kuzzle user is the Kuzzle side of a Django user: deleting the Django user deletes both.
        get_user_model().objects.filter(kuzzle__isnull=False).delete()
        KuzzleUser.objects.all().delete()
        profiles = Profile.objects.count()
        Profile.objects.all().delete()
        roles = Role.objects.count()
        Role.objects.all().delete()
        ensure_defaults()
    return {"deletedUsers": users, "deletedProfiles": profiles, "deletedRoles": roles}
