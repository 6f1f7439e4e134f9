"""HTTP ``GET /_now`` (``server:now``) through kuzzle_events' lean ASGI entry vs a bare Starlette
endpoint answering the same envelope, both on uvicorn (1 worker, uvloop, httptools, no access
log), pinned to core 0; wrk pinned to core 1.

    .venv/bin/python bench/http.py [--duration 4] [--rounds 3] [--connections 64] [--pipes 10]

Rows: the project's ASGI application as is (0 pipes), the same with ``--pipes`` no-op async
pipes on the events of ``server:now`` (``bench.settings`` + ``BENCH_PIPES``, see
``bench/pipes/apps.py``), each against the same Starlette server measured in the same rounds
(rounds interleave the servers). Targets: >= 0.5x without pipes, >= 0.45x with 10 pipes.
Needs wrk (installed with apt when missing and run as root).
"""

from __future__ import annotations

import os
import sys

# Run as ``python bench/http.py``, this file's directory would come first on sys.path and this
# module would shadow the standard library's ``http``: put the repository's root there instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402

from bench.common import (  # noqa: E402
    HOST,
    Row,
    Server,
    Servers,
    check_machine,
    ensure_wrk,
    fmt_round,
    free_port,
    http_get_json,
    median_result,
    print_commands,
    print_environment,
    print_rounds,
    print_rows,
    run_wrk,
    show,
    uvicorn_argv,
    warn_if_busy,
    wrk_argv,
)

TARGET_PLAIN = 0.5
TARGET_PIPES = 0.45


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pipes", type=int, default=10)
    args = parser.parse_args()
    if args.pipes < 1:
        parser.error("--pipes must be at least 1 (the first row already measures 0 pipes)")
    check_machine()
    ensure_wrk()
    print_environment(["Django", "uvicorn", "uvloop", "httptools", "starlette"])
    warn_if_busy()

    ports = [free_port() for _ in range(3)]
    kuzzle = Server(
        "kuzzle_events, 0 pipes",
        uvicorn_argv("project.asgi:application", ports[0]),
        ports[0],
        env={"DJANGO_SETTINGS_MODULE": "project.settings"},
        ready_path="/_now",
    )
    piped = Server(
        f"kuzzle_events, {args.pipes} pipes",
        uvicorn_argv("project.asgi:application", ports[1]),
        ports[1],
        env={"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_PIPES": str(args.pipes)},
        ready_path="/_now",
        log_marker=f"bench.pipes: registered {args.pipes} pipes",
    )
    bare = Server("Starlette", uvicorn_argv("bench.bare_starlette:app", ports[2]), ports[2], ready_path="/_now")
    servers = [kuzzle, piped, bare]

    with Servers(servers):
        # Same answer from each before measuring: status, envelope keys, a "now" in the result.
        keys = None
        for server in servers:
            status, _, body = http_get_json(f"http://{HOST}:{server.port}/_now")
            assert status == 200 and body["status"] == 200 and isinstance(body["result"]["now"], int), body
            assert keys is None or list(body) == keys, (server.name, list(body), keys)
            keys = list(body)
        print(f"{piped.log().strip().splitlines()[0]}")
        print(f"envelope keys (all servers): {keys}")

        for server in servers:  # warm-up, not counted
            run_wrk(f"http://{HOST}:{server.port}/_now", 1, args.connections)
        runs: dict[str, list[dict]] = {s.name: [] for s in servers}
        for round_no in range(args.rounds):
            for server in servers:
                result = run_wrk(f"http://{HOST}:{server.port}/_now", args.duration, args.connections, server)
                runs[server.name].append(result)
                print(
                    f"round {round_no + 1}: {server.name:<26} {result['rate']:>9,.0f} req/s  {fmt_round(result)}",
                    flush=True,
                )

    results = {name: median_result(r) for name, r in runs.items()}
    rows = [
        Row("GET /_now", kuzzle.name, results[kuzzle.name], bare.name, results[bare.name], TARGET_PLAIN),
        Row(
            f"GET /_now, {args.pipes} async pipes",
            piped.name,
            results[piped.name],
            bare.name,
            results[bare.name],
            TARGET_PIPES if args.pipes == 10 else None,
        ),
    ]
    print_rows(
        f"HTTP, uvicorn 1 worker (uvloop, httptools), server on core 0, wrk on core 1, "
        f"{args.rounds} rounds x {args.duration:g} s",
        "req/s",
        rows,
    )
    print_rounds(rows)
    url = "http://127.0.0.1:PORT/_now"
    print_commands(
        [f"{s.name}: {s.shown()}" for s in servers]
        + [f"load: {show(wrk_argv(url, args.duration, args.connections))}  (1 s warm-up run first)"]
    )
    return 0 if all(row.verdict != "MISSED" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
