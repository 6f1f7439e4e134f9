"""Request traces over each protocol: ``X-Kuzzle-Trace: 1`` over HTTP (lean ASGI and DRF),
``"trace": true`` in a WebSocket frame (MQTT: tests/protocols/test_mqtt_embedded.py)."""

from __future__ import annotations

import json
import types
from typing import Any

from channels.testing import WebsocketCommunicator
from django.urls import re_path
from rest_framework.test import APIClient

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.protocols.http.drf import KuzzleAPIView
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from tests.protocols.test_http import asgi_client


async def stamped(request: KuzzleRequest) -> KuzzleRequest:
    request.result["stamped"] = True
    return request


def events_of(envelope: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in envelope["trace"]["events"]]


def runs_of(envelope: dict[str, Any], event: str) -> list[tuple[str, str]]:
    [entry] = [e for e in envelope["trace"]["events"] if e["event"] == event]
    return [(run["name"], run["outcome"]) for run in entry["pipes"]]


async def test_the_http_header_asks_for_the_trace(kapp: Application) -> None:
    kapp.pipe.register("server:afterNow", stamped)
    await kapp.start()
    call = asgi_client(kapp)
    traced = json.loads((await call("GET", "/_now", headers={"X-Kuzzle-Trace": "1"})).body)
    assert traced["result"]["stamped"] is True
    assert events_of(traced)[0] == "request:beforeExecution" and events_of(traced)[-1] == "request:afterExecution"
    assert runs_of(traced, "server:afterNow") == [(f"{__name__}.stamped", "ok")]
    plain = json.loads((await call("GET", "/_now")).body)
    assert "trace" not in plain
    refused = json.loads((await call("GET", "/_now", headers={"X-Kuzzle-Trace": "0"})).body)
    assert "trace" not in refused
    # /_query: the header, or the request's own "trace" field.
    body = json.dumps({"controller": "server", "action": "now", "trace": True}).encode()
    queried = await call("POST", "/_query", headers={"Content-Type": "application/json"}, content=body)
    assert runs_of(json.loads(queried.body), "server:afterNow") == [(f"{__name__}.stamped", "ok")]


def test_the_http_header_over_drf(make_app: Any, settings: Any) -> None:
    app: Application = make_app()
    app.pipe.register("server:afterNow", stamped)
    urlconf = types.ModuleType("kuzzle_drf_trace_urls")
    urlconf.urlpatterns = [re_path(r"^(?P<kuzzle_path>.*)$", KuzzleAPIView.as_view(kuzzle_app=app))]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urlconf
    client = APIClient()
    traced = json.loads(client.get("/_now", headers={"X-Kuzzle-Trace": "1"}).content)
    assert runs_of(traced, "server:afterNow") == [(f"{__name__}.stamped", "ok")]
    assert "trace" not in json.loads(client.get("/_now").content)
    app.run_sync(app.shutdown)


async def test_a_websocket_frame_asks_for_the_trace(kapp: Application) -> None:
    kapp.pipe.register("server:afterNow", stamped)
    await kapp.start()
    ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=kapp), "/")
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "t1", "trace": True})
    traced = await ws.receive_json_from()
    assert traced["room"] == "t1" and runs_of(traced, "server:afterNow") == [(f"{__name__}.stamped", "ok")]
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "t2"})
    assert "trace" not in await ws.receive_json_from()
    await ws.disconnect()
