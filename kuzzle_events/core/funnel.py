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


class Listened:
    """Which events of an action's life cycle have listeners (pipes or hooks), decided with the
    action's plan: the others are not fired, since their outcome is known (the payload as it is)."""

    __slots__ = (
        "begin", "unauthorized", "authorized", "execution", "before", "after", "success", "error", "on_error", "end",
        "anything",  # (last: whether any of the others is)
    )  # fmt: skip

    def __init__(self, has: Callable[[str], bool], act: ActionDef | None = None) -> None:
        self.begin = has("request:beforeExecution")
        self.unauthorized = has("request:onUnauthorized")
        self.authorized = has("request:onAuthorized")
        self.execution = has("request:onExecution")
        self.before = act is None or has(act.before)
        self.after = act is None or has(act.after)
        self.success = has("request:onSuccess")
        self.error = act is None or has(act.error)
        self.on_error = has("request:onError")
        self.end = has("request:afterExecution")
        self.anything = any(getattr(self, name) for name in Listened.__slots__[:-1])


EVERY = Listened(lambda event: True)  # a traced request, an unknown action: every event fired

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
                    request = await self._life_cycle(request, self.events, act.plan[2])
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
            listened = EVERY if events.tracing else Listened(events.has_listeners, act)
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

    async def _life_cycle(self, request: KuzzleRequest, events: Events, listened: Listened = EVERY) -> KuzzleRequest:
        trigger = events.trigger
        act: ActionDef | None = None
        try:
            if listened.begin:
                request = await trigger("request:beforeExecution", request)
            act = self.controllers.get(request.input.controller, request.input.action)
            if listened is not act.plan[2]:
                # A pipe answered with a request for another action (or none was planned): fire all.
                listened = EVERY
            if self.authorize is not None:
                try:
                    pending = self.authorize(request, act)
                    if pending is not None:
                        await pending
                except errors.KuzzleError:
                    if listened.unauthorized:
                        request = await trigger("request:onUnauthorized", request)
                    raise
            if listened.authorized:
                request = await trigger("request:onAuthorized", request)
        except Exception as error:
            # Nothing of the action ran: no error<Action>, no request:onError.
            request.set_error(error)
            return await self._after_execution(events, request, listened)

        try:
            if listened.execution:
                request = await trigger("request:onExecution", request)
            generic = act.generic
            if generic is not None:
                await generic.before(events, request)
            if listened.before:
                request = await trigger(act.before, request)
            request.set_result(await _call(act, request), _status(request))
            if listened.after:
                request = await trigger(act.after, request)
            if generic is not None:
                await generic.after(events, request)
            if listened.success:
                request = await trigger("request:onSuccess", request)
        except Exception as error:
            request.set_error(error)
            if listened.error:
                request = await self._recover(events, act.error, request)
            if request.error is not None and listened.on_error:
                request = await self._recover(events, "request:onError", request)
        return await self._after_execution(events, request, listened)

    async def _recover(self, events: Events, event: str, request: KuzzleRequest) -> KuzzleRequest:
        # A pipe may clear the error (recovery) or raise a new one, which replaces it.
        try:
            recovered: KuzzleRequest = await events.trigger(event, request)
            return recovered
        except Exception as error:
            request.set_error(error)
            return request

    async def _after_execution(self, events: Events, request: KuzzleRequest, listened: Listened) -> KuzzleRequest:
        if not listened.end:
            # What the outcome below gives when no pipe changed it.
            if request.error is None:
                request.set_result(request.result, _status(request))
            return request
        if request.error is None:
            outcome: dict[str, Any] = {"request": request, "result": request.result, "success": True}
        else:
            outcome = {"request": request, "error": request.error, "success": False}
        try:
            outcome = await events.trigger("request:afterExecution", outcome)
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


def _status(request: KuzzleRequest) -> int:
    # A handler may set a status of its own (201, 206...); 102 means it did not.
    status = request.status
    return status if 200 <= status < 300 else 200
