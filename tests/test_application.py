"""The application object: start rule, guards, trigger, errors, log and config."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import kuzzle_events
from kuzzle_events import Application, errors
from kuzzle_events.errors import KuzzleError


def test_public_api_imports() -> None:
    from kuzzle_events import Controller, KuzzleRequest, action, app  # noqa: F401

    assert isinstance(app, Application)
    assert isinstance(app.log, logging.Logger)


async def test_start_fires_state_events_in_order(kapp: Application) -> None:
    calls: list[str] = []
    for event in ("kuzzle:state:start", "kuzzle:state:live", "kuzzle:state:ready"):

        async def pipe(_event: str = event) -> None:
            calls.append(_event)

        kapp.pipe.register(event, pipe)

    async def started_hook() -> None:
        calls.append("core:kuzzleStart")

    kapp.hook.register("core:kuzzleStart", started_hook)
    assert kapp.state == "stopped"
    await kapp.start()
    await kapp.start()  # a second entry point asking again starts nothing more
    await kapp.events.drain_hooks()
    assert calls == ["kuzzle:state:start", "kuzzle:state:live", "kuzzle:state:ready", "core:kuzzleStart"]
    assert kapp.started


async def test_registration_after_start_is_refused_except_dynamic_pipes(started: Application) -> None:
    async def handler(request):
        return None

    with pytest.raises(KuzzleError) as controller:
        started.controller.register("late", {"actions": {"go": {"handler": handler}}})
    assert controller.value.id == "plugin.runtime.already_started"
    with pytest.raises(KuzzleError) as hook:
        started.hook.register("my-app:event", handler)
    assert hook.value.id == "plugin.runtime.already_started"
    assert started.pipe.register("my-app:event", handler).startswith("pipe-")


async def test_trigger_and_sdk_before_start_are_refused(kapp: Application) -> None:
    with pytest.raises(KuzzleError) as trigger:
        await kapp.trigger("my-app:event", {})
    assert trigger.value.id == "plugin.runtime.unavailable_before_start"
    with pytest.raises(KuzzleError) as sdk:
        await kapp.sdk.query({"controller": "server", "action": "now"})
    assert sdk.value.id == "plugin.runtime.unavailable_before_start"


@pytest.mark.django_db(transaction=True)
async def test_trigger_custom_event_returns_first_payload(kapp: Application) -> None:
    async def enrich(url, size):
        return url + "?signed"

    seen = []
    kapp.pipe.register("my-app/file-available", enrich)
    kapp.hook.register("my-app/file-available", lambda url, size: seen.append((url, size)))
    await kapp.start()
    assert await kapp.trigger("my-app/file-available", "s3://f", 10) == "s3://f?signed"
    await kapp.events.drain_hooks()
    assert seen == [("s3://f?signed", 10)]


async def test_shutdown_fires_pipe(kapp: Application) -> None:
    calls = []

    async def bye() -> None:
        calls.append("shutdown")

    kapp.pipe.register("kuzzle:shutdown", bye)
    await kapp.start()
    await kapp.shutdown()
    assert calls == ["shutdown"] and kapp.state == "stopped"


def test_errors_namespace_and_registration(kapp: Application) -> None:
    assert kapp.errors.ForbiddenError is errors.ForbiddenError
    error_id = kapp.errors.register("app", "shop", "sold_out", message='Item "%s" is sold out', cls="PreconditionError")
    error = kapp.errors.get("app", "shop", "sold_out", "apple")
    assert error_id == "app.shop.sold_out"
    assert isinstance(error, errors.PreconditionError)
    assert (error.id, error.status, error.message) == ("app.shop.sold_out", 412, 'Item "apple" is sold out')
    assert kapp.errors.get("app.shop.sold_out", "pear").message == 'Item "pear" is sold out'
    with pytest.raises(KuzzleError):
        kapp.errors.register("app", "shop", "sold_out", message="again")
    with pytest.raises(KuzzleError):
        kapp.errors.register("app", "shop", "other", message="x", cls="NoSuchError")


def test_config_defaults_settings_and_overrides(make_app, settings) -> None:
    assert make_app().config.PIPE_WARN_TIME == 500
    assert make_app().config.MAX_CONCURRENT_PIPES == 50
    assert make_app().config.PIPES_BUFFER_SIZE == 50_000
    assert make_app().config.PIPE_TIMEOUT == 0
    settings.KUZZLE_EVENTS = {"PIPE_WARN_TIME": 42}
    assert make_app().config.PIPE_WARN_TIME == 42
    assert make_app(PIPE_WARN_TIME=7).config["PIPE_WARN_TIME"] == 7
    with pytest.raises(KuzzleError):
        _ = make_app(NOT_A_SETTING=1).config


async def test_invalid_settings_do_not_stop_registration_but_stop_the_start(make_app, settings) -> None:
    """A settings mistake is reported by manage.py check and at start, not by ready()'s registrations."""
    settings.KUZZLE_EVENTS = {"PIPE_WARN_TIMES": 10}
    kapp = make_app()

    @kapp.pipe.register("server:beforeNow")
    async def passthrough(request):
        return request

    with pytest.raises(KuzzleError) as refused:
        await kapp.start()
    assert "PIPE_WARN_TIMES" in refused.value.message
    assert not kapp.started

    settings.KUZZLE_EVENTS = {"PIPE_WARN_TIME": 10}
    await kapp.start()
    assert kapp.events.listeners("server:beforeNow").pipes
    assert kapp.config.PIPE_WARN_TIME == 10


