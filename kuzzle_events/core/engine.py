"""The event engine: pipes and hooks registered by name, and the policy around their call loops.

Registration does the work: listeners are sorted (priority, then registration order), wildcard
variants are merged into one tuple per concrete event name and cached, so triggering an event is a
dict lookup, and an event nobody listens to returns at once. No Django import.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import itertools
import logging
import math
from time import perf_counter
from typing import Any, Callable, Iterable

from kuzzle_events import errors
from kuzzle_events.core.tracing import Debugger
from kuzzle_events.core.stats import SAMPLE_EVERY
from kuzzle_events.core.loops import (
    Listener,
    PipeReturnedNone,
    fire_hooks,
    run_pipes,
    run_pipes_no_payload,
    run_pipes_timed,
    run_pipes_with_args,
)

__all__ = ["EventEngine", "Chain", "event_variants"]
_SAMPLE_MASK = SAMPLE_EVERY - 1
_CACHE_LIMIT = 10_000  # custom event names are unbounded; past this the cache starts over
HOOK_ON_ERROR = "hook:onError"


def event_variants(event: str) -> tuple[str, ...]:
    """The names whose listeners run for ``event``, in order: exact, then wildcards.

    ``server:beforeNow`` -> ``server:beforeNow``, ``server:before*``, ``server:*``.
    The scope is everything before the last colon; a name without colon has no variants.
    """
    scope, sep, name = event.rpartition(":")
    if not sep:
        return (event,)
    names = [event]
    for prefix in ("before", "after", "error"):
        if name.startswith(prefix):
            names.append(f"{scope}:{prefix}*")
    names.append(f"{scope}:*")
    return tuple(dict.fromkeys(names))


class Chain:
    """What runs for one concrete event name: pipes and hooks in order, resolved once.

    Pipes are timed as a whole chain (two clock reads) against ``warn``, the smallest
    ``PIPE_WARN_TIME`` among them. ``timed`` switches to one clock read per pipe: set when a timeout
    is configured, and for an event whose chain of several pipes once ran slow, so that from then
    on each warning names the one pipe responsible.
    """

    __slots__ = ("pipes", "hooks", "warn", "mask", "async_fns", "runs")

    def __init__(self, pipes: tuple[Listener, ...], hooks: tuple[Listener, ...], timed: bool) -> None:
        self.pipes = pipes
        self.hooks = hooks
        # All pipes async: the loop needs no per-pipe test, only their functions.
        self.async_fns = tuple(p.fn for p in pipes) if all(p.is_async for p in pipes) else None
        self.warn = min((p.warn for p in pipes), default=math.inf)
        self.runs = 0  # chain runs not yet added to its pipes' call counts
        self.timed = timed

    @property
    def timed(self) -> bool:
        return self.mask == 0

    @timed.setter
    def timed(self, value: bool) -> None:
        # One test picks the loop: a run is timed pipe by pipe when ``runs & mask`` is 0, which is
        # every run for a timed chain and one run in SAMPLE_EVERY for the others.
        self.mask = 0 if value else _SAMPLE_MASK


_EMPTY = Chain((), (), False)


def qualified_name(fn: Callable[..., Any]) -> str:
    target = getattr(fn, "__wrapped__", fn)
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or repr(target)
    return f"{module}.{name}" if module else name


class EventEngine:
    """Pipes and hooks of one application; :meth:`trigger` runs an event."""

    def __init__(
        self,
        *,
        warn_time: float = 500,
        timeout: float = 0,
        max_concurrent: int = 50,
        buffer_size: int = 50_000,
        log: logging.Logger | None = None,
        debug_spec: str = "",
    ) -> None:
        self.log = log or logging.getLogger("kuzzle_events")
        self._pipes: dict[str, list[Listener]] = {}
        self._hooks: dict[str, list[Listener]] = {}
        self._by_id: dict[str, Listener] = {}
        self._cache: dict[str, Chain] = {}
        self._timed_events: set[str] = set()
        self._seq = itertools.count()
        # Bumped whenever any event's listeners may have changed: what callers derived from
        # the listeners (the funnel's plan of an action) is valid while it stays the same.
        self.generation = 0
        self._free_slots = max_concurrent  # pipe chains that may still start now
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self.hook_tasks: dict[asyncio.Task[Any], tuple[Listener, str, float]] = {}
        self.configure(
            warn_time=warn_time,
            timeout=timeout,
            max_concurrent=max_concurrent,
            buffer_size=buffer_size,
            debug_spec=debug_spec,
        )

    def configure(
        self, *, warn_time: float, timeout: float, max_concurrent: int, buffer_size: int, debug_spec: str
    ) -> None:
        """Apply settings; registered listeners stay (``warn_time`` applies to later ones)."""
        self.warn_time = warn_time  # ms
        self.timeout = timeout / 1000 if timeout and timeout > 0 else 0.0
        if hasattr(self, "max_concurrent"):
            self._free_slots += max_concurrent - self.max_concurrent
        self.max_concurrent = max_concurrent
        self.buffer_size = buffer_size
        self._debug = Debugger("kuzzle:events", debug_spec)
        # Tracing is a different function, so that it costs nothing when off.
        tracing = self._debug.enabled
        if tracing:
            self.trigger = self._trigger_traced  # type: ignore[method-assign]
        elif getattr(self, "_tracing", False):
            # Back to the class's plain method. (Not through self.__dict__: making CPython
            # materialise the instance dict slows every attribute read of the hot path.)
            del self.trigger
        self._tracing = tracing
        self._forget_chains()

    @property
    def tracing(self) -> bool:
        """Whether every trigger is traced (``KUZZLE_DEBUG`` names ``kuzzle:events``)."""
        return self._tracing

    # Registration ---------------------------------------------------------------------------

    def add(
        self,
        kind: str,
        event: str,
        fn: Callable[..., Any],
        *,
        is_async: bool,
        priority: int = 0,
        owner: str = "application",
        warn_time: float | None = None,
        name: str | None = None,
    ) -> Listener:
        """Register a pipe (``kind="pipe"``) or a hook (``kind="hook"``) and return it."""
        if not isinstance(event, str) or not event:
            raise errors.PluginImplementationError(f"Invalid event name {event!r}: expected a non-empty string.")
        seq = next(self._seq)
        listener = Listener(
            id=f"{kind}-{seq}",
            event=event,
            fn=fn,
            is_async=is_async,
            priority=int(priority),
            seq=seq,
            owner=owner,
            warn=(self.warn_time if warn_time is None else warn_time) / 1000,
            name=name or qualified_name(fn),
        )
        table = self._pipes if kind == "pipe" else self._hooks
        listeners = table.setdefault(event, [])
        listeners.append(listener)
        listeners.sort(key=lambda item: item.sort_key)
        self._by_id[listener.id] = listener
        self._forget_chains()
        return listener

    def remove(self, listener_id: str) -> Listener:
        """Remove a listener by id; ``plugin.runtime.unknown_pipe`` if there is none."""
        listener = self._by_id.pop(listener_id, None)
        if listener is None:
            raise errors.get("plugin.runtime.unknown_pipe", listener_id)
        table = self._pipes if listener_id.startswith("pipe-") else self._hooks
        table[listener.event].remove(listener)
        if not table[listener.event]:
            del table[listener.event]
        self._forget_chains()
        return listener

    def listeners(self, event: str) -> Chain:
        """The pipes and hooks that run for ``event``, in execution order."""
        entry = self._cache.get(event)
        if entry is None:
            entry = self._resolve(event)
        return entry

    def fold_counts(self) -> None:
        """Add each cached chain's runs to its pipes' call counts (exact, and free per pipe)."""
        for chain in self._cache.values():
            if chain.runs:
                for pipe in chain.pipes:
                    pipe.stats.calls += chain.runs
                chain.runs = 0

    def _forget_chains(self) -> None:
        self.fold_counts()
        self._cache.clear()
        self.generation += 1

    def has_listeners(self, event: str) -> bool:
        """Whether anything (pipe or hook) runs for ``event``."""
        return self.listeners(event) is not _EMPTY

    def any_listeners(self, events: Iterable[str]) -> bool:
        """Whether anything runs for at least one of ``events``."""
        return any(self.listeners(event) is not _EMPTY for event in events)

    def registered(self) -> dict[str, tuple[list[Listener], list[Listener]]]:
        """Every name with listeners, as registered (wildcards not expanded)."""
        names = sorted(set(self._pipes) | set(self._hooks))
        return {n: (list(self._pipes.get(n, ())), list(self._hooks.get(n, ()))) for n in names}

    def _resolve(self, event: str) -> Chain:
        names = event_variants(event)
        pipes = tuple(p for n in names for p in self._pipes.get(n, ()))
        hooks = tuple(h for n in names for h in self._hooks.get(n, ()))
        timed = bool(self.timeout) or event in self._timed_events
        entry = Chain(pipes, hooks, timed) if pipes or hooks else _EMPTY
        if len(self._cache) >= _CACHE_LIMIT:
            self._forget_chains()
        self._cache[event] = entry
        return entry

    # Dispatch -------------------------------------------------------------------------------

    async def trigger(self, event: str, *payload: Any) -> Any:
        """Run the pipe chain of ``event``, then start its hooks; return the first payload."""
        entry = self._cache.get(event)
        if entry is None:
            entry = self._resolve(event)
        if entry is _EMPTY:
            return payload[0] if payload else None
        pipes = entry.pipes
        if not payload:
            if pipes:
                entry.runs += 1
                await run_pipes_no_payload(pipes, self._report_slow)
            if entry.hooks:
                fire_hooks(entry.hooks, payload, event, self.hook_tasks, self._hook_done)
            return None
        first = payload[0]
        if pipes:
            if self._free_slots > 0:
                self._free_slots -= 1
            else:
                await self._wait_for_slot()
            runs = entry.runs + 1
            entry.runs = runs
            try:
                if not runs & entry.mask:
                    first = await run_pipes_timed(pipes, first, payload[1:], self._report_slow, self.timeout)
                else:
                    t0 = perf_counter()
                    fns = entry.async_fns
                    if fns is not None and len(payload) == 1:
                        # run_pipes for coroutine functions only, inlined: see dispatch's docstring.
                        for fn in fns:
                            result = await fn(first)
                            if result is None:
                                raise PipeReturnedNone(fn)
                            first = result
                    elif len(payload) == 1:
                        first = await run_pipes(pipes, first)
                    else:
                        first = await run_pipes_with_args(pipes, first, payload[1:])
                    elapsed = perf_counter() - t0
                    if elapsed > entry.warn:
                        self._report_slow_chain(event, entry, elapsed)
            except Exception as error:
                raise self._failure(event, entry, error) from (None if isinstance(error, errors.KuzzleError) else error)
            finally:
                # A finishing chain hands its slot to the oldest waiter instead of freeing it.
                if self._waiting:
                    self._hand_over_slot()
                else:
                    self._free_slots += 1
        if entry.hooks:
            fire_hooks(entry.hooks, (first, *payload[1:]), event, self.hook_tasks, self._hook_done)
        return first

    async def _trigger_traced(self, event: str, *payload: Any) -> Any:
        self._debug('Triggering pipe "%s" with payload: %s', event, _short(payload))
        if self.listeners(event).hooks:
            self._debug('Triggering hook "%s" with payload: %s', event, _short(payload))
        return await EventEngine.trigger(self, event, *payload)

    def _failure(self, event: str, entry: Chain, error: Exception) -> errors.KuzzleError:
        """The error a failed chain raises: Kuzzle errors as they are, the rest named and wrapped."""
        _culprit(entry, error).stats.errors += 1
        if isinstance(error, errors.KuzzleError):
            return error
        if isinstance(error, PipeReturnedNone):
            pipe = _culprit(entry, error)
            return errors.get("plugin.runtime.pipe_returned_none", pipe.name, pipe.owner, event)
        if isinstance(error, TimeoutError) and error.args and isinstance(error.args[0], Listener):
            pipe = error.args[0]
            return errors.get(
                "plugin.runtime.pipe_timeout", pipe.name, pipe.owner, event, round(self.timeout * 1000)
            )
        return errors.wrap(error)

    async def _wait_for_slot(self) -> None:
        if len(self._waiting) >= self.buffer_size:
            raise errors.get("plugin.runtime.too_many_pipes")
        slot = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        try:
            await slot
        except asyncio.CancelledError:
            if slot.done() and not slot.cancelled():
                # The slot was handed over just as we were cancelled: pass it on.
                if self._waiting:
                    self._hand_over_slot()
                else:
                    self._free_slots += 1
            else:
                self._waiting.remove(slot)
            raise

    def _hand_over_slot(self) -> None:
        while self._waiting:
            slot = self._waiting.popleft()
            if not slot.done():
                slot.set_result(None)
                return
        self._free_slots += 1

    @property
    def pressure(self) -> tuple[int, int]:
        """(chains running, chains waiting)."""
        return self.max_concurrent - self._free_slots, len(self._waiting)

    def _report_slow(self, pipe: Listener, elapsed: float) -> None:
        pipe.stats.slow += 1
        self.log.warning(
            'Slow pipe: "%s" of %s on event "%s" took %d ms (PIPE_WARN_TIME: %d ms)',
            pipe.name,
            pipe.owner,
            pipe.event,
            round(elapsed * 1000),
            round(pipe.warn * 1000),
        )

    def _report_slow_chain(self, event: str, entry: Chain, elapsed: float) -> None:
        if len(entry.pipes) == 1:
            self._report_slow(entry.pipes[0], elapsed)
            return
        self.log.warning(
            'Slow pipe chain on event "%s": %d ms for %s; its pipes are now timed one by one',
            event,
            round(elapsed * 1000),
            ", ".join(f'"{p.name}" of {p.owner}' for p in entry.pipes),
        )
        self._timed_events.add(event)
        entry.timed = True

    def _hook_done(self, task: asyncio.Task[Any]) -> None:
        hook, event, started = self.hook_tasks.pop(task)
        if started >= 0:  # < 0: the task reporting this hook's failure, not a run of the hook
            hook.stats.samples.append(perf_counter() - started)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if started >= 0:
            hook.stats.errors += 1
        if event == HOOK_ON_ERROR:
            # A failing error hook fires nothing more, or one bad hook would loop forever.
            self.log.error('Hook "%s" on "%s" failed: %r', hook.name, event, error, exc_info=error)
            return
        if not self.has_listeners(HOOK_ON_ERROR):
            self.log.error('Hook "%s" of %s on "%s" failed: %r', hook.name, hook.owner, event, error, exc_info=error)
            return
        task = asyncio.get_running_loop().create_task(self._report_hook_error(hook, error))
        self.hook_tasks[task] = (hook, HOOK_ON_ERROR, -1.0)
        task.add_done_callback(self._hook_done)

    async def _report_hook_error(self, hook: Listener, error: BaseException) -> None:
        await self.trigger(HOOK_ON_ERROR, hook.owner, hook.event, error)

    async def drain_hooks(self) -> None:
        """Wait until every running hook (and the hooks they cause) has finished."""
        while self.hook_tasks:
            await asyncio.gather(*list(self.hook_tasks), return_exceptions=True)


class _Nobody:
    """Stands for an unidentified culprit, so that counting errors needs no test."""

    def __init__(self) -> None:
        from kuzzle_events.core.stats import HandlerStats

        self.stats = HandlerStats()
        self.name = "unknown"
        self.owner = "unknown"


def _code_of(fn: Any) -> Any:
    target = inspect.unwrap(fn)  # through the thread-hop wrapper of plain functions
    target = getattr(target, "__func__", target)
    return getattr(target, "__code__", None)


def _culprit(entry: Chain, error: BaseException) -> Any:
    """The pipe a failure came from: named by the error, or found in its traceback."""
    if isinstance(error, PipeReturnedNone):
        found = next((p for p in entry.pipes if p is error.culprit or p.fn is error.culprit), None)
        return found or _Nobody()
    if isinstance(error, TimeoutError) and error.args and isinstance(error.args[0], Listener):
        return error.args[0]
    codes = set()
    tb = error.__traceback__
    while tb is not None:
        codes.add(tb.tb_frame.f_code)
        tb = tb.tb_next
    return next((p for p in reversed(entry.pipes) if _code_of(p.fn) in codes), None) or _Nobody()


def _short(payload: tuple[Any, ...], limit: int = 500) -> str:
    text = repr(list(payload))
    return text if len(text) <= limit else text[:limit] + "...]"
