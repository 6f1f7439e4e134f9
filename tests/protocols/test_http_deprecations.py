"""Kuzzle's deprecated HTTP routes: still served, and named in the answer's ``deprecations`` when
``DEPRECATION_WARNINGS`` is on (Kuzzle: ``NODE_ENV=development``; here Django's ``DEBUG``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kuzzle_events import Application, conf
from kuzzle_events.errors import KuzzleError
from tests.protocols.test_http import asgi_client, drf_client

OPENAPI = {"version": "2.5.0", "message": "Use this route instead: http://kuzzle:7512/_openapi"}


@pytest.fixture(params=["asgi", "drf"])
def client_of(request: pytest.FixtureRequest, settings: Any) -> Callable[[Application], Any]:
    return asgi_client if request.param == "asgi" else (lambda app: drf_client(app, settings))


@pytest.mark.parametrize("warnings", [True, False])
async def test_a_deprecated_route_is_named_only_with_deprecation_warnings(
    make_app: Callable[..., Application], client_of: Callable[[Application], Any], warnings: bool
) -> None:
    call = client_of(make_app(DEPRECATION_WARNINGS=warnings))
    old = json.loads((await call("GET", "/_publicApi")).body)
    assert old["status"] == 200 and old["action"] == "publicApi"
    assert old.get("deprecations") == ([OPENAPI] if warnings else None)
    assert ("deprecations" in old) is warnings
    # The same action on its own route, and a route never deprecated, name nothing.
    assert "deprecations" not in json.loads((await call("GET", "/_now")).body)


async def test_kuzzles_deprecated_routes_are_served_and_named(
    make_app: Callable[..., Application], client_of: Callable[[Application], Any]
) -> None:
    call = client_of(make_app(DEPRECATION_WARNINGS=True))
    me = json.loads((await call("GET", "/users/_me")).body)
    assert me["action"] == "getCurrentUser"
    assert me["deprecations"] == [{"version": "2.4.0", "message": "Use this route instead: http://kuzzle:7512/_me"}]
    stats = json.loads((await call("GET", "/_getAllStats")).body)
    assert stats["deprecations"][0]["message"] == "Use this route instead: http://kuzzle:7512/_metrics"
    indexes = json.loads((await call("DELETE", "/_mdelete", headers={"content-type": "application/json"},
                                     content=b'{"indexes": []}')).body)  # fmt: skip
    assert (indexes["controller"], indexes["action"]) == ("index", "mDelete")
    assert indexes["deprecations"][0]["message"].endswith("/_mDelete")


async def test_an_action_names_what_it_used_that_is_deprecated(make_app: Callable[..., Application]) -> None:
    async def old_style(request: Any) -> Any:
        request.add_deprecation("1.2.3", "use the new way")
        request.add_deprecation("1.2.4", "and the other one")
        return {}

    app = make_app()
    app.controller.register("probe", {"actions": {"old": {"handler": old_style}}})
    await app.start()
    answer = await app.sdk.query({"controller": "probe", "action": "old"})
    assert answer["deprecations"] == [
        {"version": "1.2.3", "message": "use the new way"},
        {"version": "1.2.4", "message": "and the other one"},
    ]


async def test_a_controllers_route_may_be_declared_deprecated(
    make_app: Callable[..., Application], client_of: Callable[[Application], Any]
) -> None:
    app = make_app(DEPRECATION_WARNINGS=True)
    old = {"verb": "get", "path": "/probe/old", "deprecated": {"since": "3.0.0", "message": "Use GET /probe/new"}}
    routes = [{"verb": "get", "path": "/probe/new"}, old]
    app.controller.register("probe", {"actions": {"go": {"handler": lambda request: {"ok": True}, "http": routes}}})
    with pytest.raises(KuzzleError) as refused:
        app.controller.register(
            "bad", {"actions": {"go": {"handler": lambda r: 1, "http": [{**old, "deprecated": "x"}]}}}
        )
    assert '"deprecated" must be' in refused.value.message
    call = client_of(app)
    assert json.loads((await call("GET", "/probe/old")).body)["deprecations"] == [
        {"version": "3.0.0", "message": "Use GET /probe/new"}
    ]
    assert "deprecations" not in json.loads((await call("GET", "/probe/new")).body)


def test_deprecation_warnings_follow_djangos_debug(settings: Any) -> None:
    settings.DEBUG = True
    assert conf.load().DEPRECATION_WARNINGS is True
    settings.DEBUG = False
    assert conf.load().DEPRECATION_WARNINGS is False
    assert conf.load({"DEPRECATION_WARNINGS": True}).DEPRECATION_WARNINGS is True
