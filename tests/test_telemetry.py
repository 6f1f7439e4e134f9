"""OpenTelemetry: each request a span, each pipe run a child span (SDK's in-memory exporter);
the optional dependency absent, the module still imports and the setting is refused at start."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace as otel
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import kuzzle_events.telemetry
from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.errors import ForbiddenError
from kuzzle_events.telemetry import Telemetry


@pytest.fixture(scope="module")
def provider() -> TracerProvider:
    """The process's tracer provider (OpenTelemetry lets it be set once), an SDK one."""
    current = otel.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        current = TracerProvider()
        otel.set_tracer_provider(current)
    return current


@pytest.fixture
def spans(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    yield exporter
    processor.shutdown()  # (an exporter shut down takes no more spans)


async def stamp(request: KuzzleRequest) -> KuzzleRequest:
    request.result["stamped"] = True
    return request


async def refuse(request: KuzzleRequest) -> KuzzleRequest:
    raise ForbiddenError("no", "shop.refused")


async def execute(app: Application, data: dict[str, Any]) -> dict[str, Any]:
    request = KuzzleRequest(data, connection=Connection(protocol="websocket"))
    return (await app.funnel.execute(request)).to_dict()


async def test_each_request_is_a_span_and_each_pipe_a_child_span(make_app: Any, spans: InMemorySpanExporter) -> None:
    app: Application = make_app(OPENTELEMETRY=True)
    app.pipe.register("server:afterNow", stamp)
    app.pipe.register("server:beforeInfo", refuse)
    await app.start()
    assert isinstance(app.funnel.on_trace, Telemetry)

    envelope = await execute(app, {"controller": "server", "action": "now"})
    assert envelope["result"]["stamped"] is True
    assert "trace" not in envelope  # telemetry traces every request, the envelope shows only those asked
    finished = {span.name: span for span in spans.get_finished_spans()}
    request_span = finished["server:now"]
    pipe_span = finished[f"pipe {__name__}.stamp"]
    assert pipe_span.parent is not None and pipe_span.parent.span_id == request_span.context.span_id
    assert pipe_span.context.trace_id == request_span.context.trace_id
    assert pipe_span.attributes["kuzzle.event"] == "server:afterNow"
    assert pipe_span.attributes["kuzzle.listener.owner"] == "application"
    assert request_span.attributes["kuzzle.status"] == 200
    assert request_span.start_time <= pipe_span.start_time <= pipe_span.end_time <= request_span.end_time
    fired = [event.name for event in request_span.events]
    assert (
        fired[0] == "request:beforeExecution" and "server:afterNow" in fired and fired[-1] == "request:afterExecution"
    )

    spans.clear()
    await execute(app, {"controller": "server", "action": "info"})
    failed = {span.name: span for span in spans.get_finished_spans()}
    assert failed["server:info"].status.status_code is otel.StatusCode.ERROR
    assert failed[f"pipe {__name__}.refuse"].status.status_code is otel.StatusCode.ERROR
    await app.shutdown()


async def test_without_the_setting_no_span(make_app: Any, spans: InMemorySpanExporter) -> None:
    app: Application = make_app()
    await app.start()
    await execute(app, {"controller": "server", "action": "now", "trace": True})
    assert app.funnel.on_trace is None and spans.get_finished_spans() == ()
    await app.shutdown()


@pytest.fixture
def without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``kuzzle_events.telemetry`` imported as if ``opentelemetry`` were not installed."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    importlib.reload(kuzzle_events.telemetry)
    yield
    monkeypatch.undo()
    importlib.reload(kuzzle_events.telemetry)


async def test_without_the_package_the_setting_stops_the_start(make_app: Any, without_opentelemetry: None) -> None:
    assert not kuzzle_events.telemetry.available()
    plain: Application = make_app()
    await plain.start()  # without the setting nothing needs it
    assert (await execute(plain, {"controller": "server", "action": "now"}))["status"] == 200
    await plain.shutdown()
    app: Application = make_app(OPENTELEMETRY=True)
    with pytest.raises(Exception, match=r"needs opentelemetry-api"):
        await app.start()
