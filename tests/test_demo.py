"""The demo application runs the guide's examples."""

from __future__ import annotations

import logging

import pytest

from kuzzle_events import Application
from kuzzle_events.errors import ForbiddenError
from project.demo import events as demo


@pytest.fixture
def demo_app(make_app) -> Application:
    app = make_app()
    demo.register(app, format_now=True)
    return app


async def test_custom_controller_pipe_hook_and_custom_event(demo_app: Application, caplog) -> None:
    await demo_app.start()
    with caplog.at_level(logging.INFO, logger="project.demo"):
        envelope = await demo_app.sdk.query(
            {"controller": "greeting", "action": "sayHello", "name": "Ada", "body": {"from": "test"}}
        )
        await demo_app.events.drain_hooks()
    assert envelope["result"] == {"greeting": "Hello, Ada!", "body": {"from": "test"}}
    messages = [r.getMessage() for r in caplog.records]
    assert "Greeted Ada" in messages
    assert "Custom event demo/greeted: Ada" in messages
    assert [r.action for r in demo_app.controller.controllers["greeting"].actions["sayHello"].routes] == [
        "sayHello",
        "sayHello",
    ]


async def test_pipe_aborts_with_forbidden(demo_app: Application) -> None:
    await demo_app.start()
    with pytest.raises(ForbiddenError) as caught:
        await demo_app.sdk.query({"controller": "greeting", "action": "sayHello", "name": "stranger"})
    assert caught.value.status == 403 and caught.value.id == "demo.greeting.stranger"


async def test_format_now_switch(make_app, demo_app: Application) -> None:
    await demo_app.start()
    formatted = (await demo_app.sdk.query({"controller": "server", "action": "now"}))["result"]["now"]
    assert formatted.endswith(" GMT")
    plain = make_app()
    demo.register(plain, format_now=False)
    await plain.start()
    assert isinstance((await plain.sdk.query({"controller": "server", "action": "now"}))["result"]["now"], int)
