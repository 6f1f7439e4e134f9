"""Plugins: declaration forms, naming, context, loading from settings and entry points, failures."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from kuzzle_events import Application, Controller, KuzzleRequest, action
from kuzzle_events.errors import KuzzleError
from kuzzle_events.plugin import Plugin, hook, pipe
from kuzzle_events.testing import KuzzleClient, wait_for_hooks


class DictPlugin(Plugin):
    """Kuzzle's shapes, as in the plugin guide."""

    manifest = {"name": "my-plugin", "version": "2.0.0", "kuzzle_events": ">=0.1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        super().init(config, context)
        self.controllers = {"newController": {"myAction": "action_function", "myOtherAction": self.other}}
        self.routes = [
            {"verb": "get", "url": "/foo/:name", "controller": "newController", "action": "myAction"},
            {"verb": "post", "url": "/bar", "controller": "newController", "action": "myOtherAction"},
        ]
        self.pipes = {"server:afterNow": "tag_now"}
        self.hooks = {"my-plugin/newController:afterMyAction": ["audit"]}
        self.audited: list[str] = []

    async def action_function(self, request: KuzzleRequest) -> dict[str, Any]:
        request.response.set_header("expires", "0")
        return {"name": request.input.args["name"], "greeting": self.config.get("greeting")}

    async def other(self, request: KuzzleRequest) -> Any:
        return request.input.body

    async def tag_now(self, request: KuzzleRequest) -> KuzzleRequest:
        request.result["by"] = "my-plugin"
        return request

    async def audit(self, request: KuzzleRequest) -> None:
        self.audited.append(request.input.args["name"])


class ShoutController(Controller):
    @action(http=[{"verb": "get", "path": "/shout/:word"}])
    async def shout(self, request: KuzzleRequest) -> str:
        return request.get_string("word").upper()


class DecoratedPlugin(Plugin):
    manifest = {"name": "decorated", "kuzzle_events": ">=0.1,<1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        super().init(config, context)
        self.controllers = [ShoutController()]
        self.seen: list[Any] = []

    @pipe("decorated/shout:beforeShout", priority=5)
    async def lower_first(self, request: KuzzleRequest) -> KuzzleRequest:
        self.seen.append("pipe")
        return request

    @hook("decorated/shout:afterShout")
    async def after(self, request: KuzzleRequest) -> None:
        self.seen.append("hook")


async def test_dict_shapes_controller_routes_pipes_hooks(kapp: Application) -> None:
    plugin = DictPlugin()
    kapp.plugin.use(plugin, config={"greeting": "hi"})
    events: list[str] = []

    async def record(request: KuzzleRequest) -> KuzzleRequest:
        events.append("my-plugin/newController:beforeMyAction")
        return request

    kapp.pipe.register("my-plugin/newController:beforeMyAction", record)
    await kapp.start()
    envelope = await kapp.sdk.query({"controller": "my-plugin/newController", "action": "myAction", "name": "Ada"})
    assert envelope["result"] == {"name": "Ada", "greeting": "hi"}
    assert envelope["controller"] == "my-plugin/newController"
    assert events == ["my-plugin/newController:beforeMyAction"]
    assert (await kapp.sdk.query({"controller": "server", "action": "now"}))["result"]["by"] == "my-plugin"
    await kapp.events.drain_hooks()
    assert plugin.audited == ["Ada"]

    client = KuzzleClient(kapp)
    _, headers, got = await client.http("GET", "/_plugin/my-plugin/foo/Bo")
    assert json.loads(got)["result"] == {"name": "Bo", "greeting": "hi"} and headers["expires"] == "0"
    assert json.loads((await client.http("POST", "/_plugin/my-plugin/bar", {"k": 1}))[2])["result"] == {"k": 1}
    by_websocket = {"controller": "my-plugin/newController", "action": "myAction", "name": "Cy"}
    assert (await client.query(by_websocket, via="websocket"))["result"]["name"] == "Cy"

    info = (await kapp.sdk.query({"controller": "server", "action": "info"}))["result"]["serverInfo"]["kuzzle"]
    assert info["plugins"]["my-plugin"]["version"] == "2.0.0"
    assert info["plugins"]["my-plugin"]["routes"] == ["GET /_plugin/my-plugin/foo/:name", "POST /_plugin/my-plugin/bar"]


async def test_decorator_form(kapp: Application) -> None:
    plugin = DecoratedPlugin()
    kapp.plugin.use(plugin)
    await kapp.start()
    assert (await kapp.sdk.query({"controller": "decorated/shout", "action": "shout", "word": "hey"}))["result"] == "HEY"
    await kapp.events.drain_hooks()
    assert plugin.seen == ["pipe", "hook"]
    route = kapp.controller.get("decorated/shout", "shout").routes[0]
    assert route.path == "/_plugin/decorated/shout/:word"


async def test_context(kapp: Application, caplog: pytest.LogCaptureFixture) -> None:
    captured: dict[str, Any] = {}

    class ContextPlugin(Plugin):
        manifest = {"name": "ctx", "kuzzle_events": ">=0.1"}

        def init(self, config: dict[str, Any], context: Any) -> None:
            config["mutated"] = True
            captured["context"] = context
            context.log.warning("hello from init")

    original = {"nested": {"a": 1}}
    kapp.plugin.use(ContextPlugin(), config=original)
    triggered: list[Any] = []
    kapp.hook.register("plugin-ctx:done", lambda *payload: triggered.append(payload))
    with caplog.at_level(logging.WARNING):
        await kapp.start()
    assert "mutated" not in original
    assert any(r.getMessage() == "[ctx] hello from init" for r in caplog.records)
    context = captured["context"]
    assert context.errors.ForbiddenError is kapp.errors.ForbiddenError
    request = context.constructors.Request({"controller": "server", "action": "now"})
    assert "now" in (await context.accessors.execute(request))["result"]
    assert "now" in (await context.accessors.sdk.query({"controller": "server", "action": "now"}))["result"]
    with pytest.raises(KuzzleError) as failed:  # as Kuzzle's execute rejects
        await context.accessors.execute(context.constructors.Request({"controller": "nope", "action": "x"}))
    assert failed.value.id == "api.process.controller_not_found"


@pytest.mark.django_db(transaction=True)
async def test_accessor_trigger_prefixes_the_event(kapp: Application) -> None:
    captured: dict[str, Any] = {}

    class Trig(Plugin):
        manifest = {"name": "trig", "kuzzle_events": ">=0.1"}

        def init(self, config: dict[str, Any], context: Any) -> None:
            captured["context"] = context

    seen: list[Any] = []

    async def on_done(value: Any) -> Any:
        seen.append(value)
        return value

    kapp.plugin.use(Trig())
    kapp.pipe.register("plugin-trig:done", on_done)
    await kapp.start()
    assert await captured["context"].accessors.trigger("done", 42) == 42
    assert seen == [42]


def bad(manifest: dict[str, Any] | None, **attrs: Any) -> Plugin:
    cls = type("BadPlugin", (Plugin,), {"manifest": manifest or {}, **attrs})
    return cls()


@pytest.mark.parametrize(
    ("plugins", "error_id", "fragment"),
    [
        ([bad({"kuzzle_events": ">=0.1"})], "plugin.manifest.missing_name", "name"),
        ([bad({"name": "BadName", "kuzzle_events": ">=0.1"})], "plugin.assert.invalid_plugin_name", "BadName"),
        ([bad({"name": "twice", "kuzzle_events": ">=0.1"}), bad({"name": "twice", "kuzzle_events": ">=0.1"})],
         "plugin.assert.name_already_exists", "twice"),
        ([bad({"name": "old", "kuzzle_events": ">=5"})], "plugin.manifest.version_mismatch", "old"),
        ([bad({"name": "noinit", "kuzzle_events": ">=0.1"}, init=None)], "plugin.assert.init_not_found", "noinit"),
        ([bad({"name": "boom", "kuzzle_events": ">=0.1"}, init=lambda self, c, x: 1 / 0)],
         "plugin.runtime.failed_init", "boom"),
        ([bad({"name": "notfn", "kuzzle_events": ">=0.1"}, pipes={"server:afterNow": "missing"})],
         "plugin.assert.invalid_pipe", "notfn"),
    ],
)
async def test_bad_plugins_stop_the_start(kapp: Application, plugins, error_id: str, fragment: str) -> None:
    for plugin in plugins:
        if "pipes" in type(plugin).__dict__:
            plugin.pipes = type(plugin).__dict__["pipes"]
        kapp.plugin.use(plugin)
    with pytest.raises(KuzzleError) as caught:
        await kapp.start()
    assert caught.value.id == error_id
    assert fragment in caught.value.message
    assert kapp.state == "stopped"


async def test_plugin_warn_time_from_its_config(make_app, settings) -> None:
    settings.KUZZLE_EVENTS = {"PLUGINS": {"tests.plugins.test_loader.DictPlugin": {"PIPE_WARN_TIME": 7, "greeting": "yo"}}}
    app = make_app()
    app.plugin.use_settings(app.config.PLUGINS, ["greeter"])
    await app.start()
    [tag_now] = app.events.listeners("server:afterNow").pipes
    assert tag_now.owner == "my-plugin" and tag_now.warn == pytest.approx(0.007)
    assert app.plugin.loaded["my-plugin"].config == {"greeting": "yo"}
    assert "greeter" not in app.plugin.loaded


async def test_installed_example_plugin_found_through_its_entry_point(make_app) -> None:
    app = make_app()
    app.plugin.use_settings({}, [])
    await app.start()
    assert app.plugin.loaded["greeter"].source == "entry point: greeter"
    envelope = await app.sdk.query({"controller": "greeter/greeting", "action": "sayHello", "name": "Ada"})
    assert envelope["result"] == {"message": "Hello, Ada", "plugin": "greeter"}
    await wait_for_hooks(app)
    assert app.plugin.loaded["greeter"].instance.greeted == ["Ada"]
    client = KuzzleClient(app)
    for path, message in (("/_plugin/greeter/hello/Bo", "Hello, Bo"), ("/_plugin/greeter/goodbye/Bo", "Goodbye, Bo")):
        assert json.loads((await client.http("GET", path))[2])["result"]["message"] == message
    farewell = {"controller": "greeter/farewell", "action": "sayGoodbye", "name": "Cy"}
    assert (await client.query(farewell, via="websocket"))["result"]["message"] == "Goodbye, Cy"


async def test_entry_point_plugin_can_be_disabled(make_app) -> None:
    app = make_app()
    app.plugin.use_settings({}, ["greeter"])
    await app.start()
    assert "greeter" not in app.plugin.loaded


def test_global_app_loads_the_installed_plugin() -> None:
    from kuzzle_events import app

    assert any(p[2] == "entry point: greeter" for p in app.plugin._pending) or "greeter" in app.plugin.loaded


def test_use_after_start_is_refused(kapp: Application) -> None:
    kapp.start_sync()
    with pytest.raises(KuzzleError) as caught:
        kapp.plugin.use(DictPlugin())
    assert caught.value.id == "plugin.runtime.already_started"


async def test_a_plugin_that_cannot_load_is_recorded_then_stops_the_start(make_app) -> None:
    app = make_app()
    entries: dict[str, Any] = {"tests.plugins.nowhere.Plugin": {}, "tests.plugins.test_loader.DictPlugin": {}}
    app.plugin.use_settings(entries, ["greeter"])
    [failure] = app.plugin.failures
    assert failure.id == "plugin.assert.cannot_load" and "tests.plugins.nowhere.Plugin" in failure.message
    assert [source for _, _, source in app.plugin._pending] == ["settings: tests.plugins.test_loader.DictPlugin"]
    with pytest.raises(KuzzleError) as caught:
        await app.start()
    assert caught.value is failure and app.state == "stopped"


async def test_a_pipe_on_a_hook_only_event_declared_in_init_stops_the_start(kapp: Application) -> None:
    class OnConnect(Plugin):
        manifest = {"name": "on-connect", "kuzzle_events": ">=0.1"}

        def init(self, config: dict[str, Any], context: Any) -> None:
            self.pipes = {"connection:new": "greet"}

        async def greet(self, connection: Any) -> Any:
            return connection

    kapp.plugin.use(OnConnect())
    with pytest.raises(KuzzleError) as caught:
        await kapp.start()
    assert caught.value.id == "plugin.assert.invalid_pipe"
    assert 'Plugin "on-connect"' in caught.value.message and "hook-only" in caught.value.message
    assert not kapp.events.has_listeners("connection:new")


async def test_a_plugin_controller_without_actions_stops_the_start(kapp: Application) -> None:
    class Empty(Controller):
        pass

    class Hollow(Plugin):
        manifest = {"name": "hollow", "kuzzle_events": ">=0.1"}

        def init(self, config: dict[str, Any], context: Any) -> None:
            self.controllers = [Empty()]

    kapp.plugin.use(Hollow())
    with pytest.raises(KuzzleError) as caught:
        await kapp.start()
    assert caught.value.id == "plugin.assert.invalid_controller_definition"
    assert 'Plugin "hollow"' in caught.value.message and "Empty" in caught.value.message


def test_validate_runs_no_plugin_code_but_constructors(kapp: Application) -> None:
    calls: list[str] = []

    class Watched(Plugin):
        manifest = {"name": "watched", "kuzzle_events": ">=0.1"}

        def init(self, config: dict[str, Any], context: Any) -> None:
            calls.append("init")

    kapp.plugin.use(Watched())
    kapp.plugin.use(bad({"name": "watched", "kuzzle_events": ">=0.1"}))
    kapp.plugin.use(bad({"name": "no-init", "kuzzle_events": ">=0.1"}, init=None))
    found = [error.id for error in kapp.plugin.validate()]
    assert found == ["plugin.assert.name_already_exists", "plugin.assert.init_not_found"]
    assert calls == [] and kapp.plugin.loaded == {} and len(kapp.plugin._pending) == 3


async def test_a_plugin_executing_its_own_action_from_a_pipe_stops_at_max_trigger_depth(make_app) -> None:
    class Looping(Plugin):
        manifest = {"name": "looping", "kuzzle_events": ">=0.1"}

        def init(self, config: dict[str, Any], context: Any) -> None:
            super().init(config, context)
            self.pipes = {"server:beforeNow": "again"}

        async def again(self, request: KuzzleRequest) -> KuzzleRequest:
            Request = self.context.constructors.Request
            await self.context.accessors.execute(Request({"controller": "server", "action": "now"}))
            return request

    app = make_app(MAX_TRIGGER_DEPTH=3)
    app.plugin.use(Looping())
    await app.start()
    with pytest.raises(KuzzleError) as raised:
        await app.sdk.query({"controller": "server", "action": "now"})
    assert "past MAX_TRIGGER_DEPTH (3)" in raised.value.message
    await app.shutdown()


@pytest.mark.parametrize(
    "plugins",
    [
        {"greeter": {"greeting": "Hi"}},  # an installed plugin's config, by its entry-point name
        {"kuzzle_events_greeter.GreeterPlugin": {"greeting": "Hi"}},  # the same plugin by its path
        {"kuzzle_events_greeter:GreeterPlugin": {"greeting": "Hi"}},  # ... as its entry point writes it
    ],
)
async def test_an_installed_plugin_configured_in_settings_loads_once(make_app, plugins) -> None:
    app = make_app(PLUGINS=plugins)
    app.plugin.use_settings(app.config.PLUGINS, [])
    assert app.plugin.failures == []
    await app.start()
    envelope = await app.sdk.query({"controller": "greeter/greeting", "action": "sayHello", "name": "Ada"})
    assert envelope["result"]["message"] == "Hi, Ada"
    await app.shutdown()


async def test_a_plugins_init_may_call_the_api(kapp: Application) -> None:
    # As in Kuzzle (its functional-test plugin calls server:info in init): the rights are loaded
    # before plugins are initialised, and the embedded SDK serves while the application starts.
    seen: dict[str, Any] = {}

    class EarlyCaller(Plugin):
        manifest = {"name": "early", "kuzzle_events": ">=0.1"}

        async def init(self, config: dict[str, Any], context: Any) -> None:
            super().init(config, context)
            seen["now"] = (await context.accessors.sdk.query({"controller": "server", "action": "now"}))["result"]
            created = await context.accessors.sdk.query({"controller": "index", "action": "create", "index": "early"})
            seen["created"] = created["status"]

    kapp.plugin.use(EarlyCaller())
    await kapp.start()
    assert "now" in seen["now"] and seen["created"] == 200
    assert (await kapp.sdk.query({"controller": "index", "action": "exists", "index": "early"}))["result"] is True
