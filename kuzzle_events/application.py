"""The application object (Kuzzle's ``Backend``): registration, start, trigger and SDK.

Start rule: registration happens in ``AppConfig.ready()``. The application starts the first time
an entry point needs it, which is always after ``django.setup()`` has run every ``ready()``: the
ASGI application (lifespan startup, or its first connection under servers without lifespan events),
the DRF views, the ``kuzzle`` management command, or an explicit ``await app.start()``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import logging
import selectors
import threading
from typing import Any, Awaitable, Callable, Coroutine, Mapping, TypeVar

from asgiref.sync import SyncToAsync, async_to_sync

from kuzzle_events import conf as config_module
from kuzzle_events import errors
from kuzzle_events.core.catalog import check_listener
from kuzzle_events.core.controllers import ControllerRegistry
from kuzzle_events.core.engine import EventEngine
from kuzzle_events.core.funnel import Funnel
from kuzzle_events.orm import adapt
from kuzzle_events.core.request import ANONYMOUS, Connection, KuzzleRequest, User

__all__ = ["Application", "PipeRegistry", "HookRegistry", "EmbeddedSDK"]

T = TypeVar("T")
Handler = Callable[..., Any]


class PipeRegistry:
    """``app.pipe``: functions awaited in order on an event, each returning the payload."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def register(
        self, event: str, handler: Handler | None = None, *, priority: int = 0, owner: str | None = None
    ) -> Any:
        """Register ``handler`` on ``event`` and return its pipe id (usable with :meth:`unregister`).

        Without ``handler``, return a decorator that registers the function it decorates.
        Higher ``priority`` runs first; equal priorities run in registration order.
        ``plugin.assert.invalid_pipe`` for a hook-only event or a decorator without its event.
        """
        check_listener("pipe", event, handler)
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.register(event, fn, priority=priority, owner=owner)
                return fn

            return decorator
        return self._app._add_listener("pipe", event, handler, priority, owner).id

    def unregister(self, pipe_id: str) -> None:
        """Remove a pipe; ``plugin.runtime.unknown_pipe`` if no pipe has that id."""
        if not isinstance(pipe_id, str) or not pipe_id.startswith("pipe-"):
            raise errors.get("plugin.runtime.unknown_pipe", pipe_id)
        self._app.events.remove(pipe_id)