def test_run_sync_starts_from_sync_code(kapp: Application) -> None:
    kapp.start_sync()
    assert kapp.started
    envelope = kapp.run_sync(kapp.sdk.query, {"controller": "server", "action": "now"})
    assert envelope["status"] == 200


def test_global_app_has_the_demo_registered() -> None:
    assert "greeting" in kuzzle_events.app.controller.controllers


def test_settings_change_keeps_registrations(make_app, settings) -> None:
    app = make_app()

    async def pipe(payload):
        return payload

    app.pipe.register("my-app:event", pipe)
    app.reload_config()
    assert app.events.listeners("my-app:event").pipes[0].fn is pipe
    import kuzzle_events

    before = kuzzle_events.app.events.registered()
    settings.KUZZLE_EVENTS = {"PIPE_TIMEOUT": 50}
    assert kuzzle_events.app.config.PIPE_TIMEOUT == 50
    assert kuzzle_events.app.events.timeout == 0.05
    assert kuzzle_events.app.events.registered().keys() == before.keys()


async def test_a_hook_that_fires_its_own_event_stops_at_max_trigger_depth(make_app, caplog) -> None:
    app = make_app(MAX_TRIGGER_DEPTH=4)
    runs: list[int] = []

    @app.hook.register("custom:echo")
    async def echo(n: int) -> None:
        runs.append(n)
        await app.trigger("custom:echo", n + 1)

    await app.start()
    with caplog.at_level(logging.ERROR, logger="kuzzle_events"):
        await app.trigger("custom:echo", 0)
        await app.events.drain_hooks()
    # Four nested triggers ran the hook; the fifth was refused, inside the last run.
    assert runs == [0, 1, 2, 3]
    failures = [r for r in caplog.records if "MAX_TRIGGER_DEPTH (4)" in r.getMessage()]
    assert len(failures) == 1
    assert "custom:echo -> custom:echo -> custom:echo -> custom:echo -> custom:echo" in failures[0].getMessage()
    await app.shutdown()


async def test_a_pipe_that_runs_its_own_action_fails_the_request_naming_the_chain(kapp: Application) -> None:
    @kapp.pipe.register("server:beforeNow")
    async def again(request):
        await kapp.sdk.query({"controller": "server", "action": "now"})
        return request

    await kapp.start()
    with pytest.raises(KuzzleError) as raised:
        await kapp.sdk.query({"controller": "server", "action": "now"})
    assert raised.value.id == "plugin.runtime.unexpected_error"
    assert "past MAX_TRIGGER_DEPTH (16)" in raised.value.message
    # 17 names: the test's own query, the 15 the pipe nested in it, then the refused one.
    assert raised.value.message.count(" -> ") == 16
    await kapp.shutdown()


@pytest.mark.parametrize("depth", [0, -1, 2.5, "16"])
def test_max_trigger_depth_is_checked(depth) -> None:
    from kuzzle_events import conf

    assert set(conf.wrong_types({"MAX_TRIGGER_DEPTH": depth})) == {"MAX_TRIGGER_DEPTH"}
    with pytest.raises(KuzzleError):
        conf.load({"MAX_TRIGGER_DEPTH": depth})


