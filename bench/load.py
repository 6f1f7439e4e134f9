"""Mixed, pipelined load on one server: nothing lost, every answer its request's, memory that levels off.

    .venv/bin/python bench/load.py                                             # a quick run
    .venv/bin/python bench/load.py --connections 50 --requests 2000 --rounds 3

The server is the project under uvicorn (``bench/load_settings.py``: the project's settings plus
``bench/load_plugin.py``, whose pipe makes ``server:info`` fail), pinned to core 0; the load
generator runs on core 1. Each round:

- ``--connections`` WebSocket connections each send ``--requests`` requests, ``--window`` in
  flight at a time (a new one as each answer arrives), cycling through ``server:now``,
  ``realtime:publish``, ``document:create``, ``document:get``, an unknown action and
  ``server:info`` (refused by the pipe);
- meanwhile ``--http-clients`` keep-alive HTTP clients send ``--http-requests`` requests in all,
  the same mix over Kuzzle's routes and ``/_query``;
- one more WebSocket, subscribed to the collection, receives the notifications of the publishes
  and the creations.

Per round: requests sent and answered, wrong answers (an answer to no request in flight, a second
one, or not what its request gets: another ``_id``, another status or error), errors by id (the
expected ones included), p50/p99 latency, and the server's resident memory (``VmRSS``, /proc)
after the round. At the end, the growth of rounds 2..R over round 1 (target: within 10%). Exit
status 1 when an answer is lost or wrong, or memory grows past the target.
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
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    CLIENT_CORE,
    HOST,
    PY,
    REPO,
    Server,
    check_machine,
    free_port,
    print_environment,
    uvicorn_argv,
)
from bench.load_plugin import REFUSED  # noqa: E402

INDEX, COLLECTION = "load", "items"
SEEDS = 10
KINDS = ("now", "publish", "create", "get", "unknown", "refused")
RSS_TARGET = 0.10
RUN = format(int(time.time() * 1000), "x")  # in document ids: runs on one database do not collide


def rss_kib(pid: int) -> int:
    """The process's resident memory, KiB (``VmRSS`` in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


# What each kind of request is, and what its answer must be ------------------------------------


def ws_request(kind: str, request_id: str, key: str, seed: int) -> dict[str, Any]:
    base = {"requestId": request_id, "index": INDEX, "collection": COLLECTION}
    return {
        "now": {"controller": "server", "action": "now", "requestId": request_id},
        "publish": {**base, "controller": "realtime", "action": "publish", "body": {"key": key}},
        "create": {**base, "controller": "document", "action": "create", "_id": key, "body": {"key": key, "n": seed}},
        "get": {**base, "controller": "document", "action": "get", "_id": f"seed-{seed}"},
        "unknown": {"controller": "server", "action": "noSuchAction", "requestId": request_id},
        "refused": {"controller": "server", "action": "info", "requestId": request_id},
    }[kind]


def http_request(kind: str, request_id: str, key: str, seed: int) -> tuple[str, str, bytes | None]:
    """``(method, path, JSON body)`` of a kind over HTTP."""
    if kind == "now":
        return "GET", "/_now", None
    if kind == "publish":
        return "POST", f"/{INDEX}/{COLLECTION}/_publish", json.dumps({"key": key}).encode()
    if kind == "create":
        return "POST", f"/{INDEX}/{COLLECTION}/{key}/_create", json.dumps({"key": key, "n": seed}).encode()
    if kind == "get":
        return "GET", f"/{INDEX}/{COLLECTION}/seed-{seed}", None
    if kind == "unknown":
        # (/_query: the body is the whole request, its requestId included)
        query = {"controller": "server", "action": "noSuchAction", "requestId": request_id}
        return "POST", "/_query", json.dumps(query).encode()
    return "GET", "/", None  # server:info, refused by the pipe


def is_right(kind: str, key: str, seed: int, envelope: dict[str, Any]) -> bool:
    """Whether ``envelope`` is the answer a request of ``kind`` gets."""
    status, result, error = envelope.get("status"), envelope.get("result"), envelope.get("error") or {}
    if kind == "now":
        return status == 200 and isinstance((result or {}).get("now"), int)
    if kind == "publish":
        return status == 200 and (result or {}).get("published") is True
    if kind == "create":
        return status == 200 and (result or {}).get("_id") == key and result["_source"].get("key") == key
    if kind == "get":
        return status == 200 and (result or {}).get("_id") == f"seed-{seed}"
    if kind == "unknown":
        return status == 404 and error.get("id") == "api.process.action_not_found"
    return status == 403 and error.get("id") == "app.errors.forbidden" and error.get("message") == REFUSED


