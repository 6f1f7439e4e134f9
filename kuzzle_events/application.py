"""The application object (Kuzzle's ``Backend``): registration, start, trigger and SDK.

Start rule: registration happens in ``AppConfig.ready()``. The application starts the first time
an entry point needs it, which is always after ``django.setup()`` has run every ``ready()``: the
ASGI application (lifespan startup, or its first connection under servers without lifespan events),
the DRF views, the ``kuzzle`` management command, or an explicit ``await app.start()``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync, async_to_sync

from kuzzle_events import conf as config_module
from kuzzle_events import errors
from kuzzle_events.api import register_builtins
from kuzzle_events.core.backpressure import RequestSlots
from kuzzle_events.core.borrowed_loop import BorrowedLoop
from kuzzle_events.core.controllers import ControllerRegistry
from kuzzle_events.core.engine import EventEngine
from kuzzle_events.core.funnel import Funnel
from kuzzle_events.core.listeners import qualified_name
from kuzzle_events.core.loops import NOTHING
from kuzzle_events.core.nesting import Nesting
from kuzzle_events.core.traces import current_trace
from kuzzle_events.durable import DurableHooks
from kuzzle_events.memory_storage import MemoryStorage
from kuzzle_events.orm import CallerThread, adapt, in_caller_transaction
from kuzzle_events.plugins.loader import PluginManager
from kuzzle_events.protocols import mqtt
from kuzzle_events.realtime.hub import Realtime
from kuzzle_events.registries import HookRegistry, PipeRegistry
from kuzzle_events.sdk import EmbeddedSDK
from kuzzle_events.security.guard import Security
from kuzzle_events.switches import Switches

__all__ = ["Application", "HookRegistry", "PipeRegistry"]

T = TypeVar("T")
Handler = Callable[..., Any]


class Application:
    """One application: its controllers, pipes, hooks and settings.

    ``kuzzle_events.app`` is the process's instance; tests build their own.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._config_overrides = dict(config or {})
        self._config: config_module.Config | None = None
        self._events: EventEngine | None = None
        self._funnel: Funnel | None = None
        self._request_slots: RequestSlots | None = None
        self._start_task: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._memory_storage: MemoryStorage | None = None
        self._bridge_lock = threading.Lock()
        self._bridge_loop: BorrowedLoop | None = None
        self.state = "stopped"  # stopped -> starting -> running -> stopped
        self.log = logging.getLogger("kuzzle_events")
        self.errors = errors.ErrorRegistry()
        self.controller = ControllerRegistry(adapt, guard=self._require_not_started_for)
        self.pipe = PipeRegistry(self)
        self.hook = HookRegistry(self)
        self.sdk = EmbeddedSDK(self)
        self.security = Security(self)
        self.switches = Switches(self)  # listeners switched off at run time (admin, manage.py)
        self.realtime = Realtime(self)
        self.plugin = PluginManager(self)
        self.durable = DurableHooks(self)
        self.nesting = Nesting()  # MAX_TRIGGER_DEPTH, set with the other settings at start
        self.mqtt: mqtt.MqttClients | None = None  # while MQTT is on (settings' MQTT)
        register_builtins(self)

    # Settings and engine, built on first use so that importing never touches Django settings --

    @property
    def config(self) -> config_module.Config:
        if self._config is None:
            self._config = config_module.load(self._config_overrides)
        return self._config

    def _registration_config(self) -> config_module.Config:
        """The settings, or the defaults while the settings are invalid.

        Registering pipes and hooks in ``AppConfig.ready()`` must not fail on a settings mistake:
        ``manage.py check`` reports it (``kuzzle_events.E002``/``E003``) and :meth:`start` refuses
        to start with it.
        """
        try:
            return self.config
        except errors.KuzzleError:
            return config_module.Config(config_module.DEFAULTS)

    @property
    def events(self) -> EventEngine:
        if self._events is None:
            c = self._registration_config()
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
    def memory_storage(self) -> MemoryStorage:
        """Kuzzle's memoryStorage service (the ``ms`` controller's Redis), on ``MEMORY_STORAGE_URL``."""
        if self._memory_storage is None:
            self._memory_storage = MemoryStorage(self.config.MEMORY_STORAGE_URL)
        return self._memory_storage

    @property
    def funnel(self) -> Funnel:
        if self._funnel is None:
            c = self.config
            self._funnel = Funnel(
                self.events,
                self.controller,
                node=c.NODE,
                stack=c.ERROR_STACK,
                debug_spec=c.DEBUG,
                slots=self.request_slots,
            )
            self._funnel.authorize = self.security.authorize
            self._funnel.may_trace = self.security.may_trace
            if c.OPENTELEMETRY:
                from kuzzle_events.telemetry import Telemetry  # (the optional dependency, only then)

                self._funnel.trace_every_request(Telemetry())
        return self._funnel

    @property
    def request_slots(self) -> RequestSlots:
        """The requests in flight and those waiting (``MAX_CONCURRENT_REQUESTS``...); they outlive
        a reload of the settings, so that running requests keep counting."""
        if self._request_slots is None:
            c = self.config
            slots = RequestSlots(c.MAX_CONCURRENT_REQUESTS, c.REQUESTS_BUFFER_SIZE, c.REQUESTS_BUFFER_WARNING_THRESHOLD)
            slots.on_overload = self._overloaded
            slots.on_refusal = self._refused
            slots.on_recovery = self._recovered
            self._request_slots = slots
        return self._request_slots

    def _overloaded(self, load: float) -> None:
        # Kuzzle's core:overload: hooks only, with the buffer's fill in percent.
        self.log.warning("kuzzle_events: overloaded: %s%% of REQUESTS_BUFFER_SIZE in use. Delaying requests...", load)
        chain = self.events.listeners("core:overload")
        if chain.hooks:
            chain.fire((load,))

    def _refused(self, error: errors.KuzzleError) -> None:
        self.log.error(
            "kuzzle_events: %s (%s): REQUESTS_BUFFER_SIZE (%d) requests already wait",
            error.message,
            error.id,
            self.request_slots.buffer_size,
        )

    def _recovered(self) -> None:
        self.log.info("kuzzle_events: end of overloaded state. Resuming normal activity.")

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
        if self._request_slots is not None:
            self._request_slots.configure(
                c.MAX_CONCURRENT_REQUESTS, c.REQUESTS_BUFFER_SIZE, c.REQUESTS_BUFFER_WARNING_THRESHOLD
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

    def _require_started(self, what: str, *, starting: bool = False) -> None:
        """``plugin.runtime.unavailable_before_start`` unless running (or, with ``starting``,
        being started: the API serves plugins' ``init``)."""
        if self.state != "running" and not (starting and self.state == "starting"):
            raise errors.get("plugin.runtime.unavailable_before_start", what)

    def _add_listener(
        self, kind: str, event: str, handler: Handler, priority: int, owner: str | None, warn_time: float | None = None
    ) -> Any:
        if not callable(handler):
            raise errors.get(
                f"plugin.assert.invalid_{kind}", event, repr(handler), "A handler must be a function."
            )
        fn, is_async = adapt(handler)
        name = None if fn is handler else qualified_name(handler)
        return self.events.add(
            kind,
            event,
            fn,
            is_async=is_async,
            priority=priority,
            owner=owner or self._registration_config().APP_NAME,
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

    async def trigger(self, event: str, payload: Any = NOTHING, /, *rest: Any) -> Any:
        """Fire ``event`` (pipes, then hooks) and return the first payload after the pipe chain.

        Fired from a listener, it is a nested trigger: past ``MAX_TRIGGER_DEPTH`` of them, it fails
        (``plugin.runtime.unexpected_error``, naming the chain of triggers).
        """
        if self.state != "running":
            self._require_started("trigger")
        events = self._events or self.events  # (built by the start: no property call)
        trace = current_trace()
        if trace is None:
            chain = events.runnable(event)
            if chain is None:
                # Nothing runs, so nothing can trigger again from here: no nesting to count.
                return None if payload is NOTHING else payload
            token = self.nesting.enter(event)
            try:
                if payload is NOTHING:
                    return await events.trigger(event)
                # The chain run as the trigger would run it, without the trigger's call and lookup.
                return await chain.run(chain, payload, rest)
            finally:
                Nesting.leave(token)
        token = self.nesting.enter(event)
        try:  # fired by the code of a request that asked for its trace
            return await events.run_traced(trace, event, payload, rest)
        finally:
            Nesting.leave(token)

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
            if self._config is None:
                # The engine may have been built on the defaults (invalid settings): read them now,
                # which raises their error, or applies them once they are fixed.
                self.reload_config()
            self.nesting.limit = self.config.MAX_TRIGGER_DEPTH
            # The funnel now: a setting it cannot honour (OPENTELEMETRY without its package) stops the start.
            self.funnel  # noqa: B018
            # Rights first: a plugin's init may call the API (context.accessors.sdk), as in Kuzzle.
            await self.security.start()
            await self.plugin.initialise()
            await self.switches.load()
            await self.realtime.start()
            await events.trigger("kuzzle:state:start")
            self.state = "running"
            await events.trigger("kuzzle:state:live")
            await events.trigger("kuzzle:state:ready")
            await events.trigger("core:kuzzleStart")
            self.mqtt = await mqtt.start(self)
            if self.durable.hooks and self.config.DURABLE_RUNNER:
                # Only with durable hooks: an application without any never reads deliveries.
                self.durable.runner = self.durable.new_runner()
                self.durable.runner.start()
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
        broker, self.mqtt = self.mqtt, None
        if broker is not None:
            await broker.stop()
        await self.switches.stop()
        runner, self.durable.runner = self.durable.runner, None
        if runner is not None:
            await runner.stop()
        await self.events.drain_hooks()
        await self.security.settle()
        await self.realtime.stop()
        if self._memory_storage is not None:
            await self._memory_storage.close()
        self.state = "stopped"
        self._start_task = None

    def run_sync(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        """Run a coroutine function from sync code (WSGI views, management commands).

        Inside a thread that Django runs for an async server, this is ``async_to_sync`` on the
        server's loop. Elsewhere the coroutine runs as a task of the application's own background
        loop, which outlives the call so that hooks started by the request are not cancelled with
        it; while that loop is idle, the task's first step runs in the calling thread (see
        :class:`~kuzzle_events.core.borrowed_loop.BorrowedLoop`), so a request that never waits
        costs no hop between threads.
        """
        server_loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
        # asgiref leaves that loop set in a thread once a sync function of its ran there (a sync
        # caller's async_to_sync running a thread-sensitive hop in the caller's own thread): a
        # loop that no longer runs is no server's.
        if server_loop is not None and server_loop.is_running():
            return async_to_sync(fn)(*args, **kwargs)
        if in_caller_transaction():
            return self._run_in_callers_transaction(fn, *args, **kwargs)
        return self._background_loop().run(fn(*args, **kwargs))

    def _run_in_callers_transaction(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        # Inside the caller's transaction.atomic(): the coroutine runs on the application's loop
        # (its hooks outlive the call) while this thread serves its database calls, so that the
        # writes and the durable hooks' deliveries are part of the caller's transaction.
        caller = CallerThread()
        future = asyncio.run_coroutine_threadsafe(caller.serving(fn(*args, **kwargs)), self._background_loop())
        caller.serve_until(future)
        return future.result()

    def start_sync(self) -> None:
        """:meth:`start` from sync code."""
        if self.state != "running":
            self.run_sync(self.start)

    def _background_loop(self) -> BorrowedLoop:
        with self._bridge_lock:
            if self._bridge_loop is None:
                self._bridge_loop = BorrowedLoop.in_thread("kuzzle-events-loop")
            return self._bridge_loop
