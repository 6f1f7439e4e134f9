"""Durable hooks on the built-in document writes: their deliveries are written in the write's own
transaction, so a committed write never loses them and a rolled-back one leaves none."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.db import DatabaseError, transaction

from kuzzle_events import Application, errors
from kuzzle_events.models import Document
from kuzzle_events.orm import in_sync_thread
from kuzzle_events.testing import run_durable_hooks, started_app
from tests.durable.test_hooks import COLLECTION, INDEX, create_collection, create_order, deliveries


class Killed(BaseException):
    """The process dying between the write's commit and its after events (no handler catches it)."""


def kill(request: Any, *rest: Any) -> Any:
    raise Killed


async def documents() -> list[str]:
    return await in_sync_thread(lambda: sorted(Document.objects.values_list("key", flat=True)))()


async def run_once_held(app: Application) -> int:
    # A reservation nobody confirmed runs once its hold (DURABLE_LEASE) ends.
    for _ in range(200):
        if ran := await run_durable_hooks(app):
            return ran
        await asyncio.sleep(0.02)
    return 0


async def test_a_write_killed_before_its_after_events_still_has_its_deliveries() -> None:
    got: dict[str, Any] = {}

    async def on_created(request: dict[str, Any], *, delivery_id: str) -> None:
        got["created"] = request

    async def on_written(documents: list[Any], request: dict[str, Any], *, delivery_id: str) -> None:
        got["written"] = documents

    def setup(app: Application) -> None:
        app.pipe.register("document:afterCreate", kill)
        app.hook.register("document:afterCreate", on_created, durable=True)
        app.hook.register("generic:document:afterWrite", on_written, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False, DURABLE_LEASE=0.05) as app:
        await create_collection(app)
        with pytest.raises(Killed):
            await create_order(app, "o1")
        # Committed with the document: each after event's durable hook, reserved for it.
        assert await documents() == ["o1"]
        assert sorted(d.event for d in await deliveries()) == ["document:afterCreate", "generic:document:afterWrite"]
        assert await run_once_held(app) == 2
    # As the write left them, before any after pipe.
    assert got["created"]["result"]["_id"] == "o1" and got["created"]["result"]["_source"]["total"] == 42
    assert [d["_id"] for d in got["written"]] == ["o1"]
    assert await deliveries() == []


async def test_an_m_write_reserves_for_what_it_wrote_and_nothing_when_every_item_failed() -> None:
    got: list[dict[str, Any]] = []

    async def on_created(request: dict[str, Any], *, delivery_id: str) -> None:
        got.append(request["result"])

    def setup(app: Application) -> None:
        app.pipe.register("document:afterMCreate", kill)
        app.hook.register("document:afterMCreate", on_created, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False, DURABLE_LEASE=0.05) as app:
        await create_collection(app)
        await create_order(app, "o1")
        m_create = {"controller": "document", "action": "mCreate", "index": INDEX, "collection": COLLECTION}
        with pytest.raises(Killed):  # its only item fails (o1 exists): its savepoint rolled back
            await app.sdk.query({**m_create, "body": {"documents": [{"_id": "o1", "body": {}}]}})
        assert await deliveries() == []
        documents_ = [{"_id": "o2", "body": {"n": 2}}, {"_id": "o1", "body": {}}]
        with pytest.raises(Killed):
            await app.sdk.query({**m_create, "body": {"documents": documents_}})
        [reserved] = await deliveries()
        assert reserved.event == "document:afterMCreate"
        assert await run_once_held(app) == 1
    [result] = got
    assert [d["_id"] for d in result["successes"]] == ["o2"] and [e["_id"] for e in result["errors"]] == ["o1"]


async def test_the_after_event_confirms_its_reservation_with_the_payload_the_pipes_left() -> None:
    got: list[Any] = []

    async def tag(documents: list[Any], request: Any) -> list[Any]:
        return [{**d, "tagged": True} for d in documents]

    async def on_written(documents: list[Any], request: dict[str, Any], *, delivery_id: str) -> None:
        got.append(documents)

    def setup(app: Application) -> None:
        app.pipe.register("generic:document:afterWrite", tag)
        app.hook.register("generic:document:afterWrite", on_written, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:  # a hold of 60 s: confirmed, not waited for
        await create_collection(app)
        await create_order(app, "o1")
        [delivery] = await deliveries()  # one: the reservation, confirmed (not recorded again)
        assert delivery.locked_until is None and delivery.payload[0][0]["tagged"] is True
        assert await run_durable_hooks(app) == 1
    assert [d["_id"] for d in got[0]] == ["o1"] and got[0][0]["tagged"] is True


async def test_a_delivery_that_cannot_be_written_rolls_the_write_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from kuzzle_events.durable import store

    def full(*args: Any) -> Any:
        raise DatabaseError("disk full")

    async def on_created(request: dict[str, Any], *, delivery_id: str) -> None: ...

    def setup(app: Application) -> None:
        app.hook.register("document:afterCreate", on_created, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        await create_collection(app)
        monkeypatch.setattr(store, "reserve", full)
        with pytest.raises(errors.KuzzleError):
            await create_order(app, "o1")
        assert await documents() == [] and await deliveries() == []


def test_run_sync_from_a_plain_thread_writes_and_records_in_the_callers_transaction() -> None:
    from kuzzle_events.models import Delivery

    ran: list[Any] = []

    async def audit(payload: Any, *, delivery_id: str) -> None:
        ran.append(payload)

    async def on_created(request: dict[str, Any], *, delivery_id: str) -> None:
        ran.append(request["result"]["_id"])

    app = Application(config={"DURABLE_RUNNER": False})
    app.hook.register("shop:adjusted", audit, durable=True)
    app.hook.register("document:afterCreate", on_created, durable=True)
    app.start_sync()
    try:
        app.run_sync(create_collection, app)
        with pytest.raises(RuntimeError, match="rolled back"):
            with transaction.atomic():
                app.run_sync(app.trigger, "shop:adjusted", "rolled back")
                app.run_sync(create_order, app, "o1")
                assert Delivery.objects.count() == 2  # in this very transaction
                assert Document.objects.filter(key="o1").exists()
                raise RuntimeError("rolled back")
        assert Delivery.objects.count() == 0 and not Document.objects.filter(key="o1").exists()
        with transaction.atomic():
            app.run_sync(app.trigger, "shop:adjusted", "committed")
            app.run_sync(create_order, app, "o2")
        assert Delivery.objects.count() == 2
        assert app.run_sync(run_durable_hooks, app) == 2
        assert sorted(ran) == ["committed", "o2"]

        async def probe() -> tuple[int, bool]:
            return threading.get_ident(), asyncio.get_running_loop() is app._background_loop()

        # Outside a transaction again: run_sync as before (this thread is not taken for a server's).
        assert app.run_sync(probe) == (threading.get_ident(), True)
    finally:
        app.run_sync(app.shutdown)
