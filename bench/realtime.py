"""Realtime notifications delivered per second: one publisher, 1,000 subscribers, one server process.

    .venv/bin/python bench/realtime.py [--subscribers 1000] [--publishes 50] [--rounds 3]

The project (``project.asgi:application``) on uvicorn, pinned to the server core, with the embedded
default (SQLite, in-memory channel layer), without per-message compression as it is deployed. The client process (python ``websockets`` on uvloop, pinned
to the client core) opens the subscriber connections, each subscribed to the same filter, then a
publisher connection sends ``realtime:publish`` requests that all match. A round's rate is the number
of notifications received by all subscribers (subscribers x publishes) divided by the time from the
first publish sent to the last notification received; the server's CPU time over the same span,
per notification, and the client's share of it are printed beside it. The same rounds, interleaved,
run against a raw ASGI fan-out on the same uvicorn (``bench/bare_fanout.py``), the baseline of the
ratio.
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


async def one_round(port: int, subscribers: int, publishes: int, server: Server) -> tuple[float, float, float]:
    """(notifications/s, server CPU µs per notification, this client's CPU share of the round)."""
    import websockets

    tally = Tally(subscribers, publishes)
    connections = [await subscriber(port, tally) for _ in range(subscribers)]
    async with websockets.connect(f"ws://{HOST}:{port}/", max_queue=None) as publisher:
        started = time.perf_counter()
        cpu0, client0 = server.cpu(), time.process_time()
        for n in range(publishes):
            await publisher.send(json.dumps({"controller": "realtime", "action": "publish", "index": "bench",
                                             "collection": "items", "body": {"price": 1, "n": n}, "requestId": f"p{n}"}))  # fmt: skip
        await asyncio.wait_for(tally.done, timeout=300)
        elapsed = time.perf_counter() - started
        server_cpu, client_cpu = server.cpu() - cpu0, time.process_time() - client0
    for ws, task in connections:
        task.cancel()
        await ws.close()
    assert tally.received == subscribers * publishes
    delivered = subscribers * publishes
    return delivered / elapsed, server_cpu / delivered * 1e6, client_cpu / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--publishes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print_environment(["uvicorn", "websockets", "channels", "Django"])
    os.sched_setaffinity(0, {int(CLIENT_CORE)})
    # As the project is deployed (README, Dockerfile): no per-message compression, Kuzzle's default
    # (its protocols.websocket.compression: false). The client offers it, as browsers do.
    ws_options = ("--ws", "websockets-sansio", "--ws-per-message-deflate", "false")
    ours_port, bare_port = free_port(), free_port()
    ours = Server("kuzzle_events", uvicorn_argv("project.asgi:application", ours_port, *ws_options), ours_port,
                  ready_path="/_healthcheck")  # fmt: skip
    bare = Server("raw ASGI fan-out", uvicorn_argv("bench.bare_fanout:asgi_app", bare_port, *ws_options), bare_port)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results: dict[str, list[tuple[float, float, float]]] = {ours.name: [], bare.name: []}
    with Servers([ours, bare]):
        for n in range(args.rounds):
            for server in (ours, bare):  # rounds interleaved
                rate, server_us, client_share = asyncio.run(
                    one_round(server.port, args.subscribers, args.publishes, server)
                )
                results[server.name].append((rate, server_us, client_share))
                print(f"round {n + 1}: {server.name:16s} {rate:,.0f} notifications/s "
                      f"({args.subscribers} subscribers x {args.publishes} publishes); server CPU "
                      f"{server_us:.2f} µs/notification, client CPU {client_share:.0%} of the round")  # fmt: skip
    medians = {name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
               for name, runs in results.items()}  # fmt: skip
    rate, cpu = medians[ours.name]
    bare_rate, bare_cpu = medians[bare.name]
    print(f"\nmedian: {rate:,.0f} notifications/s delivered to {args.subscribers} subscribers "
          f"(target >= 100,000: {'MET' if rate >= 100_000 else 'MISSED'}); server CPU {cpu:.2f} µs/notification")
    print(f"raw ASGI fan-out on the same uvicorn: {bare_rate:,.0f} notifications/s, server CPU {bare_cpu:.2f} µs/notification")
    print(f"ratio kuzzle_events / raw: {rate / bare_rate:.3f}x notifications/s, {bare_cpu / cpu:.3f}x per server CPU-second")
    print("(client CPU near 100%: the client process was the limit of the rate; server CPU per notification is the")
    print(" server's own cost, whatever the client)")
    for server in (ours, bare):
        print(f"server: {server.shown()}")


if __name__ == "__main__":
    main()
