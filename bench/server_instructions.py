"""Instructions per ``GET /_now`` of a whole server process (uvicorn), counted by callgrind.

    .venv/bin/python bench/server_instructions.py [--requests 2000] [--connections 4]

The timing-free side of ``bench/peers.py``: CPU time on a shared machine varies by tens of
percent from one run to the next, instructions do not. Each server runs under
``valgrind --tool=callgrind`` as peers.py runs it (uvicorn, one worker, uvloop, httptools), twice:
once sent a warm-up only, once the warm-up and ``--requests`` more, over keep-alive connections.
The difference of the two totals, divided by ``--requests``, is what one request costs the server
process: uvicorn, the event loop and the application. Printed with the ratio to Starlette
answering the same envelope. For information: the issue's targets are on CPU time (peers.py).

The servers: a raw ASGI callable (and the same with the header lines kuzzle_events sends, which
uvicorn checks one by one), Starlette with the envelope, kuzzle_events (the lean entry,
``project.asgi``). Under valgrind a second lasts about fifty times as many requests, so
kuzzle_events runs with a long ``SECURITY_CACHE_TTL`` (``BENCH_SECURITY_CACHE_TTL``): its rights
are reloaded once a second, which at full speed is spread over thousands of requests.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import http.client  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from bench.common import BIN, HOST, PY, REPO, bench_database, free_port, print_environment  # noqa: E402

WARM_UP = 200
SERVERS = [
    ("raw ASGI", "bench.peer_apps:raw_asgi", {}),
    ("raw ASGI, Kuzzle's headers", "bench.peer_apps:raw_asgi_kuzzle_headers", {}),
    ("Starlette, envelope", "bench.bare_starlette:app", {}),
    ("kuzzle_events", "project.asgi:application", {"DJANGO_SETTINGS_MODULE": "bench.settings"}),
]
REFERENCE = "Starlette, envelope"


def _send(port: int, requests: int, connections: int) -> None:
    """``requests`` GETs of ``/_now`` over ``connections`` keep-alive connections, in threads."""

    failures: list[BaseException] = []

    def client(count: int) -> None:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=600)
            for _ in range(count):
                connection.request("GET", "/_now")
                answer = connection.getresponse()
                answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"GET /_now answered {answer.status}")
            connection.close()
        except BaseException as error:  # (raised again by the caller's thread)
            failures.append(error)

    share, left = divmod(requests, connections)
    threads = [threading.Thread(target=client, args=(share + (n < left),)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _wait_ready(port: int, server: subprocess.Popen[bytes], limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server ended before answering")
        try:
            _send(port, 1, 1)
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.5)
    raise RuntimeError("the server did not answer in time")


def total_instructions(app: str, env: dict[str, str], requests: int, connections: int) -> int:
    """Instructions of one server process that answered the warm-up and ``requests`` more."""
    port = free_port()
    argv = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        PY, str(BIN / "uvicorn"), app, "--host", HOST, "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **env}, stderr=subprocess.PIPE)
    try:
        _wait_ready(port, server)
        _send(port, WARM_UP, connections)
        if requests:
            _send(port, requests, connections)
    finally:
        server.terminate()  # (SIGTERM: uvicorn shuts down, and valgrind writes its totals)
        _, errors = server.communicate(timeout=600)
    found = re.search(rb"Collected : (\d+)", errors)
    if found is None:
        raise RuntimeError(f"no callgrind total for {app}: {errors[-500:]!r}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is needed (apt-get install valgrind)")
        return 1
    database = {"DATABASE_URL": bench_database(), "BENCH_SECURITY_CACHE_TTL": "3600"}
    print_environment(["uvicorn", "starlette", "Django"])
    print(f"{args.requests} requests over {args.connections} keep-alive connections, after {WARM_UP} to warm up")
    per_request: dict[str, float] = {}
    for name, app, env in SERVERS:
        full_env = {**database, **env}
        base = total_instructions(app, full_env, 0, args.connections)
        loaded = total_instructions(app, full_env, args.requests, args.connections)
        per_request[name] = (loaded - base) / args.requests
        print(f"{name:<28} {per_request[name]:>12,.0f} instructions per request", flush=True)
    reference = per_request[REFERENCE]
    print()
    for name, value in per_request.items():
        print(f"{name:<28} {value / reference:>6.3f}x {REFERENCE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
