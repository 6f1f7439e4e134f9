"""The same ``server:now`` job (``GET /_now``) on kuzzle_events and on its peers, side by side, in
one run: server CPU per request, from the server process's own CPU time.

    .venv/bin/python bench/peers.py [--duration 4] [--rounds 3] [--connections 64] [--pipes 10]
                                    [--ws-modes 1x64,50x1]

HTTP servers, each alone on core 0 while wrk loads it from core 1 (rounds interleave them):

- raw ASGI: a bare ASGI callable on uvicorn (``bench.peer_apps:raw_asgi``), the envelope;
- Starlette, plain: ``{"now": ms}`` only (``bench.peer_apps:starlette_plain``);
- Starlette, envelope: the same envelope as kuzzle_events (``bench.bare_starlette:app``), the
  reference of every ratio;
- FastAPI: the endpoint returns the envelope as a dict (``bench/fastapi_app.py``);
- FeathersJS 5: a service whose ``find()`` answers the envelope, REST through ``@feathersjs/koa``
  (``bench/feathers/server.js``); ``GET /_now`` is the service ``_now``'s ``find``, so the route is
  the same as ours;
- kuzzle_events: ``project.asgi:application`` (the lean ASGI entry), as is and with ``--pipes``
  no-op async pipes on the path of ``server:now`` (``bench.settings`` + ``BENCH_PIPES``).

Python servers run on uvicorn (1 worker, uvloop, httptools, no access log); Feathers on Node,
one process. Every envelope answer has the same keys as kuzzle_events' (checked before measuring).

Targets (the issue's HTTP ones), on server CPU per request: kuzzle_events <= 1.25x Starlette with
the envelope and below FeathersJS; with 10 pipes <= 1.4x Starlette with the envelope.

WebSocket rows (``--ws-modes``, empty to skip; for information, no target): Feathers' Socket.io
transport (``emit('find', '_now', {})``) and the kuzzle_events consumer (0 and ``--pipes`` pipes,
``server:now`` frames), with the ratios to a bare ``websockets`` server (``bench/bare_ws.py``),
beside the raw ASGI endpoint of ``bench/bare_ws.py`` on the same uvicorn (what uvicorn's WebSocket
costs by itself), all loaded by the same Node client (``bench/feathers/wsload.js``, pinned to core 1), whose CPU use
is printed (the issue's WebSocket targets, with a client that is not the limit, are checked by
``bench/websocket.py``).

FeathersJS is installed by ``npm ci`` in ``bench/feathers/`` (from its lock file) when its
``node_modules`` is missing; this needs Node and npm. wrk is installed with apt when missing and
run as root.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
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
    cores_sample,
    cpu_us_per_request,
    ensure_wrk,
    fmt_cpu,
    fmt_p99,
    fmt_rate,
    fmt_round,
    free_port,
    http_get_json,
    median_result,
    print_commands,
    print_environment,
    print_table,
    run_wrk,
    show,
    uvicorn_argv,
    warn_if_busy,
    wrk_argv,
)

FEATHERS = REPO / "bench" / "feathers"
TARGET_VS_STARLETTE = 1.25
TARGET_PIPES_VS_STARLETTE = 1.4

RAW = "raw ASGI"
PLAIN = "Starlette, plain"
STARLETTE = "Starlette, envelope"
FASTAPI = "FastAPI"
FEATHERS_NAME = "FeathersJS 5 (Koa)"
OURS = "kuzzle_events"
BARE_WS = "bare websockets"
RAW_WS = "raw ASGI WebSocket (uvicorn)"


def piped_name(pipes: int) -> str:
    return f"kuzzle_events, {pipes} pipes"


@dataclass
class Target:
    """One target on server CPU per request: ``value`` must be <= ``limit`` (< when ``strict``)."""

    text: str
    value: float | None
    limit: float | None
    strict: bool = False

    @property
    def met(self) -> bool:
        if self.value is None or self.limit is None:
            return False  # not measured: not met
        return self.value < self.limit if self.strict else self.value <= self.limit

    @property
    def verdict(self) -> str:
        return "MET" if self.met else "MISSED"


def http_targets(us: dict[str, float | None], pipes: int) -> list[Target]:
    """The issue's HTTP targets from server CPU µs per request by server name. The one on pipes
    applies to 10 pipes only (another ``--pipes`` is measured, not checked)."""

    def ratio(name: str) -> float | None:
        mine, reference = us.get(name), us.get(STARLETTE)
        return mine / reference if mine is not None and reference else None

    targets = [
        Target(f"{OURS} CPU/request vs {STARLETTE}", ratio(OURS), TARGET_VS_STARLETTE),
        Target(f"{OURS} CPU/request vs {FEATHERS_NAME} (below)", us.get(OURS), us.get(FEATHERS_NAME), strict=True),
    ]
    if pipes == 10:
        targets.append(Target(f"{piped_name(pipes)} CPU/request vs {STARLETTE}", ratio(piped_name(pipes)),
                              TARGET_PIPES_VS_STARLETTE))  # fmt: skip
    return targets


def ensure_feathers() -> str:
    """node's path, FeathersJS installed from the lock file (``npm ci``) when it is not yet."""
    node = shutil.which("node")
    if not node:
        sys.exit("node is missing: FeathersJS needs Node.js (20 or later).")
    if not (FEATHERS / "node_modules").is_dir():
        npm = shutil.which("npm")
        if not npm:
            sys.exit("npm is missing: it installs FeathersJS (npm ci in bench/feathers).")
        print("bench/feathers/node_modules missing: npm ci", flush=True)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FEATHERS, check=True, timeout=600)
    return node


