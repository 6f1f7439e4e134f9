"""An example kuzzle_events plugin, installed with pip and found through its entry point.

It brings ``greeter/greeting:sayHello`` (``GET /_plugin/greeter/hello/:name``, Kuzzle's dict
shapes) and ``greeter/farewell:sayGoodbye`` (decorator form), a hook on its own custom event, and
reads its configuration (``{"greeting": "Hello"}``) from ``KUZZLE_EVENTS["PLUGINS"]``.
"""

from __future__ import annotations

from typing import Any

from kuzzle_events import Controller, KuzzleRequest, action
from kuzzle_events.plugin import Plugin, hook

__all__ = ["GreeterPlugin"]


class FarewellController(Controller):
    name = "farewell"

    @action(http=[{"verb": "get", "path": "/goodbye/:name"}])
    async def say_goodbye(self, request: KuzzleRequest) -> dict[str, str]:
        return {"message": f"Goodbye, {request.get_string('name')}"}


class GreeterPlugin(Plugin):
    manifest = {"name": "greeter", "version": "1.0.0", "kuzzle_events": ">=0.1,<1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        super().init(config, context)
        self.greeted: list[str] = []
        self.controllers = {"greeting": {"sayHello": "say_hello"}, "farewell": FarewellController()}
        self.routes = [{"verb": "get", "url": "/hello/:name", "controller": "greeting", "action": "sayHello"}]
        context.log.info("greeter ready")

    async def say_hello(self, request: KuzzleRequest) -> dict[str, str]:
        name = request.get_string("name")
        await self.context.accessors.trigger("greeted", name)  # fires "plugin-greeter:greeted"
        return {"message": f"{self.config.get('greeting', 'Hello')}, {name}", "plugin": "greeter"}

    @hook("plugin-greeter:greeted")
    async def remember(self, name: str) -> None:
        self.greeted.append(name)
