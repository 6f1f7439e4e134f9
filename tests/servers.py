"""Real server processes for tests: the project under uvicorn or daphne on a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

UVICORN = [sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1", "--port", "{port}"]
DAPHNE = [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def query(port: int, request: dict[str, object]) -> dict[str, object]:
    """``POST /_query`` with a whole request; the envelope back, whatever its status."""
    data = json.dumps(request).encode()
    http = urllib.request.Request(
        f"http://127.0.0.1:{port}/_query", data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=10) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return json.loads(error.read())


def project_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a project process with its own SQLite database in ``tmp``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",  # sqlite:////tmp/.../db.sqlite3
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` as a process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def wait_for_healthcheck(
    name: str, process: subprocess.Popen[bytes], port: int, output: Callable[[], str], timeout: float
) -> bytes:
    """Wait until the server ``process`` answers ``GET /_healthcheck`` with a 200; its body.

    Fails the test, with the server's ``output()``, if the process exits or does not answer in time.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"the {name} server exited with {process.returncode}:\n{output()}")
        try:
            status, _, body = get(port, "/_healthcheck")
            if status == 200:
                return body
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the {name} server did not answer GET /_healthcheck within {timeout:.0f} s:\n{output()}")
        time.sleep(0.1)


def serve(
    name: str, command: list[str], tmp: Path, extra_env: dict[str, str] | None = None, shutdown_lines: tuple[str, ...] = ()
) -> Iterator[Server]:
    """Migrate a fresh SQLite database, start ``command``, wait for ``/_healthcheck``, stop it."""
    env = project_env(tmp, **(extra_env or {}))
    migrate = manage("migrate", "--noinput", env=env)
    if migrate.returncode != 0:
        pytest.fail(f"migrate failed for the {name} server:\n{migrate.stdout}\n{migrate.stderr}")

    port = free_port()
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [part.format(port=port) for part in command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(name, port, process, log, env)
    try:
        body = wait_for_healthcheck(name, process, port, server.output, timeout=30)
        assert json.loads(body)["status"] == 200, f"the {name} server is not healthy: {body!r}"
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the {name} server ignored SIGTERM for 15 s:\n{server.output()}")
    # Both stop on SIGTERM by themselves, uvicorn after lifespan.shutdown; uvicorn then re-raises
    # the signal it caught, so its exit status may be -SIGTERM.
    assert process.returncode in (0, -signal.SIGTERM), f"the {name} server stopped with {process.returncode}"
    for line in shutdown_lines:
        assert line in server.output(), f"the {name} server did not log {line!r} when stopping:\n{server.output()}"
