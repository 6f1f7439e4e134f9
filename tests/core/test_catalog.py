"""The documented events, as data."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kuzzle_events import Application, errors, inline
from kuzzle_events.core.catalog import EVENTS, DocumentedEvent, action_events

BY_NAME = {event.name: event for event in EVENTS}

SPEC_EVENTS = {
    "request:beforeExecution",
    "request:onAuthorized",
    "request:onUnauthorized",
    "request:onExecution",
    "request:onSuccess",
    "request:onError",
    "request:afterExecution",
    "<controller>:before<Action>",
    "<controller>:after<Action>",
    "<controller>:error<Action>",
    *(f"generic:document:{at}{step}" for at in ("before", "after") for step in ("Write", "Update", "Delete", "Get")),
    "generic:document:injectMetadata",  # Kuzzle's pipe on the metadata of a document write
    "connection:new",
    "connection:remove",
    "protocol:websocket:beforeParsingPayload",
    "protocol:websocket:afterParsingPayload",
    "protocol:mqtt:beforeParsingPayload",
    "protocol:mqtt:afterParsingPayload",
    "protocol:http:beforeParsingPayload",
    "protocol:http:afterParsingPayload",
    "http:options",  # Kuzzle's pipe on an OPTIONS request
    "kuzzle:state:start",
    "kuzzle:state:live",
    "kuzzle:state:ready",
    "core:kuzzleStart",
    "core:overload",
    "kuzzle:shutdown",
    "hook:onError",
    # Kuzzle's realtime hooks (SPEC 9, realtime).
    "core:realtime:user:subscribe:after",
    "core:realtime:user:unsubscribe:after",
}


def test_catalog_covers_the_spec_events_once() -> None:
    names = [event.name for event in EVENTS]
    assert len(names) == len(set(names))
    assert set(names) == SPEC_EVENTS


def test_entries_are_typed_frozen_data() -> None:
    for event in EVENTS:
        assert isinstance(event, DocumentedEvent)
        assert event.kind in ("pipe", "hook", "pipe+hook")
        assert event.when and isinstance(event.payload, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        EVENTS[0].name = "other"  # type: ignore[misc]


def test_kinds_and_payloads() -> None:
    assert BY_NAME["hook:onError"].payload == ("plugin_name", "event", "error")
    assert BY_NAME["hook:onError"].kind == "hook"
    assert BY_NAME["core:kuzzleStart"].kind == "hook"
    assert BY_NAME["core:overload"].kind == "hook" and BY_NAME["core:overload"].payload == ("load",)
    assert BY_NAME["connection:new"].kind == BY_NAME["connection:remove"].kind == "hook"
    for name in ("kuzzle:state:start", "kuzzle:state:live", "kuzzle:state:ready"):
        assert BY_NAME[name].kind == "pipe" and BY_NAME[name].payload == ()
    assert BY_NAME["request:beforeExecution"].payload == ("request",)
    assert BY_NAME["generic:document:beforeWrite"].payload == ("documents", "request")
    assert "pipe" in BY_NAME["request:afterExecution"].kind


def test_patterns_are_marked() -> None:
    patterns = {event.name for event in EVENTS if event.is_pattern}
    assert patterns == {"<controller>:before<Action>", "<controller>:after<Action>", "<controller>:error<Action>"}


def test_action_events_follow_action_naming(kapp: Application) -> None:
    assert action_events("server", "now") == ["server:beforeNow", "server:afterNow", "server:errorNow"]
    assert action_events("my-plugin/greeting", "sayHello") == [
        "my-plugin/greeting:beforeSayHello",
        "my-plugin/greeting:afterSayHello",
        "my-plugin/greeting:errorSayHello",
    ]
    for controller in kapp.controller.controllers.values():
        for act in controller.actions.values():
            assert action_events(act.controller, act.name) == [act.before, act.after, act.error]


async def test_every_event_fired_by_the_core_is_documented(kapp: Application) -> None:
    fired: list[str] = []

    async def boom(request: Any) -> None:
        raise errors.BadRequestError("boom")

    kapp.controller.register("failing", {"actions": {"boom": {"handler": boom}}})
    # A request whose events nobody listens to skips them: listen to every one of these scopes.
    for scope in ("request", "server", "failing"):
        kapp.hook.register(f"{scope}:*", inline(lambda payload: None))
    # (An observer sees each event fired; the funnel runs a planned chain without the trigger.)
    kapp.events.observe(lambda event, payload: fired.append(event))
    await kapp.start()
    await kapp.sdk.query({"controller": "server", "action": "now"})
    with pytest.raises(errors.BadRequestError):
        await kapp.sdk.query({"controller": "failing", "action": "boom"})
    await kapp.shutdown()

    actions = {
        name
        for controller in kapp.controller.controllers.values()
        for act in controller.actions.values()
        for name in action_events(act.controller, act.name)
    }
    undocumented = [name for name in fired if name not in BY_NAME and name not in actions]
    assert {"kuzzle:state:start", "core:kuzzleStart", "failing:errorBoom", "request:onError", "kuzzle:shutdown"} <= set(
        fired
    )
    assert undocumented == []
