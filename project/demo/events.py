"""Controllers, pipes and hooks of the demo, as Kuzzle's guides write them."""

from __future__ import annotations

import logging
from email.utils import formatdate
from typing import Any

from kuzzle_events import Application, Controller, KuzzleRequest, action
from kuzzle_events.errors import ForbiddenError

log = logging.getLogger("project.demo")

GREETED = "demo/greeted"  # a custom event, prefixed with the application's name


class GreetingController(Controller):
    """``greeting:sayHello`` over ``POST /greeting/:name``, and a raw text answer."""

    def __init__(self, app: Application) -> None:
        self.app = app

    @action(http=[{"verb": "post", "path": "/greeting/:name"}, {"verb": "get", "path": "/greeting/:name"}])
    async def say_hello(self, request: KuzzleRequest) -> dict[str, Any]:
        name = request.get_string("name")
        punctuation = request.get_string("punctuation", "!")
        body = request.get_body({})
        greeting = {"greeting": f"Hello, {name}{punctuation}", "body": body}
        await self.app.trigger(GREETED, name)
        return greeting

    @action(http=[{"verb": "get", "path": "/greeting-card/:name"}])
    async def card(self, request: KuzzleRequest) -> str:
        request.response.raw = True
        request.response.set_header("Content-Type", "text/plain; charset=utf-8")
        request.response.set_header("X-Greeting-Card", "1")
        return f"Dear {request.get_string('name')}, hello."


async def format_now_date(request: KuzzleRequest) -> KuzzleRequest:
    """The guide's ``server:afterNow`` pipe: a formatted date instead of a timestamp."""
    request.result["now"] = formatdate(request.result["now"] / 1000, usegmt=True)
    return request


async def refuse_strangers(request: KuzzleRequest) -> KuzzleRequest:
    """Abort with ``ForbiddenError`` when asked to greet someone the demo does not greet."""
    if request.input.args.get("name") == "stranger":
        raise ForbiddenError("The demo does not greet strangers", "demo.greeting.stranger")
    return request


async def log_greeting(request: KuzzleRequest) -> None:
    log.info("Greeted %s", request.input.args.get("name"))


async def on_greeted(name: str) -> None:
    log.info("Custom event %s: %s", GREETED, name)


def register(app: Application, *, format_now: bool = False) -> None:
    """Register the demo on ``app`` (called from ``DemoConfig.ready()``)."""
    app.controller.use(GreetingController(app))
    if format_now:
        app.pipe.register("server:afterNow", format_now_date)
    app.pipe.register("greeting:beforeSayHello", refuse_strangers)
    app.hook.register("greeting:afterSayHello", log_greeting)
    app.hook.register(GREETED, on_greeted)

