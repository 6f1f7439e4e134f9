"""``server:publicApi``, ``server:openapi`` and ``server:capabilities``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openapi_spec_validator import validate

from kuzzle_events import Application, KuzzleRequest, __version__
from kuzzle_events.api.openapi import openapi_document

OVERRIDE = {
    "summary": "Greet someone by name",
    "responses": {"200": {"description": "The greeting"}},
    "x-rate-limited": True,
}


async def say_hello(request: KuzzleRequest) -> str:
    """Say hello to someone.

    The name comes from the URL.
    """
    return "hello"


async def ping(request: KuzzleRequest) -> str:
    return "pong"


async def secret(request: KuzzleRequest) -> str:
    return "no route"


@pytest.fixture
async def greeting(kapp: Application) -> Application:
    """The fresh application with a custom controller: a custom route, a default one and none."""
    kapp.controller.register(
        "greeting",
        {
            "actions": {
                "sayHello": {
                    "handler": say_hello,
                    "http": [
                        {"verb": "post", "path": "/greeting/:name", "openapi": OVERRIDE},
                        {"verb": "get", "path": "/greeting/:name/hello"},
                    ],
                },
                "ping": {"handler": ping},
                "secret": {"handler": secret, "http": []},
            }
        },
    )
    await kapp.start()
    return kapp


async def result(app: Application, action: str) -> Any:
    return (await app.sdk.query({"controller": "server", "action": action}))["result"]


async def test_public_api_lists_every_action(greeting: Application) -> None:
    api = await result(greeting, "publicApi")
    assert api["greeting"] == {
        "sayHello": {
            "http": [
                {"verb": "POST", "url": "/greeting/:name", "path": "/greeting/:name"},
                {"verb": "GET", "url": "/greeting/:name/hello", "path": "/greeting/:name/hello"},
            ]
        },
        "ping": {"http": [{"verb": "GET", "url": "/_/greeting/ping", "path": "/_/greeting/ping"}]},
        "secret": {"http": []},
    }
    assert api["server"]["now"] == {"http": [{"verb": "GET", "url": "/_now", "path": "/_now"}]}
    registered = {name: set(c.actions) for name, c in greeting.controller.controllers.items()}
    assert {name: set(actions) for name, actions in api.items()} == registered
    assert {"publicApi", "openapi", "capabilities"} <= set(api["server"])


async def test_public_api_is_per_application(greeting: Application, make_app: Callable[..., Application]) -> None:
    other = make_app()
    await other.start()
    assert "greeting" not in await result(other, "publicApi")
    assert "greeting" in await result(greeting, "publicApi")


async def test_builtin_routes(started: Application) -> None:
    routes = {(r.verb, r.path): (r.controller, r.action) for r in started.controller.router}
    assert routes[("get", "/_publicApi")] == ("server", "publicApi")
    assert routes[("get", "/_openapi")] == ("server", "openapi")
    assert routes[("get", "/_serverCapabilities")] == ("server", "capabilities")


async def test_openapi_document_is_valid(greeting: Application) -> None:
    document = await result(greeting, "openapi")
    validate(document)
    assert document["openapi"].startswith("3.0.")
    assert document["info"]["title"] == "kuzzle_events API"
    assert document["info"]["version"] == __version__
    assert set(document["components"]["schemas"]) >= {"KuzzleResponse", "KuzzleError"}
    error = document["components"]["schemas"]["KuzzleError"]["properties"]
    assert {"id", "code", "message", "status", "props"} <= set(error)


async def test_openapi_custom_route(greeting: Application) -> None:
    paths = (await result(greeting, "openapi"))["paths"]
    assert "/greeting/:name" not in paths
    operation = paths["/greeting/{name}"]["post"]
    assert operation["parameters"] == [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert operation["tags"] == ["greeting"]
    assert operation["x-kuzzle-controller"] == "greeting"
    assert operation["x-kuzzle-action"] == "sayHello"
    assert operation["x-kuzzle-events"] == [
        "greeting:beforeSayHello",
        "greeting:afterSayHello",
        "greeting:errorSayHello",
    ]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    hello = paths["/greeting/{name}/hello"]["get"]
    assert "requestBody" not in hello
    assert hello["summary"] == "Say hello to someone."
    assert hello["description"] == "The name comes from the URL."
    assert paths["/_/greeting/ping"]["get"]["summary"] == "greeting:ping"
    assert paths["/_now"]["get"]["x-kuzzle-events"] == ["server:beforeNow", "server:afterNow", "server:errorNow"]


async def test_openapi_route_override_is_merged(greeting: Application) -> None:
    operation = (await result(greeting, "openapi"))["paths"]["/greeting/{name}"]["post"]
    assert operation["summary"] == "Greet someone by name"
    assert operation["x-rate-limited"] is True
    assert operation["responses"]["200"]["description"] == "The greeting"
    # Merged, not replaced: what the override does not say stays generated.
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/KuzzleResponse"
    }
    assert "default" in operation["responses"]
    assert operation["x-kuzzle-action"] == "sayHello"


async def test_openapi_operations_and_routeless_actions(greeting: Application) -> None:
    document = await result(greeting, "openapi")
    operations = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) == len(list(greeting.controller.router))
    assert all(op["operationId"].replace("_", "").isalnum() for op in operations)
    assert {"/", "/_serverInfo", "/_openapi", "/_publicApi"} <= set(document["paths"])
    routeless = document["x-kuzzle-actions-without-http-route"]
    assert {"controller": "greeting", "action": "secret",
            "events": ["greeting:beforeSecret", "greeting:afterSecret", "greeting:errorSecret"]} in routeless  # fmt: skip
    # Realtime subscriptions need a WebSocket; count has no HTTP route either, as in Kuzzle.
    assert sorted((a["controller"], a["action"]) for a in routeless) == [
        ("greeting", "secret"),
        ("realtime", "count"),
        ("realtime", "subscribe"),
        ("realtime", "unsubscribe"),
    ]


def test_openapi_paths_differing_only_by_parameter_names(kapp: Application) -> None:
    async def handler(request: KuzzleRequest) -> None:
        return None

    kapp.controller.register(
        "files",
        {
            "actions": {
                "read": {"handler": handler, "http": [{"verb": "get", "path": "/files/:id"}]},
                "write": {"handler": handler, "http": [{"verb": "put", "path": "/files/:fileId"}]},
            }
        },
    )
    document = openapi_document(kapp)
    validate(document)
    assert set(document["paths"]["/files/{id}"]) == {"get", "put"}
    assert document["paths"]["/files/{id}"]["put"]["parameters"][0]["name"] == "id"


async def test_capabilities(make_app: Callable[..., Application]) -> None:
    app = make_app(
        MAX_CONCURRENT_REQUESTS=12,
        REQUESTS_BUFFER_SIZE=1234,
        REQUESTS_BUFFER_WARNING_THRESHOLD=123,
        MAX_REQUEST_SIZE=4321,
    )
    await app.start()
    capabilities = await result(app, "capabilities")
    assert capabilities == {
        "version": __version__,
        "api": {"routes": await result(app, "publicApi")},
        "limits": {
            "concurrentRequests": 12,
            "requestsBufferSize": 1234,
            "requestsBufferWarningThreshold": 123,
            "maxRequestSize": 4321,
        },
        "plugins": {},
    }
