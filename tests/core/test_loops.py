"""The calls composed around a pipe, and the hook tasks."""

from __future__ import annotations

import asyncio
import time

import pytest

from kuzzle_events.core.engine import EventEngine
from kuzzle_events.core.listeners import Listener
from kuzzle_events.core.loops import HookTasks, ignoring_payload, timed, with_arguments
from kuzzle_events.core.stats import SAMPLE_EVERY
from kuzzle_events.errors import KuzzleError


def listener(fn, is_async: bool = True, warn: float = 0.5) -> Listener:
    return Listener("pipe-0", "my-app:thing", fn, is_async, 0, 0, "my-app", warn, "pipe")


async def test_timed_records_the_duration_and_reports_a_slow_pipe() -> None:
    async def slow(payload):
        await asyncio.sleep(0.03)
        return payload

    pipe = listener(slow, warn=0.01)
    reports: list[tuple[Listener, float]] = []
    call = timed(pipe, lambda p, elapsed: reports.append((p, elapsed)), 0)
    assert await call({"a": 1}) == {"a": 1}
    assert len(pipe.stats.samples) == 1
    [(reported, elapsed)] = reports
    assert reported is pipe and elapsed == pipe.stats.samples[0] >= 0.02


async def test_timed_without_recording() -> None:
    pipe = listener(lambda: None, is_async=False)
    await timed(pipe, lambda p, elapsed: None, 0, record=False)()
    assert not pipe.stats.samples


async def test_timed_names_the_pipe_that_ran_past_the_timeout() -> None:
    async def stuck(payload):
        await asyncio.sleep(5)

    pipe = listener(stuck)
    with pytest.raises(TimeoutError) as caught:
        await timed(pipe, lambda p, elapsed: None, 0.01)({})
    assert caught.value.args == (pipe,)  # the cancellation itself: test_engine's timeout test


async def test_a_function_run_on_the_loop_has_no_timeout() -> None:
    def blocking(payload):
        time.sleep(0.03)
        return payload

    assert await timed(listener(blocking, is_async=False), lambda p, elapsed: None, 0.01)(1) == 1


async def test_with_arguments_follows_each_payload_with_the_rest() -> None:
    seen = []

    async def pipe(payload, request, extra):
        seen.append((payload, request, extra))
        return payload + 1

    [call] = with_arguments((pipe,), ("request", "extra"))
    assert await call(1) == 2
    assert seen == [(1, "request", "extra")]


async def test_ignoring_payload_calls_bare_and_keeps_the_payload() -> None:
    calls = []

    async def on_start():
        calls.append("start")

    assert await ignoring_payload(on_start)("unchanged") == "unchanged"
    assert calls == ["start"]


async def test_hook_tasks_hold_each_run_and_count_it() -> None:
    failures: list[tuple[Listener, str, BaseException]] = []
    tasks = HookTasks(lambda hook, event, error: failures.append((hook, event, error)))
    release = asyncio.Event()

    async def waits(payload):
        await release.wait()

    async def fails(payload):
        raise RuntimeError("hook failed")

    quiet, broken = listener(waits), listener(fails)
    tasks.fire((quiet, broken), ({},), "my-app:thing")
    assert len(tasks) == 2
    release.set()
    await tasks.drain()
    assert not tasks
    assert (quiet.stats.calls, quiet.stats.errors, len(quiet.stats.samples)) == (1, 0, 1)
    assert (broken.stats.calls, broken.stats.errors, len(broken.stats.samples)) == (1, 1, 1)
    [(hook, event, error)] = failures
    assert hook is broken and event == "my-app:thing" and str(error) == "hook failed"


async def test_tracked_work_is_held_but_not_counted_as_a_run() -> None:
    failures: list[str] = []
    tasks = HookTasks(lambda hook, event, error: failures.append(event))
    hook = listener(lambda payload: None)

    async def report():
        raise RuntimeError("report failed")

    tasks.track(report(), hook, "hook:onError")
    assert len(tasks) == 1
    await tasks.drain()
    assert (hook.stats.errors, len(hook.stats.samples)) == (0, 0)
    assert failures == ["hook:onError"]


# The compositions, run by the engine -----------------------------------------------------------


