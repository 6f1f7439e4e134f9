"""The WebSocket consumer's own cost per message, in one process, without a server or a client.

    python bench/consumer.py [--messages 100000] [--rounds 5] [--inflight 64]

Feeds ``server:now`` frames to the project's ASGI application (``project.asgi:application``: the
router, the consumer, the funnel) and, in the same process and rounds, to the raw ASGI endpoint of
``bench/bare_ws.py`` (``json.loads``, the same envelope, ``dumps``), through an in-memory
receive/send that keeps ``--inflight`` requests outstanding. Prints the process CPU per message of
each (median of the rounds) and their ratio. Without the server and the client of
``bench/websocket.py``, what is left is what the consumer and the funnel add; small changes show
here first. For a count that does not depend on the machine's load, run it under
``valgrind --tool=callgrind`` with two ``--messages`` values and subtract.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import bench_database  # noqa: E402

Message = dict[str, Any]
App = Callable[[Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]
FRAME = '{"controller":"server","action":"now","requestId":"r%d"}'
SCOPE: Message = {
    "type": "websocket",
    "path": "/",
    "headers": [],
    "client": ("127.0.0.1", 1),
    "subprotocols": [],
    "query_string": b"",
}


async def cpu_per_message(app: App, messages: int, inflight: int) -> float:
    """Process CPU seconds per answered frame, ``inflight`` frames outstanding at all times."""
    queue: asyncio.Queue[Message] = asyncio.Queue()
    done = asyncio.Event()
    answered = sent = 0

    def feed() -> None:
        nonlocal sent
        sent += 1
        queue.put_nowait({"type": "websocket.receive", "text": FRAME % sent})

    async def send(message: Message) -> None:
        nonlocal answered
        if message["type"] != "websocket.send":
            return
        answered += 1
        if answered >= messages:
            done.set()
        elif sent < messages:
            feed()

    queue.put_nowait({"type": "websocket.connect"})
    for _ in range(inflight):
        feed()
    connection = asyncio.get_running_loop().create_task(app(dict(SCOPE), queue.get, send))
    started = time.process_time()
    await done.wait()
    elapsed = time.process_time() - started
    queue.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(connection, 5)
    return elapsed / messages


async def main(messages: int, rounds: int, inflight: int) -> None:
    from bench.bare_ws import asgi_app
    from kuzzle_events import app
    from project.asgi import application

    await app.start()
    results: dict[str, list[float]] = {"raw ASGI endpoint": [], "kuzzle_events consumer": []}
    for _ in range(rounds):
        results["raw ASGI endpoint"].append(await cpu_per_message(asgi_app, messages, inflight))
        results["kuzzle_events consumer"].append(await cpu_per_message(application, messages, inflight))
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        rounds_text = ", ".join(f"{v * 1e6:.2f}" for v in values)
        print(f"{name:24s} {medians[name] * 1e6:6.2f} µs/message (rounds: {rounds_text})")
    print(f"ratio (raw / consumer): {medians['raw ASGI endpoint'] / medians['kuzzle_events consumer']:.3f}x")
    await app.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inflight", type=int, default=64)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    import uvloop

    uvloop.run(main(args.messages, args.rounds, args.inflight))
