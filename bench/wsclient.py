"""Load generator of ``bench/websocket.py``: Kuzzle-shaped ``server:now`` requests over WebSocket.

    python -m bench.wsclient --url ws://127.0.0.1:PORT/ --connections 1 --inflight 64 --duration 4

``connections`` connections each keep ``inflight`` requests outstanding: every answer (matched by
its ``room``, which must equal the ``requestId`` sent) is followed at once by a new request. Answers
are counted, and their latency kept, during ``duration`` seconds after ``warmup`` seconds. Prints
one JSON line: rate (msg/s, answers per second), p50/p99 latency (ms), answers that were not a
200 envelope for the request sent, and this process's CPU use (100% = the client was the limit).
No compression is offered, so servers do not compress (``permessage-deflate`` off everywhere).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any


class State:
    def __init__(self, warmup: float, duration: float) -> None:
        now = time.perf_counter()
        self.start = now + warmup
        self.end = self.start + duration
        self.stop = False
        self.count = 0
        self.bad = 0
        self.latencies: list[float] = []
        self.sample: Any = None


async def connection(url: str, number: int, inflight: int, state: State) -> None:
    from websockets.asyncio.client import connect

    clock = time.perf_counter
    loads = json.loads
    template = '{"controller":"server","action":"now","requestId":"%s"}'
    async with connect(url, compression=None, ping_interval=None, max_queue=None, open_timeout=10) as ws:
        sent: dict[str, float] = {}
        seq = 0
        for _ in range(inflight):
            request_id = f"{number}-{seq}"
            seq += 1
            sent[request_id] = clock()
            await ws.send(template % request_id)
        while sent:
            raw = await ws.recv()
            now = clock()
            answer = loads(raw)
            t0 = sent.pop(answer.get("room"), None)
            if (
                t0 is None
                or answer.get("status") != 200
                or answer.get("requestId") != answer.get("room")
                or (
                    answer.get("controller"),
                    answer.get("action"),
                )
                != ("server", "now")
                or not isinstance((answer.get("result") or {}).get("now"), int)
            ):
                state.bad += 1
                if state.sample is None:
                    state.sample = answer
                if t0 is None:
                    continue
            if state.start <= now < state.end:
                state.count += 1
                state.latencies.append(now - t0)
            if state.stop:
                continue  # drain what is in flight, send nothing more
            request_id = f"{number}-{seq}"
            seq += 1
            sent[request_id] = clock()
            await ws.send(template % request_id)


async def run(url: str, connections: int, inflight: int, duration: float, warmup: float) -> dict[str, Any]:
    state = State(warmup, duration)
    tasks = [asyncio.create_task(connection(url, n, inflight, state)) for n in range(connections)]
    usage0 = None

    async def timer() -> None:
        nonlocal usage0
        await asyncio.sleep(max(0.0, state.start - time.perf_counter()))
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        await asyncio.sleep(max(0.0, state.end - time.perf_counter()))
        state.stop = True

    timer_task = asyncio.create_task(timer())
    done, pending = await asyncio.wait(tasks, timeout=warmup + duration + 15)
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    timer_task.cancel()
    for task in pending:
        task.cancel()
    failures = [repr(t.exception()) for t in done if not t.cancelled() and t.exception() is not None]
    lat = sorted(state.latencies)
    cpu = None
    if usage0 is not None:
        cpu = ((usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)) / (
            time.perf_counter() - state.start
        )
    return {
        "rate": state.count / duration,
        "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None,
        "errors": state.bad + len(failures) + len(pending),
        "bad_sample": state.sample,
        "failures": failures[:3],
        "client_cpu": min(cpu, 1.0) if cpu is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(run(args.url, args.connections, args.inflight, args.duration, args.warmup))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
