"""Two server processes on one database: tokens, rights and failed logins are the same on both."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import UVICORN, Server, free_port, query, serve


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared-db")


@pytest.fixture(scope="module")
def first(database: Path) -> Iterator[Server]:
    yield from serve("first", UVICORN, database)


@pytest.fixture(scope="module")
def second(database: Path, first: Server) -> Iterator[Server]:
    yield from serve("second", UVICORN, database)


def test_tokens_and_rights_hold_across_processes(first: Server, second: Server) -> None:
    credentials = {"local": {"username": "boss", "password": "boss-secret-pw"}}
    made = query(
        first.port,
        {"controller": "security", "action": "createFirstAdmin", "reset": True, "body": {"credentials": credentials}},
    )
    assert made["status"] == 200, made["error"]
    login = {"controller": "auth", "action": "login", "strategy": "local", "body": credentials["local"]}
    jwt = query(first.port, login)["result"]["jwt"]  # type: ignore[index]

    # The token from the first process is honoured by the second.
    me = query(second.port, {"controller": "auth", "action": "getCurrentUser", "jwt": jwt})
    assert me["result"]["_id"] == made["result"]["_id"]  # type: ignore[index]

    # The first admin closed anonymous access on the second process too (within SECURITY_CACHE_TTL).
    time.sleep(1.2)
    refused = query(second.port, {"controller": "server", "action": "capabilities"})
    assert (refused["status"], refused["error"]["id"]) == (401, "security.rights.unauthorized")  # type: ignore[index]

    # Logging out on the first process revokes the token on the second.
    assert query(first.port, {"controller": "auth", "action": "logout", "jwt": jwt})["status"] == 200
    revoked = query(second.port, {"controller": "auth", "action": "getCurrentUser", "jwt": jwt})
    assert (revoked["status"], revoked["error"]["id"]) == (401, "security.token.invalid")  # type: ignore[index]


# Failed logins, counted in Django's cache: Redis, shared by both processes.


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis of this module's own: the lockout of 127.0.0.1 it causes must not reach other tests."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lockout-db")


@pytest.fixture(scope="module")
def left(redis_database: Path, redis_url: str) -> Iterator[Server]:
    yield from serve("left", UVICORN, redis_database, {"REDIS_URL": redis_url})


@pytest.fixture(scope="module")
def right(redis_database: Path, redis_url: str, left: Server) -> Iterator[Server]:
    yield from serve("right", UVICORN, redis_database, {"REDIS_URL": redis_url})


def test_failed_logins_lock_a_username_on_every_process(left: Server, right: Server) -> None:
    name = "ada"
    credentials = {"username": name, "password": "ada-secret-pw"}
    made = query(left.port, {"controller": "security", "action": "createUser", "_id": name,
                             "body": {"content": {"profileIds": ["default"]}, "credentials": {"local": credentials}}})  # fmt: skip
    assert made["status"] == 200, made
    login = {"controller": "auth", "action": "login", "strategy": "local"}
    # Successful logins never count.
    for _ in range(12):
        assert query(left.port, {**login, "body": credentials})["status"] == 200
    for _ in range(10):  # LOGIN_ATTEMPTS
        assert query(left.port, {**login, "body": {**credentials, "password": "wrong"}})["status"] == 401
    locked = query(right.port, {**login, "body": credentials})
    assert (locked["status"], locked["error"]["id"]) == (429, "api.process.too_many_logins_requests")  # type: ignore[index]
