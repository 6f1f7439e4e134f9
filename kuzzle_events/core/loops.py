"""The pipe loop and the hook launcher, and the calls composed around a pipe.

Nothing here decides anything. A :class:`Chain` is what the engine (:mod:`~kuzzle_events.core.engine`)
resolved for one event name, with all that its runs need: the pipes' calls, the back-pressure
slots, the failure and slow-chain functions, and ``run``, the function that runs it.
:func:`run_chain` is the one pipe loop: each call awaited in turn, each given the previous one's
result. What a call does besides calling its pipe (being timed, being cancelled after a timeout,
receiving more arguments, ignoring the payload) is a wrapper around it, made here and chosen by the
engine when it resolves the chain. :meth:`HookTasks.fire` is the one hook launcher. No Django import.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import Any, Protocol

from kuzzle_events.core.backpressure import UNLIMITED, Slots
from kuzzle_events.core.listeners import Call, Listener

__all__ = [
    "NOTHING",
    "Chain",
    "HookLauncher",
    "HookTasks",
    "PipeReturnedNone",
    "ignoring_payload",
    "run_chain",
    "run_hooks",
    "run_nothing",
    "run_recorded",
    "timed",
    "with_arguments",
]

NOTHING: Any = object()  # the payload of an event that carries none (``kuzzle:state:*``)
Failure = Callable[[str, tuple[Listener, ...], tuple[Call, ...], Exception], BaseException]
SlowReport = Callable[[Listener, float], None]
Runner = Callable[["Chain", Any, tuple[Any, ...]], Coroutine[Any, Any, Any]]
HookRecord = tuple[Listener, str, float]  # the hook, the event fired, when (perf_counter; < 0: not a hook run)


class HookLauncher(Protocol):
    """What starts a chain's hooks: :class:`HookTasks`, or a traced request's launcher."""

    def fire(self, hooks: tuple[Listener, ...], args: tuple[Any, ...], event: str) -> None: ...


class PipeReturnedNone(Exception):
    """A pipe returned None instead of its payload (``culprit``: the call that did)."""

    def __init__(self, culprit: Any) -> None:
        super().__init__(culprit)
        self.culprit = culprit


@dataclasses.dataclass(slots=True, eq=False, repr=False)
class Chain:
    """What runs for one concrete event name, and all that its runs need, resolved once.

    ``run`` is the function that runs it (:func:`run_chain`, :func:`run_hooks` or
    :func:`run_nothing`). ``calls`` are the pipes' own calls, ``timed_calls`` the same pipes timed
    one by one, used by one run in ``period``: the others are timed as a whole (two clock reads)
    against ``warn``, ``slow`` being called past it.
    """

    run: Runner
    event: str = ""
    pipes: tuple[Listener, ...] = ()
    hooks: tuple[Listener, ...] = ()
    _: dataclasses.KW_ONLY
    calls: tuple[Call, ...] = ()
    timed_calls: tuple[Call, ...] = ()
    warn: float = 0.0
    period: int = 1
    slots: Slots = UNLIMITED
    fail: Failure | None = None
    slow: Callable[[Chain, float], None] | None = None
    hook_tasks: HookLauncher | None = None
    # Durable hooks: their recorders, awaited in order once the pipes succeeded, and the runner of
    # the rest of the chain (``run`` being :func:`run_recorded`).
    records: tuple[Listener, ...] = ()
    inner: Runner | None = None
    # A countdown picks the timed runs: it stays within small ints, which cost no allocation.
    left: int = dataclasses.field(init=False)  # runs before the next timed one
    cycles: int = dataclasses.field(init=False, default=0)  # timed runs so far
    counted: int = dataclasses.field(init=False, default=0)  # runs added to the pipes' call counts
    bare: Chain | None = dataclasses.field(init=False, default=None)  # for runs without payload
    # Set when the engine forgets its chains (listeners changed): a caller that kept this chain
    # (the funnel's plan of an action) fires the event by its name instead.
    stale: bool = dataclasses.field(init=False, default=False)

    def __post_init__(self) -> None:
        self.left = self.period - 1

    def __repr__(self) -> str:
        return f"<Chain {self.event!r}: {len(self.pipes)} pipes, {len(self.hooks)} hooks>"

    def fire(self, args: tuple[Any, ...]) -> None:
        """Start the hooks with ``args``."""
        self.hook_tasks.fire(self.hooks, args, self.event)  # type: ignore[union-attr]

    @property
    def started(self) -> int:
        """How many runs started."""
        return self.cycles * self.period + self.period - 1 - self.left

    def new_runs(self) -> int:
        """How many runs started since the last call."""
        started = self.started
        runs, self.counted = started - self.counted, started
        return runs

    def time_every_run(self) -> None:
        """From now on, time every run pipe by pipe."""
        self.cycles = self.started  # with a period of 1, the same count
        self.period, self.left = 1, 0


async def run_chain(chain: Chain, payload: Any, rest: tuple[Any, ...]) -> Any:
    """Thread ``payload`` through the chain's pipes (``rest`` after it for each), then start its
    hooks with the result; return it. A failure raises what ``chain.fail`` returns for it."""
    slots = chain.slots
    if slots.free > 0:  # Slots' protocol written out: this test is all a run pays
        slots.free -= 1
    else:
        await slots.wait()
    left = chain.left
    if left:
        chain.left = left - 1
        calls = chain.calls
    else:
        chain.left = chain.period - 1
        chain.cycles += 1
        calls = chain.timed_calls
    if rest:
        calls = with_arguments(calls, rest)
    t0 = perf_counter()
    try:
        for call in calls:
            payload = await call(payload)
            if payload is None:
                raise PipeReturnedNone(call)
    except Exception as error:
        failure = chain.fail(chain.event, chain.pipes, calls, error)  # type: ignore[misc]
        raise failure from (None if failure is error else error)
    finally:
        if slots.waiting:
            slots.hand_over()
        else:
            slots.free += 1
    if (elapsed := perf_counter() - t0) > chain.warn and left:  # else each pipe was timed
        chain.slow(chain, elapsed)  # type: ignore[misc]
    if chain.hooks:
        chain.fire((payload, *rest))
    return payload


async def run_hooks(chain: Chain, payload: Any, rest: tuple[Any, ...]) -> Any:
    """The run of a chain without pipes: its hooks started, the payload returned."""
    chain.fire((payload, *rest))
    return payload


async def run_nothing(chain: Chain, payload: Any, rest: tuple[Any, ...]) -> Any:
    """The run of an event nobody listens to."""
    return payload


async def run_recorded(chain: Chain, payload: Any, rest: tuple[Any, ...]) -> Any:
    """The run of a chain with durable hooks: the rest of the chain (``chain.inner``), then each
    durable hook's recorder awaited with the final payload, so that the event is recorded before
    the trigger returns (each given the event's name, then the payload); a recorder's failure is
    the trigger's."""
    payload = await chain.inner(chain, payload, rest)  # type: ignore[misc]
    args = (chain.event, payload, *rest)
    for record in chain.records:
        record.stats.calls += 1
        await record.call(*args)
    return payload


def timed(pipe: Listener, slow: SlowReport, timeout: float, record: bool = True) -> Call:
    """``pipe`` timed: its duration recorded (``record``), ``slow`` called past its ``warn``; an
    awaited pipe is cancelled after ``timeout`` seconds when set (``TimeoutError(pipe)``)."""
    fn, is_async, warn, samples = pipe.fn, pipe.is_async, pipe.warn, pipe.stats.samples

    async def call(*args: Any) -> Any:
        t0 = perf_counter()
        result = fn(*args)
        if is_async:
            if timeout:
                try:
                    result = await asyncio.wait_for(result, timeout)
                except TimeoutError:
                    raise TimeoutError(pipe) from None
            else:
                result = await result
        elapsed = perf_counter() - t0
        if record:
            samples.append(elapsed)
        if elapsed > warn:
            slow(pipe, elapsed)
        return result

    return call


def with_arguments(calls: tuple[Call, ...], rest: tuple[Any, ...]) -> tuple[Call, ...]:
    """``calls`` for one run of an event with several arguments: ``rest`` follows each payload."""
    return tuple(_followed_by(call, rest) for call in calls)


def _followed_by(call: Call, rest: tuple[Any, ...]) -> Call:
    def bound(payload: Any) -> Coroutine[Any, Any, Any]:
        return call(payload, *rest)

    return bound


def ignoring_payload(call: Call) -> Call:
    """``call`` for an event without payload: called bare, its result ignored."""

    async def bare(nothing: Any) -> Any:
        await call()
        return nothing

    return bare


class HookTasks(dict[asyncio.Task[Any], HookRecord]):
    """The running hook tasks, each held (a strong reference) until it ends, by the hook it runs.

    A hook's end adds its duration to its figures; a failure raises its error count and goes to
    ``failed(hook, event, error)``, the errors of the tasks started by :meth:`track` as well.
    """

    def __init__(self, failed: Callable[[Listener, str, BaseException], None]) -> None:
        super().__init__()
        self._failed = failed

    def fire(self, hooks: tuple[Listener, ...], args: tuple[Any, ...], event: str) -> None:
        """Start each hook with ``args`` as its own task."""
        create_task = asyncio.get_running_loop().create_task
        done = self._done
        started = perf_counter()
        for hook in hooks:
            task = create_task(hook.call(*args))
            self[task] = (hook, event, started)
            hook.stats.calls += 1
            task.add_done_callback(done)

    def fire_watched(
        self,
        hooks: tuple[Listener, ...],
        args: tuple[Any, ...],
        event: str,
        watch: Callable[[Listener, asyncio.Task[Any]], None],
    ) -> None:
        """:meth:`fire`, and ``watch(hook, task)`` for each task started (a traced request's)."""
        create_task = asyncio.get_running_loop().create_task
        started = perf_counter()
        for hook in hooks:
            task = create_task(hook.call(*args))
            self[task] = (hook, event, started)
            hook.stats.calls += 1
            task.add_done_callback(self._done)
            watch(hook, task)

    def track(self, work: Coroutine[Any, Any, Any], hook: Listener, event: str) -> None:
        """Run ``work`` on behalf of ``hook`` (not a run of it) as a task held like the hooks'."""
        task = asyncio.get_running_loop().create_task(work)
        self[task] = (hook, event, -1.0)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        hook, event, started = self.pop(task)
        if started >= 0:
            hook.stats.samples.append(perf_counter() - started)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if started >= 0:
            hook.stats.errors += 1
        self._failed(hook, event, error)

    async def drain(self) -> None:
        """Wait until every running hook (and the hooks they cause) has finished."""
        while self:
            await asyncio.gather(*list(self), return_exceptions=True)
