"""Deliveries in Django's database: sync functions, each one hop from the async side.

Taking a delivery (:func:`claim`) marks it as held by one process until a lease ends: on
PostgreSQL (and any database with ``SELECT ... FOR UPDATE SKIP LOCKED``) the candidate rows are
locked and skipped by concurrent claims; elsewhere (SQLite) each candidate is taken by an UPDATE
whose condition is that nobody holds it, which only one writer can satisfy. The lease, renewed
while the hook runs, is what makes a delivery of a killed process run again.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from kuzzle_events.models import Delivery

__all__ = [
    "Claimed",
    "record",
    "reserve",
    "confirm",
    "claim",
    "complete",
    "fail",
    "renew",
    "retry",
    "discard",
    "listing",
]


@dataclass(frozen=True)
class Claimed:
    """A delivery taken by this process: what its hook is given, and its try's number."""

    id: str
    hook: str
    event: str
    payload: list[Any]
    attempt: int  # 1 for the first try


def record(hooks: Collection[str], event: str, payload: list[Any], wake: Callable[[], None] | None = None) -> list[str]:
    """One pending delivery per hook key of ``hooks``, in the current transaction if there is one.

    ``wake`` is called once that transaction commits (at once without a transaction), never if it
    is rolled back: rolled back, the deliveries are gone with the writes they came with.
    """
    now = timezone.now()
    rows = [Delivery(hook=key, event=event, payload=payload, due_at=now, created_at=now) for key in hooks]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows)
    if wake is not None:
        transaction.on_commit(wake)
    return [str(row.id) for row in rows]


def reserve(rows: Collection[tuple[str, str, list[Any]]], holder: str, lease: float) -> dict[tuple[str, str], str]:
    """One delivery per ``(hook key, event, payload)``, in the current transaction, held by ``holder``
    for ``lease`` seconds (no process takes it meanwhile): the delivery ids by (hook key, event)."""
    now = timezone.now()
    until = now + datetime.timedelta(seconds=lease)
    deliveries = [
        Delivery(hook=key, event=event, payload=payload, due_at=now, created_at=now, locked_by=holder, locked_until=until)
        for key, event, payload in rows
    ]
    with transaction.atomic():
        Delivery.objects.bulk_create(deliveries)
    return {(row.hook, row.event): str(row.id) for row in deliveries}


def confirm(delivery_id: str, holder: str, payload: list[Any], wake: Callable[[], None] | None = None) -> bool:
    """A reserved delivery's final payload, free to run once the current transaction commits
    (``wake`` then called); False if ``holder`` no longer held it (its hold ended: it ran, or runs,
    with the payload it was reserved with)."""
    now = timezone.now()
    changed = Delivery.objects.filter(pk=delivery_id, locked_by=holder).update(
        payload=payload, locked_by="", locked_until=None, due_at=now
    )
    if changed and wake is not None:
        transaction.on_commit(wake)
    return changed == 1


def _claimable(hooks: Collection[str], now: datetime.datetime, ignore_due: bool) -> Q:
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    due = Q() if ignore_due else Q(due_at__lte=now)
    return Q(status=Delivery.PENDING, hook__in=list(hooks)) & due & free


def claim(
    hooks: Collection[str], worker: str, lease: float, limit: int, *, ignore_due: bool = False
) -> list[Claimed]:
    """Take at most ``limit`` due deliveries of ``hooks`` for ``worker`` for ``lease`` seconds.

    ``ignore_due``: take pending ones whose retry is not due yet as well (the test kit's inline run).
    """
    if not hooks:
        return []
    now = timezone.now()
    held = {"locked_by": worker, "locked_until": now + datetime.timedelta(seconds=lease), "attempts": F("attempts") + 1}
    condition = _claimable(hooks, now, ignore_due)
    order = ("due_at", "created_at")
    taken: list[Delivery]
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            taken = list(Delivery.objects.select_for_update(skip_locked=True).filter(condition).order_by(*order)[:limit])
            Delivery.objects.filter(pk__in=[row.pk for row in taken]).update(**held)
    else:
        candidates = _candidates(condition, order, limit)
        taken = []
        for row in candidates:
            # Taken only if still free: a concurrent claim's UPDATE, committed first, fails this one.
            if Delivery.objects.filter(condition, pk=row.pk).update(**held) == 1:
                taken.append(row)
    return [Claimed(str(row.pk), row.hook, row.event, row.payload, row.attempts + 1) for row in taken]


def _candidates(condition: Q, order: tuple[str, ...], limit: int) -> list[Delivery]:
    # Read without a lock: another process may take any of them before this one's UPDATE.
    return list(Delivery.objects.filter(condition).order_by(*order)[:limit])


def complete(delivery_id: str, worker: str) -> bool:
    """The hook succeeded: the delivery is done (deleted), if ``worker`` still holds it."""
    deleted, _ = Delivery.objects.filter(pk=delivery_id, locked_by=worker).delete()
    return deleted > 0


def fail(delivery_id: str, worker: str, error: str, retry_in: float | None) -> bool:
    """The try failed: pending again in ``retry_in`` seconds, or failed for good (None)."""
    changes: dict[str, Any] = {"locked_by": "", "locked_until": None, "last_error": error}
    if retry_in is None:
        changes["status"] = Delivery.FAILED
    else:
        changes["due_at"] = timezone.now() + datetime.timedelta(seconds=retry_in)
    return Delivery.objects.filter(pk=delivery_id, locked_by=worker).update(**changes) == 1


def renew(delivery_ids: Collection[str], worker: str, lease: float) -> int:
    """Hold the deliveries ``worker`` is running for ``lease`` more seconds; how many it still holds."""
    if not delivery_ids:
        return 0
    until = timezone.now() + datetime.timedelta(seconds=lease)
    return Delivery.objects.filter(pk__in=list(delivery_ids), locked_by=worker).update(locked_until=until)


def retry(delivery_id: str) -> bool:
    """A failed (or waiting) delivery pending again, due now, with all its tries (the admin's Retry)."""
    changes = {"status": Delivery.PENDING, "due_at": timezone.now(), "attempts": 0}
    return Delivery.objects.filter(pk=_uuid(delivery_id)).filter(free_now()).update(**changes) == 1


def discard(delivery_id: str) -> bool:
    """Delete a delivery that nobody is running (the admin's Discard)."""
    deleted, _ = Delivery.objects.filter(pk=_uuid(delivery_id)).filter(free_now()).delete()
    return deleted > 0


def free_now() -> Q:
    """Deliveries no process is running at this moment."""
    return Q(locked_until__isnull=True) | Q(locked_until__lt=timezone.now())


def listing(status: str, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """The first ``limit`` deliveries of ``status`` (oldest first) as rows for the admin, and their count."""
    rows = Delivery.objects.filter(status=status).order_by("created_at")
    now = timezone.now()
    return [
        {
            "id": str(row.pk),
            "hook": row.hook,
            "event": row.event,
            "attempts": row.attempts,
            "due_at": row.due_at,
            "created_at": row.created_at,
            "running": row.locked_until is not None and row.locked_until >= now,
            "last_error": row.last_error,
        }
        for row in rows[:limit]
    ], rows.count()


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
