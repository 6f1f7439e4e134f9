"""Durable hooks in the engine: recorders awaited after the pipes, before the trigger returns;
chains without them keep their runner as it is (durability decided at registration)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kuzzle_events.core.engine import EventEngine
from kuzzle_events.core.loops import NOTHING, run_chain, run_hooks, run_nothing, run_recorded
from kuzzle_events.errors import ForbiddenError


def recording(seen: list[Any]) -> Any:
    async def record(event: str, *payload: Any) -> None:
        await asyncio.sleep(0)  # a real recorder waits for the database
        seen.append((event, payload))

    return record


async def test_chains_without_durable_hooks_keep_their_runner() -> None:
    engine = EventEngine()

    async def pipe(payload: Any) -> Any:
        return payload

    async def hook(payload: Any) -> None: ...

    engine.add("pipe", "a:piped", pipe, is_async=True)
    engine.add("hook", "a:hooked", hook, is_async=True)
    assert engine.listeners("a:piped").run is run_chain
    assert engine.listeners("a:hooked").run is run_hooks
    assert engine.listeners("a:nothing").run is run_nothing
    assert not engine.listeners("a:piped").records


@pytest.mark.parametrize("with_pipe", [False, True])
async def test_the_recorder_is_awaited_with_the_event_and_final_payload_before_trigger_returns(with_pipe: bool) -> None:
    engine = EventEngine()
    seen: list[Any] = []

    async def double(payload: int, extra: str) -> int:
        return payload * 2

    if with_pipe:
        engine.add("pipe", "shop:*", double, is_async=True)
    engine.add("durable", "shop:after*", recording(seen), is_async=True)
    chain = engine.listeners("shop:afterOrder")
    assert chain.run is run_recorded and chain.inner is (run_chain if with_pipe else run_nothing)
    result = await engine.trigger("shop:afterOrder", 21, "x")
    assert result == (42 if with_pipe else 21)
    assert seen == [("shop:afterOrder", (result, "x"))]  # the concrete event, not the wildcard
    assert chain.records[0].stats.calls == 1


async def test_a_failed_pipe_chain_records_nothing_and_a_failed_record_fails_the_trigger() -> None:
    engine = EventEngine()
    seen: list[Any] = []

    async def refuse(payload: Any) -> Any:
        raise ForbiddenError("no")

    async def broken(event: str, *payload: Any) -> None:
        raise ConnectionError("database down")

    engine.add("pipe", "shop:refused", refuse, is_async=True)
    engine.add("durable", "shop:refused", recording(seen), is_async=True)
    with pytest.raises(ForbiddenError):
        await engine.trigger("shop:refused", 1)
    assert seen == []
    engine.add("durable", "shop:broken", broken, is_async=True)
    with pytest.raises(ConnectionError):
        await engine.trigger("shop:broken", 1)


async def test_ordinary_hooks_run_beside_recorders_and_events_without_payload_record_too() -> None:
    engine = EventEngine()
    seen: list[Any] = []
    hooked: list[Any] = []

    async def hook(*payload: Any) -> None:
        hooked.append(payload)

    engine.add("hook", "shop:tick", hook, is_async=True)
    record = engine.add("durable", "shop:tick", recording(seen), is_async=True)
    await engine.trigger("shop:tick")
    await engine.trigger("shop:tick", NOTHING)
    await engine.drain_hooks()
    assert seen == [("shop:tick", ()), ("shop:tick", ())] and hooked == [(), ()]
    _, hooks = engine.registered()["shop:tick"]
    assert [h.id.split("-")[0] for h in hooks] == ["hook", "durable"]
    engine.remove(record.id)
    assert engine.listeners("shop:tick").run is run_hooks
