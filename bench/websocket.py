"""WebSocket ``server:now`` (``{"controller":"server","action":"now","requestId":...}``, answer
carrying ``room``) through kuzzle_events' consumer (``project.asgi:application`` on uvicorn) vs
(a) a bare ``websockets`` server answering the same envelope (uvloop, ``bench/bare_ws.py``), and
(b) the stock Channels ``AsyncJsonWebsocketConsumer`` answering it (``bench/stock_channels.py``,
``ProtocolTypeRouter`` on uvicorn). For information, also a raw ASGI WebSocket endpoint on the same
uvicorn (``bench.bare_ws:asgi_app``): what uvicorn itself costs.

    .venv/bin/python bench/websocket.py [--duration 3] [--rounds 2] [--modes 1x64,50x1]

Servers pinned to core 0 (uvicorn: 1 worker, uvloop, ``--ws websockets-sansio``, what ``auto``
picks, no per-message-deflate since the client offers none); the client (python ``websockets`` on
uvloop, ``bench/wsclient.py``) pinned to core 1. Modes: ``CxK`` = C connections with K requests in
flight each. Targets: >= 0.8x the bare websockets server, >= 3x the stock Channels consumer.
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
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    CLIENT_CORE,
    HOST,
    PY,
    REPO,
    SERVER_CORE,
    Row,
    Server,
    Servers,
    check_machine,
    core_busy,
    cores_sample,
    fmt_round,
    free_port,
    median_result,
    print_commands,
    print_environment,
    print_rounds,
    print_rows,
    show,
    uvicorn_argv,
    warn_if_busy,
)

TARGET_BARE = 0.8
TARGET_STOCK = 3.0
WS = ("--ws", "websockets-sansio")


def client_argv(port: int | str, connections: int, inflight: int, duration: float, warmup: float) -> list[str]:
    return [
        "taskset", "-c", CLIENT_CORE, PY, "-m", "bench.wsclient", "--url", f"ws://{HOST}:{port}/",
        "--connections", str(connections), "--inflight", str(inflight),
        "--duration", f"{duration:g}", "--warmup", f"{warmup:g}",
    ]  # fmt: skip


def run_client(server: Server, connections: int, inflight: int, duration: float, warmup: float) -> dict[str, Any]:
    argv = client_argv(server.port, connections, inflight, duration, warmup)
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Server CPU over the measured window only (the client's warm-up excluded).
    time.sleep(warmup + 0.3)  # the client's own start (imports) takes about that much more
    cpu0, t0, cores = server.cpu(), time.monotonic(), cores_sample()
    time.sleep(max(0.1, duration - 0.6))
    cpu1, t1 = server.cpu(), time.monotonic()
    core0 = core_busy(a=cores)[f"cpu{SERVER_CORE}"]
    out, err = proc.communicate(timeout=duration + warmup + 30)
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"client failed on {server.name}:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["server_cpu"] = (cpu1 - cpu0) / (t1 - t0)
    result["others_cpu"] = max(0.0, core0 - result["server_cpu"])
    if result["errors"]:
        print(f"  {server.name}: {result['errors']} bad answers/failures: {result['bad_sample']} {result['failures']}")
    return result


async def one_answer(port: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    async with connect(f"ws://{HOST}:{port}/", compression=None) as ws:
        await ws.send('{"controller":"server","action":"now","requestId":"check-1"}')
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of each run not counted")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", default="1x64,50x1", help="CxK: C connections, K requests in flight each")
    args = parser.parse_args()
    check_machine()
    print_environment(["Django", "channels", "uvicorn", "uvloop", "websockets"])
    warn_if_busy()
    modes = [tuple(int(x) for x in m.split("x")) for m in args.modes.split(",") if m]

    ports = [free_port() for _ in range(4)]
    ours = Server(
        "kuzzle_events consumer",
        uvicorn_argv("project.asgi:application", ports[0], *WS),
        ports[0],
        env={"DJANGO_SETTINGS_MODULE": "project.settings"},
        ready_path="/_healthcheck",
    )
    bare = Server("bare websockets", [PY, "-m", "bench.bare_ws", "--port", str(ports[1])], ports[1])
    stock = Server(
        "stock Channels consumer",
        uvicorn_argv("bench.stock_channels:application", ports[2], *WS, "--lifespan", "off"),
        ports[2],
        env={"DJANGO_SETTINGS_MODULE": "project.settings"},
    )
    raw = Server("raw ASGI (uvicorn)", uvicorn_argv("bench.bare_ws:asgi_app", ports[3], *WS), ports[3])
    servers = [ours, bare, stock, raw]

    runs: dict[tuple[str, str], list[dict]] = {}
    with Servers(servers):
        keys = None
        for server in servers:
            answer = asyncio.run(one_answer(server.port))
            assert answer["status"] == 200 and answer["room"] == "check-1" == answer["requestId"], answer
            assert isinstance(answer["result"]["now"], int), answer
            assert keys is None or set(answer) == set(keys), (server.name, list(answer), keys)
            keys = list(answer)
        print(f"envelope keys (all servers): {keys}")
        for round_no in range(args.rounds):
            for connections, inflight in modes:
                mode = f"{connections}x{inflight}"
                for server in servers:
                    result = run_client(server, connections, inflight, args.duration, args.warmup)
                    runs.setdefault((mode, server.name), []).append(result)
                    print(
                        f"round {round_no + 1}: {mode:<6} {server.name:<24} {result['rate']:>8,.0f} msg/s  "
                        f"{fmt_round(result)}",
                        flush=True,
                    )

    rows: list[Row] = []
    for connections, inflight in modes:
        mode = f"{connections}x{inflight}"
        label = f"{connections} conn x {inflight} in flight"
        mine = median_result(runs[(mode, ours.name)])
        for other, target in ((bare, TARGET_BARE), (stock, TARGET_STOCK), (raw, None)):
            rows.append(Row(label, ours.name, mine, other.name, median_result(runs[(mode, other.name)]), target))
    print_rows(
        f"WebSocket server:now, server on core 0, python websockets client on core 1, "
        f"{args.rounds} rounds x {args.duration:g} s (+{args.warmup:g} s warm-up each)",
        "msg/s",
        rows,
    )
    print("client cpu, each round (100% = the client was the limit):")
    for (mode, name), results in runs.items():
        cpus = ", ".join(f"{100 * (r['client_cpu'] or 0):.0f}%" for r in results)
        print(f"  {mode:<6} {name:<24} {cpus}")
    print_rounds(rows)
    lines = [f"{s.name}: {s.shown()}" for s in servers]
    for connections, inflight in modes:
        lines.append(f"load: {show(client_argv('PORT', connections, inflight, args.duration, args.warmup))}")
    print_commands(lines)
    return 0 if all(row.verdict != "MISSED" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
