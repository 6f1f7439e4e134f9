"""kuzzle_events.testing: the test kit, used as its users use it (fixtures of its pytest plugin)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.testing import (
    EventLog,
    KuzzleClient,
    capture_events,
    started_app,
    temporary_hook,
    temporary_pipe,
    wait_for_hooks,
)

LIFE_CYCLE = [
    "request:beforeExecution",
    "request:onAuthorized",
    "request:onExecution",
    "server:beforeNow",
    "server:afterNow",
    "request:onSuccess",
    "request:afterExecution",
]


@pytest.fixture
def kuzzle_settings() -> dict[str, Any]:
    return {"NODE": "kit-node", "DISABLED_PLUGINS": ["greeter"]}


@pytest.fixture
def kuzzle_setup() -> Callable[[Application], None]:
    def setup(app: Application) -> None:
        @app.pipe.register("server:afterNow")
        async def stamp(request: KuzzleRequest) -> KuzzleRequest:
            request.result["stamped"] = True
            return request

    return setup


async def test_kuzzle_app_is_started_with_its_settings_and_setup(kuzzle_app: Application) -> None:
    assert kuzzle_app.started and kuzzle_app.config.NODE == "kit-node"
    assert "greeter" not in kuzzle_app.plugin.loaded
    assert (await kuzzle_app.sdk.query({"controller": "server", "action": "now"}))["result"]["stamped"] is True


@pytest.mark.parametrize("via", ["http", "websocket"])
async def test_captured_events_see_the_whole_life_cycle(
    kuzzle_client: KuzzleClient, captured_events: EventLog, via: str
) -> None:
    envelope = await kuzzle_client.query({"controller": "server", "action": "now"}, via=via)
    assert envelope["status"] == 200 and envelope["node"] == "kit-node"
    assert [name for name in captured_events.names() if name in LIFE_CYCLE] == LIFE_CYCLE
    assert "server:*Now" in captured_events and "document:*" not in captured_events
    [after] = captured_events.payloads("server:afterNow")
    assert isinstance(after, KuzzleRequest) and after.result["stamped"] is True


async def test_nothing_is_captured_outside_the_block_and_quiet_actions_skip_again(kuzzle_app: Application) -> None:
    with capture_events(kuzzle_app) as events:
        await kuzzle_app.sdk.query({"controller": "server", "action": "info"})
    seen = len(events)
    assert "server:beforeInfo" in events
    await kuzzle_app.sdk.query({"controller": "server", "action": "info"})
    assert len(events) == seen
    assert not kuzzle_app.events.tracing


async def test_http_routes_and_errors_through_the_real_adapter(kuzzle_client: KuzzleClient) -> None:
    status, headers, body = await kuzzle_client.http("GET", "/_now")
    assert status == 200 and headers["content-type"].startswith("application/json") and b'"now"' in body
    envelope = await kuzzle_client.query({"controller": "nope", "action": "none"})
    assert (envelope["status"], envelope["error"]["id"]) == (404, "api.process.controller_not_found")


async def test_a_websocket_session_gets_answers_and_notifications(kuzzle_client: KuzzleClient) -> None:
    room = {"index": "kit", "collection": "things"}
    async with kuzzle_client.websocket() as subscriber, kuzzle_client.websocket() as publisher:
        subscribed = await subscriber.query({"controller": "realtime", "action": "subscribe", **room, "body": {}})
        assert subscribed["status"] == 200
        published = await publisher.query({"controller": "realtime", "action": "publish", **room, "body": {"n": 1}})
        assert published["status"] == 200
        notification = await subscriber.notification()
        assert notification["room"] == subscribed["result"]["channel"]
        assert notification["result"]["_source"] == {"n": 1}


async def test_temporary_pipe_and_hook_on_a_started_app(kuzzle_app: Application) -> None:
    seen: list[str] = []

    async def veto(request: KuzzleRequest) -> KuzzleRequest:
        request.result["vetoed"] = True
        return request

    async def note(request: KuzzleRequest) -> None:
        await asyncio.sleep(0.01)
        seen.append(request.input.action)

    now = {"controller": "server", "action": "now"}
    with temporary_pipe(kuzzle_app, "server:afterNow", veto), temporary_hook(kuzzle_app, "server:afterNow", note):
        assert (await kuzzle_app.sdk.query(now))["result"]["vetoed"] is True
        await wait_for_hooks(kuzzle_app)
        assert seen == ["now"]
    assert "vetoed" not in (await kuzzle_app.sdk.query(now))["result"]
    await wait_for_hooks(kuzzle_app)
    assert seen == ["now"]


async def test_started_app_without_fixtures() -> None:
    def setup(app: Application) -> None:
        app.hook.register("custom:ping", lambda payload: None)

    async with started_app(setup, plugins=False, NODE="alone") as app:
        with capture_events(app) as events:
            await app.trigger("custom:ping", {"n": 1})
        assert events.payloads("custom:*") == [{"n": 1}]
        assert app.config.NODE == "alone" and app.plugin.loaded == {}
    assert app.state == "stopped"


async def test_run_durable_hooks_runs_the_pending_deliveries_inline() -> None:
    from kuzzle_events.testing import run_durable_hooks

    delivered: list[tuple[str, str]] = []

    async def receipt(order: str, *, delivery_id: str) -> None:
        delivered.append((order, delivery_id))

    def setup(app: Application) -> None:
        app.hook.register("shop:ordered", receipt, durable=True)

    # With the application's own runner on as well: what it runs is waited for.
    async with started_app(setup, plugins=False, DURABLE_POLL_INTERVAL=3600) as app:
        for order in ("o1", "o2", "o3"):
            await app.trigger("shop:ordered", order)
        await run_durable_hooks(app)
        assert sorted(order for order, _ in delivered) == ["o1", "o2", "o3"]
        assert len({delivery_id for _, delivery_id in delivered}) == 3
        assert await run_durable_hooks(app) == 0  # nothing left
