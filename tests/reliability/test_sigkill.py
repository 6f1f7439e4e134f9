"""A server killed (SIGKILL) while clients write documents loses nothing it acknowledged.

PostgreSQL only (``DATABASE_URL=postgres://...``): the server process uses the test database that
pytest-django created. Several WebSocket clients write at once, each with several requests in
flight: ``document:mCreate`` batches and single ``document:create`` calls. The server is killed
mid-way, started again on the same database, and then:

- every document acknowledged before the kill is there, with its content (acknowledged writes
  are durable);
- every stored document is complete: all its fields, and valid ``_kuzzle_info`` (each document's
  write is atomic: no document is half-written, acknowledged or not);
- no batch is half-written (the README: "a multi-document write is one transaction: every document
  is written, or none is"), whether its answer arrived or not.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ROOT, UVICORN, free_port, project_env, query, wait_for_healthcheck

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only (DATABASE_URL)"
)

INDEX, COLLECTION = "durable", "writes"
BATCH_CLIENTS, SINGLE_CLIENTS = 4, 2
BATCH_SIZE = 20
IN_FLIGHT = 4  # requests each client keeps outstanding
KILL_AFTER = 60  # acknowledged requests, all clients together, before the kill
RUN_LIMIT = 20.0  # s: a bound for the writers, whatever happens


def content(key: str) -> dict[str, Any]:
    """What document ``key`` holds: fields that only a complete write stores together."""
    client, batch, n = key.split("-")
    return {
        "client": client,
        "batch": int(batch),
        "n": int(n),
        "filler": "x" * 300,
        "digest": hashlib.sha256(key.encode()).hexdigest(),
    }


def database_url() -> str:
    """The URL of the database this test runs on (the one pytest-django created)."""
    from django.db import connection

    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Process:
    """The project under uvicorn on the test's database."""

    def __init__(self, tmp: Path) -> None:
        env = project_env(tmp, DATABASE_URL=database_url())
        env.pop("REDIS_URL", None)  # (one process: the layer has no part in this)
        self.env, self.tmp, self.port = env, tmp, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, name: str) -> None:
        log = self.tmp / f"{name}.log"
        self.log = log
        with log.open("wb") as out:
            argv = [part.format(port=self.port) for part in UVICORN]
            self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for_healthcheck(name, self.process, self.port, self.output, timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Process]:
    process = Process(tmp_path)
    try:
        yield process
    finally:
        process.stop()


class Ledger:
    """What the clients sent, and what the server acknowledged, per request."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = {}  # requestId -> document ids
        self.acknowledged: set[str] = set()  # requestIds answered 200
        self.refused: dict[str, Any] = {}  # requestIds answered with an error
        self.enough = asyncio.Event()

    def ack(self, envelope: dict[str, Any]) -> None:
        request_id = envelope["requestId"]
        if envelope["status"] == 200:
            self.acknowledged.add(request_id)
            if len(self.acknowledged) >= KILL_AFTER:
                self.enough.set()
        else:
            self.refused[request_id] = envelope.get("error")


async def writer(url: str, name: str, batch: bool, ledger: Ledger) -> None:
    """Write until the connection ends, ``IN_FLIGHT`` requests outstanding."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    sequence = 0

    def next_request() -> str:
        nonlocal sequence
        sequence += 1
        request_id = f"{name}-{sequence}"
        keys = [f"{name}-{sequence}-{n}" for n in range(BATCH_SIZE if batch else 1)]
        ledger.sent[request_id] = keys
        request: dict[str, Any] = {"controller": "document", "index": INDEX, "collection": COLLECTION}
        if batch:
            request.update(action="mCreate", body={"documents": [{"_id": k, "body": content(k)} for k in keys]})
        else:
            request.update(action="create", _id=keys[0], body=content(keys[0]))
        return json.dumps({**request, "requestId": request_id})

    try:
        async with connect(url, open_timeout=10, ping_interval=None, max_queue=None) as ws:
            for _ in range(IN_FLIGHT):
                await ws.send(next_request())
            while True:
                ledger.ack(json.loads(await ws.recv()))
                await ws.send(next_request())
    except (ConnectionClosed, OSError):
        return  # the server was killed


