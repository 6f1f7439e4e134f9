"""A server killed (SIGKILL) after acknowledging a write, before the write's durable hook ran:
once a server runs again, the hook runs, once.

PostgreSQL only (``DATABASE_URL=postgres://...``), on the test database, like test_sigkill.py.
The project loads ``tests.durable.audit_plugin``: a durable hook on ``document:afterCreate``.
Two moments of the kill: the delivery not taken yet (the first server runs no deliveries), and
the hook started but not finished (it waits on a file), which the next server takes again once
the killed one's lease has ended.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.durable.audit_plugin import audit_lines
from tests.reliability.test_sigkill import Process
from tests.servers import query

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only (DATABASE_URL)"
)

INDEX, COLLECTION = "shop", "orders"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Process]:
    process = Process(tmp_path)
    process.env.update(
        KUZZLE_PLUGINS="tests.durable.audit_plugin.AuditPlugin",
        DURABLE_AUDIT_DIR=str(tmp_path),
        KUZZLE_DURABLE_LEASE="2",
        KUZZLE_DURABLE_POLL_INTERVAL="0.2",
    )
    try:
        yield process
    finally:
        process.stop()


def wait_until(done: Callable[[], bool], what: str, server: Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s:\n{server.output()}")
        time.sleep(0.05)


def pending_deliveries() -> int:
    from kuzzle_events.models import Delivery

    return Delivery.objects.count()


@pytest.mark.parametrize("moment", ["before the delivery was taken", "while the hook ran"])
def test_a_durable_hook_runs_once_after_its_server_was_killed(server: Process, tmp_path: Path, moment: str) -> None:
    started = moment == "while the hook ran"
    if started:
        (tmp_path / "block").touch()
    else:
        server.env["KUZZLE_DURABLE_RUNNER"] = "false"
    server.start("before")
    for request in (
        {"controller": "index", "action": "create", "index": INDEX},
        {"controller": "collection", "action": "create", "index": INDEX, "collection": COLLECTION},
        {"controller": "document", "action": "create", "index": INDEX, "collection": COLLECTION, "_id": "o1", "body": {}},
    ):
        assert query(server.port, request)["status"] == 200  # acknowledged
    if started:
        wait_until(lambda: len(audit_lines(tmp_path)) == 1, "the hook's start", server)
    assert pending_deliveries() == 1
    server.kill()
    assert [line[0] for line in audit_lines(tmp_path)] == (["start"] if started else [])

    (tmp_path / "block").unlink(missing_ok=True)
    server.env.pop("KUZZLE_DURABLE_RUNNER", None)
    server.start("after")
    wait_until(lambda: pending_deliveries() == 0, "the delivery's completion", server)
    lines = audit_lines(tmp_path)
    done = [line for line in lines if line[0] == "done"]
    assert [line[2] for line in done] == ["o1"], lines  # once
    starts = [line for line in lines if line[0] == "start"]
    assert {line[1] for line in starts + done} == {done[0][1]}  # one delivery id, across the kill
    assert len(starts) == (2 if started else 1)
