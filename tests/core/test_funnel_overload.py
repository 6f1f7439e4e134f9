"""The funnel under overload: requests in flight, the line, refusal, core:overload, exemptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.core.response import KuzzleResponse


class Held:
    """A ``hold:wait`` action whose requests run until the test lets them go, in any order."""

    def __init__(self, app: Application) -> None:
        self.started: list[Any] = []
        self.gates: dict[Any, asyncio.Event] = {}

        async def wait(request: KuzzleRequest) -> Any:
            tag = request.input.args["tag"]
            self.started.append(tag)
            await self.gates.setdefault(tag, asyncio.Event()).wait()
            if request.input.args.get("fail"):
                raise RuntimeError("handler failure")
            return tag

        app.controller.register("hold", {"actions": {"wait": {"handler": wait}}})

    def release(self, tag: Any) -> None:
        self.gates.setdefault(tag, asyncio.Event()).set()


def request_to(tag: Any, **args: Any) -> KuzzleRequest:
    return KuzzleRequest({"controller": "hold", "action": "wait", "tag": tag, **args}, connection=Connection())


def send(app: Application, tag: Any, **args: Any) -> asyncio.Task[KuzzleResponse]:
    return asyncio.ensure_future(app.funnel.execute(request_to(tag, **args)))


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (bounded, for liveness only)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), 5)


async def test_limit_buffer_refusal_overload_event_and_order(make_app: Callable[..., Application]) -> None:
    app = make_app(MAX_CONCURRENT_REQUESTS=2, REQUESTS_BUFFER_SIZE=3, REQUESTS_BUFFER_WARNING_THRESHOLD=2)
    held = Held(app)
    loads: list[Any] = []

    async def on_overload(*payload: Any) -> None:
        loads.append(payload)

    app.hook.register("core:overload", on_overload)
    await app.start()
    tasks = [send(app, n) for n in range(5)]
    await until(lambda: len(held.started) == 2)
    assert held.started == [0, 1]
    assert app.request_slots.pressure == (2, 3)
    assert loads == []  # 2 waiting: not more than the threshold

    refused = await app.funnel.execute(request_to(5))
    envelope = refused.to_dict()
    assert envelope["status"] == 503
    assert envelope["error"]["id"] == "api.process.overloaded"
    assert envelope["error"]["message"] == "Request discarded: Kuzzle Server is temporarily overloaded."
    assert held.started == [0, 1] and app.request_slots.pressure == (2, 3)
    await app.events.drain_hooks()
    assert loads == [(100.0,)]  # 3 waiting of a buffer of 3, as Kuzzle's percentage

    # Each finished request hands its slot to the oldest waiter.
    held.release(1)
    await until(lambda: len(held.started) == 3)
    held.release(0)
    await until(lambda: len(held.started) == 4)
    assert held.started == [0, 1, 2, 3]
    for tag in (2, 3, 4):
        held.release(tag)
    responses = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert [response.to_dict()["result"] for response in responses] == [0, 1, 2, 3, 4]
    assert held.started == [0, 1, 2, 3, 4]
    assert app.request_slots.pressure == (0, 0) and app.request_slots.free == 2


async def test_the_warning_is_kuzzles_percentage_of_the_buffer(make_app: Callable[..., Application]) -> None:
    app = make_app(MAX_CONCURRENT_REQUESTS=1, REQUESTS_BUFFER_SIZE=3, REQUESTS_BUFFER_WARNING_THRESHOLD=1)
    held = Held(app)
    loads: list[Any] = []
    app.hook.register("core:overload", lambda load: loads.append(load))
    await app.start()
    tasks = [send(app, n) for n in range(4)]  # 1 running, 3 waiting
    await until(lambda: app.request_slots.pressure == (1, 3))
    await app.events.drain_hooks()
    # The last one found 2 waiting, more than the threshold: 2 of 3, in Kuzzle's rounding.
    assert loads == [66.67]
    for tag in range(4):
        held.release(tag)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)


async def test_a_cancelled_waiter_frees_its_place(make_app: Callable[..., Application]) -> None:
    app = make_app(MAX_CONCURRENT_REQUESTS=1, REQUESTS_BUFFER_SIZE=2, REQUESTS_BUFFER_WARNING_THRESHOLD=2)
    held = Held(app)
    await app.start()
    running, gone, waiting = send(app, "running"), send(app, "gone"), send(app, "waiting")
    await until(lambda: app.request_slots.pressure == (1, 2))
    gone.cancel()  # its client left while it waited
    await asyncio.gather(gone, return_exceptions=True)
    assert app.request_slots.pressure == (1, 1)
    late = send(app, "late")  # the freed place in line is taken again
    await until(lambda: app.request_slots.pressure == (1, 2))
    for tag in ("running", "waiting", "late"):
        held.release(tag)
    await asyncio.wait_for(asyncio.gather(running, waiting, late), 5)
    assert held.started == ["running", "waiting", "late"]
    assert app.request_slots.pressure == (0, 0) and app.request_slots.free == 1


async def test_failures_and_cancellations_give_the_slot_back(make_app: Callable[..., Application]) -> None:
    app = make_app(MAX_CONCURRENT_REQUESTS=1, REQUESTS_BUFFER_SIZE=2, REQUESTS_BUFFER_WARNING_THRESHOLD=1)
    held = Held(app)

    async def broken_pipe(request: KuzzleRequest) -> KuzzleRequest:
        if request.input.args.get("tag") == "pipe":
            raise RuntimeError("pipe failure")
        return request

    app.pipe.register("request:beforeExecution", broken_pipe)
    await app.start()
    held.release("handler")
    failed = (await app.funnel.execute(request_to("handler", fail=True))).to_dict()
    assert failed["status"] == 500
    assert app.request_slots.pressure == (0, 0) and app.request_slots.free == 1
    failed = (await app.funnel.execute(request_to("pipe"))).to_dict()
    assert failed["status"] == 500
    assert app.request_slots.free == 1
    # A running request cancelled (its client gone) hands its slot to the next in line.
    running, next_one = send(app, "cancelled"), send(app, "next")
    await until(lambda: held.started[-1:] == ["cancelled"] and app.request_slots.pressure == (1, 1))
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await until(lambda: held.started[-1:] == ["next"])
    held.release("next")
    assert (await asyncio.wait_for(next_one, 5)).to_dict()["result"] == "next"
    assert app.request_slots.pressure == (0, 0) and app.request_slots.free == 1


async def test_limits_follow_the_settings(make_app: Callable[..., Application], settings: Any) -> None:
    settings.KUZZLE_EVENTS = {
        "MAX_CONCURRENT_REQUESTS": 1,
        "REQUESTS_BUFFER_SIZE": 5,
        "REQUESTS_BUFFER_WARNING_THRESHOLD": 3,
    }
    app = make_app()
    held = Held(app)
    await app.start()
    tasks = [send(app, n) for n in range(4)]
    await until(lambda: app.request_slots.pressure == (1, 3))
    settings.KUZZLE_EVENTS = {
        "MAX_CONCURRENT_REQUESTS": 3,
        "REQUESTS_BUFFER_SIZE": 5,
        "REQUESTS_BUFFER_WARNING_THRESHOLD": 3,
    }
    app.reload_config()
    # The raised limit lets the oldest waiters in at once; the running one keeps its slot.
    await until(lambda: len(held.started) == 3)
    assert held.started == [0, 1, 2] and app.request_slots.pressure == (3, 1)
    settings.KUZZLE_EVENTS = {
        "MAX_CONCURRENT_REQUESTS": 1,
        "REQUESTS_BUFFER_SIZE": 5,
        "REQUESTS_BUFFER_WARNING_THRESHOLD": 3,
    }
    app.reload_config()
    # Lowered below the requests running: the next to start waits until only one is left.
    held.release(0)
    held.release(1)
    await until(lambda: app.request_slots.pressure == (1, 1))
    assert held.started == [0, 1, 2]
    held.release(2)
    held.release(3)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert held.started == [0, 1, 2, 3]
    assert app.request_slots.pressure == (0, 0) and app.request_slots.free == 1


async def test_the_servers_own_requests_are_not_held_back(make_app: Callable[..., Application]) -> None:
    app = make_app(MAX_CONCURRENT_REQUESTS=1, REQUESTS_BUFFER_SIZE=2, REQUESTS_BUFFER_WARNING_THRESHOLD=1)
    held = Held(app)

    async def nested(request: KuzzleRequest) -> Any:
        # From a request holding the only slot: through the embedded SDK, as Kuzzle's plugins do.
        return (await app.sdk.query({"controller": "server", "action": "now"}))["result"]

    app.controller.register("outer", {"actions": {"nested": {"handler": nested}}})
    await app.start()
    answer = await asyncio.wait_for(app.funnel.execute(KuzzleRequest({"controller": "outer", "action": "nested"})), 5)
    assert answer.to_dict()["status"] == 200 and "now" in answer.to_dict()["result"]
    # With the slot and the line full, the SDK still runs at once and takes no place.
    tasks = [send(app, n) for n in range(3)]
    await until(lambda: app.request_slots.pressure == (1, 2))
    assert "now" in (await asyncio.wait_for(app.sdk.query({"controller": "server", "action": "now"}), 5))["result"]
    assert app.request_slots.pressure == (1, 2)
    for tag in range(3):
        held.release(tag)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
