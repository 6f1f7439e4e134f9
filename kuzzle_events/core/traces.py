"""Request traces: every event one request's life cycle fired, and each pipe and hook run on it.

A request asks for its trace (``X-Kuzzle-Trace: 1`` over HTTP, ``"trace": true`` in a WebSocket or
MQTT frame); its :class:`Trace` rides on the request, and the funnel runs that request's events
through :class:`TracedEvents`, which the engine gives it (:meth:`EventEngine.traced`). Nothing here
is on the path of a request that did not ask: the funnel tests ``request.trace`` once, and the
engine's own dispatch never looks at traces. No Django import.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Protocol

from kuzzle_events import errors
from kuzzle_events.core.listeners import Call, Listener

if TYPE_CHECKING:
    from kuzzle_events.core.engine import EventEngine
    from kuzzle_events.core.loops import HookTasks

__all__ = [
    "TRACE_HEADER",
    "Events",
    "EventTrace",
    "Run",
    "Trace",
    "TracedEvents",
    "TracedHooks",
    "asks_trace",
    "traced_call",
]

TRACE_HEADER = "x-kuzzle-trace"  # lower-cased, as the HTTP layer keeps headers
_YES = frozenset({"1", "true"})
# The trace of the request whose code is running: the events its listeners and handler fire
# themselves (app.trigger) go in it too. Set only while a traced request runs.
_CURRENT: ContextVar[Trace | None] = ContextVar("kuzzle_events_trace", default=None)


# The trace of the traced request whose code is running, if any. (The ContextVar's own method:
# every app.trigger asks, and a function of ours around it would cost more than the question.)
current_trace: Callable[[], Trace | None] = _CURRENT.get


class Events(Protocol):
    """What a request's life cycle fires its events through: the engine, or :class:`TracedEvents`."""

    def trigger(self, event: str, payload: Any, /, *rest: Any) -> Coroutine[Any, Any, Any]: ...

    def has_listeners(self, event: str) -> bool: ...


def asks_trace(value: Any) -> bool:
    """Whether a ``trace`` field (or the ``X-Kuzzle-Trace`` header) asks for a trace:
    ``true``, ``1``, ``"1"`` or ``"true"``."""
    if value is True:
        return True
    if isinstance(value, str):
        return value.strip().lower() in _YES
    return type(value) is int and value == 1


class Run:
    """One pipe or hook run: whose, when (``time.time_ns``), how it ended."""

    __slots__ = ("listener", "kind", "start_ns", "end_ns", "outcome", "error")

    def __init__(self, listener: Listener, kind: str) -> None:
        self.listener = listener
        self.kind = kind
        self.start_ns = time.time_ns()
        self.end_ns = 0
        self.outcome = "running"  # then "ok", "error" or "cancelled"
        self.error: BaseException | None = None

    def end(self, error: BaseException | None = None, outcome: str | None = None) -> None:
        self.end_ns = time.time_ns()
        self.error = error
        self.outcome = outcome or ("ok" if error is None else "error")

    @property
    def duration_ms(self) -> float | None:
        """How long it ran, in milliseconds (``None`` while it runs)."""
        return round((self.end_ns - self.start_ns) / 1e6, 3) if self.end_ns else None

    def to_dict(self) -> dict[str, Any]:
        listener = self.listener
        entry: dict[str, Any] = {
            "name": listener.name,
            "owner": listener.owner,
            "registeredOn": listener.event,
            "duration": self.duration_ms,
            "outcome": self.outcome,
        }
        if self.error is not None:
            entry["error"] = _error_of(self.error)
        return entry


class EventTrace:
    """One event fired: its name, when, and the runs of its pipes and hooks in order."""

    __slots__ = ("event", "at_ns", "pipes", "hooks")

    def __init__(self, event: str) -> None:
        self.event = event
        self.at_ns = time.time_ns()
        self.pipes: list[Run] = []
        self.hooks: list[Run] = []

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "pipes": [run.to_dict() for run in self.pipes],
            "hooks": [run.to_dict() for run in self.hooks],
        }


