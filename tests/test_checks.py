"""Mistakes refused when they are registered."""

from __future__ import annotations

import pytest

from kuzzle_events import Application, Controller, KuzzleRequest
from kuzzle_events.core.catalog import EVENTS, HOOK_ONLY
from kuzzle_events.errors import KuzzleError
from kuzzle_events.plugin import Plugin, hook, pipe


async def keep(request: KuzzleRequest) -> KuzzleRequest:
    return request


# Refused at registration ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pipe", "hook"])
def test_register_used_without_parentheses(kapp: Application, kind: str) -> None:
    registry = getattr(kapp, kind)
    with pytest.raises(KuzzleError) as caught:

        @registry.register
        async def on_now(request: KuzzleRequest) -> KuzzleRequest:
            return request

    assert caught.value.id == f"plugin.assert.invalid_{kind}"
    assert "on_now" in caught.value.message and f'@app.{kind}.register("<event>")' in caught.value.message
    with pytest.raises(KuzzleError, match="non-empty string"):
        registry.register(42, keep)


def test_plugin_marks_used_without_parentheses() -> None:
    with pytest.raises(KuzzleError, match=r'@hook\("<event>"\)'):

        class Broken(Plugin):
            @hook  # type: ignore[arg-type]
            async def audit(self, request: KuzzleRequest) -> None:
                return None


def test_hook_only_events_are_the_catalogs_hooks() -> None:
    assert HOOK_ONLY == {event.name for event in EVENTS if event.kind == "hook"}
    # Kuzzle's docs: "Pipes cannot listen to that event, only hooks can."
    assert {"connection:new", "connection:remove", "core:kuzzleStart", "hook:onError"} <= HOOK_ONLY


@pytest.mark.parametrize("event", sorted(HOOK_ONLY))
def test_pipe_on_a_hook_only_event(kapp: Application, event: str) -> None:
    with pytest.raises(KuzzleError) as caught:
        kapp.pipe.register(event, keep)
    assert caught.value.id == "plugin.assert.invalid_pipe"
    assert event in caught.value.message and "keep" in caught.value.message
    assert not kapp.events.has_listeners(event)
    kapp.hook.register(event, keep)
    assert kapp.events.has_listeners(event)
    with pytest.raises(KuzzleError, match="hook-only"):
        pipe(event)


def test_controller_without_actions(kapp: Application) -> None:
    class Forgotten(Controller):
        async def say_hello(self, request: KuzzleRequest) -> str:
            return "hello"

    with pytest.raises(KuzzleError) as caught:
        kapp.controller.use(Forgotten())
    assert caught.value.id == "plugin.assert.invalid_controller_definition"
    assert "Forgotten" in caught.value.message and "@action" in caught.value.message
    assert "forgotten" not in kapp.controller.controllers
