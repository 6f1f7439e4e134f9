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
