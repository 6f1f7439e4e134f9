"""Built-in server and auth actions."""

from __future__ import annotations

import time

import pytest

from kuzzle_events import Application


async def test_server_now(started: Application) -> None:
    before = int(time.time() * 1000)
    envelope = await started.sdk.query({"controller": "server", "action": "now"})
    assert set(envelope["result"]) == {"now"}
    assert before <= envelope["result"]["now"] <= int(time.time() * 1000)


async def test_server_info_lists_controllers_actions_routes(kapp: Application) -> None:
    async def hello(request):
        return "hi"

    kapp.controller.register("greeting", {"actions": {"sayHello": {"handler": hello}}})
    await kapp.start()
    info = (await kapp.sdk.query({"controller": "server", "action": "info"}))["result"]["serverInfo"]["kuzzle"]
    routes = info["api"]["routes"]
    assert routes["greeting"]["sayHello"]["http"] == [{"verb": "GET", "url": "/_/greeting/say-hello"}]
    assert routes["server"]["now"]["http"] == [{"verb": "GET", "url": "/_now"}]
    assert {"kuzzle_events", "django", "python"} <= set(info["versions"])


@pytest.mark.django_db(transaction=True)
async def test_health_check(started: Application) -> None:
    envelope = await started.sdk.query({"controller": "server", "action": "healthCheck"})
    services = {"database": "green"}
    if await started.realtime.layer_status() is not None:  # a shared channel layer (REDIS_URL)
        services["channelLayer"] = "green"
    assert envelope["result"] == {"status": "green", "services": services}
    only = await started.sdk.query({"controller": "server", "action": "healthCheck", "services": "database"})
    assert only["result"] == {"status": "green", "services": {"database": "green"}}


async def test_check_token_anonymous(started: Application) -> None:
    envelope = await started.sdk.query({"controller": "auth", "action": "checkToken", "body": {}})
    assert envelope["result"] == {"valid": True, "kuid": "-1", "expiresAt": -1}
    envelope = await started.sdk.query({"controller": "auth", "action": "checkToken", "body": {"token": "x.y.z"}})
    assert envelope["result"]["valid"] is False


async def test_envelope_shape(started: Application) -> None:
    envelope = await started.sdk.query({"controller": "server", "action": "now", "requestId": "abc"})
    assert list(envelope) == [
        "requestId",
        "status",
        "error",
        "controller",
        "action",
        "collection",
        "index",
        "volatile",
        "headers",
        "node",
        "deprecations",
        "result",
    ]
    assert envelope["requestId"] == "abc" and envelope["volatile"] is None and envelope["error"] is None
