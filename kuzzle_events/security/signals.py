"""Keep rights caches and Django's users in step with every write, whoever makes it.

The security controller, the Django admin, ``createsuperuser`` and plain ORM code all save models;
these receivers are the one place that reacts: a Django user gets its Kuzzle side, and any change of
roles, profiles or users bumps the rights version that every process checks.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save

from kuzzle_events.models import KuzzleUser, Profile, Role
from kuzzle_events.security import store

__all__ = ["connect"]


def _changed(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures being loaded: nothing is consistent yet
    if str(kwargs.get("action", "post_")).startswith("pre_"):
        return
    store.bump_version()


def _user_saved(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    # The security controller passes the kuid and profiles it was asked for; anything else
    # (createsuperuser, the admin, the ORM) gets the defaults of ensure_kuzzle_user.
    store.ensure_kuzzle_user(
        instance,
        kuid=getattr(instance, "_kuzzle_kuid", None),
        profile_ids=getattr(instance, "_kuzzle_profile_ids", None),
    )
    store.bump_version()


def connect() -> None:
    """Connect the receivers (from ``AppConfig.ready``)."""
    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="kuzzle_events.user_saved")
    post_delete.connect(_changed, sender=user_model, dispatch_uid="kuzzle_events.user_deleted")
    for model in (Role, Profile, KuzzleUser):
        post_save.connect(_changed, sender=model, dispatch_uid=f"kuzzle_events.{model.__name__}.saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"kuzzle_events.{model.__name__}.deleted")
    for through in (Profile.roles.through, KuzzleUser.profiles.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"kuzzle_events.{through.__name__}.changed")
