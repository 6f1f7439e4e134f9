"""The funnel: every request of every protocol is executed here, with its whole event life cycle.

Order (each step a pipe event): ``request:beforeExecution``, authorization
(``request:onAuthorized`` / ``request:onUnauthorized``), ``request:onExecution``,
``<controller>:before<Action>``, the handler, ``<controller>:after<Action>``, ``request:onSuccess``.
A failure from ``request:onExecution`` on fires ``<controller>:error<Action>`` then
``request:onError``; a pipe on either may recover by clearing the request's error. Last,
``request:afterExecution`` decides what the client gets.

When no pipe or hook listens to any of these events for an action, its requests skip them: the
outcome of events nobody listens to is known, and firing them is most of a fast action's cost.

A request with a trace (:mod:`~kuzzle_events.core.traces`: the client asked, or telemetry traces
every request) takes another path, tested once: every event fired, each run recorded.

Overload protection, as Kuzzle's: a request runs only while it holds one of the
``MAX_CONCURRENT_REQUESTS`` slots (:class:`~kuzzle_events.core.backpressure.RequestSlots`); the
others wait in line, in arrival order, up to ``REQUESTS_BUFFER_SIZE``, past which they are answered
``api.process.overloaded`` (503) at once. Requests of the server's own code (the embedded SDK, a
plugin's ``execute``) are exempt, as Kuzzle's ``executePluginRequest`` is: they are mostly made
by a request that holds a slot already, and waiting for a second one could wait for ever.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.backpressure import UNLIMITED, RequestSlots
from kuzzle_events.core.request import KuzzleRequest
from kuzzle_events.core.response import KuzzleResponse
from kuzzle_events.core.traces import Trace
from kuzzle_events.core.tracing import Debugger

if TYPE_CHECKING:
    from kuzzle_events.core.controllers import ActionDef, ControllerRegistry
    from kuzzle_events.core.engine import EventEngine
    from kuzzle_events.core.traces import Events

__all__ = ["Funnel"]


class Named:
    """A step of the life cycle fired by its event's name (``events.trigger``): every step of a
    traced request, of one while every event is traced, or before its action is known."""

    __slots__ = ("event",)
    stale = True  # (read as a chain's: "fire it by name")

    def __init__(self, event: str) -> None:
        self.event = event


# A chain, run as it is unless stale, or an event fired by its name (Named). (Any: the life cycle
# tells them apart by ``stale`` alone, which no type check follows.)
Step = Any


class Listened:
    """What runs at each event of an action's life cycle, decided with the action's plan: the
    event's chain (:meth:`EventEngine.chain`) when pipes or hooks listen to it, else None, and the
    event is not fired, since its outcome is known (the payload as it is). ``Listened(Named, act)``
    fires every event, each by its name."""

    __slots__ = (
        "begin", "unauthorized", "authorized", "execution", "before", "after", "success", "error", "on_error", "end",
        "anything",  # (last two: whether any of the others is set, and whether they are Named)
        "named",
    )  # fmt: skip

    def __init__(self, step: Callable[[str], Step | None], act: ActionDef | None = None) -> None:
        self.begin = step("request:beforeExecution")
        self.unauthorized = step("request:onUnauthorized")
        self.authorized = step("request:onAuthorized")
        self.execution = step("request:onExecution")
        # (Without an action, the life cycle finds it, then takes its steps.)
        self.before = step(act.before) if act is not None else None
        self.after = step(act.after) if act is not None else None
        self.success = step("request:onSuccess")
        self.error = step(act.error) if act is not None else None
        self.on_error = step("request:onError")
        self.end = step("request:afterExecution")
        self.anything = any(getattr(self, name) is not None for name in Listened.__slots__[:-2])
        self.named = step is Named


EVERY = Listened(Named)  # a request whose action is not known yet: every event fired, by name

# Raises the request's 401/403 error; returns an awaitable only when it has I/O to do.
Authorizer = Callable[[KuzzleRequest, "ActionDef"], "Awaitable[None] | None"]
TRACE_PATIENCE = 1.0  # seconds a traced request waits for its hooks, so that their outcome is shown


class Funnel:
    """Executes requests: ``await funnel.execute(request)`` returns a :class:`KuzzleResponse`."""

    def __init__(
        self,
        events: EventEngine,
        controllers: ControllerRegistry,
        *,
        node: str = "knode-1",
        stack: bool = False,
        debug_spec: str = "",
        slots: RequestSlots | None = None,
    ) -> None:
        self.events = events
        # Requests in flight; shared by the funnels an application builds in turn, so that a
        # request running in one counts for the next (Kuzzle's defaults without ``slots``).
        self.slots = slots if slots is not None else RequestSlots(100, 50_000, 5_000)
        self.controllers = controllers
        self.node = node
        self.stack = stack
        # Rights are checked here for every protocol; the rule itself is pluggable.
        self.authorize: Authorizer | None = None
        # Traces: whether a finished request may see its trace (server:trace), what else gets
        # every trace (telemetry), how long a traced request waits for its hooks.
        self.may_trace: Callable[[KuzzleRequest], bool] | None = None
        self.on_trace: Callable[[KuzzleRequest, Trace], None] | None = None
        self.trace_patience = TRACE_PATIENCE
        self._debug = Debugger("kuzzle:funnel", debug_spec)

    # (Not keyword-only parameters: CPython looks each missing keyword-only default up in a dict,
    # on every call; pass them by keyword all the same.)
    async def execute(
        self, request: KuzzleRequest, trigger_events: bool = True, throttle: bool = True, as_text: bool = True
    ) -> KuzzleResponse:
        """Run ``request`` through the life cycle; never raises for a request's own failure.

        ``throttle=False``: the request neither waits for a slot nor takes one (server's own code).
        A request cancelled while it waits leaves the line. ``as_text=False``: the response will
        be read as a dict only (``app.sdk.query``), so it is checked rather than sealed
        (:meth:`KuzzleResponse.check`: the same errors, no JSON text made).
        """
        if request.trace is not None:  # the one test a request that asked for no trace pays
            return await self._execute_traced(request, trigger_events, throttle)
        slots = self.slots if throttle else UNLIMITED
        if slots.free > 0:  # RequestSlots' protocol written out: all a request pays when not overloaded
            slots.free -= 1
        else:
            try:
                await slots.wait()
            except errors.KuzzleError as refused:
                request.set_error(refused)
                return self._respond(request)
        try:
            if self._debug.enabled:
                self._debug("Executing %s:%s (%s)", request.input.controller, request.input.action, request.id)
            if not trigger_events:
                await self._run_bare(request, None)
            else:
                given = request.input  # (its fields, not their properties: the same values, no calls)
                act = self.controllers.find(given._controller, given._action)
                if act is None:
                    request = await self._life_cycle(request, self.events, EVERY)
                # _is_quiet's answer, read without a call while its plan is current.
                elif act.plan[1] if act.plan[0] == self.events.generation else self._is_quiet(act):
                    await self._run_bare(request, act)
                else:
                    request = await self._life_cycle(request, self.events, act.plan[2], act)
        finally:
            if slots.waiting:
                slots.hand_over()
            else:
                slots.free += 1
        response = KuzzleResponse(request, node=self.node, stack=self.stack)
        if as_text:
            response.seal()
        else:
            response.check()
        return response

    async def _execute_traced(self, request: KuzzleRequest, trigger_events: bool, throttle: bool) -> KuzzleResponse:
        """:meth:`execute` for a request with a trace: every event of its life cycle fired (listened
        to or not) through the engine's traced dispatch; then, when the client asked, the hooks it
        started are awaited (up to ``trace_patience`` seconds) and the trace stays on the request
        (so in the envelope) only if ``may_trace`` allows it. ``on_trace`` gets every trace."""
        trace = request.trace
        assert trace is not None
        slots = self.slots if throttle else UNLIMITED
        if slots.free > 0:
            slots.free -= 1
        else:
            try:
                await slots.wait()
            except errors.KuzzleError as refused:
                request.set_error(refused)
                request.trace = None
                return self._respond(request)
        entered = trace.enter()
        try:
            if trigger_events:
                request = await self._life_cycle(request, self.events.traced(trace))
            else:
                await self._run_bare(request, None)
        finally:
            trace.leave(entered)
            if slots.waiting:
                slots.hand_over()
            else:
                slots.free += 1
        if trace.asked:
            await trace.settle(self.trace_patience)
        trace.end()
        if self.on_trace is not None:
            self.on_trace(request, trace)
        shown = trace.asked and (self.may_trace is None or self.may_trace(request))
        request.trace = trace if shown else None
        return self._respond(request)

    def trace_every_request(self, on_trace: Callable[[KuzzleRequest, Trace], None]) -> None:
        """Give every request a trace, handed to ``on_trace`` when done (telemetry); the envelope
        still shows one only to a client that asked for it and may see it."""
        self.on_trace = on_trace
        # An execute of its own, so that a funnel without telemetry tests nothing more.
        self.execute = self._execute_every_traced  # type: ignore[method-assign]

    async def _execute_every_traced(
        self, request: KuzzleRequest, trigger_events: bool = True, throttle: bool = True, as_text: bool = True
    ) -> KuzzleResponse:
        if request.trace is None:
            request.trace = Trace(asked=False)
        return await Funnel.execute(self, request, trigger_events, throttle, as_text)

    def _respond(self, request: KuzzleRequest) -> KuzzleResponse:
        response = KuzzleResponse(request, node=self.node, stack=self.stack)
        response.seal()
        return response

    def _is_quiet(self, act: ActionDef) -> bool:
        """Whether no pipe or hook listens to any event of ``act``'s life cycle (decided once per
        change of listeners): such a request skips the events, whose outcome is known already."""
        generation = self.events.generation
        plan = act.plan
        if plan[0] != generation:
            events = self.events
            # KUZZLE_DEBUG=kuzzle:events traces every event, listened to or not.
            listened = Listened(Named, act) if events.tracing else Listened(events.chain, act)
            quiet = act.generic is None and not listened.anything
            plan = act.plan = (generation, quiet, listened)
        return plan[1]

    async def _run_bare(self, request: KuzzleRequest, act: ActionDef | None) -> None:
        """Authorization and the handler, without events."""
        try:
            if act is None:
                act = self.controllers.get(request.input.controller, request.input.action)
            if self.authorize is not None:
                pending = self.authorize(request, act)
                if pending is not None:
                    await pending
            # _call written out (one coroutine less for every quiet request; the test of the
            # handler's figures in tests/core/test_funnel_quiet.py holds the two to the same counts).
            stats = act.stats
            stats.calls += 1
            started = perf_counter()
            try:
                result = act.fn(request)
                if act.is_async:
                    result = await result
            except BaseException:
                stats.errors += 1
                raise
            finally:
                stats.samples.append(perf_counter() - started)
            status = request.response.status  # _status() written out
            request.set_result(result, status if 200 <= status < 300 else 200)
        except Exception as error:
            request.set_error(error)

    async def _life_cycle(
        self, request: KuzzleRequest, events: Events, listened: Listened = EVERY, act: ActionDef | None = None
    ) -> KuzzleRequest:
        """The events around the handler, each run where ``listened`` has a step for it. ``act``:
        the request's action, when it was found already (so its plan is ``listened``)."""
        trigger = events.trigger
        # Each step written out, as `_fire` would do it: a chain planned for it runs as it is (one
        # call and a coroutine less than a trigger); a Named step, or a chain gone stale since the
        # plan (listeners changed), goes through the trigger, by the event's name.
        try:
            if (step := listened.begin) is not None:
                request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
                act = None  # (a pipe may have changed the action)
            if act is None:
                act = self.controllers.get(request.input.controller, request.input.action)
                if listened is not act.plan[2]:
                    # Found here, or changed by a pipe: the rest of the life cycle is its own.
                    if listened.named:
                        listened = Listened(Named, act)
                    else:
                        self._is_quiet(act)
                        listened = act.plan[2]
            if self.authorize is not None:
                try:
                    pending = self.authorize(request, act)
                    if pending is not None:
                        await pending
                except errors.KuzzleError:
                    if (step := listened.unauthorized) is not None:
                        request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
                    raise
            if (step := listened.authorized) is not None:
                request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
        except Exception as error:
            # Nothing of the action ran: no error<Action>, no request:onError.
            request.set_error(error)
            return _settled(request) if listened.end is None else await self._after_execution(events, request, listened.end)

        try:
            if (step := listened.execution) is not None:
                request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
            generic = act.generic
            if generic is not None:
                await generic.before(events, request)
            if (step := listened.before) is not None:
                request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
            request.set_result(await _call(act, request), _status(request))
            if (step := listened.after) is not None:
                request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
            if generic is not None:
                await generic.after(events, request)
            if (step := listened.success) is not None:
                request = await (trigger(step.event, request) if step.stale else step.run(step, request, ()))
        except Exception as error:
            request.set_error(error)
            if (step := listened.error) is not None:
                request = await self._recover(events, step, request)
            if request.error is not None and (step := listened.on_error) is not None:
                request = await self._recover(events, step, request)
        # (A coroutine less when nothing listens to request:afterExecution.)
        return _settled(request) if listened.end is None else await self._after_execution(events, request, listened.end)

    async def _recover(self, events: Events, step: Step, request: KuzzleRequest) -> KuzzleRequest:
        # A pipe may clear the error (recovery) or raise a new one, which replaces it.
        try:
            recovered: KuzzleRequest = await (
                events.trigger(step.event, request) if step.stale else step.run(step, request, ())
            )
            return recovered
        except Exception as error:
            request.set_error(error)
            return request

    async def _after_execution(self, events: Events, request: KuzzleRequest, step: Step) -> KuzzleRequest:
        if request.error is None:
            outcome: dict[str, Any] = {"request": request, "result": request.result, "success": True}
        else:
            outcome = {"request": request, "error": request.error, "success": False}
        try:
            outcome = await (events.trigger(step.event, outcome) if step.stale else step.run(step, outcome, ()))
        except Exception as error:
            request.set_error(error)
            return request
        final: KuzzleRequest = outcome.get("request", request) if isinstance(outcome, dict) else request
        if not isinstance(outcome, dict):
            final.set_error(
                errors.get("plugin.runtime.unexpected_error", "request:afterExecution must return its payload dict")
            )
        elif outcome.get("success", final.error is None) and outcome.get("error") is None:
            final.set_result(outcome.get("result", final.result), _status(final))
        else:
            final.set_error(outcome.get("error") or final.error or errors.InternalError("Unknown failure"))
        return final


async def _call(act: ActionDef, request: KuzzleRequest) -> Any:
    """The handler itself, counted and timed for the admin's figures."""
    stats = act.stats
    stats.calls += 1
    started = perf_counter()
    try:
        result = act.fn(request)
        if act.is_async:
            result = await result
    except BaseException:
        stats.errors += 1
        raise
    finally:
        stats.samples.append(perf_counter() - started)
    return result


def _settled(request: KuzzleRequest) -> KuzzleRequest:
    """What ``request:afterExecution`` gives when nothing listens to it."""
    if request.error is None:
        request.set_result(request.result, _status(request))
    return request


def _status(request: KuzzleRequest) -> int:
    # A handler may set a status of its own (201, 206...); 102 means it did not.
    status = request.status
    return status if 200 <= status < 300 else 200
