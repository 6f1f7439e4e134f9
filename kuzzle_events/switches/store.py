"""The switches in the database: sync ORM code, called through :func:`kuzzle_events.orm.orm` from
the application's loop, or directly from sync code (the management command)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kuzzle_events.models import ListenerSwitch, SwitchState

__all__ = ["current_version", "load", "record", "save"]


def current_version() -> int:
    """The counter every switch bumps (0 before the first one)."""
    return SwitchState.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def load(known_version: int | None = None) -> tuple[int, dict[tuple[str, str, str], dict[str, Any]]] | None:
    """``(version, records)``: every switch ever set, by ``(kind, event, listener)``, with
    ``enabled``, ``changed_by`` and ``changed_at``; ``None`` if ``known_version`` is current."""
    with transaction.atomic():
        version = current_version()
        if known_version is not None and version == known_version:
            return None
        records = {
            (row.kind, row.event, row.listener): {
                "enabled": row.enabled,
                "changed_by": row.changed_by,
                "changed_at": row.changed_at,
            }
            for row in ListenerSwitch.objects.all()
        }
    return version, records


def save(kind: str, event: str, listener: str, enabled: bool, changed_by: str) -> dict[str, Any]:
    """Switch one listener on or off, recording who and when, and bump the counter; the record."""
    now = timezone.now()
    with transaction.atomic():
        # The counter first: its row lock orders concurrent switches, so that a process that
        # reads a version also reads every switch made before it.
        if not SwitchState.objects.filter(pk=1).update(version=F("version") + 1):
            SwitchState.objects.get_or_create(pk=1, defaults={"version": 1})
        ListenerSwitch.objects.update_or_create(
            kind=kind,
            event=event,
            listener=listener,
            defaults={"enabled": enabled, "changed_by": changed_by, "changed_at": now},
        )
    return {"enabled": enabled, "changed_by": changed_by, "changed_at": now}


def record(kind: str, event: str, listener: str) -> dict[str, Any] | None:
    """The stored switch of one listener, or ``None`` if it was never switched."""
    row = ListenerSwitch.objects.filter(kind=kind, event=event, listener=listener).first()
    if row is None:
        return None
    return {"enabled": row.enabled, "changed_by": row.changed_by, "changed_at": row.changed_at}
