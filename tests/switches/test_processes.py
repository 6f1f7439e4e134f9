"""Two server processes on one database: a switch set by ``manage.py`` reaches both."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import UVICORN, Server, manage, query, serve

FORMAT_NOW = ("pipe", "server:afterNow", "project.demo.events.format_now_date")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("switches-db")


@pytest.fixture(scope="module")
def first(database: Path) -> Iterator[Server]:
    yield from serve("first", UVICORN, database, {"DEMO_FORMAT_NOW": "1"})


@pytest.fixture(scope="module")
def second(database: Path, first: Server) -> Iterator[Server]:
    yield from serve("second", UVICORN, database, {"DEMO_FORMAT_NOW": "1"})


def now_of(server: Server) -> object:
    answer = query(server.port, {"controller": "server", "action": "now"})
    assert answer["status"] == 200, answer["error"]
    return answer["result"]["now"]  # type: ignore[index]


def wait_until(servers: list[Server], test: Callable[[object], bool], what: str, patience: float = 15) -> None:
    """Poll each server's ``server:now`` until ``test`` holds for all of them."""
    deadline = time.monotonic() + patience
    while not all(test(now_of(server)) for server in servers):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen by every server process in {patience:.0f} s")
        time.sleep(0.05)


def test_a_switch_set_from_the_command_line_reaches_every_server_process(first: Server, second: Server) -> None:
    servers = [first, second]
    # The demo's pipe formats the date (a string instead of Kuzzle's milliseconds).
    assert all(isinstance(now_of(server), str) for server in servers)

    off = manage("kuzzle_events", "disable", *FORMAT_NOW, "--by", "ops", env=first.env)
    assert off.returncode == 0, off.stderr
    assert "switched off by ops" in off.stdout
    wait_until(servers, lambda now: isinstance(now, int), "the pipe switched off")

    on = manage("kuzzle_events", "enable", *FORMAT_NOW, env=second.env)
    assert on.returncode == 0, on.stderr
    wait_until(servers, lambda now: isinstance(now, str), "the pipe switched back on")