async def test_the_pipe_that_returned_none_is_named_in_an_event_with_arguments() -> None:
    engine = EventEngine()

    async def keeps(documents, request):
        return documents

    async def forgets(documents, request):
        return None

    engine.add("pipe", "generic:document:beforeWrite", keeps, is_async=True)
    engine.add("pipe", "generic:document:beforeWrite", forgets, is_async=True)
    with pytest.raises(KuzzleError) as caught:
        await engine.trigger("generic:document:beforeWrite", [], "request")
    assert caught.value.id == "plugin.runtime.pipe_returned_none"
    assert "forgets" in caught.value.message and "keeps" not in caught.value.message


async def test_sampled_runs_give_every_pipe_its_arguments() -> None:
    engine = EventEngine()
    seen: list[tuple[object, ...]] = []

    async def pipe(documents, request):
        seen.append((documents, request))
        return documents

    engine.add("pipe", "generic:document:beforeWrite", pipe, is_async=True)
    for n in range(SAMPLE_EVERY):
        assert await engine.trigger("generic:document:beforeWrite", n, "request") == n
    assert seen == [(n, "request") for n in range(SAMPLE_EVERY)]
    [listener] = engine.listeners("generic:document:beforeWrite").pipes
    assert len(listener.stats.samples) == 1  # the SAMPLE_EVERY-th run was timed pipe by pipe


async def test_an_event_without_payload_calls_pipes_bare_and_takes_no_slot() -> None:
    engine = EventEngine(max_concurrent=1)
    hook_args: list[tuple[object, ...]] = []
    gate = asyncio.Event()

    async def holds(payload):
        await gate.wait()
        return payload

    async def on_start():
        return None  # a result nobody reads: not a pipe that forgot its payload

    async def hook(*args):
        hook_args.append(args)

    engine.add("pipe", "my-app:slow", holds, is_async=True)
    engine.add("pipe", "kuzzle:state:start", on_start, is_async=True)
    engine.add("hook", "kuzzle:state:start", hook, is_async=True)
    holding = asyncio.ensure_future(engine.trigger("my-app:slow", 1))
    await asyncio.sleep(0)
    assert engine.pressure == (1, 0)  # the one slot is taken...
    assert await asyncio.wait_for(engine.trigger("kuzzle:state:start"), 1) is None  # ...this run needs none
    await engine.drain_hooks()
    assert hook_args == [()]
    gate.set()
    assert await holding == 1


async def test_the_pipe_timeout_applies_to_events_with_a_payload_only() -> None:
    engine = EventEngine(timeout=10)
    calls: list[str] = []

    async def slow_start():
        await asyncio.sleep(0.03)
        calls.append("start")

    engine.add("pipe", "kuzzle:state:start", slow_start, is_async=True)
    await engine.trigger("kuzzle:state:start")
    assert calls == ["start"]


async def test_an_event_without_payload_raises_errors_as_they_are() -> None:
    engine = EventEngine()

    async def broken():
        raise ValueError("cannot start")

    engine.add("pipe", "kuzzle:state:start", broken, is_async=True)
    with pytest.raises(ValueError, match="cannot start"):
        await engine.trigger("kuzzle:state:start")


async def test_a_none_payload_is_a_payload() -> None:
    engine = EventEngine()
    got: list[tuple[object, ...]] = []

    async def hook(*args):
        got.append(args)

    engine.add("hook", "my-app:thing", hook, is_async=True)
    assert await engine.trigger("my-app:thing", None) is None
    await engine.drain_hooks()
    assert got == [(None,)]


async def test_call_counts_stay_exact_when_a_chain_becomes_timed(caplog) -> None:
    engine = EventEngine(warn_time=10)
    slow_once = [True]

    async def fast(payload):
        return payload

    async def slow(payload):
        if slow_once.pop() if slow_once else False:
            await asyncio.sleep(0.03)
        return payload

    engine.add("pipe", "my-app:thing", fast, is_async=True)
    engine.add("pipe", "my-app:thing", slow, is_async=True)
    for _ in range(10):
        await engine.trigger("my-app:thing", {})
    assert engine.listeners("my-app:thing").period == 1  # timed pipe by pipe since the first run
    engine.fold_counts()
    assert [p.stats.calls for p in engine.listeners("my-app:thing").pipes] == [10, 10]
    assert [len(p.stats.samples) for p in engine.listeners("my-app:thing").pipes] == [9, 9]
