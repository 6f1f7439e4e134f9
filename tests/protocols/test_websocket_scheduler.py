"""The scheduler: its first reader (the serving task), loops started while it serves (the WebSocket writer)."""

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


async def test_the_serving_task_is_the_first_reader() -> None:
    # An idle connection costs no task of the scheduler's own.
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    seen: list[asyncio.Task[object] | None] = []

    async def handle(message: dict[str, str]) -> None:
        seen.append(asyncio.current_task())
        if message["type"] == "stop":
            raise Stop

    scheduler = Scheduler(messages.get, handle, stop=Stop)
    serving = asyncio.get_running_loop().create_task(scheduler.serve())
    await asyncio.sleep(0)
    assert scheduler._reader is serving and not scheduler.in_flight
    messages.put_nowait({"type": "hello"})
    messages.put_nowait({"type": "stop"})
    await asyncio.wait_for(serving, 5)  # ended cleanly by stop
    assert seen == [serving, serving]


async def test_an_error_of_the_serving_reader_ends_the_connection_with_it() -> None:
    async def handle(message: dict[str, str]) -> None:
        raise ValueError("bad handler")

    scheduler = Scheduler(lambda: asyncio.sleep(0, {"type": "x"}), handle, stop=Stop)
    try:
        await asyncio.wait_for(scheduler.serve(), 5)
    except ValueError as error:
        assert str(error) == "bad handler"
    else:
        raise AssertionError("serve() returned")


async def test_a_request_waiting_in_the_serving_task_is_cancelled_when_another_reader_stops() -> None:
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    cancelled = asyncio.Event()
    tasks: list[asyncio.Task[object] | None] = []

    async def request() -> None:
        tasks.append(asyncio.current_task())
        try:
            await asyncio.get_running_loop().create_future()  # waits until cancelled
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def handle(message: dict[str, str]) -> None:
        if message["type"] == "stop":
            raise Stop
        waiting = scheduler.run(request())
        if waiting is not None:
            await waiting

    scheduler = Scheduler(messages.get, handle, stop=Stop)
    serving = asyncio.get_running_loop().create_task(scheduler.serve())
    messages.put_nowait({"type": "wait"})
    await asyncio.sleep(0.01)
    assert tasks == [serving] and scheduler._reader is not serving  # a reader task took over
    messages.put_nowait({"type": "stop"})  # read by that reader
    await asyncio.wait_for(serving, 5)
    assert cancelled.is_set() and not serving.cancelled()


async def test_serve_cancelled_from_outside_is_cancelled() -> None:
    never: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    scheduler = Scheduler(lambda: never, lambda message: asyncio.sleep(0), stop=Stop)
    serving = asyncio.get_running_loop().create_task(scheduler.serve())
    await asyncio.sleep(0)
    serving.cancel()
    await asyncio.wait((serving,), timeout=5)
    assert serving.cancelled()