@dataclass
class Tally:
    """One round's figures."""

    sent: int = 0
    answered: int = 0
    wrong: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    ws_latency: list[float] = field(default_factory=list)
    http_latency: list[float] = field(default_factory=list)
    wrong_samples: list[str] = field(default_factory=list)
    notifications: int = 0

    def answer(self, kind: str, key: str, seed: int, envelope: dict[str, Any], latency: float, http: bool) -> None:
        self.answered += 1
        (self.http_latency if http else self.ws_latency).append(latency)
        error = envelope.get("error")
        if isinstance(error, dict):
            self.errors[str(error.get("id"))] += 1
        if not is_right(kind, key, seed, envelope):
            self.mistake(f"{kind} {key}: {json.dumps(envelope)[:300]}")

    def mistake(self, text: str) -> None:
        self.wrong += 1
        if len(self.wrong_samples) < 5:
            self.wrong_samples.append(text)


# Clients --------------------------------------------------------------------------------------


async def ws_client(url: str, number: int, round_: int, count: int, window: int, tally: Tally) -> None:
    from websockets.asyncio.client import connect

    clock = time.perf_counter
    outstanding: dict[str, tuple[str, str, int, float]] = {}
    sequence = iter(range(count))

    async def send_next(ws: Any) -> None:
        i = next(sequence, None)
        if i is None:
            return
        kind, request_id = KINDS[(i + number) % len(KINDS)], f"{RUN}-r{round_}-c{number}-{i}"
        seed = i % SEEDS
        outstanding[request_id] = (kind, request_id, seed, clock())
        tally.sent += 1
        await ws.send(json.dumps(ws_request(kind, request_id, request_id, seed)))

    async with connect(url, compression=None, ping_interval=None, max_queue=None, open_timeout=30) as ws:
        for _ in range(window):
            await send_next(ws)
        while outstanding:
            envelope = json.loads(await ws.recv())
            sent = outstanding.pop(envelope.get("room"), None)
            if sent is None:
                tally.mistake(f"an answer to no request in flight: {json.dumps(envelope)[:300]}")
                continue
            kind, key, seed, started = sent
            tally.answer(kind, key, seed, envelope, clock() - started, http=False)
            await send_next(ws)


async def http_clients(base: str, round_: int, total: int, clients: int, timeout: float, tally: Tally) -> None:
    import httpx

    clock = time.perf_counter
    numbers = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            kind, key, seed = KINDS[i % len(KINDS)], f"{RUN}-r{round_}-h-{i}", i % SEEDS
            method, path, body = http_request(kind, key, key, seed)
            headers = {"x-kuzzle-request-id": key, "content-type": "application/json"}
            tally.sent += 1
            started = clock()
            try:
                answer = await client.request(method, path, content=body, headers=headers)
            except httpx.HTTPError as error:  # no answer in time, or none at all: counted as lost
                if len(tally.wrong_samples) < 5:
                    tally.wrong_samples.append(f"no HTTP answer for {key}: {error!r}")
                continue
            envelope = answer.json()
            if envelope.get("requestId") != key or envelope.get("status") != answer.status_code:
                tally.answered += 1
                tally.mistake(f"HTTP {answer.status_code} for {key}: {answer.text[:300]}")
                continue
            tally.answer(kind, key, seed, envelope, clock() - started, http=True)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))


async def subscriber(url: str, ready: asyncio.Event, tally_of: Callable[[], Tally]) -> None:
    """One WebSocket subscribed to the collection, counting its notifications (for the round running)."""
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, ping_interval=None, max_queue=None, open_timeout=30) as ws:
        subscribe = {"controller": "realtime", "action": "subscribe", "index": INDEX, "collection": COLLECTION}
        await ws.send(json.dumps({**subscribe, "body": {}, "requestId": "subscribe"}))
        answer = json.loads(await ws.recv())
        if answer.get("status") != 200:
            raise RuntimeError(f"realtime:subscribe failed: {answer}")
        ready.set()
        async for _ in ws:
            tally_of().notifications += 1


# Rounds ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


