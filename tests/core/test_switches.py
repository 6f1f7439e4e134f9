"""Runtime switches in the engine: a listener switched off stays registered and does not run."""

from __future__ import annotations

import asyncio
from typing import Any

from kuzzle_events.core.engine import EventEngine


def tagger(calls: list[str], tag: str) -> Any:
    async def listener(payload: Any) -> Any:
        calls.append(tag)
        return payload

    listener.__qualname__ = tag
    return listener


async def test_a_pipe_switched_off_is_skipped_and_runs_again_once_on() -> None:
    engine = EventEngine()
    calls: list[str] = []
    first = engine.add("pipe", "my-app:thing", tagger(calls, "first"), is_async=True)
    wildcard = engine.add("pipe", "my-app:*", tagger(calls, "wildcard"), is_async=True)
    await engine.trigger("my-app:thing", {})
    assert calls == ["first", "wildcard"]

    generation = engine.generation
    engine.switch_off({("pipe", "my-app:thing", first.name)})
    assert engine.generation > generation  # the resolved chains are dropped, not checked per event
    assert engine.is_off(first)
    calls.clear()
    await engine.trigger("my-app:thing", {})
    assert calls == ["wildcard"]
    assert engine.listeners("my-app:thing").pipes == (wildcard,)
    # Still registered, and still planned: the admin shows it.
    assert engine.planned("my-app:thing")[0] == (first, wildcard)

    engine.switch_off(())
    calls.clear()
    await engine.trigger("my-app:thing", {})
    assert calls == ["first", "wildcard"]


async def test_a_wildcard_listener_is_switched_off_by_the_name_it_is_registered_on() -> None:
    engine = EventEngine()
    calls: list[str] = []
    engine.add("pipe", "my-app:thing", tagger(calls, "exact"), is_async=True)
    wildcard = engine.add("pipe", "my-app:*", tagger(calls, "wildcard"), is_async=True)
    # Naming the concrete event does not switch off what is registered on its wildcard.
    engine.switch_off({("pipe", "my-app:thing", wildcard.name)})
    await engine.trigger("my-app:thing", {})
    assert calls == ["exact", "wildcard"]
    engine.switch_off({("pipe", "my-app:*", wildcard.name)})
    calls.clear()
    await engine.trigger("my-app:thing", {})
    await engine.trigger("my-app:other", {})
    assert calls == ["exact"]


async def test_a_hook_switched_off_is_not_started_and_the_event_becomes_quiet() -> None:
    engine = EventEngine()
    calls: list[str] = []
    hook = engine.add("hook", "my-app:thing", tagger(calls, "hook"), is_async=True)
    engine.switch_off({("hook", "my-app:thing", hook.name)})
    assert not engine.has_listeners("my-app:thing")
    await engine.trigger("my-app:thing", {})
    await engine.drain_hooks()
    assert calls == []
    # A pipe of the same name and event is another listener: the kind is part of the switch.
    engine.switch_off({("pipe", "my-app:thing", hook.name)})
    await engine.trigger("my-app:thing", {})
    await engine.drain_hooks()
    await asyncio.sleep(0)
    assert calls == ["hook"]


def test_setting_the_same_switches_again_keeps_the_resolved_chains() -> None:
    engine = EventEngine()
    pipe = engine.add("pipe", "my-app:thing", tagger([], "a"), is_async=True)
    engine.switch_off({("pipe", "my-app:thing", pipe.name)})
    chain = engine.listeners("my-app:thing")
    generation = engine.generation
    engine.switch_off([("pipe", "my-app:thing", pipe.name)])
    assert engine.generation == generation
    assert engine.listeners("my-app:thing") is chain
