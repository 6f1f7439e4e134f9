"""Controller registration: dict and class forms, naming, routes, invalid definitions."""

from __future__ import annotations

import pytest

from kuzzle_events import Application, Controller, KuzzleRequest, action
from kuzzle_events.core.controllers import camel_case, kebab_case
from kuzzle_events.errors import KuzzleError


async def hello(request: KuzzleRequest) -> str:
    return "hello"


def routes_of(app: Application, controller: str) -> dict[str, list[tuple[str, str]]]:
    return {
        name: [(r.verb, r.path) for r in act.routes]
        for name, act in app.controller.controllers[controller].actions.items()
    }


def test_naming() -> None:
    assert kebab_case("sayHello") == "say-hello"
    assert kebab_case("MyGreeting") == "my-greeting"
    assert kebab_case("HTTPServer") == "http-server"
    assert camel_case("say_hello") == "sayHello"
    assert camel_case("now") == "now"


def test_dict_form_routes(kapp: Application) -> None:
    kapp.controller.register(
        "greeting",
        {
            "actions": {
                "sayHello": {"handler": hello, "http": [{"verb": "post", "path": "/greeting/:name"}]},
                "relative": {"handler": hello, "http": [{"verb": "GET", "path": "greeting/relative"}]},
                "byDefault": {"handler": hello},
                "noRoute": {"handler": hello, "http": []},
            }
        },
    )
    assert routes_of(kapp, "greeting") == {
        "sayHello": [("post", "/greeting/:name")],
        "relative": [("get", "/_/greeting/relative")],
        "byDefault": [("get", "/_/greeting/by-default")],
        "noRoute": [],
    }
    act = kapp.controller.get("greeting", "sayHello")
    assert (act.before, act.after, act.error) == (
        "greeting:beforeSayHello",
        "greeting:afterSayHello",
        "greeting:errorSayHello",
    )


class GreetingController(Controller):
    @action(http=[{"verb": "post", "path": "/greeting/:name"}])
    async def say_hello(self, request: KuzzleRequest) -> str:
        return f"Hello, {request.input.args['name']}"

    @action(name="wave")
    def wave_hand(self, request: KuzzleRequest) -> str:
        return "wave"

    def not_an_action(self) -> None:
        raise AssertionError("never exposed")


class MyShopController(Controller):
    @action
    async def list_items(self, request: KuzzleRequest) -> list[str]:
        return []


class Named(Controller):
    name = "custom-name"

    @action(http=[])
    async def go(self, request: KuzzleRequest) -> bool:
        return True


@pytest.mark.django_db(transaction=True)
async def test_class_form(kapp: Application) -> None:
    kapp.controller.use(GreetingController())
    kapp.controller.use(MyShopController())
    kapp.controller.use(Named())
    assert set(kapp.controller.controllers) >= {"greeting", "my-shop", "custom-name"}
    assert routes_of(kapp, "greeting") == {
        "sayHello": [("post", "/greeting/:name")],
        "wave": [("get", "/_/greeting/wave")],
    }
    assert routes_of(kapp, "my-shop") == {"listItems": [("get", "/_/my-shop/list-items")]}
    assert routes_of(kapp, "custom-name") == {"go": []}
    await kapp.start()
    result = await kapp.sdk.query({"controller": "greeting", "action": "sayHello", "name": "Ada"})
    assert result["result"] == "Hello, Ada"
    assert (await kapp.sdk.query({"controller": "greeting", "action": "wave"}))["result"] == "wave"


def test_use_needs_a_controller_instance(kapp: Application) -> None:
    with pytest.raises(KuzzleError) as caught:
        kapp.controller.use(object())  # type: ignore[arg-type]
    assert caught.value.id == "plugin.assert.invalid_controller_definition"


@pytest.mark.parametrize(
    ("name", "definition", "fragment"),
    [
        ("server", {"actions": {"x": {"handler": hello}}}, "built-in"),
        ("document", {"actions": {"x": {"handler": hello}}}, "built-in"),
        ("", {"actions": {}}, "non-empty"),
        ("shop", {"actions": {"x": {"handler": "not callable"}}}, "not callable"),
        ("shop", {"actions": {"x": {"handler": hello, "verb": "get"}}}, "unknown key"),
        ("shop", {"actions": {"x": {"handler": hello}}, "extra": 1}, "unknown key"),
        ("shop", {"nope": {}}, "unknown key"),
        ("shop", ["not", "a", "dict"], "dict"),
        ("shop", {"actions": {"x": {"handler": hello, "http": [{"verb": "fetch", "path": "/x"}]}}}, "verb"),
        ("shop", {"actions": {"x": {"handler": hello, "http": [{"verb": "get"}]}}}, "path"),
        ("shop", {"actions": {"x": {"handler": hello, "http": "/x"}}}, "list"),
        (
            "shop",
            {
                "actions": {
                    "a": {"handler": hello, "http": [{"verb": "get", "path": "/same/:id"}]},
                    "b": {"handler": hello, "http": [{"verb": "get", "path": "/same/:other"}]},
                }
            },
            "duplicate",
        ),
        ("shop", {"actions": {"x": {"handler": hello, "http": [{"verb": "get", "path": "/_now"}]}}}, "duplicate"),
    ],
)
def test_invalid_definitions_fail_naming_the_controller(kapp: Application, name, definition, fragment) -> None:
    with pytest.raises(KuzzleError) as caught:
        kapp.controller.register(name, definition)
    assert caught.value.id == "plugin.assert.invalid_controller_definition"
    assert f'"{name}"' in caught.value.message
    assert fragment in caught.value.message
    assert name not in kapp.controller.controllers or name in ("server", "document")


def test_duplicate_controller_and_nothing_half_registered(kapp: Application) -> None:
    kapp.controller.register("shop", {"actions": {"x": {"handler": hello}}})
    with pytest.raises(KuzzleError):
        kapp.controller.register("shop", {"actions": {"y": {"handler": hello}}})
    with pytest.raises(KuzzleError):
        kapp.controller.register(
            "other",
            {
                "actions": {
                    "fine": {"handler": hello, "http": [{"verb": "get", "path": "/fine/a/b/c"}]},
                    "clash": {"handler": hello, "http": [{"verb": "get", "path": "/_/shop/x"}]},
                }
            },
        )
    assert "other" not in kapp.controller.controllers
    assert kapp.controller.router.match("get", "/fine/a/b/c") is None