async def run(args: argparse.Namespace, server: Server) -> int:
    import httpx

    base, url = f"http://{HOST}:{server.port}", f"ws://{HOST}:{server.port}/"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        setup = [
            {"controller": "index", "action": "create", "index": INDEX},
            {"controller": "collection", "action": "create", "index": INDEX, "collection": COLLECTION},
        ] + [
            {"controller": "document", "action": "createOrReplace", "index": INDEX, "collection": COLLECTION,
             "_id": f"seed-{n}", "body": {"seed": n}}
            for n in range(SEEDS)
        ]  # fmt: skip
        for request in setup:
            answer = (await client.post("/_query", json=request)).json()
            if answer["status"] != 200 and (answer["error"] or {}).get("id") != "services.storage.index_already_exists":
                raise RuntimeError(f"setup failed: {answer}")
    assert server.proc is not None
    pid = server.proc.pid
    print(f"server RSS before the first round: {rss_kib(pid) / 1024:.1f} MiB", flush=True)

    tallies: list[Tally] = []
    ready = asyncio.Event()
    listening = asyncio.create_task(subscriber(url, ready, lambda: tallies[-1]))
    tallies.append(Tally())  # (notifications before round 1: none expected)
    await asyncio.wait_for(ready.wait(), 30)
    rss: list[int] = []
    failed = False
    for round_ in range(1, args.rounds + 1):
        tally = Tally()
        tallies.append(tally)
        started = time.perf_counter()
        load = [ws_client(url, n, round_, args.requests, args.window, tally) for n in range(args.connections)]
        load.append(http_clients(base, round_, args.http_requests, args.http_clients, args.http_timeout, tally))
        try:
            await asyncio.wait_for(asyncio.gather(*load), args.round_timeout)
        except TimeoutError:
            print(f"round {round_}: not done after {args.round_timeout:g} s", flush=True)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(args.settle)  # notifications still on their way, buffers freed
        rss.append(rss_kib(pid))
        lost = tally.sent - tally.answered
        failed = failed or lost > 0 or tally.wrong > 0
        print(
            f"round {round_}: sent {tally.sent}, answered {tally.answered}, lost {lost}, wrong answers {tally.wrong}"
            f" ({elapsed:.1f} s, {tally.answered / elapsed:.0f} answers/s)",
            flush=True,
        )
        errors = ", ".join(f"{error_id} {n}" for error_id, n in tally.errors.most_common()) or "none"
        print(f"  errors by id: {errors}")
        print(
            f"  latency ms: WebSocket p50 {percentile(tally.ws_latency, 0.5)} p99 {percentile(tally.ws_latency, 0.99)};"
            f" HTTP p50 {percentile(tally.http_latency, 0.5)} p99 {percentile(tally.http_latency, 0.99)}"
        )
        print(f"  notifications received by the subscriber: {tally.notifications}")
        for sample in tally.wrong_samples:
            print(f"  sample: {sample}")
        print(f"  server RSS after the round: {rss[-1] / 1024:.1f} MiB", flush=True)
    listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)

    if len(rss) > 1:
        growth = [(r - rss[0]) / rss[0] for r in rss[1:]]
        shown = "; ".join(
            f"round {i}: {r / 1024:.1f} MiB ({g:+.1%})" for i, (r, g) in enumerate(zip(rss[1:], growth), 2)
        )
        within = max(growth) <= RSS_TARGET
        failed = failed or not within
        print(
            f"RSS after round 1: {rss[0] / 1024:.1f} MiB; {shown}: "
            f"{'within' if within else 'NOT within'} {RSS_TARGET:.0%} of round 1 (target)"
        )
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10, help="WebSocket connections (10)")
    parser.add_argument("--requests", type=int, default=300, help="requests per WebSocket connection per round (300)")
    parser.add_argument("--window", type=int, default=50, help="requests in flight per WebSocket connection (50)")
    parser.add_argument("--http-clients", type=int, default=8, help="concurrent keep-alive HTTP clients (8)")
    parser.add_argument(
        "--http-requests", type=int, default=None, help="HTTP requests per round (5%% of the WebSocket ones)"
    )
    parser.add_argument(
        "--http-timeout", type=float, default=60.0, help="s an HTTP answer may take; later is lost (60)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--settle", type=float, default=2.0, help="s to wait after a round before reading RSS (2)")
    parser.add_argument("--round-timeout", type=float, default=600.0, help="s a round may last (600)")
    parser.add_argument("--database-url", default=None, help="the server's database (default: a new SQLite one)")
    args = parser.parse_args()
    if args.http_requests is None:
        args.http_requests = max(1, args.connections * args.requests // 20)
    check_machine()
    print_environment(["Django", "channels", "uvicorn", "websockets", "httpx"])
    port = free_port()
    env = {"DJANGO_SETTINGS_MODULE": "bench.load_settings", "KUZZLE_NODE": "load-bench"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        migrate = {**os.environ, **env}
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=migrate, check=True)
    server = Server(
        "kuzzle_events", uvicorn_argv("project.asgi:application", port), port, env, ready_path="/_healthcheck"
    )
    print(f"server: {server.shown()}", flush=True)
    print(
        f"load: {args.connections} WebSocket connections x {args.requests} requests ({args.window} in flight each)"
        f" + {args.http_requests} HTTP requests ({args.http_clients} clients) per round, {args.rounds} rounds;"
        f" mix: {', '.join(KINDS)}",
        flush=True,
    )
    server.start()
    try:
        server.wait_ready()
        os.sched_setaffinity(0, {int(CLIENT_CORE)})
        try:
            import uvloop

            runner: Any = uvloop.run
        except ImportError:
            runner = asyncio.run
        status = runner(run(args, server))
    finally:
        server.stop()
    sys.exit(status)


if __name__ == "__main__":
    main()
