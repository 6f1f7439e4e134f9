"""The DRF adapter (``KuzzleAPIView`` serving ``GET /_now``) vs a bare DRF ``APIView`` returning the
same envelope as a dict (``GET /bare/now``, ``bench/urls.py``), both views in the same Django
project (``bench.settings``: the project's settings and middleware), the same server process.

    .venv/bin/python bench/drf.py [--duration 4] [--rounds 3] [--connections 64] [--servers gunicorn,uvicorn]

Servers, each pinned to core 0, wrk on core 1:
- gunicorn, 1 sync worker, WSGI (``project.wsgi:application``): how the DRF views are meant to run;
- uvicorn, 1 worker, Django's own ASGI handler (``bench.drf_asgi:application``, without the lean
  entry point that would otherwise answer ``/_now`` before Django).
Target: >= 0.9x on each. Needs wrk (installed with apt when missing and run as root) and gunicorn
(``requirements-dev.txt``).
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402

from bench.common import (  # noqa: E402
    BIN,
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

TARGET = 0.9
OURS = "/_now"
BARE = "/bare/now"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", default="gunicorn,uvicorn")
    args = parser.parse_args()
    check_machine()
    ensure_wrk()
    if "gunicorn" in args.servers and not (BIN / "gunicorn").exists():
        sys.exit("gunicorn is missing: .venv/bin/pip install -r requirements-dev.txt")
    print_environment(["Django", "djangorestframework", "gunicorn", "uvicorn", "uvloop", "httptools"])
    warn_if_busy()

    env = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
    servers: list[Server] = []
    if "gunicorn" in args.servers:
        port = free_port()
        servers.append(
            Server(
                "gunicorn sync (WSGI)",
                [
                    str(BIN / "gunicorn"),
                    "project.wsgi:application",
                    "--worker-class",
                    "sync",
                    "--workers",
                    "1",
                    "--bind",
                    f"{HOST}:{port}",
                    "--log-level",
                    "warning",
                ],  # fmt: skip
                port,
                env=env,
                ready_path=OURS,
            )
        )
    if "uvicorn" in args.servers:
        port = free_port()
        servers.append(
            Server(
                "uvicorn (Django ASGI)",
                uvicorn_argv("bench.drf_asgi:application", port, "--lifespan", "off"),
                port,
                env=env,
                ready_path=OURS,
            )
        )

    runs: dict[tuple[str, str], list[dict]] = {}
    with Servers(servers):
        for server in servers:
            keys = None
            for path in (OURS, BARE):
                status, headers, body = http_get_json(f"http://{HOST}:{server.port}{path}")
                assert status == 200 and body["status"] == 200 and isinstance(body["result"]["now"], int), body
                assert keys is None or list(body) == keys, (server.name, path, list(body), keys)
                keys = list(body)
            print(f"{server.name}: same envelope keys on {OURS} and {BARE}: {keys}")
            for path in (OURS, BARE):  # warm-up, not counted
                run_wrk(f"http://{HOST}:{server.port}{path}", 1, args.connections)
        for round_no in range(args.rounds):
            for server in servers:
                for path in (OURS, BARE):
                    result = run_wrk(f"http://{HOST}:{server.port}{path}", args.duration, args.connections, server)
                    runs.setdefault((server.name, path), []).append(result)
                    print(
                        f"round {round_no + 1}: {server.name:<22} {path:<10} {result['rate']:>8,.0f} req/s  "
                        f"{fmt_round(result)}",
                        flush=True,
                    )

    rows = [
        Row(
            f"GET, {server.name}",
            "KuzzleAPIView /_now",
            median_result(runs[(server.name, OURS)]),
            "bare APIView /bare/now",
            median_result(runs[(server.name, BARE)]),
            TARGET,
        )
        for server in servers
    ]
    print_rows(
        f"DRF, 1 server process on core 0, wrk on core 1, {args.rounds} rounds x {args.duration:g} s",
        "req/s",
        rows,
    )
    print_rounds(rows)
    print_commands(
        [f"{s.name}: {s.shown()}" for s in servers]
        + [
            f"load: {show(wrk_argv(f'http://127.0.0.1:PORT{path}', args.duration, args.connections))}"
            for path in (OURS, BARE)
        ]
        + ["(a 1 s warm-up run of each first)"]
    )
    return 0 if all(row.verdict != "MISSED" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
