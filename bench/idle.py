"""Server memory per idle WebSocket connection: N connections held open by a client process, the
server's memory read from /proc before and after.

    .venv/bin/python bench/idle.py [--connections 10000] [--settle 3]

Servers, one at a time on core 0: kuzzle_events' consumer (``project.asgi:application`` on
uvicorn: 1 worker, uvloop, ``--ws websockets-sansio``), a raw ASGI WebSocket endpoint on the same
uvicorn (``bench.bare_ws:asgi_app``: what uvicorn itself keeps per connection) and a bare
``websockets`` server (``bench/bare_ws.py``, the baseline). The client (``bench/idleclient.py``,
python ``websockets`` on uvloop) runs in its own process pinned to core 1.

For each server: one ``server:now`` on one connection first (so what is loaded once is loaded),
then its memory (VmRSS of /proc/PID/status, and Pss of smaps_rollup), then N connections opened,
``--settle`` seconds, its memory again: (after - before) / N is the cost of one idle connection.
The connections are then checked: the server's open sockets (/proc/PID/fd) must have grown by N,
and every connection must answer one ``server:now`` (the memory after that is shown too).

Target: kuzzle_events <= 25 KiB of RSS per idle connection. Exit status 1 when it is missed or when
a connection was not open or did not answer. The soft limit on open files is raised to the hard
limit (each server and the client need N of them).
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
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    CLIENT_CORE,
    HOST,
    PY,
    REPO,
    SERVER_CORE,
    Server,
    Servers,
    check_machine,
    core_busy,
    free_port,
    print_commands,
    print_environment,
    print_table,
    show,
    uvicorn_argv,
    warn_if_busy,
)
from bench.idleclient import raise_fd_limit  # noqa: E402
from bench.procfs import process_memory, socket_count  # noqa: E402

TARGET_KIB = 25.0
OURS = "kuzzle_events consumer"
WS = ("--ws", "websockets-sansio")


def client_argv(port: int | str, connections: int) -> list[str]:
    return ["taskset", "-c", CLIENT_CORE, PY, "-m", "bench.idleclient", "--url", f"ws://{HOST}:{port}/",
            "--connections", str(connections)]  # fmt: skip


def per_connection(before: dict[str, int], after: dict[str, int], connections: int) -> dict[str, float]:
    """KiB per connection for each memory figure: (after - before) / connections."""
    return {key: (after[key] - before[key]) / connections for key in before} if connections else {}


class Client:
    """The client process, driven line by line (a JSON line answers each step)."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)  # fmt: skip

    def read(self, timeout: float) -> dict[str, Any]:
        stdout = self.proc.stdout
        assert stdout is not None
        line: list[str] = []
        # A thread, so that a client stuck in its handshakes cannot hang the benchmark past ``timeout``.
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].strip():
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"idle client gave no answer within {timeout:g} s:\n{err[-3000:]}")
        return json.loads(line[0])

    def command(self, text: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.read(timeout)

    def finish(self) -> None:
        if self.proc.poll() is None:
            try:
                self.command("close", 120)
                self.proc.wait(timeout=30)
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)


