"""The event engine: pipes and hooks registered by name, and what runs when an event fires.

Registration does the work: listeners are kept sorted (:mod:`~kuzzle_events.core.listeners`),
wildcard variants are merged into one :class:`~kuzzle_events.core.loops.Chain` per concrete event
name and cached, so triggering an event is a dict lookup and a call, and an event nobody listens to
returns at once. Resolving a chain chooses what its runs do: the function that runs it (the pipe
loop, hooks only, or nothing), the pipes' calls as they are and timed one by one (the runs sampled
for figures, every run when a timeout is set or once the chain ran slow), the back-pressure slots
(:mod:`~kuzzle_events.core.backpressure`), the failure mapping (:mod:`~kuzzle_events.core.failures`).
Listeners switched off at run time are left out when a chain is resolved (switching resolves them
anew). A request that asked for its trace runs its events through :meth:`EventEngine.run_traced`,
each call recorded (:mod:`~kuzzle_events.core.traces`). No Django import.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from kuzzle_events import errors
from kuzzle_events.core.backpressure import Slots
from kuzzle_events.core.failures import HOOK_ON_ERROR, as_raised, must_report_hook_failure, pipe_failure
from kuzzle_events.core.listeners import Call, Listener, ListenerTable, Vocabulary, event_variants, qualified_name
from kuzzle_events.core.loops import (
    NOTHING,
    Chain,
    HookTasks,
    ignoring_payload,
    run_chain,
    run_hooks,
    run_nothing,
    run_recorded,
    timed,
)
from kuzzle_events.core.slowness import warn_slow_chain, warn_slow_pipe
from kuzzle_events.core.stats import SAMPLE_EVERY
from kuzzle_events.core.traces import Trace, TracedEvents, TracedHooks, traced_call
from kuzzle_events.core.tracing import Debugger, shortened

__all__ = ["HOOK_ON_ERROR", "Chain", "EventEngine", "event_variants"]

Observer = Callable[[str, tuple[Any, ...]], None]
Switch = tuple[str, str, str]  # ("pipe" or "hook", the event it is registered on, its qualified name)
_CACHE_LIMIT = 10_000  # custom event names are unbounded; past this the cache starts over
_EMPTY = Chain(run_nothing)


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
        self._pipes = ListenerTable()
        self._hooks = ListenerTable()
        self._durable = ListenerTable()  # durable hooks' recorders
        self._cache: dict[str, Chain] = {}
        self._vocabulary = Vocabulary(self._pipes, self._hooks, self._durable)
        self._timed_events: set[str] = set()
        self._seq = itertools.count()
        # Bumped whenever any event's listeners may have changed: what callers derived from
        # the listeners (the funnel's plan of an action) is valid while it stays the same.
        self.generation = 0
        self._slots = Slots(max_concurrent, buffer_size)
        self.hook_tasks = HookTasks(self._hook_failed)
        self._observers: list[Observer] = []
        # Listeners switched off at run time, as (kind, event registered on, qualified name): they
        # stay registered and are left out when chains are resolved, so dispatch never asks.
        self._off: frozenset[Switch] = frozenset()
        self.configure(warn_time=warn_time, timeout=timeout, max_concurrent=max_concurrent,
                       buffer_size=buffer_size, debug_spec=debug_spec)  # fmt: skip

    def configure(
        self, *, warn_time: float, timeout: float, max_concurrent: int, buffer_size: int, debug_spec: str
    ) -> None:
        """Apply settings; registered listeners stay (``warn_time`` applies to later ones)."""
        self.warn_time = warn_time  # ms
        self.timeout = timeout / 1000 if timeout and timeout > 0 else 0.0
        self._slots.configure(max_concurrent, buffer_size)
        self._debug = Debugger("kuzzle:events", debug_spec)
        self._choose_trigger()

    def _choose_trigger(self) -> None:
        # Tracing (KUZZLE_DEBUG, observers) is a different function, so that it costs nothing when off.
        tracing = self._debug.enabled or bool(self._observers)
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
        """Whether every trigger is traced (``KUZZLE_DEBUG`` names ``kuzzle:events``, or observers
        are watching): the funnel then fires every event of a request, listened to or not."""
        return self._tracing

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(event, payload)`` for every event fired from now on, listened to or
        not (``payload``: the arguments, a tuple); returns the function that stops it."""
        self._observers.append(observer)
        self._choose_trigger()

        def stop() -> None:
            if observer in self._observers:
                self._observers.remove(observer)
                self._choose_trigger()

        return stop

    @property
    def pressure(self) -> tuple[int, int]:
        """(chains running, chains waiting)."""
        return self._slots.pressure

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
        """Register a pipe (``kind="pipe"``), a hook (``kind="hook"``) or a durable hook's recorder
        (``kind="durable"``: awaited after the pipes, before the trigger returns) and return it."""
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
        self._table(kind).add(listener)
        self._forget_chains()
        return listener

    def _table(self, kind: str) -> ListenerTable:
        return self._pipes if kind == "pipe" else self._durable if kind == "durable" else self._hooks

    def remove(self, listener_id: str) -> Listener:
        """Remove a listener by id; ``plugin.runtime.unknown_pipe`` if there is none."""
        listener = self._pipes.pop(listener_id) or self._hooks.pop(listener_id) or self._durable.pop(listener_id)
        if listener is None:
            raise errors.get("plugin.runtime.unknown_pipe", listener_id)
        self._forget_chains()
        return listener

    # Runtime switches ---------------------------------------------------------------------------

    @property
    def switched_off(self) -> frozenset[Switch]:
        """The listeners switched off, as ``(kind, event, name)``."""
        return self._off

    def switch_off(self, switches: Iterable[Switch]) -> None:
        """Switch off exactly the listeners named by ``switches`` (``(kind, event, name)``: the
        event they are registered on, wildcard included, and their qualified name); the others
        run again. The chains are resolved anew only when the set changes."""
        off = frozenset((str(kind), str(event), str(name)) for kind, event, name in switches)
        if off != self._off:
            self._off = off
            self._forget_chains()

    def is_off(self, listener: Listener) -> bool:
        """Whether ``listener`` is switched off (a durable hook is switched as a hook)."""
        kind = listener.kind
        return ("hook" if kind == "durable" else kind, listener.event, listener.name) in self._off

    def planned(self, event: str) -> tuple[tuple[Listener, ...], tuple[Listener, ...]]:
        """The pipes and hooks registered for ``event`` (wildcard variants included), in execution
        order, those switched off included; durable hooks come after the hooks."""
        names = event_variants(event)
        return self._pipes.collect(names), self._hooks.collect(names) + self._durable.collect(names)

    def listeners(self, event: str) -> Chain:
        """The pipes and hooks that run for ``event``, in execution order."""
        return self._cache.get(event) or self._resolve(event)

    def is_quiet(self, event: str) -> bool:
        """Whether triggering ``event`` does nothing at all: no listener, and no tracing."""
        return self.runnable(event) is None

    def runnable(self, event: str) -> Chain | None:
        """What :meth:`trigger` runs for ``event`` with a payload (``chain.run(chain, payload, rest)``),
        None when nothing does (a name no listener can match: not cached); while tracing, by name."""
        if self._tracing:
            return Chain(self._by_name, event)
        words = self._vocabulary  # (its sets read inline: a call costs more than the lookup)
        if event not in words.names and not (words.wild and event.rpartition(":")[0] in words.wild):
            return None
        found = self._cache.get(event) or self._resolve(event)
        return None if found is _EMPTY else found

    async def _by_name(self, chain: Chain, payload: Any, rest: tuple[Any, ...]) -> Any:
        return await self.trigger(chain.event, payload, *rest)

    def chain(self, event: str) -> Chain | None:
        """What runs for ``event`` (its chain, for ``chain.run(chain, payload, ())``), None when
        nothing does; valid until ``chain.stale`` (listeners changed), when it must be asked again."""
        found = self._cache.get(event) or self._resolve(event)
        return None if found is _EMPTY else found

    def has_listeners(self, event: str) -> bool:
        """Whether anything (pipe or hook) runs for ``event``."""
        return self.listeners(event) is not _EMPTY

    def any_listeners(self, events: Iterable[str]) -> bool:
        """Whether anything runs for at least one of ``events``."""
        return any(self.listeners(event) is not _EMPTY for event in events)

    def registered(self) -> dict[str, tuple[list[Listener], list[Listener]]]:
        """Every name with listeners, as registered (wildcards not expanded); durable hooks are
        listed with the hooks, after them."""
        names = sorted(self._pipes.names() | self._hooks.names() | self._durable.names())
        return {n: (self._pipes.of(n), self._hooks.of(n) + self._durable.of(n)) for n in names}

    def fold_counts(self) -> None:
        """Add each cached chain's runs to its pipes' call counts (exact, and free per pipe)."""
        for chain in self._cache.values():
            for counted in (chain, chain.bare):
                if counted is not None and (runs := counted.new_runs()):
                    for pipe in counted.pipes:
                        pipe.stats.calls += runs

    def _forget_chains(self) -> None:
        self.fold_counts()
        for chain in self._cache.values():
            if chain is not _EMPTY:
                chain.stale = True
        self._cache.clear()
        self._vocabulary.forget()
        self.generation += 1

    def _resolve(self, event: str) -> Chain:
        if not self._vocabulary.may_listen(event):
            # A name nothing can listen to (custom events, names never seen): no variants built.
            return self._cached(event, _EMPTY)
        names = event_variants(event)
        pipes = self._pipes.collect(names)
        hooks = self._hooks.collect(names)
        records = self._durable.collect(names)
        if self._off:
            off = self._off
            pipes = tuple(p for p in pipes if ("pipe", p.event, p.name) not in off)
            hooks = tuple(h for h in hooks if ("hook", h.event, h.name) not in off)
            # A durable hook switched off records no delivery (those already recorded still run).
            records = tuple(r for r in records if ("hook", r.event, r.name) not in off)
        if pipes:
            entry = Chain(
                run_chain,
                event,
                pipes,
                hooks,
                calls=tuple(pipe.call for pipe in pipes),
                timed_calls=tuple(timed(pipe, self._report_slow, self.timeout) for pipe in pipes),
                warn=min(pipe.warn for pipe in pipes),
                period=1 if self.timeout or event in self._timed_events else SAMPLE_EVERY,
                slots=self._slots,
                fail=self._pipe_failure,
                slow=self._report_slow_chain,
                hook_tasks=self.hook_tasks,
            )
        elif hooks:
            entry = Chain(run_hooks, event, (), hooks, hook_tasks=self.hook_tasks)
        elif records:
            entry = Chain(run_nothing, event)
        else:
            entry = _EMPTY
        if records:
            # Decided here, once: chains without durable hooks keep their runner as it is.
            entry.records, entry.inner, entry.run = records, entry.run, run_recorded
        return self._cached(event, entry)

    def _cached(self, event: str, entry: Chain) -> Chain:
        cache = self._cache
        if len(cache) >= _CACHE_LIMIT:
            # Names nobody listens to go first, and alone when that is enough: the listeners did
            # not change, so what callers derived from them (``generation``) still holds.
            self._cache = cache = {name: chain for name, chain in cache.items() if chain is not _EMPTY}
            if len(cache) >= _CACHE_LIMIT // 2:
                self._forget_chains()
                cache = self._cache
        cache[event] = entry
        return entry

    def _bare(self, chain: Chain) -> Chain:
        """The chain of runs without payload: pipes called bare and each timed, no slot taken,
        results ignored, errors raised as they are; the hooks are started apart."""
        calls = tuple(ignoring_payload(timed(pipe, self._report_slow, 0, record=False)) for pipe in chain.pipes)
        return Chain(run_chain, chain.event, chain.pipes, timed_calls=calls, warn=math.inf, fail=as_raised)

    # Dispatch -------------------------------------------------------------------------------

    def trigger(self, event: str, payload: Any = NOTHING, /, *rest: Any) -> Coroutine[Any, Any, Any]:
        """Run the pipe chain of ``event``, then start its hooks; the awaitable gives the first
        payload as the pipes left it (None for an event without payload)."""
        chain = self._cache.get(event) or self._resolve(event)
        if payload is NOTHING:
            return self._run_bare(chain)
        return chain.run(chain, payload, rest)

    async def _run_bare(self, chain: Chain) -> None:
        if chain.pipes:
            if chain.bare is None:
                chain.bare = self._bare(chain)
            await run_chain(chain.bare, NOTHING, ())
        if chain.hooks:
            chain.fire(())
        for record in chain.records:
            record.stats.calls += 1
            await record.call(chain.event)

    # Traced requests --------------------------------------------------------------------------

    def traced(self, trace: Trace) -> TracedEvents:
        """The engine for one request that asked for its trace: what it runs is recorded there."""
        return TracedEvents(self, trace)

    async def run_traced(self, trace: Trace, event: str, payload: Any, rest: tuple[Any, ...]) -> Any:
        """:meth:`trigger` for a traced request: the event, and each pipe and hook run, recorded
        in ``trace``. A chain of its own, built for this run only: the cached one stays as it is."""
        chain = self._cache.get(event) or self._resolve(event)
        entry = trace.fired(event)
        if chain is _EMPTY:
            return None if payload is NOTHING else payload
        if payload is NOTHING:  # (an event without payload: its runs are not traced one by one)
            return await self._run_bare(chain)
        calls = tuple(
            traced_call(timed(pipe, self._report_slow, self.timeout), pipe, entry) for pipe in chain.pipes
        )
        # A copy: what the chain runs (its runner, hooks, durable recorders) with its calls traced.
        hooks = TracedHooks(self.hook_tasks, trace, entry)
        traced = dataclasses.replace(
            chain, calls=calls, timed_calls=calls, warn=math.inf, fail=self._pipe_failure, slow=None, hook_tasks=hooks
        )
        return await traced.run(traced, payload, rest)

    def _pipe_failure(
        self, event: str, pipes: tuple[Listener, ...], calls: tuple[Call, ...], error: Exception
    ) -> errors.KuzzleError:
        return pipe_failure(event, pipes, calls, error, self.timeout)

    async def _trigger_traced(self, event: str, *payload: Any) -> Any:
        for observer in self._observers:
            observer(event, payload)
        if self._debug.enabled:
            self._debug('Triggering pipe "%s" with payload: %s', event, shortened(payload))
            if self.listeners(event).hooks:
                self._debug('Triggering hook "%s" with payload: %s', event, shortened(payload))
        return await EventEngine.trigger(self, event, *payload)

    def _report_slow(self, pipe: Listener, elapsed: float) -> None:
        pipe.stats.slow += 1
        warn_slow_pipe(self.log, pipe, elapsed)

    def _report_slow_chain(self, chain: Chain, elapsed: float) -> None:
        if len(chain.pipes) == 1:
            self._report_slow(chain.pipes[0], elapsed)
            return
        warn_slow_chain(self.log, chain.event, chain.pipes, elapsed)
        self._timed_events.add(chain.event)
        chain.time_every_run()

    # Hooks ----------------------------------------------------------------------------------

    def _hook_failed(self, hook: Listener, event: str, error: BaseException) -> None:
        if must_report_hook_failure(hook, event, error, self.log, self.has_listeners):
            self.hook_tasks.track(self.trigger(HOOK_ON_ERROR, hook.owner, hook.event, error), hook, HOOK_ON_ERROR)

    async def drain_hooks(self) -> None:
        """Wait until every running hook (and the hooks they cause) has finished."""
        await self.hook_tasks.drain()
