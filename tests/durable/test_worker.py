"""``manage.py kuzzle_worker``: the deliveries run by a process of their own, as users run it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.durable.audit_plugin import audit_lines
from tests.servers import ROOT, manage, project_env

PLUGIN = "tests.durable.audit_plugin.AuditPlugin"


def create(env: dict[str, str], key: str) -> None:
    done = manage("kuzzle", "document:create", "-i", "shop", "-c", "orders", "--id", key, "--body", "{}", env=env)
    assert done.returncode == 0, done.stderr


def wait_for(predicate: Callable[[], bool], what: str, output: Callable[[], str], timeout: float = 30) -> None:
    """Wait until ``predicate()``; fail with ``output()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s:\n{output()}")
        time.sleep(0.05)


def test_the_worker_runs_what_the_servers_recorded(tmp_path: Path) -> None:
    # The servers (here `manage.py kuzzle` processes) record deliveries and leave them to workers.
    env = project_env(tmp_path, KUZZLE_PLUGINS=PLUGIN, DURABLE_AUDIT_DIR=str(tmp_path), KUZZLE_DURABLE_RUNNER="false")
    assert manage("migrate", "--noinput", env=env).returncode == 0
    for target, extra in (("index:create", []), ("collection:create", ["-c", "orders"])):
        assert manage("kuzzle", target, "-i", "shop", *extra, env=env).returncode == 0
    create(env, "o1")
    assert audit_lines(tmp_path) == []  # recorded, not run

    once = manage("kuzzle_worker", "--once", env=env)
    assert once.returncode == 0, once.stderr
    assert "kuzzle_worker: 1 tries of 1 durable hooks" in once.stdout
    [start, done] = audit_lines(tmp_path)
    assert start[0] == "start" and done[:1] + done[2:] == ["done", "o1"] and done[1] == start[1]

    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "kuzzle_worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "running the deliveries" in log.read_text(), "the worker's start", log.read_text)
        create(env, "o2")
        wait_for(lambda: ["done", "o2"] in [[line[0], line[-1]] for line in audit_lines(tmp_path)], "o2's hook", log.read_text)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert worker.returncode == 0, log.read_text()
    assert "kuzzle_worker: stopped" in log.read_text()
    assert [line[-1] for line in audit_lines(tmp_path) if line[0] == "done"] == ["o1", "o2"]