async def one_answer(port: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    async with connect(f"ws://{HOST}:{port}/", compression=None) as ws:
        await ws.send('{"controller":"server","action":"now","requestId":"warm-up"}')
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


def measure(server: Server, connections: int, settle: float, timeout: float) -> dict[str, Any]:
    assert server.proc is not None
    pid = server.proc.pid
    answer = asyncio.run(one_answer(server.port))
    assert answer.get("status") == 200 and answer.get("room") == "warm-up", (server.name, answer)
    time.sleep(settle)
    before, sockets_before = process_memory(pid), socket_count(pid)
    t0 = time.monotonic()
    client = Client(client_argv(server.port, connections))
    try:
        opened = client.read(timeout)
        open_seconds = time.monotonic() - t0
        time.sleep(settle)
        after, sockets_after = process_memory(pid), socket_count(pid)
        cpu0 = server.cpu()
        busy = core_busy(0.5)[f"cpu{SERVER_CORE}"]
        others = max(0.0, busy - (server.cpu() - cpu0) / 0.5)  # the server is idle: the rest is not ours
        checked = client.command("check", timeout)
        after_check = process_memory(pid)
    finally:
        client.finish()
    return {
        "opened": opened,
        "open_seconds": open_seconds,
        "before": before,
        "after": after,
        "after_check": after_check,
        "sockets": sockets_after - sockets_before,
        "checked": checked,
        "others_cpu": others,
        "kib": per_connection(before, after, opened["opened"]),
        "kib_check": per_connection(before, after_check, opened["opened"]),
    }


def complete(result: dict[str, Any], connections: int) -> bool:
    """Every connection was open (client and server agree) and answered."""
    return (
        result["opened"]["opened"] == connections
        and result["sockets"] >= connections
        and result["checked"]["answered"] == connections
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before each memory reading")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for opening or checking all")
    args = parser.parse_args()
    check_machine()
    limit = raise_fd_limit(args.connections + 1000)  # the servers inherit it
    if limit < args.connections + 100:
        sys.exit(f"open files limited to {limit}: too few for {args.connections} connections (ulimit -n)")
    print_environment(["Django", "channels", "uvicorn", "uvloop", "websockets"])
    print(f"open files limit (soft, servers and client): {limit}")
    warn_if_busy()

    servers = []
    for name, argv_of, env in (
        (OURS, lambda p: uvicorn_argv("project.asgi:application", p, *WS), {"DJANGO_SETTINGS_MODULE": "project.settings"}),
        ("raw ASGI (uvicorn)", lambda p: uvicorn_argv("bench.bare_ws:asgi_app", p, *WS), {}),
        ("bare websockets", lambda p: [PY, "-m", "bench.bare_ws", "--port", str(p)], {}),
    ):
        port = free_port()
        servers.append(Server(name, argv_of(port), port, env=env))

    results: dict[str, dict[str, Any]] = {}
    for server in servers:  # one at a time: each alone on its core with its connections
        with Servers([server]):
            result = measure(server, args.connections, args.settle, args.timeout)
        results[server.name] = result
        print(
            f"{server.name}: {result['opened']['opened']:,} open in {result['open_seconds']:.1f} s "
            f"({result['opened']['failed']} failed {result['opened']['failures']}), server sockets "
            f"+{result['sockets']:,}, {result['checked']['answered']:,} answered "
            f"({result['checked']['bad']} bad {result['checked']['sample'] or ''}); "
            f"RSS {result['before']['rss'] / 1024:.1f} -> {result['after']['rss'] / 1024:.1f} MiB, "
            f"{result['kib']['rss']:.1f} KiB/conn; others on core {SERVER_CORE}: {100 * result['others_cpu']:.0f}%",
            flush=True,
        )

    headers = ["server", "open", "server sockets", "answered", "RSS before MiB", "RSS idle MiB", "RSS KiB/conn",
               "Pss KiB/conn", "RSS KiB/conn after 1 request each", "vs bare websockets", "target", ""]  # fmt: skip
    bare = results["bare websockets"]["kib"]["rss"]
    table = []
    for name, r in results.items():
        target = name == OURS
        met = complete(r, args.connections) and (not target or r["kib"]["rss"] <= TARGET_KIB)
        table.append([
            name, f"{r['opened']['opened']:,}", f"+{r['sockets']:,}", f"{r['checked']['answered']:,}",
            f"{r['before']['rss'] / 1024:.1f}", f"{r['after']['rss'] / 1024:.1f}", f"{r['kib']['rss']:.1f}",
            f"{r['kib']['pss']:.1f}", f"{r['kib_check']['rss']:.1f}",
            f"{r['kib']['rss'] / bare:.2f}x" if bare > 0 else "-",
            f"<= {TARGET_KIB:g} KiB" if target else "-",
            ("MET" if met else "MISSED") if target else ("ok" if met else "INCOMPLETE"),
        ])  # fmt: skip
    print_table(
        f"{args.connections:,} idle WebSocket connections, server on core {SERVER_CORE}, client process on core "
        f"{CLIENT_CORE}, memory {args.settle:g} s after the last one opened",
        headers,
        table,
    )
    print(
        "(KiB/conn = (server memory with the connections open - before) / connections; RSS: VmRSS of "
        "/proc/PID/status; Pss: smaps_rollup; 'after 1 request each': once every connection answered server:now)"
    )
    print_commands([f"{s.name}: {s.shown()}" for s in servers] + [f"clients: {show(client_argv('PORT', args.connections))}"])
    ours = results[OURS]
    ok = complete(ours, args.connections) and ours["kib"]["rss"] <= TARGET_KIB
    ok = ok and all(complete(r, args.connections) for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
