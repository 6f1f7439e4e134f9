"""Two server processes on one database: tokens and rights are the same on both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import UVICORN, Server, query, serve


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
        first.port, {"controller": "security", "action": "createFirstAdmin", "body": {"credentials": credentials}}
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
