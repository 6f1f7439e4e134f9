"""Realtime notifications delivered per second: one publisher, 1,000 subscribers, one server process.

    .venv/bin/python bench/realtime.py [--subscribers 1000] [--publishes 50] [--rounds 3]

The project (``project.asgi:application``) on uvicorn, pinned to the server core, with the embedded
default (SQLite, in-memory channel layer), without per-message compression as it is deployed. The client process (python ``websockets`` on uvloop, pinned
to the client core) opens the subscriber connections, each subscribed to the same filter, then a
publisher connection sends ``realtime:publish`` requests that all match. A round's rate is the number
of notifications received by all subscribers (subscribers x publishes) divided by the time from the
first publish sent to the last notification received.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import CLIENT_CORE, HOST, Server, Servers, free_port, print_environment, uvicorn_argv  # noqa: E402

FILTER = {"range": {"price": {"lt": 10}}}


class Tally:
    """Notifications received; ``done`` resolves when every subscriber has all of them."""

    def __init__(self, subscribers: int, expected: int) -> None:
        self.expected = expected
        self.waiting = subscribers
        self.received = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished_one(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.done.set_result(None)


async def subscriber(port: int, tally: Tally) -> tuple[Any, asyncio.Task[None]]:
    import websockets

    ws = await websockets.connect(f"ws://{HOST}:{port}/", max_queue=None)
    request = {"controller": "realtime", "action": "subscribe", "index": "bench", "collection": "items",
               "body": FILTER, "requestId": "s"}  # fmt: skip
    await ws.send(json.dumps(request))
    answer = json.loads(await ws.recv())
    assert answer["status"] == 200, answer

    async def receive() -> None:
        count = 0
        async for message in ws:
            if '"type":"document"' in message:
                count += 1
                tally.received += 1
                if count == tally.expected:
                    tally.finished_one()
                    return

    return ws, asyncio.get_running_loop().create_task(receive())


async def one_round(port: int, subscribers: int, publishes: int) -> float:
    import websockets

    tally = Tally(subscribers, publishes)
    connections = [await subscriber(port, tally) for _ in range(subscribers)]
    async with websockets.connect(f"ws://{HOST}:{port}/", max_queue=None) as publisher:
        started = time.perf_counter()
        for n in range(publishes):
            await publisher.send(json.dumps({"controller": "realtime", "action": "publish", "index": "bench",
                                             "collection": "items", "body": {"price": 1, "n": n}, "requestId": f"p{n}"}))  # fmt: skip
        await asyncio.wait_for(tally.done, timeout=300)
        elapsed = time.perf_counter() - started
    for ws, task in connections:
        task.cancel()
        await ws.close()
    assert tally.received == subscribers * publishes
    return subscribers * publishes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--publishes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print_environment(["uvicorn", "websockets", "channels", "Django"])
    os.sched_setaffinity(0, {int(CLIENT_CORE)})
    port = free_port()
    # As the project is deployed (README, Dockerfile): no per-message compression, Kuzzle's default
    # (its protocols.websocket.compression: false). The client offers it, as browsers do.
    argv = uvicorn_argv("project.asgi:application", port, "--ws", "websockets-sansio", "--ws-per-message-deflate", "false")
    server = Server("kuzzle", argv, port, ready_path="/_healthcheck")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with Servers([server]):
        rates = []
        for n in range(args.rounds):
            rate = asyncio.run(one_round(port, args.subscribers, args.publishes))
            rates.append(rate)
            print(f"round {n + 1}: {rate:,.0f} notifications/s ({args.subscribers} subscribers x {args.publishes} publishes)")
    print(f"\nmedian: {statistics.median(rates):,.0f} notifications/s delivered to {args.subscribers} subscribers")
    print(f"server: {server.shown()}")


if __name__ == "__main__":
    main()
