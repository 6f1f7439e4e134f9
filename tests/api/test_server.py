"""Built-in server and auth actions."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from kuzzle_events import Application, KuzzleRequest


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
    services = {"internalCache": "green", "memoryStorage": "green", "storageEngine": "green"}
    if await started.realtime.layer_status() is not None:  # a shared channel layer (REDIS_URL)
        services["channelLayer"] = "green"
    assert envelope["result"] == {"services": services, "status": "green"}
    assert list(envelope["result"]) == ["services", "status"]
    query = {"controller": "server", "action": "healthCheck", "services": "storageEngine"}
    only = await started.sdk.query(query)
    assert only["result"] == {"services": {"storageEngine": "green"}, "status": "green"}


@pytest.mark.django_db(transaction=True)
async def test_health_check_with_a_red_service(started: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.cache import caches

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(caches["default"], "get", broken)
    request = KuzzleRequest({"controller": "server", "action": "healthCheck"})
    envelope = (await started.funnel.execute(request)).to_dict()
    # Over the wire too: the same envelope as text.
    again = await started.funnel.execute(KuzzleRequest({"controller": "server", "action": "healthCheck"}))
    assert json.loads(again.to_json())["result"] == envelope["result"]
    # Kuzzle's: a 500 service_unavailable error, and the result naming what is red.
    assert (envelope["status"], envelope["error"]["id"]) == (500, "core.fatal.service_unavailable")
    assert envelope["error"]["message"] == "Service unavailable: internalCache: Connection refused."
    assert envelope["result"]["services"]["internalCache"] == "red"
    assert envelope["result"]["services"]["storageEngine"] == "green"
    assert envelope["result"]["status"] == "red"


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
        "result",
    ]
    assert envelope["requestId"] == "abc" and envelope["volatile"] is None and envelope["error"] is None


async def test_admin_exists(started: Application) -> None:
    from asgiref.sync import sync_to_async

    from tests.accounts import make_user

    assert (await started.sdk.query({"controller": "server", "action": "adminExists"}))["result"] == {"exists": False}
    await sync_to_async(make_user)("someone")
    assert (await started.sdk.query({"controller": "server", "action": "adminExists"}))["result"] == {"exists": False}
    await sync_to_async(make_user)("root", superuser=True)
    assert (await started.sdk.query({"controller": "server", "action": "adminExists"}))["result"] == {"exists": True}


async def test_server_info_has_kuzzles_fields(started: Application) -> None:
    import platform

    info = (await started.sdk.query({"controller": "server", "action": "info"}))["result"]["serverInfo"]
    kuzzle = info["kuzzle"]
    assert kuzzle["nodeVersion"] == f"v{platform.python_version()}"
    assert isinstance(kuzzle["memoryUsed"], int) and kuzzle["memoryUsed"] > 0
    assert kuzzle["uptime"].endswith("s")
    assert float(kuzzle["uptime"][:-1]) >= 0
    assert kuzzle["system"]["cpus"] and "memory" in kuzzle["system"]
    assert kuzzle["plugins"] == {}
    services = info["services"]
    assert {"internalStorage", "publicStorage", "internalCache", "memoryStorage", "channelLayer"} == set(services)
    assert services["publicStorage"]["backend"] in ("sqlite", "postgresql")
    assert services["publicStorage"]["status"] == "green"
    assert services["internalCache"]["version"]
    assert services["channelLayer"]["backend"].startswith("channels")


async def test_get_config_has_kuzzles_sections_and_no_secrets(make_app: Any) -> None:
    app = make_app(
        MQTT={"MODE": "off", "USERNAME": "broker-user", "PASSWORD": "broker-password"},
        MEMORY_STORAGE_URL="redis://ms:ms-password@127.0.0.1:1/8",
    )
    await app.start()
    config = (await app.sdk.query({"controller": "server", "action": "getConfig"}))["result"]
    sections = {"realtime", "dump", "limits", "plugins", "repositories", "server", "services", "stats", "internal"}
    assert sections | {"validation", "version"} <= set(config)
    assert "security" not in config and "VAULT_KEY" not in config
    assert config["server"]["protocols"]["mqtt"]["USERNAME"] == "broker-user"
    assert "PASSWORD" not in config["server"]["protocols"]["mqtt"]
    assert "PASSWORD" not in config["kuzzle_events"]["MQTT"]
    assert "broker-password" not in json.dumps(config)
    assert "ms-password" not in json.dumps(config)
    assert config["kuzzle_events"]["MEMORY_STORAGE_URL"] == "redis://ms@127.0.0.1:1/8"
    assert config["limits"]["concurrentRequests"] == app.config.MAX_CONCURRENT_REQUESTS
    assert config["cluster"] == {"enabled": False}  # (read by Kourou's app:doctor)


def test_without_secrets() -> None:
    from kuzzle_events.api.server import without_secrets

    assert without_secrets(
        {"a": {"api_key": 1, "KEY": 2, "TOKEN_TTL": "1h", "db_password": "x", "l": [{"secret": 1}]}}
    ) == {"a": {"TOKEN_TTL": "1h", "l": [{}]}}


async def test_metrics(started: Application) -> None:
    from tests.api.test_auth import call

    # A client's request holds a request slot while it runs: its own.
    metrics = (await call(started, controller="server", action="metrics"))["result"]
    assert metrics["api"] == {"concurrentRequests": 1, "pendingRequests": 0}
    assert metrics["realtime"] == {"rooms": 0, "subscriptions": 0}
    started.realtime.rooms.subscribe("c1", "i", "c", {})
    started.realtime.rooms.subscribe("c2", "i", "c", {})
    metrics = (await started.sdk.query({"controller": "server", "action": "metrics"}))["result"]
    assert metrics["realtime"] == {"rooms": 1, "subscriptions": 2}
    assert set(metrics["network"]["connections"]) == {"persistent"}
