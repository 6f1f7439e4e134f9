"""How built-in controllers are declared: one table per controller, services reached in one hop."""

from __future__ import annotations

import inspect

import pytest

from kuzzle_events import Application
from kuzzle_events.api import BUILTINS
from kuzzle_events.api.service import Service
from kuzzle_events.core.request import KuzzleRequest
from kuzzle_events.security.tokens import AuthToken


def test_every_builtin_action_comes_from_its_table(kapp: Application) -> None:
    for name, actions in BUILTINS.items():
        table = actions()
        registered = kapp.controller.controllers[name].actions
        assert set(registered) == set(table)
        for action, (handler, http) in table.items():
            act = registered[action]
            assert [{"verb": r.verb, "path": r.path} for r in act.routes] == [
                {"verb": r["verb"], "path": r["path"]} for r in http
            ]
            deprecated = [r["deprecated"] for r in http if "deprecated" in r]
            assert [
                {"since": r.deprecated[0], "message": r.deprecated[1]} for r in act.routes if r.deprecated
            ] == deprecated
            # The bound handler keeps the docstring: it is the action's summary in /_openapi.
            assert inspect.getdoc(act.handler) == inspect.getdoc(handler)
            assert act.handler.__qualname__ == f"{name}.{action}"


def test_a_bound_handler_runs_as_the_handler_itself(kapp: Application) -> None:
    # No wrapping coroutine between the funnel and the handler: calling the action's function
    # makes the handler's own coroutine, bound to the application.
    handler = BUILTINS["server"]()["now"][0]
    act = kapp.controller.controllers["server"].actions["now"]
    assert act.is_async
    coroutine = act.fn(KuzzleRequest({"controller": "server", "action": "now"}))
    try:
        assert coroutine.cr_code is handler.__code__
        assert coroutine.cr_frame.f_locals["app"] is kapp
    finally:
        coroutine.close()


def test_a_service_function_is_built_once_and_private_names_are_refused() -> None:
    storage = Service("kuzzle_events.documents.collections")
    assert storage.list_indexes is storage.list_indexes
    assert storage.list_indexes.__qualname__ == "kuzzle_events.documents.collections.list_indexes"
    with pytest.raises(AttributeError):
        getattr(storage, "_private")  # noqa: B009  (the attribute access is what is tested)


async def test_a_service_call_runs_the_function(started: Application) -> None:
    assert await Service("kuzzle_events.documents.collections").list_indexes() == []


@pytest.mark.parametrize("args", [{"from": -1}, {"size": -1}])
async def test_search_api_keys_refuses_a_negative_page(started: Application, args: dict[str, int]) -> None:
    request = KuzzleRequest({"controller": "auth", "action": "searchApiKeys", **args})
    request.context.token = AuthToken("jwt", "ada", -1, -1, None, None)
    response = (await started.funnel.execute(request)).to_dict()
    assert response["error"]["id"] == "api.assert.invalid_argument"
