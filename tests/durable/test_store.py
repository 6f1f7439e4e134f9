"""Deliveries in the database: taken by one process at a time, held for a lease, settled by their holder."""

from __future__ import annotations

import datetime
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from kuzzle_events.durable import store
from kuzzle_events.models import Delivery

HOOK = "application:tests.audit@shop:ordered"


def pending(count: int = 1) -> list[str]:
    return store.record([HOOK] * count, "shop:ordered", [{"order": 1}])


def test_a_delivery_is_taken_by_one_worker_until_its_lease_ends() -> None:
    [delivery_id] = pending()
    [taken] = store.claim([HOOK], "worker-a", 60, 10)
    assert (taken.id, taken.hook, taken.event, taken.payload, taken.attempt) == (
        delivery_id,
        HOOK,
        "shop:ordered",
        [{"order": 1}],
        1,
    )
    assert store.claim([HOOK], "worker-b", 60, 10) == []  # held by worker-a
    # worker-a died with it: once its lease has ended, worker-b takes it, for a second try.
    Delivery.objects.filter(pk=delivery_id).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    [again] = store.claim([HOOK], "worker-b", 60, 10)
    assert (again.id, again.attempt) == (delivery_id, 2)
    # worker-a, back, can no longer settle what worker-b holds.
    assert store.complete(delivery_id, "worker-a") is False
    assert store.fail(delivery_id, "worker-a", "late", None) is False
    assert store.complete(delivery_id, "worker-b") is True
    assert Delivery.objects.count() == 0


def test_only_due_deliveries_of_known_hooks_are_taken_and_at_most_the_limit() -> None:
    pending(3)
    store.record(["plugin-x:other@shop:ordered"], "shop:ordered", [])
    later = pending()[0]
    Delivery.objects.filter(pk=later).update(due_at=timezone.now() + datetime.timedelta(hours=1))
    assert len(store.claim([HOOK], "w", 60, 2)) == 2
    assert len(store.claim([HOOK], "w", 60, 10)) == 1  # the third; not the other hook's, not the later one
    assert [c.id for c in store.claim([HOOK], "w", 60, 10, ignore_due=True)] == [later]
    assert store.claim([], "w", 60, 10) == []


def test_a_failed_try_is_pending_again_or_failed_for_good() -> None:
    [delivery_id] = pending()
    store.claim([HOOK], "w", 60, 10)
    assert store.fail(delivery_id, "w", "RuntimeError: once", 0) is True
    row = Delivery.objects.get()
    assert (row.status, row.locked_by, row.locked_until, row.last_error) == ("pending", "", None, "RuntimeError: once")
    store.claim([HOOK], "w", 60, 10)
    store.fail(delivery_id, "w", "RuntimeError: twice", None)
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "RuntimeError: twice")
    assert store.claim([HOOK], "w", 60, 10, ignore_due=True) == []  # failed: never taken again
    # The admin's Retry: pending, due now, every try again.
    assert store.retry(delivery_id) is True
    [retried] = store.claim([HOOK], "w", 60, 10)
    assert retried.attempt == 1


def test_retry_and_discard_leave_alone_what_a_worker_runs() -> None:
    [delivery_id] = pending()
    store.claim([HOOK], "w", 60, 10)
    assert store.retry(delivery_id) is False and store.discard(delivery_id) is False
    assert store.discard("not-a-uuid") is False
    store.fail(delivery_id, "w", "boom", None)
    assert store.discard(delivery_id) is True and Delivery.objects.count() == 0


def test_renew_extends_the_lease_of_what_the_worker_still_holds() -> None:
    first, second = pending(2)
    store.claim([HOOK], "w", 60, 10)
    Delivery.objects.filter(pk=second).update(locked_by="someone-else")
    assert store.renew([first, second], "w", 3600) == 1
    row = Delivery.objects.get(pk=first)
    assert row.locked_until is not None and row.locked_until > timezone.now() + datetime.timedelta(minutes=30)
    assert store.renew([], "w", 60) == 0


def test_recording_in_a_rolled_back_transaction_leaves_nothing_and_never_wakes() -> None:
    woken: list[bool] = []
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            store.record([HOOK], "shop:ordered", [], lambda: woken.append(True))
            raise RuntimeError("rolled back")
    assert Delivery.objects.count() == 0 and woken == []
    store.record([HOOK], "shop:ordered", [], lambda: woken.append(True))
    assert woken == [True]  # outside a transaction: committed, woken at once


@pytest.mark.skipif(
    not connection.features.has_select_for_update_skip_locked, reason="SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL)"
)
def test_a_delivery_locked_by_a_concurrent_claim_is_skipped_not_waited_for() -> None:
    first, second = pending(2)
    locked, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        # Another process's claim, in the middle of its transaction.
        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(pk=first))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert locked.wait(30)
        assert [c.id for c in store.claim([HOOK], "w", 60, 10)] == [second]
    finally:
        release.set()
        holder.join(30)
    assert [c.id for c in store.claim([HOOK], "w", 60, 10)] == [first]


def test_without_skip_locked_a_delivery_taken_meanwhile_is_not_taken_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's way (forced here on any database): candidates read, then each taken by an UPDATE
    conditioned on nobody holding it; one that another worker took in between is left to it."""
    first, second = pending(2)
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    read = store._candidates

    def read_then_lose_the_first(*args: object) -> list[Delivery]:
        rows = read(*args)  # type: ignore[arg-type]
        # Another worker's claim commits between this one's read and its UPDATE.
        held = timezone.now() + datetime.timedelta(minutes=1)
        assert Delivery.objects.filter(pk=first).update(locked_by="other", locked_until=held) == 1
        return rows

    monkeypatch.setattr(store, "_candidates", read_then_lose_the_first)
    assert [c.id for c in store.claim([HOOK], "w", 60, 10)] == [second]
    assert dict(Delivery.objects.values_list("pk", "locked_by")) == {
        uuid.UUID(first): "other",
        uuid.UUID(second): "w",
    }
