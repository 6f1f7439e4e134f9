"""``server:now`` over MQTT vs the same requests over WebSocket, in one run: through this machine's
Mosquitto (``MODE`` external) and through the broker in the server process (``MODE`` embedded),
each against its own kuzzle_events server (``project.asgi:application`` on uvicorn).

    .venv/bin/python bench/mqtt.py [--duration 3] [--rounds 2] [--modes 1x64,20x4]

Server pinned to core 0; the client (aiomqtt and python ``websockets``, one asyncio loop) to core 1;
The external mode's broker is a Mosquitto of the benchmark's own (default configuration, a free
port, unpinned: it is part of the MQTT path), so that other clients of the machine's Mosquitto do
not share it; ``--system-broker`` uses the one on 127.0.0.1:1883 instead. Modes: ``CxK`` = C clients
with K requests in flight each. Each answer is matched to its request by ``requestId``. No target:
the figure is what an MQTT client gets compared with a WebSocket one, and the server's CPU time
per request (µs) says what each path costs the server whatever the client's speed.
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
import logging  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    CLIENT_CORE,
    HOST,
    Server,
    Servers,
    check_machine,
    free_port,
    print_commands,
    print_environment,
    uvicorn_argv,
    warn_if_busy,
)

SYSTEM_BROKER = ("127.0.0.1", 1883)
BROKER = SYSTEM_BROKER  # the external mode's: replaced by the benchmark's own Mosquitto in main()
PREFIX = f"bench-{uuid.uuid4().hex[:8]}"


class Link:
    """One client connection: ``send`` a request text, answers routed to their waiting request."""

    def __init__(self, send: Callable[[str], Awaitable[None]]) -> None:
        self.send = send
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def answered(self, payload: bytes | str) -> None:
        envelope = json.loads(payload)
        future = self.waiting.pop(envelope.get("requestId"), None)
        if future is not None and not future.done():
            future.set_result(envelope)

    async def request(self, request_id: str) -> dict[str, Any]:
        future = self.waiting[request_id] = asyncio.get_running_loop().create_future()
        await self.send(f'{{"controller":"server","action":"now","requestId":"{request_id}"}}')
        return await future


async def mqtt_links(count: int, stack: list[Any], broker: tuple[str, int] | None = None) -> list[Link]:
    """Clients of Mosquitto (external mode: topics of their own), or of the embedded ``broker``."""
    import aiomqtt

    links = []
    for n in range(count):
        client = aiomqtt.Client(
            *(broker or BROKER),
            identifier=f"{PREFIX}-{n}",
            # amqtt speaks MQTT 3.1.1 (as Kuzzle's aedes); the external mode's Mosquitto, 5 too.
            protocol=aiomqtt.ProtocolVersion.V5 if broker is None else aiomqtt.ProtocolVersion.V311,
            # Quiet about the requests in flight: that many are, on purpose.
            logger=logging.getLogger("bench.mqtt.client"),
        )
        await client.__aenter__()
        stack.append(client)
        if broker is None:
            request_topic, response_topic = f"{PREFIX}/request/c{n}", f"{PREFIX}/response/c{n}"
            await client.subscribe(response_topic, qos=0)
        else:  # Kuzzle's topics; the broker hands each answer to its client, which subscribes to nothing
            request_topic = "Kuzzle/request"

        async def send(text: str, client: Any = client, topic: str = request_topic) -> None:
            await client.publish(topic, text, qos=0)

        link = Link(send)

        async def read(client: Any = client, link: Link = link) -> None:
            async for message in client.messages:
                link.answered(message.payload)

        stack.append(asyncio.get_running_loop().create_task(read()))
        links.append(link)
    return links


async def websocket_links(port: int, count: int, stack: list[Any]) -> list[Link]:
    from websockets.asyncio.client import connect

    links = []
    for _ in range(count):
        ws = await connect(f"ws://{HOST}:{port}/", compression=None)
        stack.append(ws)
        link = Link(ws.send)

        async def read(ws: Any = ws, link: Link = link) -> None:
            async for frame in ws:
                link.answered(frame)

        stack.append(asyncio.get_running_loop().create_task(read()))
        links.append(link)
    return links


async def measure(
    links: list[Link], inflight: int, duration: float, warmup: float, server_cpu: Callable[[], float]
) -> dict[str, Any]:
    counted = [0]
    bad = [0]
    measuring = [False]
    stop = [False]

    async def worker(link: Link, n: int) -> None:
        i = 0
        while not stop[0]:
            i += 1
            envelope = await link.request(f"{n}-{i}")
            if envelope.get("status") != 200 or "now" not in (envelope.get("result") or {}):
                bad[0] += 1
            elif measuring[0]:
                counted[0] += 1

    tasks = [
        asyncio.get_running_loop().create_task(worker(link, n * inflight + k))
        for n, link in enumerate(links)
        for k in range(inflight)
    ]
    await asyncio.sleep(warmup)
    measuring[0], cpu0, s0, t0 = True, time.process_time(), server_cpu(), time.monotonic()
    await asyncio.sleep(duration)
    measuring[0], cpu1, s1, t1 = False, time.process_time(), server_cpu(), time.monotonic()
    stop[0] = True
    await asyncio.wait(tasks, timeout=10)
    for task in tasks:
        task.cancel()
    elapsed = t1 - t0
    return {
        "rate": counted[0] / elapsed,
        "client_cpu": (cpu1 - cpu0) / elapsed,
        "server_cpu": (s1 - s0) / elapsed,
        "bad": bad[0],
    }


async def run_mode(
    server: Server, protocol: str, broker: tuple[str, int] | None, clients: int, inflight: int, args: argparse.Namespace
) -> dict[str, Any]:
    stack: list[Any] = []
    try:
        if protocol == "websocket":
            links = await websocket_links(server.port, clients, stack)
        else:
            links = await mqtt_links(clients, stack, broker)
        return await measure(links, inflight, args.duration, args.warmup, server.cpu)
    finally:
        for item in reversed(stack):
            if isinstance(item, asyncio.Task):
                item.cancel()
            elif hasattr(item, "__aexit__"):
                await item.__aexit__(None, None, None)
            else:
                await item.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of each run not counted")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", default="1x64,20x4", help="CxK: C clients, K requests in flight each")
    parser.add_argument(
        "--system-broker",
        action="store_true",
        help="the external mode through 127.0.0.1:1883, not a Mosquitto of its own",
    )
    args = parser.parse_args()
    check_machine()
    global BROKER
    own_broker = None if args.system_broker else start_mosquitto()
    if own_broker is not None:
        BROKER = (HOST, own_broker[1])
    try:
        return measure_all(args)
    finally:
        if own_broker is not None:
            own_broker[0].terminate()
            own_broker[0].wait(5)


def start_mosquitto() -> tuple[subprocess.Popen[bytes], int] | None:
    """A Mosquitto of the benchmark's own on a free port (default settings), or None without one."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if binary is None:
        print("mosquitto not found: the external mode goes through 127.0.0.1:1883", flush=True)
        return None
    port = free_port()
    config = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    config.write(f"listener {port} {HOST}\nallow_anonymous true\n")
    config.close()
    proc = subprocess.Popen([binary, "-c", config.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    os.unlink(config.name)
    return proc, port


def measure_all(args: argparse.Namespace) -> int:
    """Every round of every mode; the table; 1 when an answer was lost or wrong."""
    print_environment(["Django", "channels", "uvicorn", "aiomqtt", "paho-mqtt", "amqtt", "websockets"])
    warn_if_busy()
    os.sched_setaffinity(0, {int(CLIENT_CORE)})
    logging.getLogger("bench.mqtt.client").setLevel(logging.ERROR)
    modes = [tuple(int(x) for x in m.split("x")) for m in args.modes.split(",") if m]
    port, embedded_port, mqtt_port = free_port(), free_port(), free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "KUZZLE_MQTT_HOST": BROKER[0],
        "KUZZLE_MQTT_PORT": str(BROKER[1]),
        "KUZZLE_MQTT_REQUEST_TOPIC": f"{PREFIX}/request",
        "KUZZLE_MQTT_RESPONSE_TOPIC": f"{PREFIX}/response",
    }
    server = Server(
        "kuzzle_events (MQTT on)",
        uvicorn_argv("project.asgi:application", port, "--ws", "websockets-sansio"),
        port,
        env=env,
        ready_path="/_healthcheck",
        log_marker="MQTT requests read on",
    )
    embedded = Server(
        "kuzzle_events (embedded MQTT broker)",
        uvicorn_argv("project.asgi:application", embedded_port, "--ws", "websockets-sansio"),
        embedded_port,
        env={
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "KUZZLE_MQTT_MODE": "embedded",
            "KUZZLE_MQTT_PORT": str(mqtt_port),
        },
        ready_path="/_healthcheck",
        log_marker="MQTT broker on",
    )
    # protocol -> (server, the embedded broker's address or None)
    targets: dict[str, tuple[Server, tuple[str, int] | None]] = {
        "websocket": (server, None),
        "mqtt external": (server, None),
        "mqtt embedded": (embedded, (HOST, mqtt_port)),
    }
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with Servers([server, embedded]):
        for round_no in range(args.rounds):
            for clients, inflight in modes:
                mode = f"{clients}x{inflight}"
                for protocol, (target, broker) in targets.items():
                    result = asyncio.run(run_mode(target, protocol, broker, clients, inflight, args))
                    runs.setdefault((mode, protocol), []).append(result)
                    print(
                        f"round {round_no + 1}: {mode:<6} {protocol:<13} {result['rate']:>8,.0f} req/s  "
                        f"server cpu {100 * result['server_cpu']:.0f}% ({cpu_per_request(result):.0f} µs/req)  "
                        f"client cpu {100 * result['client_cpu']:.0f}%  "
                        f"bad {result['bad']}",
                        flush=True,
                    )
    print(f"\nserver:now, server on core 0, client on core 1, median of {args.rounds} rounds x {args.duration:g} s")
    print(f"{'mode':<24} {'WebSocket':>10} {'MQTT ext.':>10} {'/ WS':>6} {'MQTT emb.':>10} {'/ WS':>6}  (req/s)")
    for clients, inflight in modes:
        mode = f"{clients}x{inflight}"
        ws, external, inside = (statistics.median(r["rate"] for r in runs[(mode, p)]) for p in targets)
        label = f"{clients} clients x {inflight} in flight"
        over_ws = [rate / ws if ws else 0.0 for rate in (external, inside)]
        print(f"{label:<24} {ws:>10,.0f} {external:>10,.0f} {over_ws[0]:>5.2f}x {inside:>10,.0f} {over_ws[1]:>5.2f}x")
    print(f"\n{'server CPU per request':<24} {'WebSocket':>10} {'MQTT ext.':>10} {'MQTT emb.':>10}  (µs, median)")
    for clients, inflight in modes:
        mode = f"{clients}x{inflight}"
        costs = [statistics.median(cpu_per_request(r) for r in runs[(mode, p)]) for p in targets]
        print(f"{f'{clients} clients x {inflight} in flight':<24} " + " ".join(f"{c:>10,.0f}" for c in costs))
    print_commands(
        [
            f"{server.name}: {server.shown()}",
            f"{embedded.name}: {embedded.shown()}",
            f"broker: Mosquitto on {BROKER[0]}:{BROKER[1]}" + ("" if args.system_broker else " (the benchmark's own)"),
        ]
    )
    return 0 if all(r["bad"] == 0 for results in runs.values() for r in results) else 1


def cpu_per_request(result: dict[str, Any]) -> float:
    """The server process's CPU time per answered request, in µs."""
    return 1e6 * result["server_cpu"] / result["rate"] if result["rate"] else 0.0


if __name__ == "__main__":
    raise SystemExit(main())