class Trace:
    """What one request's life cycle fired, in order. ``asked``: the client asked for it (it goes
    in the envelope if its rights allow ``server:trace``); else it is for telemetry only."""

    __slots__ = ("asked", "events", "hook_tasks", "start_ns", "end_ns")

    def __init__(self, asked: bool = True) -> None:
        self.asked = asked
        self.events: list[EventTrace] = []
        self.hook_tasks: list[asyncio.Task[Any]] = []
        self.start_ns = time.time_ns()
        self.end_ns = 0

    def enter(self) -> Token[Trace | None]:
        """Make this the running code's trace (:func:`current_trace`); give the token to :meth:`leave`."""
        return _CURRENT.set(self)

    @staticmethod
    def leave(token: Token[Trace | None]) -> None:
        _CURRENT.reset(token)

    def fired(self, event: str) -> EventTrace:
        """Record that ``event`` fired; its runs are added to what this returns."""
        entry = EventTrace(event)
        self.events.append(entry)
        return entry

    async def settle(self, patience: float) -> None:
        """Wait up to ``patience`` seconds for the hooks the request started (those still running
        are shown so)."""
        running = [task for task in self.hook_tasks if not task.done()]
        if running and patience > 0:
            await asyncio.wait(running, timeout=patience)

    def end(self) -> None:
        self.end_ns = time.time_ns()

    def to_dict(self) -> dict[str, Any]:
        """The envelope's ``trace``: ``{"events": [{"event", "pipes": [...], "hooks": [...]}]}``."""
        return {"events": [entry.to_dict() for entry in self.events]}


def traced_call(call: Call, pipe: Listener, entry: EventTrace) -> Call:
    """``call`` (a pipe's call as the chain makes it) recorded as a run of ``pipe`` on ``entry``."""

    async def traced(*args: Any) -> Any:
        run = Run(pipe, "pipe")
        entry.pipes.append(run)
        pipe.stats.calls += 1  # (a traced run is not one of the cached chain's counted runs)
        try:
            result = await call(*args)
        except asyncio.CancelledError:
            run.end(outcome="cancelled")
            raise
        except Exception as error:
            run.end(error)
            raise
        if result is None:
            run.end(errors.get("plugin.runtime.pipe_returned_none", pipe.name, pipe.owner, entry.event))
        else:
            run.end()
        return result

    return traced


class TracedHooks:
    """Starts a traced event's hooks as the engine's :class:`HookTasks` does, each one recorded."""

    __slots__ = ("_tasks", "_trace", "_entry")

    def __init__(self, tasks: HookTasks, trace: Trace, entry: EventTrace) -> None:
        self._tasks = tasks
        self._trace = trace
        self._entry = entry

    def fire(self, hooks: tuple[Listener, ...], args: tuple[Any, ...], event: str) -> None:
        self._tasks.fire_watched(hooks, args, event, self._watch)

    def _watch(self, hook: Listener, task: asyncio.Task[Any]) -> None:
        run = Run(hook, "hook")
        self._entry.hooks.append(run)
        self._trace.hook_tasks.append(task)
        task.add_done_callback(_ender(run))


def _ender(run: Run) -> Callable[[asyncio.Task[Any]], None]:
    def ended(task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            run.end(outcome="cancelled")
        else:
            run.end(task.exception())

    return ended


class TracedEvents:
    """The engine as one traced request sees it: :meth:`trigger` records what it runs."""

    __slots__ = ("engine", "trace")

    def __init__(self, engine: EventEngine, trace: Trace) -> None:
        self.engine = engine
        self.trace = trace

    def has_listeners(self, event: str) -> bool:
        return self.engine.has_listeners(event)

    def trigger(self, event: str, payload: Any, /, *rest: Any) -> Coroutine[Any, Any, Any]:
        """:meth:`EventEngine.trigger`, each pipe and hook run recorded in the trace."""
        return self.engine.run_traced(self.trace, event, payload, rest)


def _error_of(error: BaseException) -> dict[str, Any]:
    found = getattr(error, "id", None)
    message = getattr(error, "message", None) or str(error)
    if isinstance(error, TimeoutError) and error.args and isinstance(error.args[0], Listener):
        message = "timed out (PIPE_TIMEOUT)"
    return {"id": found if isinstance(found, str) else type(error).__name__, "message": message}