class HookRegistry:
    """``app.hook``: functions started on an event, never awaited by the request."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def register(
        self, event: str, handler: Handler | None = None, *, priority: int = 0, owner: str | None = None
    ) -> Any:
        """Register ``handler`` on ``event``; returns the hook id, or a decorator without ``handler``."""
        check_listener("hook", event, handler)
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.register(event, fn, priority=priority, owner=owner)
                return fn

            return decorator
        self._app._require_not_started("hook.register")
        return self._app._add_listener("hook", event, handler, priority, owner).id


class EmbeddedSDK:
    """``app.sdk``: execute API actions from code, through the funnel."""

    def __init__(self, app: Application) -> None:
        self._app = app

    async def query(
        self,
        request: Mapping[str, Any],
        *,
        user: User | None = None,
        trigger_events: bool = True,
        check_rights: bool = False,
    ) -> dict[str, Any]:
        """Execute ``request`` (``{"controller", "action", ...}``) and return its envelope.

        As in Kuzzle, code of the server is trusted: rights are checked only with ``check_rights``
        (for ``user``, anonymous by default) or when the request carries a ``jwt``.
        A failed action raises its :class:`~kuzzle_events.errors.KuzzleError`.
        """
        self._app._require_started("sdk")
        kuzzle_request = KuzzleRequest(
            dict(request), connection=Connection(protocol="internal"), user=user or ANONYMOUS
        )
        kuzzle_request.context.check_rights = check_rights
        response = await self._app.funnel.execute(kuzzle_request, trigger_events=trigger_events)
        if kuzzle_request.error is not None:
            raise kuzzle_request.error
        return response.to_dict()


class Application:
    """One application: its controllers, pipes, hooks and settings.

    ``kuzzle_events.app`` is the process's instance; tests build their own.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._config_overrides = dict(config or {})
        self._config: config_module.Config | None = None
        self._events: EventEngine | None = None
        self._funnel: Funnel | None = None
        self._start_task: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bridge_lock = threading.Lock()
        self.state = "stopped"  # stopped -> starting -> running -> stopped
        self.log = logging.getLogger("kuzzle_events")
        self.errors = errors.ErrorRegistry()
        self.controller = ControllerRegistry(adapt, guard=self._require_not_started_for)
        self.pipe = PipeRegistry(self)
        self.hook = HookRegistry(self)
        self.sdk = EmbeddedSDK(self)
        from kuzzle_events.security.guard import Security

        self.security = Security(self)
        from kuzzle_events.realtime.hub import Realtime

        self.realtime = Realtime(self)
        from kuzzle_events.plugins.loader import PluginManager

        self.plugin = PluginManager(self)
        from kuzzle_events.api import register_builtins

        register_builtins(self)

    # Settings and engine, built on first use so that importing never touches Django settings --

    @property
    def config(self) -> config_module.Config:
        if self._config is None:
            self._config = config_module.load(self._config_overrides)
        return self._config

    @property
    def events(self) -> EventEngine:
        if self._events is None:
            c = self.config
            self._events = EventEngine(
                warn_time=c.PIPE_WARN_TIME,
                timeout=c.PIPE_TIMEOUT,
                max_concurrent=c.MAX_CONCURRENT_PIPES,
                buffer_size=c.PIPES_BUFFER_SIZE,
                log=self.log,
                debug_spec=c.DEBUG,
            )
        return self._events

    @property
    def funnel(self) -> Funnel:
        if self._funnel is None:
            c = self.config
            self._funnel = Funnel(
                self.events, self.controller, node=c.NODE, stack=c.ERROR_STACK, debug_spec=c.DEBUG
            )
            self._funnel.authorize = self.security.authorize
        return self._funnel

    def reload_config(self) -> None:
        """Read the settings again (``KUZZLE_EVENTS`` changed); registrations are kept."""
        self._config = None
        c = self.config
        if self._events is not None:
            self._events.configure(
                warn_time=c.PIPE_WARN_TIME,
                timeout=c.PIPE_TIMEOUT,
                max_concurrent=c.MAX_CONCURRENT_PIPES,
                buffer_size=c.PIPES_BUFFER_SIZE,
                debug_spec=c.DEBUG,
            )
        self._funnel = None

    @property
    def started(self) -> bool:
        return self.state == "running"

    # Registration guards ----------------------------------------------------------------------

    def _require_not_started(self, what: str) -> None:
        if self.state != "stopped":
            raise errors.get("plugin.runtime.already_started", what)

    def _require_not_started_for(self, kind: str) -> None:
        self._require_not_started(f"{kind}.register")

    def _require_started(self, what: str) -> None:
        if self.state != "running":
            raise errors.get("plugin.runtime.unavailable_before_start", what)

    def _add_listener(
        self, kind: str, event: str, handler: Handler, priority: int, owner: str | None, warn_time: float | None = None
    ) -> Any:
        if not callable(handler):
            raise errors.get(
                f"plugin.assert.invalid_{kind}", event, repr(handler), "A handler must be a function."
            )
        fn, is_async = adapt(handler)
        name = None if fn is handler else _name_of(handler)
        return self.events.add(
            kind,
            event,
            fn,
            is_async=is_async,
            priority=priority,
            owner=owner or self.config.APP_NAME,
            warn_time=warn_time,
            name=name,
        )

    def stats(self) -> dict[str, Any]:
        """Figures since start of every action, pipe and hook: calls, errors, durations."""
        events = self.events
        events.fold_counts()
        listeners = {}
        for event, (pipes, hooks) in events.registered().items():
            listeners[event] = {
                "pipes": [{"id": p.id, "name": p.name, "owner": p.owner, **p.stats.summary()} for p in pipes],
                "hooks": [{"id": h.id, "name": h.name, "owner": h.owner, **h.stats.summary()} for h in hooks],
            }
        actions = {
            f"{c.name}:{a.name}": {"owner": c.owner, **a.stats.summary()}
            for c in self.controller.controllers.values()
            for a in c.actions.values()
        }
        return {"actions": actions, "events": listeners}

    # Running ----------------------------------------------------------------------------------

    async def trigger(self, event: str, *payload: Any) -> Any:
        """Fire ``event`` (pipes, then hooks) and return the first payload after the pipe chain."""
        self._require_started("trigger")
        return await self.events.trigger(event, *payload)

    async def start(self) -> None:
        """Start the application once (later calls wait for the first one)."""
        if self._start_task is None:
            self._start_task = asyncio.ensure_future(self._start())
        await asyncio.shield(self._start_task)

    async def _start(self) -> None:
        self.state = "starting"
        self._loop = asyncio.get_running_loop()
        events = self.events
        try:
            await self.plugin.initialise()
            await self.security.start()
            await self.realtime.start()
            await events.trigger("kuzzle:state:start")
            self.state = "running"
            await events.trigger("kuzzle:state:live")
            await events.trigger("kuzzle:state:ready")
            await events.trigger("core:kuzzleStart")
        except Exception:
            self.state = "stopped"
            self._start_task = None
            raise
        self.log.info("kuzzle_events: application started (%d controllers)", len(self.controller.controllers))

    async def shutdown(self) -> None:
        """Fire ``kuzzle:shutdown``, wait for running hooks, and stop."""
        if self.state != "running":
            return
        await self.events.trigger("kuzzle:shutdown")
        await self.events.drain_hooks()
        await self.realtime.stop()
        self.state = "stopped"
        self._start_task = None

    def run_sync(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run a coroutine function from sync code (WSGI views, management commands).

        Inside a thread that Django runs for an async server, this is ``async_to_sync`` on the
        server's loop. Elsewhere the coroutine runs as a task of the application's own background
        loop, which outlives the call so that hooks started by the request are not cancelled with
        it; while that loop is idle, the task's first step runs in the calling thread (see
        :class:`_BridgeLoop`), so a request that never waits costs no hop between threads.
        """
        if getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not None:
            return async_to_sync(fn)(*args, **kwargs)
        return self._background_loop().run(fn(*args, **kwargs))

    def start_sync(self) -> None:
        """:meth:`start` from sync code."""
        if self.state != "running":
            self.run_sync(self.start)

    def _background_loop(self) -> _BridgeLoop:
        with self._bridge_lock:
            loop = getattr(self, "_bridge_loop", None)
            if loop is None:
                loop = _BridgeLoop()
                thread = threading.Thread(target=loop.serve, name="kuzzle-events-loop", daemon=True)
                thread.start()
                self._bridge_loop = loop
            return loop


class _UnlockedSelector(selectors.DefaultSelector):
    """A selector that releases ``lock`` while it waits for I/O or timers."""

    def __init__(self, lock: threading.Lock) -> None:
        super().__init__()
        self._lock = lock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self._lock.release()
        try:
            return super().select(timeout)
        finally:
            self._lock.acquire()


_CAPTURE: Any = object()  # _BridgeLoop._first_step: keep the next call_soon (a new task's first step)


class _BridgeLoop(asyncio.SelectorEventLoop):
    """The background loop of :meth:`Application.run_sync`, which a sync thread may borrow while it is idle.

    The loop's own thread holds ``lock`` except while it waits for I/O or timers, so a thread that
    takes the lock has the loop to itself. :meth:`run` creates the task there and then runs its
    first step in the calling thread, as the loop's thread would (the task is the current task,
    the loop the running loop); only a task that then waits is left to the loop's thread. What the
    step scheduled (hooks, timers, callbacks) wakes the loop's thread once the lock is released.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        super().__init__(_UnlockedSelector(self.lock))
        self._borrowed = False
        self._wake_after = False
        self._first_step: Any = None

    def serve(self) -> None:
        """Run the loop forever in the current thread (the loop's own thread)."""
        with self.lock:
            self.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` as a task of this loop from another thread and return its result."""
        if asyncio._get_running_loop() is not None or not self.lock.acquire(blocking=False):
            # The loop is busy (or called from a loop's thread): queue the task behind its work.
            return asyncio.run_coroutine_threadsafe(coro, self).result()
        try:
            task = self._start_here(coro)
            if not task.done():
                outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
                task.add_done_callback(functools.partial(_copy_outcome, outcome))
        finally:
            scheduled, self._wake_after = self._wake_after, False
            self.lock.release()
        if scheduled:
            self.call_soon_threadsafe(_nothing)  # wakes the loop's thread
        return task.result() if task.done() else outcome.result()

    def _start_here(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """A new task of this loop, its first step run in the calling thread (which holds the lock)."""
        asyncio._set_running_loop(self)
        self._borrowed = True
        self._first_step = _CAPTURE
        try:
            task = self.create_task(coro)
            step, args, context = self._first_step
            context.run(step, *args)
        finally:
            self._first_step = None
            self._borrowed = False
            asyncio._set_running_loop(None)
        return task

    def call_soon(
        self, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        if self._borrowed:
            if self._first_step is _CAPTURE:
                # The first step of the task that run() creates: run() calls it itself.
                self._first_step = (callback, args, context)
                return asyncio.Handle(callback, args, self, context)
            self._wake_after = True
        return super().call_soon(callback, *args, context=context)

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.TimerHandle:
        if self._borrowed:
            self._wake_after = True
        return super().call_at(when, callback, *args, context=context)

    def _check_thread(self) -> None:
        # Debug mode's check: while it holds the lock, the borrowing thread is the loop's thread.
        if not self._borrowed:
            super()._check_thread()


def _nothing() -> None:
    """A callback that does nothing: scheduling it wakes a loop."""


def _copy_outcome(outcome: concurrent.futures.Future[Any], task: asyncio.Task[Any]) -> None:
    """Give ``outcome`` (what the calling thread waits on) the finished ``task``'s outcome."""
    if task.cancelled():
        outcome.cancel()
    elif (error := task.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(task.result())


def _name_of(fn: Handler) -> str:
    from kuzzle_events.core.listeners import qualified_name

    return qualified_name(fn)