def node_version(node: str) -> str:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    lock = json.loads((FEATHERS / "package-lock.json").read_text())
    versions = [
        f"{name} {lock['packages'].get(f'node_modules/{name}', {}).get('version', 'missing')}"
        for name in ("@feathersjs/feathers", "@feathersjs/koa", "@feathersjs/socketio", "koa", "socket.io")
    ]
    return f"node {out}; {', '.join(versions)}"


# WebSocket -------------------------------------------------------------------------------------


def ws_client_argv(node: str, protocol: str, port: int | str, connections: int, inflight: int,
                   duration: float, warmup: float) -> list[str]:  # fmt: skip
    return [
        "taskset", "-c", CLIENT_CORE, node, str(FEATHERS / "wsload.js"), "--protocol", protocol,
        "--url", f"{'ws' if protocol == 'kuzzle' else 'http'}://{HOST}:{port}/",
        "--connections", str(connections), "--inflight", str(inflight),
        "--duration", f"{duration:g}", "--warmup", f"{warmup:g}",
    ]  # fmt: skip


def run_ws_client(node: str, protocol: str, server: Server, connections: int, inflight: int, duration: float,
                  warmup: float) -> dict[str, Any]:  # fmt: skip
    argv = ws_client_argv(node, protocol, server.port, connections, inflight, duration, warmup)
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Server CPU over the measured window only (the client's start and warm-up excluded), as
    # bench/websocket.py does.
    time.sleep(warmup + 0.3)
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


# Report ----------------------------------------------------------------------------------------


def fmt_us(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def fmt_ratio(value: float | None, reference: float | None) -> str:
    return "-" if value is None or not reference else f"{value / reference:.3f}x"


def peer_table(order: list[str], results: dict[str, dict[str, Any]], reference: str) -> list[list[str]]:
    ref = results[reference]
    ref_us = cpu_us_per_request(ref)
    table = []
    for name in order:
        r = results[name]
        us = cpu_us_per_request(r)
        others = "-" if r.get("others_max") is None else f"{100 * r['others_max']:.0f}%"
        table.append([
            name, fmt_rate(r), fmt_p99(r), fmt_cpu(r), fmt_us(us), fmt_ratio(r["rate"], ref["rate"]),
            fmt_ratio(us, ref_us), others, str(r.get("errors") or 0),
        ])  # fmt: skip
    return table


PEER_HEADERS = ["server", "req/s", "p99 ms", "cpu", "CPU µs/req", "req/s vs ref", "CPU/req vs ref",
                f"others on core {SERVER_CORE} (max)", "errors"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--pipes", type=int, default=10)
    parser.add_argument("--ws-modes", default="1x64,50x1",
                        help="WebSocket rows, CxK: C connections, K requests in flight each; empty: none")  # fmt: skip
    parser.add_argument("--ws-duration", type=float, default=3.0)
    parser.add_argument("--ws-warmup", type=float, default=1.0)
    args = parser.parse_args()
    if args.pipes < 1:
        parser.error("--pipes must be at least 1 (kuzzle_events is already measured with 0 pipes)")
    modes = [tuple(int(x) for x in m.split("x")) for m in args.ws_modes.split(",") if m]
    check_machine()
    ensure_wrk()
    node = ensure_feathers()
    print_environment(["Django", "uvicorn", "uvloop", "httptools", "starlette", "fastapi", "pydantic"])
    print(node_version(node), flush=True)
    warn_if_busy()

    ports = {name: free_port() for name in (RAW, PLAIN, STARLETTE, FASTAPI, FEATHERS_NAME, OURS, "piped")}
    servers = [
        Server(RAW, uvicorn_argv("bench.peer_apps:raw_asgi", ports[RAW]), ports[RAW], ready_path="/_now"),
        Server(PLAIN, uvicorn_argv("bench.peer_apps:starlette_plain", ports[PLAIN]), ports[PLAIN],
               ready_path="/_now"),
        Server(STARLETTE, uvicorn_argv("bench.bare_starlette:app", ports[STARLETTE]), ports[STARLETTE],
               ready_path="/_now"),
        Server(FASTAPI, uvicorn_argv("bench.fastapi_app:app", ports[FASTAPI]), ports[FASTAPI], ready_path="/_now"),
        Server(FEATHERS_NAME, [node, str(FEATHERS / "server.js"), "--port", str(ports[FEATHERS_NAME])],
               ports[FEATHERS_NAME], env={"NODE_ENV": "production"}, ready_path="/_now"),
        Server(OURS, uvicorn_argv("project.asgi:application", ports[OURS]), ports[OURS],
               env={"DJANGO_SETTINGS_MODULE": "project.settings"}, ready_path="/_now"),
        Server(piped_name(args.pipes), uvicorn_argv("project.asgi:application", ports["piped"]), ports["piped"],
               env={"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_PIPES": str(args.pipes)},
               ready_path="/_now", log_marker=f"bench.pipes: registered {args.pipes} pipes"),
    ]  # fmt: skip
    ws_port = free_port()
    bare_ws = Server(BARE_WS, [PY, "-m", "bench.bare_ws", "--port", str(ws_port)], ws_port)  # WebSocket rows only
    raw_ws_port = free_port()
    # What uvicorn's WebSocket costs by itself: the same envelope from a raw ASGI endpoint.
    raw_ws = Server(RAW_WS, uvicorn_argv("bench.bare_ws:asgi_app", raw_ws_port), raw_ws_port)
    ws_only = [bare_ws, raw_ws]
    by_name = {s.name: s for s in [*servers, *ws_only]}
    order = [s.name for s in servers]
    ws_servers: list[Server] = []
    ws_runs: dict[tuple[str, str], list[dict[str, Any]]] = {}

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
    with Servers([*servers, *ws_only] if modes else servers):
        # Same answer from each before measuring: 200, the envelope's keys (or {"now"} for the
        # plain one), an integer "now".
        _, _, ours = http_get_json(f"http://{HOST}:{ports[OURS]}/_now")
        keys = list(ours)
        for server in servers:
            status, _, body = http_get_json(f"http://{HOST}:{server.port}/_now")
            now = body.get("now") if server.name == PLAIN else body.get("result", {}).get("now")
            assert status == 200 and isinstance(now, int), (server.name, status, body)
            if server.name != PLAIN:
                assert list(body) == keys and body["status"] == 200, (server.name, list(body), keys)
        print(by_name[piped_name(args.pipes)].log().strip().splitlines()[0])
        print(f"envelope keys (all servers but {PLAIN!r}): {keys}", flush=True)

        for server in servers:  # warm-up, not counted
            run_wrk(f"http://{HOST}:{server.port}/_now", 1, args.connections)
        for round_no in range(args.rounds):
            for server in servers:
                result = run_wrk(f"http://{HOST}:{server.port}/_now", args.duration, args.connections, server)
                runs[server.name].append(result)
                print(
                    f"round {round_no + 1}: {server.name:<26} {result['rate']:>9,.0f} req/s  {fmt_round(result)}",
                    flush=True,
                )

        if modes:
            ws_servers = [bare_ws, raw_ws, by_name[FEATHERS_NAME], by_name[OURS], by_name[piped_name(args.pipes)]]
            for round_no in range(args.rounds):
                for connections, inflight in modes:
                    mode = f"{connections}x{inflight}"
                    for server in ws_servers:
                        protocol = "socketio" if server.name == FEATHERS_NAME else "kuzzle"
                        result = run_ws_client(node, protocol, server, connections, inflight, args.ws_duration,
                                               args.ws_warmup)  # fmt: skip
                        ws_runs.setdefault((mode, server.name), []).append(result)
                        print(
                            f"round {round_no + 1}: WS {mode:<6} {server.name:<24} {result['rate']:>8,.0f} msg/s  "
                            f"{fmt_round(result)}",
                            flush=True,
                        )

    results = {name: median_result(r) for name, r in runs.items()}
    print_table(
        f"HTTP GET /_now, one server process on core {SERVER_CORE}, wrk -c{args.connections} on core "
        f"{CLIENT_CORE}, {args.rounds} rounds x {args.duration:g} s; ref = {STARLETTE}",
        PEER_HEADERS,
        peer_table(order, results, STARLETTE),
    )
    print(
        "(req/s: median of the rounds; p99 and cpu (server process, 100% = its whole core) of the median round; "
        "CPU µs/req: the server process's CPU time per request, median of the rounds)"
    )
    for name in order:
        rounds = ", ".join(f"{r:,.0f}" for r in results[name]["rounds"])
        us = ", ".join(fmt_us(1e6 * r["server_cpu"] / r["rate"]) for r in runs[name] if r["rate"])
        print(f"  {name}: rounds {rounds} req/s; CPU µs/req {us}")

    if modes:
        ws_results = {key: median_result(r) for key, r in ws_runs.items()}
        for connections, inflight in modes:
            mode = f"{connections}x{inflight}"
            table = peer_table([s.name for s in ws_servers], {name: ws_results[(m, name)] for (m, name) in ws_results
                                                                if m == mode}, BARE_WS)  # fmt: skip
            print_table(
                f"WebSocket server:now, {connections} conn x {inflight} in flight, Node client on core {CLIENT_CORE}, "
                f"{args.rounds} rounds x {args.ws_duration:g} s; ref = {BARE_WS}; for information (no target)",
                [h.replace("req/s", "msg/s") for h in PEER_HEADERS],
                table,
            )
        print("client cpu, each round (100% = the client was the limit):")
        for (mode, name), ws_result in ws_runs.items():
            cpus = ", ".join(f"{100 * (r['client_cpu'] or 0):.0f}%" for r in ws_result)
            print(f"  {mode:<6} {name:<24} {cpus}")

    us_by_name = {name: cpu_us_per_request(results[name]) for name in order}
    targets = http_targets(us_by_name, args.pipes)
    print("\nTargets (server CPU per request, HTTP):")
    for target in targets:
        limit = "-" if target.limit is None else f"{target.limit:.3f}"
        value = "-" if target.value is None else f"{target.value:.3f}"
        sign = "<" if target.strict else "<="
        print(f"  {target.text}: {value} {sign} {limit}  {target.verdict}")

    url = "http://127.0.0.1:PORT/_now"
    lines = [f"{s.name}: {s.shown()}" for s in ([*servers, *ws_only] if modes else servers)]
    lines.append(f"load: {show(wrk_argv(url, args.duration, args.connections))}  (1 s warm-up run first)")
    for connections, inflight in modes:
        for protocol in ("socketio", "kuzzle"):
            argv = ws_client_argv(node, protocol, "PORT", connections, inflight, args.ws_duration, args.ws_warmup)
            lines.append(f"WebSocket load ({protocol}): {show(argv)}")
    print_commands(lines)
    return 0 if all(t.met for t in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