async def write_then_kill(server: Process) -> Ledger:
    ledger = Ledger()
    url = f"ws://127.0.0.1:{server.port}/"
    clients = [asyncio.create_task(writer(url, f"b{i}", True, ledger)) for i in range(BATCH_CLIENTS)] + [
        asyncio.create_task(writer(url, f"s{i}", False, ledger)) for i in range(SINGLE_CLIENTS)
    ]
    try:
        await asyncio.wait_for(ledger.enough.wait(), RUN_LIMIT)
    except TimeoutError:
        pytest.fail(f"only {len(ledger.acknowledged)} writes acknowledged:\n{server.output()}")
    server.kill()  # with requests of every client in flight
    await asyncio.wait_for(asyncio.gather(*clients), RUN_LIMIT)
    return ledger


def stored_rows() -> dict[str, Any]:
    from kuzzle_events.models import Document

    rows = Document.objects.filter(collection__index__name=INDEX, collection__name=COLLECTION)
    return {row.key: row for row in rows}


def test_sigkill_during_writes_loses_no_acknowledged_document(server: Process) -> None:
    server.start("before")
    for request in (
        {"controller": "index", "action": "create", "index": INDEX},
        {"controller": "collection", "action": "create", "index": INDEX, "collection": COLLECTION},
    ):
        assert query(server.port, request)["status"] == 200
    started = time.time() * 1000
    ledger = asyncio.run(write_then_kill(server))
    assert not ledger.refused, f"writes refused before the kill: {ledger.refused}"
    in_doubt = set(ledger.sent) - ledger.acknowledged
    assert in_doubt, "the kill came after every answer: nothing was in flight"

    server.start("after")
    rows = stored_rows()
    acknowledged = {key for request_id in ledger.acknowledged for key in ledger.sent[request_id]}
    assert acknowledged <= rows.keys(), f"acknowledged documents lost: {sorted(acknowledged - rows.keys())[:10]}"
    assert rows.keys() <= {key for keys in ledger.sent.values() for key in keys}, "documents nobody sent"

    # Each document's write is atomic: every stored one is whole, acknowledged or not.
    for key, row in rows.items():
        assert row.source == content(key), f"document {key} is incomplete: {row.source}"
        assert row.author == "-1" and row.updater is None and row.updated_at is None, key
        assert isinstance(row.created_at, int) and row.created_at >= started - 60_000, (key, row.created_at)

    # A multi-document write is one transaction: none of the batches in flight is half-written.
    for request_id in in_doubt:
        keys = ledger.sent[request_id]
        present = [key for key in keys if key in rows]
        assert len(present) in (0, len(keys)), f"request {request_id} half-written: {len(present)} of {len(keys)}"

    # The restarted server answers them as stored.
    sample = sorted(acknowledged)[:: max(1, len(acknowledged) // 50)]
    got = query(
        server.port,
        {"controller": "document", "action": "mGet", "index": INDEX, "collection": COLLECTION, "body": {"ids": sample}},
    )
    assert got["status"] == 200 and not got["result"]["errors"], got  # type: ignore[index]
    for document in got["result"]["successes"]:  # type: ignore[index]
        info = document["_source"].pop("_kuzzle_info")
        assert document["_source"] == content(document["_id"]) and info["author"] == "-1", document
    counted = query(
        server.port, {"controller": "document", "action": "count", "index": INDEX, "collection": COLLECTION}
    )
    assert counted["result"] == {"count": len(rows)}, counted
    sys.stderr.write(
        f"sigkill: {len(ledger.sent)} requests sent, {len(ledger.acknowledged)} acknowledged, "
        f"{len(in_doubt)} in flight at the kill; {len(rows)} documents stored\n"
    )
