"""Concurrent document writes under uvicorn lose nothing: each document is written atomically, so
concurrent updates of one document all land (its ``_version`` counts them), and concurrent ``mCreate``
of the same ids create each id once, the other requests answering it in ``errors``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.servers import UVICORN, Server, query, serve

WRITERS = 8
# KUZZLE_RELIABILITY_DATABASE_URL: run the server on that (empty) database instead of a fresh SQLite one.
_ENV = {"DATABASE_URL": url} if (url := os.environ.get("KUZZLE_RELIABILITY_DATABASE_URL")) else {}
TARGET = {"controller": "document", "index": "reliability", "collection": "writes"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve("uvicorn", UVICORN, tmp_path_factory.mktemp("concurrent-writes"), _ENV)


def call(server: Server, **request: Any) -> dict[str, Any]:
    answer = query(server.port, request)
    assert isinstance(answer, dict)
    return answer


def test_concurrent_updates_and_creates(server: Server) -> None:
    assert call(server, controller="index", action="create", index="reliability")["status"] == 200
    call(server, controller="collection", action="create", index="reliability", collection="writes")
    call(server, **TARGET, action="create", _id="shared", body={})

    def update(n: int) -> dict[str, Any]:
        return call(server, **TARGET, action="update", _id="shared", retryOnConflict=3, body={f"f{n}": n})

    def create(n: int) -> dict[str, Any]:
        documents = [{"_id": f"id{i}", "body": {"by": n}} for i in range(WRITERS)]
        return call(server, **TARGET, action="mCreate", body={"documents": documents})

    with ThreadPoolExecutor(WRITERS) as pool:
        updates = list(pool.map(update, range(WRITERS)))
        creates = list(pool.map(create, range(WRITERS)))
    assert [u["status"] for u in updates] == [200] * WRITERS, [u.get("error") for u in updates]
    shared = call(server, **TARGET, action="get", _id="shared")["result"]
    assert {k: v for k, v in shared["_source"].items() if k != "_kuzzle_info"} == {f"f{n}": n for n in range(WRITERS)}
    assert shared["_version"] == 1 + WRITERS
    assert [c["status"] for c in creates] == [200] * WRITERS, [c.get("error") for c in creates]
    made = [s["_id"] for c in creates for s in c["result"]["successes"]]
    refused = [e["document"]["_id"] for c in creates for e in c["result"]["errors"]]
    assert sorted(made) == [f"id{i}" for i in range(WRITERS)]
    assert len(refused) == WRITERS * (WRITERS - 1)
    assert {e["reason"] for c in creates for e in c["result"]["errors"]} == {"document already exists"}
