"""Listeners and their order: priority first, then registration order, decided at insertion."""

from __future__ import annotations

import functools
import threading

from kuzzle_events.core.listeners import Listener, ListenerTable, qualified_name


def listener(seq: int, event: str = "my-app:thing", priority: int = 0, fn=None) -> Listener:
    return Listener(
        id=f"pipe-{seq}",
        event=event,
        fn=fn or (lambda payload: payload),
        is_async=False,
        priority=priority,
        seq=seq,
        owner="my-app",
        warn=0.5,
        name=f"pipe {seq}",
    )


def test_table_keeps_priority_then_registration_order() -> None:
    table = ListenerTable()
    for seq, priority in [(0, 0), (1, 10), (2, 0), (3, 10), (4, -5)]:
        table.add(listener(seq, priority=priority))
    assert [item.seq for item in table.of("my-app:thing")] == [1, 3, 0, 2, 4]


def test_collect_keeps_each_name_in_turn() -> None:
    table = ListenerTable()
    table.add(listener(0, event="server:*", priority=100))
    table.add(listener(1, event="server:beforeNow"))
    table.add(listener(2, event="server:before*"))
    collected = table.collect(("server:beforeNow", "server:before*", "server:*", "server:afterNow"))
    assert [item.seq for item in collected] == [1, 2, 0]


def test_pop_removes_by_id_and_forgets_empty_names() -> None:
    table = ListenerTable()
    first, second = listener(0), listener(1, event="my-app:other")
    table.add(first)
    table.add(second)
    assert table.pop("pipe-0") is first
    assert table.pop("pipe-0") is None
    assert table.names() == {"my-app:other"}
    assert table.of("my-app:thing") == []


async def test_a_function_run_on_the_loop_is_awaited_through_call() -> None:
    ran_in: list[int] = []
    item = listener(0, fn=lambda payload: ran_in.append(threading.get_ident()) or payload * 2)
    assert await item.call(21) == 42
    assert ran_in == [threading.get_ident()]


async def test_a_coroutine_function_is_its_own_call() -> None:
    async def pipe(payload):
        return payload

    item = Listener("pipe-0", "my-app:thing", pipe, True, 0, 0, "my-app", 0.5, "pipe")
    assert item.call is pipe


def test_qualified_name_goes_through_wrappers() -> None:
    def original(payload):
        return payload

    @functools.wraps(original)
    def wrapper(payload):
        return original(payload)

    assert qualified_name(wrapper) == f"{__name__}.test_qualified_name_goes_through_wrappers.<locals>.original"
    assert qualified_name(len) == "builtins.len"
