"""Durable hooks: recorded when their event fires, run from the delivery, retried, then failed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from kuzzle_events import Application, errors
from kuzzle_events.durable.hooks import retry_delay
from kuzzle_events.models import Delivery
from kuzzle_events.orm import in_sync_thread
from kuzzle_events.testing import run_durable_hooks, started_app

INDEX, COLLECTION = "shop", "orders"


async def create_collection(app: Application) -> None:
    await app.sdk.query({"controller": "index", "action": "create", "index": INDEX})
    await app.sdk.query({"controller": "collection", "action": "create", "index": INDEX, "collection": COLLECTION})


async def create_order(app: Application, key: str) -> dict[str, Any]:
    request = {"controller": "document", "action": "create", "index": INDEX, "collection": COLLECTION}
    return await app.sdk.query({**request, "_id": key, "body": {"total": 42}})


async def deliveries() -> list[Delivery]:
    # Through the core's own hop, which closes its connection after (PostgreSQL would keep it).
    return await in_sync_thread(lambda: list(Delivery.objects.order_by("created_at")))()


async def test_a_durable_hook_runs_from_its_delivery_after_the_write_with_the_delivery_id() -> None:
    calls: list[tuple[Any, str]] = []

    async def on_created(request: dict[str, Any], *, delivery_id: str) -> None:
        calls.append((request, delivery_id))

    def setup(app: Application) -> None:
        app.hook.register("document:afterCreate", on_created, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        await create_collection(app)
        await create_order(app, "o1")
        # Acknowledged: the call is recorded, and not run yet (no runner in this application).
        [pending] = await deliveries()
        assert (pending.event, pending.status, pending.attempts) == ("document:afterCreate", "pending", 0)
        assert pending.hook.endswith("on_created@document:afterCreate") and calls == []

        assert await run_durable_hooks(app) == 1
    [(request, delivery_id)] = calls
    assert delivery_id == str(pending.id)
    assert request["input"]["controller"] == "document" and request["input"]["action"] == "create"
    assert request["result"]["_id"] == "o1" and request["result"]["_source"]["total"] == 42
    assert "jwt" not in request["input"]
    assert await deliveries() == []  # done: nothing left


async def test_the_servers_runner_runs_a_delivery_once_it_is_committed() -> None:
    ran = asyncio.Event()
    ids: list[str] = []

    def on_created(request: dict[str, Any], delivery_id: str) -> None:  # a plain function: Django's sync thread
        ids.append(delivery_id)
        ran.set()

    def setup(app: Application) -> None:
        app.hook.register("document:afterCreate", on_created, durable=True)

    async with started_app(setup, DURABLE_POLL_INTERVAL=3600) as app:
        assert app.durable.runner is not None
        await create_collection(app)
        await create_order(app, "o1")
        # Woken by the commit, not by its poll (an hour away).
        await asyncio.wait_for(ran.wait(), 30)
        await run_durable_hooks(app)  # lets the runner store the outcome
        assert len(ids) == 1 and await deliveries() == []
    assert app.durable.runner is None  # stopped with the application


async def test_a_failing_hook_is_retried_with_the_same_delivery_id_then_kept_as_failed() -> None:
    ids: list[str] = []

    async def flaky(name: str, *, delivery_id: str) -> None:
        ids.append(delivery_id)
        raise RuntimeError(f"mail server down for {name}")

    def setup(app: Application) -> None:
        app.hook.register("shop:ordered", flaky, durable=True, retries=2, backoff=0)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        await app.trigger("shop:ordered", "ada")
        assert await run_durable_hooks(app) == 3  # the try and its 2 retries
        assert await run_durable_hooks(app) == 0  # failed for good: not tried again
    [failed] = await deliveries()
    assert ids == [str(failed.id)] * 3
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.last_error == "RuntimeError: mail server down for ada"


async def test_a_retry_waits_for_its_backoff() -> None:
    tries: list[str] = []

    async def flaky(*, delivery_id: str) -> None:
        tries.append(delivery_id)
        raise RuntimeError("down")

    def setup(app: Application) -> None:
        app.hook.register("shop:closed", flaky, durable=True, retries=1, backoff=3600)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        await app.trigger("shop:closed")
        assert await run_durable_hooks(app) == 1
        [waiting] = await deliveries()
        assert (waiting.status, waiting.attempts) == ("pending", 1)
        assert await run_durable_hooks(app) == 0  # its retry is an hour away
        assert await run_durable_hooks(app, ignore_backoff=True) == 1
    [failed] = await deliveries()
    assert (failed.status, failed.attempts, len(tries)) == ("failed", 2, 2)


def test_backoff_doubles_after_each_failure_or_is_what_a_function_says() -> None:
    assert [retry_delay(1.5, attempt) for attempt in range(1, 6)] == [1.5, 3, 6, 12, 24]
    assert [retry_delay(lambda attempt: 10 * attempt, attempt) for attempt in (1, 2, 3)] == [10, 20, 30]


async def test_a_hook_succeeding_on_a_retry_is_done() -> None:
    tries: list[str] = []

    async def second_time_lucky(order: dict[str, Any], *, delivery_id: str) -> None:
        tries.append(delivery_id)
        if len(tries) == 1:
            raise RuntimeError("not yet")

    def setup(app: Application) -> None:
        app.hook.register("shop:paid", second_time_lucky, durable=True, backoff=0)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        await app.trigger("shop:paid", {"order": 1})
        assert await run_durable_hooks(app) == 2
    assert len(set(tries)) == 1 and await deliveries() == []


async def test_a_failed_pipe_chain_records_nothing() -> None:
    async def refuse(payload: Any) -> Any:
        raise errors.ForbiddenError("no")

    async def audit(payload: Any, *, delivery_id: str) -> None:
        raise AssertionError("must not run")

    def setup(app: Application) -> None:
        app.pipe.register("shop:refund", refuse)
        app.hook.register("shop:refund", audit, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        with pytest.raises(errors.ForbiddenError):
            await app.trigger("shop:refund", {"order": 1})
    assert await deliveries() == []


async def test_the_hook_gets_the_payload_as_the_pipes_left_it() -> None:
    got: list[Any] = []

    async def add(payload: dict[str, Any], extra: str) -> dict[str, Any]:
        return {**payload, "piped": True}

    async def audit(payload: dict[str, Any], extra: str, *, delivery_id: str) -> None:
        got.append((payload, extra))

    def setup(app: Application) -> None:
        app.pipe.register("shop:*", add)
        app.hook.register("shop:audit", audit, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        assert await app.trigger("shop:audit", {"order": 1}, "second") == {"order": 1, "piped": True}
        await run_durable_hooks(app)
    assert got == [({"order": 1, "piped": True}, "second")]


async def test_a_payload_that_cannot_be_stored_fails_the_trigger() -> None:
    async def audit(payload: Any, *, delivery_id: str) -> None:
        raise AssertionError("must not run")

    def setup(app: Application) -> None:
        app.hook.register("shop:odd", audit, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        with pytest.raises(errors.PluginImplementationError, match='payload of "shop:odd" cannot be stored'):
            await app.trigger("shop:odd", object())
    assert await deliveries() == []


def test_a_rolled_back_transaction_leaves_no_delivery_and_a_committed_one_does() -> None:
    """Fired inside a transaction (a sync caller's atomic block), the delivery is part of it."""
    ran: list[str] = []

    async def audit(payload: Any, *, delivery_id: str) -> None:
        ran.append(payload)

    app = Application(config={"DURABLE_RUNNER": False})
    app.hook.register("shop:adjusted", audit, durable=True)
    app.start_sync()
    try:
        with pytest.raises(RuntimeError, match="rolled back"):
            with transaction.atomic():
                async_to_sync(app.trigger)("shop:adjusted", "rolled back")
                assert Delivery.objects.count() == 1  # recorded in this very transaction
                raise RuntimeError("rolled back")
        assert Delivery.objects.count() == 0
        with transaction.atomic():
            async_to_sync(app.trigger)("shop:adjusted", "committed")
        assert list(Delivery.objects.values_list("payload", flat=True)) == [["committed"]]
        assert app.run_sync(run_durable_hooks, app) == 1
        assert ran == ["committed"]
    finally:
        app.run_sync(app.shutdown)


def test_registration_refuses_what_could_never_be_delivered(kapp: Application) -> None:
    async def no_delivery_id(payload: Any) -> None: ...

    async def fine(payload: Any, **kwargs: Any) -> None: ...

    with pytest.raises(errors.PluginImplementationError, match="delivery_id") as refused:
        kapp.hook.register("shop:x", no_delivery_id, durable=True)
    assert refused.value.id == "plugin.assert.invalid_hook"
    with pytest.raises(errors.PluginImplementationError, match="retries must be an integer >= 0"):
        kapp.hook.register("shop:x", fine, durable=True, retries=-1)
    with pytest.raises(errors.PluginImplementationError, match="backoff must be a number of seconds"):
        kapp.hook.register("shop:x", fine, durable=True, backoff="1s")  # type: ignore[arg-type]
    kapp.hook.register("shop:x", fine, durable=True)
    with pytest.raises(errors.PluginImplementationError, match="already a durable hook on this event"):
        kapp.hook.register("shop:x", fine, durable=True)
    kapp.hook.register("shop:y", fine, durable=True)  # another event: another key
    assert sorted(kapp.durable.hooks) == [
        f"application:{fine.__module__}.{fine.__qualname__}@shop:x",
        f"application:{fine.__module__}.{fine.__qualname__}@shop:y",
    ]


async def test_registering_after_start_is_refused(started: Application) -> None:
    async def audit(payload: Any, *, delivery_id: str) -> None: ...

    with pytest.raises(errors.PluginImplementationError) as refused:
        started.hook.register("shop:x", audit, durable=True)
    assert refused.value.id == "plugin.runtime.already_started"


async def test_the_decorator_form_registers_a_durable_hook() -> None:
    got: list[Any] = []

    def setup(app: Application) -> None:
        @app.hook.register("shop:shipped", durable=True, retries=0)
        async def shipped(parcel: str, *, delivery_id: str) -> None:
            got.append(parcel)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        [hook] = app.durable.hooks.values()
        assert hook.retries == 0
        _, hooks = app.events.registered()["shop:shipped"]
        assert [h.id.split("-")[0] for h in hooks] == ["durable"]  # listed with the hooks
        await app.trigger("shop:shipped", "p1")
        assert got == []
        await run_durable_hooks(app)
    assert got == ["p1"]


async def test_ordinary_hooks_on_the_same_event_still_start_at_once() -> None:
    ordinary = asyncio.Event()

    async def fast(payload: Any) -> None:
        ordinary.set()

    async def slow(payload: Any, *, delivery_id: str) -> None: ...

    def setup(app: Application) -> None:
        app.hook.register("shop:viewed", fast)
        app.hook.register("shop:viewed", slow, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        await app.trigger("shop:viewed", 1)
        await asyncio.wait_for(ordinary.wait(), 10)
        assert len(await deliveries()) == 1


async def test_a_durable_hook_switched_off_records_nothing_until_switched_back_on() -> None:
    calls: list[Any] = []

    async def audit(payload: Any, *, delivery_id: str) -> None:
        calls.append(payload)

    def setup(app: Application) -> None:
        app.hook.register("shop:refund", audit, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        [recorder] = app.events.planned("shop:refund")[1]
        # Switched as a hook: the same name the Events page and `manage.py kuzzle_events` show.
        await app.switches.set("hook", "shop:refund", recorder.name, enabled=False, changed_by="test")
        assert app.events.is_off(recorder)
        await app.trigger("shop:refund", {"order": 1})
        assert await deliveries() == []
        await app.switches.set("hook", "shop:refund", recorder.name, enabled=True, changed_by="test")
        await app.trigger("shop:refund", {"order": 2})
        [delivery] = await deliveries()
        assert delivery.payload == [{"order": 2}]
        assert await run_durable_hooks(app) == 1
    assert calls == [{"order": 2}]


async def test_a_traced_request_still_records_its_durable_hooks() -> None:
    async def on_now(request: dict[str, Any], *, delivery_id: str) -> None:
        raise AssertionError("run by run_durable_hooks only")

    def setup(app: Application) -> None:
        app.hook.register("server:afterNow", on_now, durable=True)

    async with started_app(setup, DURABLE_RUNNER=False) as app:
        answer = await app.sdk.query({"controller": "server", "action": "now", "trace": True})
        assert answer["status"] == 200 and "trace" in answer
        [delivery] = await deliveries()
        assert delivery.event == "server:afterNow"
