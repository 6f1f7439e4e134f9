"""HTTP route matching."""

from __future__ import annotations

import pytest

from kuzzle_events.core.routes import DuplicateRoute, Route, Router


def router() -> Router:
    r = Router()
    r.add(Route("get", "/greeting/:name", "greeting", "sayHello"))
    r.add(Route("get", "/greeting/everyone", "greeting", "sayHelloToAll"))
    r.add(Route("post", "/greeting/:name", "greeting", "create"))
    r.add(Route("get", "/", "server", "info"))
    return r


def test_literal_beats_param_and_params_are_extracted() -> None:
    route, params = router().match("get", "/greeting/everyone")
    assert (route.action, params) == ("sayHelloToAll", {})
    route, params = router().match("get", "/greeting/ada")
    assert (route.action, params) == ("sayHello", {"name": "ada"})


def test_trailing_slash_ignored_and_root() -> None:
    route, _ = router().match("get", "/greeting/ada/")
    assert route.action == "sayHello"
    route, _ = router().match("get", "/")
    assert route.action == "info"


def test_verb_mismatch_and_not_found() -> None:
    assert router().match("delete", "/greeting/ada") is False
    assert router().match("get", "/nowhere") is None
    route, _ = router().match("head", "/greeting/ada")
    assert route.action == "sayHello"
    assert router().verbs_for("/greeting/ada") == ["get", "head", "post"]


def test_routes_without_parameters_are_found_as_the_walk_finds_them() -> None:
    # The dict of routes without parameters is a shortcut: for every route of the application,
    # under every verb and with HEAD falling back to GET, it answers what the walk answers.
    from kuzzle_events.application import Application

    app = Application()
    routes = list(app.controller.router)
    walked = Router()
    walked.add_all(routes)
    walked._static.clear()
    assert app.controller.router._static, "the shortcut holds the routes without parameters"
    for route in routes:
        for verb in ("GET", "head", "post", "put", "patch", "delete"):
            for path in (route.path, route.path + "/", route.path.replace(":", "x-")):
                assert app.controller.router.match(verb, path) == walked.match(verb, path), (verb, path)


def test_a_literal_path_under_another_verb_is_still_told_apart() -> None:
    r = router()
    r.add(Route("delete", "/greeting/everyone", "greeting", "deleteAll"))
    assert r.match("put", "/greeting/everyone") is False
    route, params = r.match("HEAD", "/greeting/everyone")
    assert (route.action, params) == ("sayHelloToAll", {})
    assert r.match("get", "/nothing/here/at/all") is None


def test_routes_of_one_verb_and_shape_collide_whatever_their_parameter_names() -> None:
    router = Router()
    first = Route("get", "/ms/_hget/:_id/:field", "ms", "hget")
    router.add(first)
    assert router.find_duplicate(Route("get", "/ms/_hget/:key/:name", "x", "y")) is first
    assert router.find_duplicate(Route("post", "/ms/_hget/:_id/:field", "x", "y")) is None
    assert router.find_duplicate(Route("get", "/ms/_hget/:_id", "x", "y")) is None
    try:
        router.add(Route("get", "/ms/_hget/:a/:b", "x", "y"))
    except DuplicateRoute as error:
        assert error.existing is first
    else:
        raise AssertionError("a duplicate route was added")


def test_a_route_is_checked_against_the_others_in_one_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    # Applications register hundreds of routes when they are built: each one's collision check
    # computes its own shape, not every registered route's.
    shapes = 0
    real = Route.shape

    def counted(route: Route) -> str:
        nonlocal shapes
        shapes += 1
        return real.fget(route)  # type: ignore[attr-defined,no-any-return]

    monkeypatch.setattr(Route, "shape", property(counted))
    router = Router()
    for n in range(200):
        router.add(Route("get", f"/r{n}/:_id", "c", f"a{n}"))
    assert shapes <= 2 * 200
