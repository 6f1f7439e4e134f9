"""Client process of ``bench/idle.py``: holds N idle WebSocket connections, on command.

    python -m bench.idleclient --url ws://127.0.0.1:PORT/ --connections 10000

Opens ``connections`` connections (``concurrency`` handshakes at a time), prints one JSON line
(``{"opened": n, "failed": n, "failures": [...]}``), then obeys one command per line on stdin:

- ``check``: sends one ``server:now`` on every open connection, waits for each answer, prints
  ``{"answered": n, "bad": n, "sample": ...}`` (an answer is good when it is a 200 ``server:now``
  envelope whose ``room`` and ``requestId`` are the id sent);
- ``close`` (or the end of stdin): closes every connection, prints ``{"closed": n}`` and exits.

Nothing is sent between the commands (no ping from this side; the client answers the server's).
The soft limit on open files is raised to the hard one first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
from typing import Any


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (at most the hard limit); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def emit(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


def good_answer(answer: Any, request_id: str) -> bool:
    return (
        isinstance(answer, dict)
        and answer.get("status") == 200
        and answer.get("requestId") == request_id == answer.get("room")
        and (answer.get("result") or {}).get("now") is not None
    )


async def run(url: str, connections: int, concurrency: int, timeout: float) -> None:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(concurrency)
    conns: list[Any] = []
    failures: list[str] = []

    async def open_one() -> None:
        async with gate:
            try:
                conns.append(await connect(url, compression=None, ping_interval=None, open_timeout=timeout))
            except Exception as exc:  # counted and shown: the benchmark says how many failed and why
                failures.append(repr(exc))

    await asyncio.gather(*(open_one() for _ in range(connections)))
    emit({"opened": len(conns), "failed": len(failures), "failures": failures[:3]})

    loop = asyncio.get_running_loop()
    while True:
        command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if command == "check":
            answered, bad, sample = 0, 0, None

            async def check(number: int, ws: Any) -> None:
                nonlocal answered, bad, sample
                request_id = f"idle-{number}"
                async with gate:
                    try:
                        await ws.send(json.dumps({"controller": "server", "action": "now", "requestId": request_id}))
                        answer = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                    except Exception as exc:  # a connection that no longer answers: counted as bad
                        answer = repr(exc)
                if good_answer(answer, request_id):
                    answered += 1
                else:
                    bad += 1
                    sample = sample or answer

            await asyncio.gather(*(check(n, ws) for n, ws in enumerate(conns)))
            emit({"answered": answered, "bad": bad, "sample": sample})
        else:  # "close", or stdin closed
            await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
            emit({"closed": len(conns)})
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes (and checks) at a time")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for one handshake or one answer")
    args = parser.parse_args()
    raise_fd_limit(args.connections + 100)
    import uvloop

    uvloop.run(run(args.url, args.connections, args.concurrency, args.timeout))


if __name__ == "__main__":
    main()
