"""Pipes and hooks: order, wildcards, errors, slow pipes, timeouts, back-pressure, hooks."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuzzle_events import Application, inline
from kuzzle_events.core.engine import EventEngine, event_variants
from kuzzle_events.errors import ForbiddenError, KuzzleError


def recorder(calls: list[str], tag: str):
    async def pipe(payload, *rest):
        calls.append(tag)
        return payload

    return pipe


async def test_pipes_run_by_priority_then_registration_order(started: Application) -> None:
    calls: list[str] = []
    started.pipe.register("my-app:thing", recorder(calls, "a"))
    started.pipe.register("my-app:thing", recorder(calls, "b"), priority=10)
    started.pipe.register("my-app:thing", recorder(calls, "c"))
    started.pipe.register("my-app:thing", recorder(calls, "d"), priority=10)
    await started.trigger("my-app:thing", {})
    assert calls == ["b", "d", "a", "c"]


async def test_payload_threads_through_first_argument_others_unchanged(started: Application) -> None:
    seen = []

    async def add_one(documents, request):
        seen.append(request)
        return [*documents, 1]

    def add_two(documents, request):
        seen.append(request)
        return [*documents, 2]

    started.pipe.register("generic:document:beforeWrite", add_one)
    started.pipe.register("generic:document:beforeWrite", inline(add_two))
    result = await started.trigger("generic:document:beforeWrite", [0], "the-request")
    assert result == [0, 1, 2]
    assert seen == ["the-request", "the-request"]


def test_wildcard_variants() -> None:
    assert event_variants("server:beforeNow") == ("server:beforeNow", "server:before*", "server:*")
    assert event_variants("server:afterNow") == ("server:afterNow", "server:after*", "server:*")
    assert event_variants("server:errorNow") == ("server:errorNow", "server:error*", "server:*")
    assert event_variants("generic:document:beforeWrite") == (
        "generic:document:beforeWrite",
        "generic:document:before*",
        "generic:document:*",
    )
    assert event_variants("my-app/file-available") == ("my-app/file-available",)


async def test_wildcard_pipes_run_after_exact_name(started: Application) -> None:
    calls: list[str] = []
    started.pipe.register("server:*", recorder(calls, "star"), priority=100)
    started.pipe.register("server:before*", recorder(calls, "before*"), priority=50)
    started.pipe.register("server:beforeNow", recorder(calls, "exact"))
    started.pipe.register("server:after*", recorder(calls, "after*"))
    started.pipe.register("*", recorder(calls, "global"))
    await started.trigger("server:beforeNow", {})
    assert calls == ["exact", "before*", "star"]


async def test_event_without_colon_has_no_wildcards(started: Application) -> None:
    calls: list[str] = []
    started.pipe.register("my-app:*", recorder(calls, "star"))
    started.pipe.register("my-app", recorder(calls, "exact"))
    await started.trigger("my-app", {})
    assert calls == ["exact"]


async def test_pipe_returning_none_is_a_clear_error(started: Application) -> None:
    async def forgetful(request):
        request["x"] = 1

    started.pipe.register("my-app:thing", forgetful)
    with pytest.raises(KuzzleError) as caught:
        await started.trigger("my-app:thing", {})
    assert caught.value.id == "plugin.runtime.pipe_returned_none"
    assert caught.value.status == 500
    assert "forgetful" in caught.value.message and "my-app:thing" in caught.value.message


async def test_kuzzle_error_passes_through_other_errors_are_wrapped(started: Application) -> None:
    async def forbid(payload):
        raise ForbiddenError("nope", "my-app.rights.nope")

    async def crash(payload):
        raise ValueError("boom")

    started.pipe.register("my-app:forbid", forbid)
    started.pipe.register("my-app:crash", crash)
    with pytest.raises(ForbiddenError) as forbidden:
        await started.trigger("my-app:forbid", {})
    assert forbidden.value.id == "my-app.rights.nope"
    with pytest.raises(KuzzleError) as crashed:
        await started.trigger("my-app:crash", {})
    assert crashed.value.id == "plugin.runtime.unexpected_error"
    assert crashed.value.status == 500
    assert crashed.value.message == "Caught an unexpected plugin error: boom"
    assert isinstance(crashed.value.__cause__, ValueError)


async def slow(payload):
    await asyncio.sleep(0.06)
    return payload


async def fast(payload):
    return payload


def slow_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Slow pipe" in r.getMessage()]


async def test_slow_pipe_logs_one_warning_naming_owner_event_and_ms(make_app, warnings_log) -> None:
    app = make_app(PIPE_WARN_TIME=20)
    app.pipe.register("my-app:slow", slow, owner="my-app")
    app.pipe.register("my-app:fast", fast, owner="my-app")
    await app.start()
    await app.trigger("my-app:fast", {})
    assert slow_warnings(warnings_log) == []
    await app.trigger("my-app:slow", {})
    [message] = slow_warnings(warnings_log)
    assert message.startswith('Slow pipe: "tests.core.test_engine.slow" of my-app on event "my-app:slow" took ')
    assert int(message.split(" took ")[1].split(" ms")[0]) >= 50


async def test_slow_pipe_in_a_chain_is_then_named_exactly(make_app, warnings_log) -> None:
    app = make_app(PIPE_WARN_TIME=20)
    app.pipe.register("my-app:thing", fast)
    app.pipe.register("my-app:thing", slow, owner="my-app")
    await app.start()
    await app.trigger("my-app:thing", {})
    [chain_warning] = slow_warnings(warnings_log)
    # A chain is timed as a whole: the first warning names its pipes...
    assert 'chain on event "my-app:thing"' in chain_warning and "tests.core.test_engine.slow" in chain_warning
    warnings_log.clear()
    await app.trigger("my-app:thing", {})
    # ...and from then on each pipe is timed, so the warning names the one responsible.
    [exact] = slow_warnings(warnings_log)
    assert exact.startswith('Slow pipe: "tests.core.test_engine.slow" of my-app on event "my-app:thing" took ')


async def test_warn_time_zero_disables_warnings(make_app, warnings_log) -> None:
    app = make_app(PIPE_WARN_TIME=0)

    async def slow(payload):
        await asyncio.sleep(0.03)
        return payload

    app.pipe.register("my-app:thing", slow)
    await app.start()
    await app.trigger("my-app:thing", {})
    assert not [r for r in warnings_log.records if "Slow pipe" in r.getMessage()]


async def test_pipe_timeout_cancels_the_pipe_and_fails_with_504(make_app) -> None:
    app = make_app(PIPE_TIMEOUT=30)
    cancelled = asyncio.Event()

    async def stuck(payload):
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return payload

    app.pipe.register("my-app:thing", stuck)
    await app.start()
    with pytest.raises(KuzzleError) as caught:
        await app.trigger("my-app:thing", {})
    assert caught.value.id == "plugin.runtime.pipe_timeout"
    assert caught.value.status == 504
    assert "stuck" in caught.value.message and "my-app:thing" in caught.value.message
    assert cancelled.is_set()


async def test_back_pressure_waits_then_refuses(make_app) -> None:
    app = make_app(MAX_CONCURRENT_PIPES=2, PIPES_BUFFER_SIZE=1)
    gate = asyncio.Event()
    entered: list[int] = []

    async def blocking(payload):
        entered.append(payload)
        await gate.wait()
        return payload

    app.pipe.register("my-app:slow", blocking)
    app.pipe.register("my-app:other", recorder([], "other"))
    await app.start()
    first = asyncio.ensure_future(app.trigger("my-app:slow", 1))
    second = asyncio.ensure_future(app.trigger("my-app:slow", 2))
    third = asyncio.ensure_future(app.trigger("my-app:slow", 3))
    await asyncio.sleep(0.01)
    assert entered == [1, 2]  # the third waits in the buffer
    assert app.events.pressure == (2, 1)
    with pytest.raises(KuzzleError) as refused:
        await app.trigger("my-app:slow", 4)
    assert refused.value.id == "plugin.runtime.too_many_pipes"
    assert refused.value.status == 503
    # An event with no pipe bypasses the limit entirely.
    assert await app.trigger("my-app:nobody", "payload") == "payload"
    gate.set()
    assert await asyncio.gather(first, second, third) == [1, 2, 3]
    assert app.events.pressure == (0, 0)


async def test_cancelled_waiter_frees_its_place(make_app) -> None:
    app = make_app(MAX_CONCURRENT_PIPES=1, PIPES_BUFFER_SIZE=5)
    gate = asyncio.Event()

    async def blocking(payload):
        await gate.wait()
        return payload

    app.pipe.register("my-app:slow", blocking)
    await app.start()
    running = asyncio.ensure_future(app.trigger("my-app:slow", 1))
    waiting = asyncio.ensure_future(app.trigger("my-app:slow", 2))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.sleep(0)
    gate.set()
    assert await running == 1
    assert app.events.pressure == (0, 0)


async def test_dynamic_pipes_register_and_unregister_after_start(started: Application) -> None:
    calls: list[str] = []
    pipe_id = started.pipe.register("my-app:thing", recorder(calls, "dynamic"))
    await started.trigger("my-app:thing", {})
    started.pipe.unregister(pipe_id)
    await started.trigger("my-app:thing", {})
    assert calls == ["dynamic"]
    with pytest.raises(KuzzleError) as unknown:
        started.pipe.unregister(pipe_id)
    assert unknown.value.id == "plugin.runtime.unknown_pipe"
    with pytest.raises(KuzzleError):
        started.pipe.unregister("not-an-id")


async def test_decorator_forms(kapp: Application) -> None:
    calls: list[str] = []

    @kapp.pipe.register("my-app:thing", priority=1)
    async def first(payload):
        calls.append("pipe")
        return payload

    @kapp.hook.register("my-app:thing")
    async def then(payload):
        calls.append("hook")

    assert first.__name__ == "first" and then.__name__ == "then"
    await kapp.start()
    await kapp.trigger("my-app:thing", {})
    await kapp.events.drain_hooks()
    assert calls == ["pipe", "hook"]


async def test_hooks_get_final_payload_and_are_not_awaited(kapp: Application) -> None:
    release = asyncio.Event()
    got: list[object] = []

    async def pipe(payload):
        return {**payload, "piped": True}

    async def hook(payload):
        await release.wait()
        got.append(payload)

    kapp.pipe.register("my-app:thing", pipe)
    kapp.hook.register("my-app:thing", hook)
    await kapp.start()
    result = await kapp.trigger("my-app:thing", {"a": 1})
    assert result == {"a": 1, "piped": True}
    assert got == []  # trigger returned while the hook still waits
    assert len(kapp.events.hook_tasks) == 1  # a strong reference holds the task
    release.set()
    await kapp.events.drain_hooks()
    assert got == [{"a": 1, "piped": True}]


async def test_failed_chain_fires_no_hooks(kapp: Application) -> None:
    fired: list[object] = []

    async def fail(payload):
        raise ForbiddenError("no")

    kapp.pipe.register("my-app:thing", fail)
    kapp.hook.register("my-app:thing", lambda payload: fired.append(payload))
    await kapp.start()
    with pytest.raises(ForbiddenError):
        await kapp.trigger("my-app:thing", {})
    await kapp.events.drain_hooks()
    assert fired == []


async def test_hook_tasks_survive_garbage_collection(kapp: Application) -> None:
    done = asyncio.Event()

    async def hook(payload):
        await asyncio.sleep(0.01)
        gc.collect()
        done.set()

    kapp.hook.register("my-app:thing", hook)
    await kapp.start()
    await kapp.trigger("my-app:thing", {})
    gc.collect()
    await asyncio.wait_for(done.wait(), 1)
    await kapp.events.drain_hooks()
    assert not kapp.events.hook_tasks


async def test_failing_hook_fires_hook_on_error(kapp: Application) -> None:
    reports: list[tuple[str, str, BaseException]] = []

    async def broken(payload):
        raise RuntimeError("hook failed")

    async def on_error(plugin_name, event, error):
        reports.append((plugin_name, event, error))

    kapp.hook.register("my-app:*", broken, owner="my-app")
    kapp.hook.register("hook:onError", on_error)
    await kapp.start()
    await kapp.trigger("my-app:thing", {})
    await kapp.events.drain_hooks()
    assert len(reports) == 1
    plugin_name, event, error = reports[0]
    assert (plugin_name, event) == ("my-app", "my-app:*")
    assert isinstance(error, RuntimeError) and str(error) == "hook failed"


async def test_failing_on_error_hook_is_logged_and_fires_nothing_more(kapp: Application, caplog) -> None:
    calls: list[str] = []

    async def broken(payload):
        raise RuntimeError("first failure")

    async def broken_on_error(plugin_name, event, error):
        calls.append(event)
        raise RuntimeError("error hook failure")

    kapp.hook.register("my-app:thing", broken)
    kapp.hook.register("hook:onError", broken_on_error)
    kapp.hook.register("hook:*", broken_on_error)
    await kapp.start()
    with caplog.at_level(logging.ERROR, logger="kuzzle_events"):
        await kapp.trigger("my-app:thing", {})
        await kapp.events.drain_hooks()
        await asyncio.sleep(0.01)
        await kapp.events.drain_hooks()
    assert calls == ["my-app:thing", "my-app:thing"]  # both error hooks, once each
    assert len([r for r in caplog.records if "error hook failure" in r.getMessage()]) == 2


@pytest.mark.django_db(transaction=True)
async def test_sync_functions_inline_run_on_loop_others_in_a_thread(kapp: Application) -> None:
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}

    @inline
    def cheap(payload):
        threads["inline"] = threading.get_ident()
        return payload

    def blocking(payload):
        threads["plain"] = threading.get_ident()
        return payload

    kapp.pipe.register("my-app:thing", cheap)
    kapp.pipe.register("my-app:thing", blocking)
    kapp.hook.register("my-app:thing", inline(lambda payload: threads.setdefault("hook", threading.get_ident())))
    await kapp.start()
    await kapp.trigger("my-app:thing", {})
    await kapp.events.drain_hooks()
    assert threads["inline"] == loop_thread
    assert threads["hook"] == loop_thread
    assert threads["plain"] != loop_thread


@pytest.mark.django_db(transaction=True)
async def test_sync_pipe_using_the_orm_works_from_the_async_core(kapp: Application) -> None:
    from django.contrib.auth.models import User

    def count_users(payload):
        User.objects.create(username=f"user-{payload['n']}")
        return {**payload, "users": User.objects.count()}

    kapp.pipe.register("my-app:thing", count_users)
    await kapp.start()
    assert (await kapp.trigger("my-app:thing", {"n": 1}))["users"] == 1
    assert (await kapp.trigger("my-app:thing", {"n": 2}))["users"] == 2


async def test_events_without_payload_call_pipes_bare(kapp: Application) -> None:
    calls: list[str] = []

    async def on_ready():
        calls.append("ready")

    kapp.pipe.register("kuzzle:state:ready", on_ready)
    await kapp.start()
    assert calls == ["ready"]


async def test_a_name_nobody_can_listen_to_is_told_apart_from_wildcards() -> None:
    engine = EventEngine()
    assert engine.is_quiet("custom:thing") and engine.is_quiet("plain")
    seen: list[str] = []

    async def pipe(value: Any) -> Any:
        seen.append(value)
        return value

    # Registered after the name was first triggered: the name is heard from then on.
    engine.add("pipe", "custom:*", pipe, is_async=True)
    assert not engine.is_quiet("custom:thing")
    assert await engine.trigger("custom:thing", "a") == "a" and seen == ["a"]
    engine.add("pipe", "server:before*", pipe, is_async=True)
    assert engine.is_quiet("server:afterNow") and not engine.is_quiet("server:beforeNow")
    assert engine.is_quiet("other:thing")


async def test_names_nobody_listens_to_leave_the_full_cache_first() -> None:
    from kuzzle_events.core import engine as engine_module

    engine = EventEngine()

    async def pipe(value: Any) -> Any:
        return value

    engine.add("pipe", "custom:heard", pipe, is_async=True)
    heard = engine.listeners("custom:heard")
    generation = engine.generation
    for n in range(engine_module._CACHE_LIMIT + 10):
        await engine.trigger(f"custom:unheard{n}", n)
    # The heard chain is the same object (not resolved again) and plans derived before still hold.
    assert engine.listeners("custom:heard") is heard and engine.generation == generation
    assert len(engine._cache) < engine_module._CACHE_LIMIT


NAMES = st.sampled_from(["a:x", "a:beforeX", "a:afterX", "b:x", "b:errorX", "plain", "c:d:x", "c:d:beforeY"])
REGISTERED = st.sampled_from(["a:x", "a:*", "a:before*", "b:error*", "plain", "c:d:*", "other:thing"])


@given(steps=st.lists(st.tuples(st.booleans(), REGISTERED, NAMES), max_size=12))
def test_quiet_answers_as_the_resolved_chains_do(steps: list[tuple[bool, str, str]]) -> None:
    # is_quiet asks the vocabulary (the registered names) before the cache, and the vocabulary's
    # question is swapped for a faster one as names are read: it must agree with resolving the
    # chain, for every name, however registrations and questions interleave.
    engine = EventEngine()

    async def pipe(value: Any) -> Any:
        return value

    for register, name, event in steps:
        if register:
            engine.add("pipe", name, pipe, is_async=True)
        assert engine.is_quiet(event) is not engine.has_listeners(event)
        # What app.trigger runs as it is: the cached chain itself, or None exactly when quiet.
        runnable = engine.runnable(event)
        assert runnable is (None if engine.is_quiet(event) else engine.listeners(event))


async def test_while_tracing_what_runs_fires_the_event_by_its_name() -> None:
    # app.trigger runs engine.runnable(event) without the trigger: while tracing, that must still
    # go through the traced trigger, even for a name nobody listens to.
    engine = EventEngine()
    seen: list[tuple[str, tuple[Any, ...]]] = []
    stop = engine.observe(lambda event, payload: seen.append((event, payload)))
    runnable = engine.runnable("custom:unheard")
    assert runnable is not None and engine.is_quiet("custom:unheard") is False
    assert await runnable.run(runnable, "p", ("more",)) == "p"
    assert seen == [("custom:unheard", ("p", "more"))]
    stop()
    assert engine.runnable("custom:unheard") is None
