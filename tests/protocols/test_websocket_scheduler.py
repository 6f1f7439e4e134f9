"""The scheduler's loops started while it serves (the WebSocket writer, started on demand)."""

from __future__ import annotations

import asyncio

from kuzzle_events.protocols.websocket.scheduler import Scheduler


class Stop(Exception):
    pass


async def test_a_loop_started_while_serving_ends_the_connection_when_it_stops_it() -> None:
    never: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    scheduler = Scheduler(lambda: never, lambda message: asyncio.sleep(0), stop=Stop)
    serving = asyncio.get_running_loop().create_task(scheduler.serve())
    await asyncio.sleep(0)
    ran: list[str] = []

    async def loop_() -> None:
        ran.append("started")
        raise Stop

    scheduler.start(loop_())
    await asyncio.wait_for(serving, 5)
    assert ran == ["started"]


async def test_a_loop_started_after_the_end_is_not_run() -> None:
    scheduler = Scheduler(lambda: asyncio.sleep(0), lambda message: asyncio.sleep(0), stop=Stop)
    ran: list[str] = []

    async def loop_() -> None:
        ran.append("started")

    coroutine = loop_()
    scheduler.start(coroutine)  # (never served: as once ended)
    await asyncio.sleep(0)
    assert ran == [] and coroutine.cr_frame is None  # closed, not left unawaited
