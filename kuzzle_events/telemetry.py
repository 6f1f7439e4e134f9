"""OpenTelemetry spans of requests, an optional dependency (``pip install "kuzzle-events[otel]"``).

With ``KUZZLE_EVENTS["OPENTELEMETRY"] = True`` and ``opentelemetry-api`` installed, the funnel gives
every request a trace (:mod:`kuzzle_events.core.traces`) and, once the request is done, hands it
here: the request becomes a span named ``<controller>:<action>`` (its parent: the span current when
it arrived, such as an ASGI instrumentation's), each pipe run a child span ``pipe <name>``, each
hook run finished by then a child span ``hook <name>``, and each event fired a span event. They go
where the process's tracer provider sends them. Without the setting none of this runs, and without
the package this module still imports (:func:`available` says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors

try:
    from opentelemetry import trace as otel
except ImportError:  # the optional dependency is absent
    otel = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from kuzzle_events.core.request import KuzzleRequest
    from kuzzle_events.core.traces import Run, Trace

__all__ = ["Telemetry", "available"]

TRACER_NAME = "kuzzle_events"


def available() -> bool:
    """Whether ``opentelemetry-api`` can be imported."""
    return otel is not None


class Telemetry:
    """Turns finished request traces into spans (the funnel's ``on_trace``)."""

    def __init__(self, tracer_provider: Any = None) -> None:
        if otel is None:
            raise errors.PluginImplementationError(
                'KUZZLE_EVENTS["OPENTELEMETRY"] needs opentelemetry-api: pip install "kuzzle-events[otel]"'
            )
        self.tracer = otel.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)

    def __call__(self, request: KuzzleRequest, trace: Trace) -> None:
        assert otel is not None
        given = request.input
        args = given.args
        attributes: dict[str, Any] = {
            "kuzzle.controller": str(given.controller),
            "kuzzle.action": str(given.action),
            "kuzzle.request_id": request.id,
            "kuzzle.protocol": request.context.connection.protocol,
            "kuzzle.status": request.status,
        }
        for key in ("index", "collection"):
            if isinstance(args.get(key), str):
                attributes[f"kuzzle.{key}"] = args[key]
        span = self.tracer.start_span(
            f"{given.controller}:{given.action}", start_time=trace.start_ns, attributes=attributes
        )
        context = otel.set_span_in_context(span)
        for entry in trace.events:
            span.add_event(entry.event, timestamp=entry.at_ns)
            for run in entry.pipes:
                self._child(context, run, entry.event)
            for run in entry.hooks:
                if run.end_ns:  # (hooks still running are not waited for)
                    self._child(context, run, entry.event)
        error = request.error
        if error is not None:
            span.set_status(otel.Status(otel.StatusCode.ERROR, f"{error.id}: {error.message}"))
        span.end(end_time=trace.end_ns or None)

    def _child(self, context: Any, run: Run, event: str) -> None:
        assert otel is not None
        listener = run.listener
        child = self.tracer.start_span(
            f"{run.kind} {listener.name}",
            context=context,
            start_time=run.start_ns,
            attributes={
                "kuzzle.event": event,
                "kuzzle.listener.name": listener.name,
                "kuzzle.listener.owner": listener.owner,
                "kuzzle.listener.registered_on": listener.event,
                "kuzzle.outcome": run.outcome,
            },
        )
        if run.error is not None:
            child.set_status(otel.Status(otel.StatusCode.ERROR, str(run.to_dict().get("error", {}).get("id"))))
        child.end(end_time=run.end_ns or None)
