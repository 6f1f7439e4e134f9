"""``server:publicApi``, ``server:openapi`` and ``server:capabilities``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from kuzzle_events import Application, KuzzleRequest, __version__, errors
from kuzzle_events.api.openapi import openapi_document
from kuzzle_events.asgi import KuzzleASGI

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


async def result(app: Application, action: str, **args: Any) -> Any:
    return (await app.sdk.query({"controller": "server", "action": action, **args}))["result"]


async def test_public_api_lists_every_action(greeting: Application) -> None:
    api = await result(greeting, "publicApi")
    # Kuzzle's shape: each action names itself and its controller; "http" only when it has routes.
    assert api["greeting"] == {
        "sayHello": {
            "action": "sayHello",
            "controller": "greeting",
            "http": [
                {"verb": "POST", "url": "/greeting/:name", "path": "/greeting/:name"},
                {"verb": "GET", "url": "/greeting/:name/hello", "path": "/greeting/:name/hello"},
            ],
        },
        "ping": {
            "action": "ping",
            "controller": "greeting",
            "http": [{"verb": "GET", "url": "/_/greeting/ping", "path": "/_/greeting/ping"}],
        },
        "secret": {"action": "secret", "controller": "greeting"},
    }
    assert api["server"]["now"] == {
        "action": "now",
        "controller": "server",
        "http": [{"verb": "GET", "url": "/_now", "path": "/_now"}],
    }
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
    document = await result(greeting, "openapi", scope="app")
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "application API"
    assert document["info"]["version"] == __version__
    assert set(document["components"]["schemas"]) >= {"KuzzleResponse", "KuzzleError"}
    error = document["components"]["schemas"]["KuzzleError"]["properties"]
    assert {"id", "code", "message", "status", "props"} <= set(error)


async def test_openapi_custom_route(greeting: Application) -> None:
    paths = (await result(greeting, "openapi", scope="app"))["paths"]
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


async def test_openapi_route_override_is_merged(greeting: Application) -> None:
    operation = (await result(greeting, "openapi", scope="app"))["paths"]["/greeting/{name}"]["post"]
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
    document = await result(greeting, "openapi", scope="app")
    operations = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    application_routes = [r for r in greeting.controller.router if r.controller == "greeting"]
    assert len(ids) == len(set(ids)) == len(application_routes)
    assert all(op["operationId"].replace("_", "").isalnum() for op in operations)
    # The built-in actions are in scope=kuzzle.
    assert not {"/", "/_serverInfo", "/_openapi", "/_publicApi"} & set(document["paths"])
    routeless = document["x-kuzzle-actions-without-http-route"]
    assert {"controller": "greeting", "action": "secret",
            "events": ["greeting:beforeSecret", "greeting:afterSecret", "greeting:errorSecret"]} in routeless  # fmt: skip
    assert [(a["controller"], a["action"]) for a in routeless] == [("greeting", "secret")]


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
    assert set(capabilities) == {"version", "limits", "plugins", "routes", "services"}
    assert capabilities["version"] == __version__
    assert capabilities["routes"] == await result(app, "publicApi")
    assert capabilities["limits"] == {
        "concurrentRequests": 12,
        "requestsBufferSize": 1234,
        "requestsBufferWarningThreshold": 123,
        "maxRequestSize": 4321,
    }
    assert capabilities["plugins"] == {}
    services = capabilities["services"]
    assert {"internalStorage", "publicStorage", "internalCache", "memoryStorage", "channelLayer"} == set(services)
    assert services["publicStorage"]["backend"] in ("sqlite", "postgresql")
    assert services["publicStorage"]["version"][0].isdigit()
    assert services["channelLayer"]["backend"].startswith("channels")


async def test_openapi_kuzzle_scope_is_a_swagger_document_of_the_builtins(greeting: Application) -> None:
    document = await result(greeting, "openapi")
    assert document == await result(greeting, "openapi", scope="kuzzle")
    validate(document)
    assert document["swagger"] == "2.0"
    assert document["info"]["title"] == "Kuzzle API"
    assert {"name": "security", "description": "Security Controller"} in document["tags"]
    assert "greeting" not in {tag["name"] for tag in document["tags"]}
    user = document["paths"]["/users/{_id}"]["get"]
    assert user == {
        "description": "Controller: security.",
        "summary": "Action: getUser.",
        "tags": ["security"],
        "responses": {"200": {"description": "OK"}},
        "parameters": [{"in": "path", "name": "_id", "required": True, "type": "string"}],
    }
    assert "/greeting/{name}" not in document["paths"]
    with pytest.raises(errors.BadRequestError) as refused:
        await result(greeting, "openapi", scope="nope")
    assert refused.value.id == "api.assert.unexpected_argument"


async def test_openapi_over_http_is_the_document_itself(greeting: Application) -> None:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=KuzzleASGI(app=greeting)), base_url="http://testserver"
    )
    async with client:
        kuzzle = await client.get("/_openapi")
        app = await client.get("/_openapi?scope=app")
    assert kuzzle.status_code == app.status_code == 200
    assert kuzzle.headers["content-type"].startswith("application/json")
    assert kuzzle.json()["swagger"] == "2.0"
    assert app.json()["openapi"] == "3.1.0"
    assert "/greeting/{name}" in app.json()["paths"]
