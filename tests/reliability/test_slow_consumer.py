"""Subscribers that do not read slow no one, under uvicorn: publishers get every answer, other
subscribers every notification, and the slow ones are disconnected, with a log line each: the one
that reads again gets the close frame (1011), the one that never reads has its socket dropped."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from tests.servers import UVICORN, Server, query, serve

PUBLISHES = 300
PAD = "x" * 64 * 1024  # sizeable notifications: the slow subscriber's buffers fill after a few
ROOM = {"index": "reliability", "collection": "slow", "body": {}}
LOG_LINE = "too much backpressure, client is too slow"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve("uvicorn", UVICORN, tmp_path_factory.mktemp("slow-consumer"))


class RawClient:
    """A WebSocket client on a plain socket with a small receive buffer, that reads only when told."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        return data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack("!H", size))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._take(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._take(8))
        return first & 0x0F, self._take(size)

    def close(self) -> None:
        self.sock.close()


    def tcp_state(self) -> int:
        """The socket's TCP state, read without reading what the server sent (1: established)."""
        return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def log_lines(server: Server, text: str, count: int, timeout: float) -> list[str]:
    """The server's first ``count`` log lines holding ``text``, waiting for them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in server.log.read_text(errors="replace").splitlines() if text in line]
        if len(lines) >= count:
            return lines[:count]
        time.sleep(0.05)
    pytest.fail(f"the server did not log {text!r} {count} times within {timeout:.0f} s:\n{server.output()}")


def subscribed(server: Server, request_id: str) -> tuple[RawClient, str]:
    """A raw client subscribed to ROOM, and the room id."""
    client = RawClient(server.port)
    client.send_text(json.dumps({"controller": "realtime", "action": "subscribe", **ROOM, "requestId": request_id}))
    opcode, payload = client.frame()
    answer = json.loads(payload)
    assert (opcode, answer["status"]) == (1, 200), answer
    return client, answer["result"]["roomId"]


async def test_subscribers_that_do_not_read_slow_no_one_and_are_disconnected(server: Server) -> None:
    slow, room_id = subscribed(server, "slow")  # reads again once the server has logged both closings
    dead, _ = subscribed(server, "dead")  # never reads again

    seen: dict[str, Any] = {"notifications": 0, "close": None, "eof": False}

    def read_later() -> None:
        seen["log"] = log_lines(server, LOG_LINE, 2, timeout=60)
        try:
            while True:
                opcode, payload = slow.frame()
                if opcode == 8:
                    seen["close"] = (struct.unpack("!H", payload[:2])[0], payload[2:].decode())
                    return
                seen["notifications"] += 1
        except (EOFError, OSError):
            seen["eof"] = True

    reader = threading.Thread(target=read_later, daemon=True)
    reader.start()

    url = f"ws://127.0.0.1:{server.port}/"
    async with websockets.connect(url, max_size=None) as normal, websockets.connect(url, max_size=None) as publisher:
        await normal.send(json.dumps({"controller": "realtime", "action": "subscribe", **ROOM, "requestId": "n"}))
        assert json.loads(await asyncio.wait_for(normal.recv(), 10))["status"] == 200

        async def notifications() -> list[int]:
            received = []
            while len(received) < PUBLISHES:
                received.append(json.loads(await normal.recv())["result"]["_source"]["n"])
            return received

        async def answers() -> list[int]:
            statuses = []
            while len(statuses) < PUBLISHES:
                statuses.append(json.loads(await publisher.recv())["status"])
            return statuses

        async with asyncio.timeout(30):  # (a publisher waiting on the slow subscriber never gets there)
            received = asyncio.ensure_future(notifications())
            for n in range(PUBLISHES):
                publish = {"controller": "realtime", "action": "publish", **ROOM, "requestId": f"p{n}"}
                await publisher.send(json.dumps({**publish, "body": {"n": n, "pad": PAD}}))
            assert await answers() == [200] * PUBLISHES
            assert await received == list(range(PUBLISHES))  # every notification, in order

        # The server no longer counts the slow subscribers. Each is taken out of the room by its
        # connection's writer once it has fallen behind, which may run after the publisher's last
        # answer: asked again until then (within the bound the test gives everything).
        deadline = time.monotonic() + 30
        while True:
            count = await asyncio.get_running_loop().run_in_executor(
                None, query, server.port, {"controller": "realtime", "action": "count", "body": {"roomId": room_id}}
            )
            if count["result"] == {"count": 1} or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert count["result"] == {"count": 1}, count

    reader.join(30)
    assert not reader.is_alive(), "the slow subscriber's connection was not closed"
    slow.close()
    assert all("WebSocket connection " in line and "closed (1011)" in line for line in seen["log"]), seen
    assert seen["close"] == (1011, "too much backpressure: client is too slow"), seen
    assert seen["notifications"] < PUBLISHES  # what waited for it past the bound was dropped
    # The one that never reads, not even the close frame, has its socket dropped by the server
    # (once the close frame has waited for it in vain).
    deadline = time.monotonic() + 30
    while dead.tcp_state() == 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dead.tcp_state() != 1, "the server kept the socket of a subscriber that never reads"
    dead.close()