async def test_triggering_an_event_nobody_listens_to_returns_its_payload(kapp: Application) -> None:
    await kapp.start()
    payload = {"x": 1}
    assert await kapp.trigger("custom:never-seen", payload) is payload
    assert await kapp.trigger("custom:never-seen") is None
    assert await kapp.trigger("custom:never-seen", payload, "more") is payload
    # Past the nesting limit nothing is refused where nothing would run: the guard stops loops.
    tokens = [kapp.nesting.enter("custom:loop") for _ in range(kapp.nesting.limit)]
    try:
        assert await kapp.trigger("custom:never-seen", payload) is payload
        with pytest.raises(KuzzleError):
            kapp.pipe.register("custom:heard", lambda p: p)
            await kapp.trigger("custom:heard", payload)
    finally:
        for token in reversed(tokens):
            kapp.nesting.leave(token)
    await kapp.shutdown()


async def test_an_observer_and_a_trace_still_see_an_event_nobody_listens_to(kapp: Application) -> None:
    from kuzzle_events.core.traces import _CURRENT, Trace

    await kapp.start()
    seen: list[str] = []
    stop = kapp.events.observe(lambda event, payload: seen.append(event))
    await kapp.trigger("custom:unheard", {"x": 1})
    stop()
    assert seen == ["custom:unheard"]
    trace = Trace()
    token = _CURRENT.set(trace)
    try:
        await kapp.trigger("custom:unheard-too", {"x": 1})
    finally:
        _CURRENT.reset(token)
    assert "custom:unheard-too" in str(trace.to_dict())
    await kapp.shutdown()


async def test_app_trigger_runs_the_chain_as_the_engine_trigger_does(kapp: Application) -> None:
    # app.trigger runs the event's chain itself (one call less than events.trigger): the same
    # pipes with the same arguments, the same hooks, the same counts, observed or not.
    got: list[tuple[Any, ...]] = []

    async def pipe(payload: Any, *rest: Any) -> Any:
        got.append(("pipe", payload, *rest))
        return payload + 1

    async def hook(payload: Any, *rest: Any) -> None:
        got.append(("hook", payload, *rest))

    kapp.pipe.register("custom:counted", pipe)
    kapp.hook.register("custom:counted", hook)
    await kapp.start()
    assert await kapp.trigger("custom:counted", 1, "more") == 2
    seen: list[tuple[str, tuple[Any, ...]]] = []
    stop = kapp.events.observe(lambda event, payload: seen.append((event, payload)))
    assert await kapp.trigger("custom:counted", 10, "more") == 11
    stop()
    await kapp.events.drain_hooks()
    assert seen == [("custom:counted", (10, "more"))]
    assert sorted(got) == sorted([("pipe", 1, "more"), ("hook", 2, "more"), ("pipe", 10, "more"), ("hook", 11, "more")])
    figures = kapp.stats()["events"]["custom:counted"]
    assert (figures["pipes"][0]["calls"], figures["hooks"][0]["calls"]) == (2, 2)
    await kapp.shutdown()


async def test_app_trigger_nests_as_nesting_enter_does(kapp: Application) -> None:
    from kuzzle_events.core.nesting import Nesting

    seen: list[tuple[str, ...]] = []

    @kapp.pipe.register("custom:outer")
    async def outer(payload: Any) -> Any:
        seen.append(Nesting.chain())
        return await kapp.trigger("custom:inner", payload)

    @kapp.pipe.register("custom:inner")
    async def inner(payload: Any) -> Any:
        seen.append(Nesting.chain())
        return payload

    await kapp.start()
    await kapp.trigger("custom:outer", {})
    token = kapp.nesting.enter("custom:given")
    try:
        await kapp.trigger("custom:outer", {})
    finally:
        Nesting.leave(token)
    assert Nesting.chain() == ()
    assert seen == [
        ("custom:outer",),
        ("custom:outer", "custom:inner"),
        ("custom:given", "custom:outer"),
        ("custom:given", "custom:outer", "custom:inner"),
    ]
    await kapp.shutdown()
