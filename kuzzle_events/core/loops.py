"""The call loops of pipe chains and hooks.

Nothing here decides anything: listeners arrive sorted, wildcard variants already merged, and each
one knows whether its function must be awaited. (The commonest loop, a chain of coroutine
functions with one payload, is written out in ``EventEngine.trigger`` itself: a coroutine frame
costs as much as a tenth of such a chain.) Policy (warnings, limits, errors, tracing) lives in
:mod:`kuzzle_events.events`. No Django import, so the loop can be read and measured on its own.
"""

from __future__ import annotations

import asyncio
import math
from time import perf_counter
from typing import Any, Callable

from kuzzle_events.core.stats import HandlerStats

__all__ = [
    "Listener",
    "PipeReturnedNone",
    "run_pipes",
    "run_pipes_with_args",
    "run_pipes_timed",
    "run_pipes_no_payload",
    "fire_hooks",
]


class Listener:
    """One pipe or hook: its function and what was decided about it at registration."""

    __slots__ = ("id", "event", "fn", "is_async", "priority", "seq", "owner", "warn", "name", "stats")

    def __init__(
        self,
        id: str,
        event: str,
        fn: Callable[..., Any],
        is_async: bool,
        priority: int,
        seq: int,
        owner: str,
        warn: float,
        name: str,
    ) -> None:
        self.id = id
        self.event = event  # the name it was registered on, wildcard included
        self.fn = fn
        self.is_async = is_async
        self.priority = priority
        self.seq = seq
        self.owner = owner
        self.warn = warn if warn > 0 else math.inf  # seconds; inf = never warn
        self.name = name
        self.stats = HandlerStats()

    @property
    def sort_key(self) -> tuple[int, int]:
        return (-self.priority, self.seq)

    def __repr__(self) -> str:
        return f"<Listener {self.name} on {self.event!r} ({self.owner}, priority {self.priority})>"


class PipeReturnedNone(Exception):
    """A pipe returned None instead of its payload (``culprit``: its Listener, or its function)."""

    def __init__(self, culprit: Any) -> None:
        super().__init__(culprit)
        self.culprit = culprit


SlowReport = Callable[[Listener, float], None]


async def run_pipes(chain: tuple[Listener, ...], payload: Any) -> Any:
    """Thread ``payload`` through ``chain``: each pipe gets the previous one's result."""
    for pipe in chain:
        result = pipe.fn(payload)
        if pipe.is_async:
            result = await result
        if result is None:
            raise PipeReturnedNone(pipe)
        payload = result
    return payload


async def run_pipes_with_args(chain: tuple[Listener, ...], payload: Any, rest: tuple[Any, ...]) -> Any:
    """:func:`run_pipes` for events with several payload arguments; ``rest`` goes unchanged to each."""
    for pipe in chain:
        result = pipe.fn(payload, *rest)
        if pipe.is_async:
            result = await result
        if result is None:
            raise PipeReturnedNone(pipe)
        payload = result
    return payload


async def run_pipes_timed(
    chain: tuple[Listener, ...], payload: Any, rest: tuple[Any, ...], slow: SlowReport, timeout: float
) -> Any:
    """The careful loop: each pipe timed (``slow`` called past its ``warn``), and each awaited pipe
    cancelled after ``timeout`` seconds when ``timeout`` is set (``TimeoutError(listener)``)."""
    t0 = perf_counter()
    for pipe in chain:
        result = pipe.fn(payload, *rest)
        if pipe.is_async:
            if timeout:
                try:
                    result = await asyncio.wait_for(result, timeout)
                except TimeoutError:
                    raise TimeoutError(pipe) from None
            else:
                result = await result
        if result is None:
            raise PipeReturnedNone(pipe)
        payload = result
        # One clock read per pipe: the end of one pipe is the start of the next.
        t1 = perf_counter()
        pipe.stats.samples.append(t1 - t0)
        if t1 - t0 > pipe.warn:
            slow(pipe, t1 - t0)
        t0 = t1
    return payload


async def run_pipes_no_payload(chain: tuple[Listener, ...], slow: SlowReport) -> None:
    """Pipes of an event that carries no payload (``kuzzle:state:*``): called bare, results ignored."""
    t0 = perf_counter()
    for pipe in chain:
        result = pipe.fn()
        if pipe.is_async:
            await result
        t1 = perf_counter()
        if t1 - t0 > pipe.warn:
            slow(pipe, t1 - t0)
        t0 = t1


async def _call_sync(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


def fire_hooks(
    hooks: tuple[Listener, ...],
    args: tuple[Any, ...],
    event: str,
    running: dict[asyncio.Task[Any], tuple[Listener, str, float]],
    done: Callable[[asyncio.Task[Any]], None],
) -> None:
    """Start each hook as its own task; ``running`` keeps a strong reference until ``done`` runs."""
    create_task = asyncio.get_running_loop().create_task
    started = perf_counter()
    for hook in hooks:
        task = create_task(hook.fn(*args) if hook.is_async else _call_sync(hook.fn, args))
        running[task] = (hook, event, started)
        hook.stats.calls += 1
        task.add_done_callback(done)
