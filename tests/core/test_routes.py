"""HTTP route matching."""

from __future__ import annotations

from kuzzle_events.core.routes import Route, Router


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
