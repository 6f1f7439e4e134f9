"""Kourou's ``collection:export`` / ``collection:import`` round trip against a real server process.

Kourou itself is not installed here: ``tests/sdk/kourou.mjs`` makes, with the official kuzzle-sdk,
exactly the calls Kourou 1.2.0's source makes for these two commands (``document:count``,
``collection:getMapping``, ``document:search`` with ``scroll`` then ``document:scroll`` pages,
``index:exists``/``create``, ``collection:create`` with the dumped mappings, ``bulk:mWrite`` with
``strict`` in batches), writing and reading the files Kourou writes. The collection imported into
another index must be the one exported: its mapping, and each document with its metadata.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import UVICORN, Server, query, serve
from tests.test_sdk import SDK_DIR, SERVER_ENV, node  # noqa: F401  (node: the fixture)

MAPPINGS = {
    "dynamic": "strict",
    "_meta": {"owner": "library"},
    "properties": {
        "title": {"type": "text"},
        "year": {"type": "integer"},
        "author": {"properties": {"name": {"type": "keyword"}}},
    },
}
COUNT = 23  # more than one export page and more than one import batch, neither a multiple


@pytest.fixture(scope="module")
def kourou_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve("uvicorn", UVICORN, tmp_path_factory.mktemp("kourou"), SERVER_ENV)


def ok(server: Server, **request: Any) -> Any:
    answer = query(server.port, request)
    assert answer["status"] == 200, answer["error"]
    return answer.get("result")


def everything(server: Server, index: str) -> dict[str, Any]:
    found = ok(server, controller="document", action="search", index=index, collection="books", size=100, body={})
    return {hit["_id"]: hit["_source"] for hit in found["hits"]}


@pytest.mark.parametrize("protocol", ["websocket", "http"])
def test_kourou_collection_export_then_import(node: str, kourou_server: Server, protocol: str, tmp_path: Path) -> None:  # noqa: F811
    source, target = f"kourou-{protocol}", f"kourou-{protocol}-copy"
    ok(kourou_server, controller="collection", action="create", index=source, collection="books",
       body={"mappings": MAPPINGS})  # fmt: skip
    documents = [
        {"_id": f"b{i:02}", "body": {"title": f"Book {i}", "year": 1900 + i, "author": {"name": f"a{i % 3}"}}}
        for i in range(COUNT)
    ]
    made = ok(kourou_server, controller="document", action="mCreate", index=source, collection="books",
              body={"documents": documents})  # fmt: skip
    assert made["errors"] == []

    command = [node, "kourou.mjs", "--port", str(kourou_server.port), "--protocol", protocol, "--index", source,
               "--collection", "books", "--dir", str(tmp_path), "--to-index", target,
               "--export-batch", "10", "--import-batch", "7"]  # fmt: skip
    done = subprocess.run(command, cwd=SDK_DIR, capture_output=True, text=True, timeout=40)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{kourou_server.output()}"
    results = json.loads(done.stdout.strip().splitlines()[-1])

    assert results["exported"]["countAll"] == results["exported"]["count"] == COUNT
    # Three pages of 10 (a search, then two document:scroll), one line per document.
    assert (results["exported"]["pages"], results["exported"]["lines"]) == (3, COUNT)
    assert results["imported"] == {"total": COUNT, "batches": 4, "index": target, "collection": "books"}
    # (and what the SDK sends by itself when it connects: auth:checkToken)
    assert {k: v for k, v in results["sent"].items() if not k.startswith("auth:")} == {
        "document:count": 2,
        "collection:getMapping": 1,
        "document:search": 1,
        "document:scroll": 2,
        "index:exists": 1,
        "index:create": 1,
        "collection:create": 1,
        "bulk:mWrite": 4,
    }
    dump = tmp_path / source / "books"
    lines = [json.loads(line) for line in (dump / "documents.jsonl").read_text().splitlines()]
    assert lines[0] == {"type": "collection", "index": source, "collection": "books"}
    mappings = json.loads((dump / "mappings.json").read_text())
    assert mappings["type"] == "mappings" and mappings["content"][source]["books"]["mappings"]["dynamic"] == "strict"

    # The copy is the original: its mapping, and every document with its _kuzzle_info.
    get_mapping = {"controller": "collection", "action": "getMapping", "collection": "books"}
    assert ok(kourou_server, **get_mapping, index=target) == ok(kourou_server, **get_mapping, index=source)
    copied, original = everything(kourou_server, target), everything(kourou_server, source)
    assert len(copied) == COUNT and copied == original
    # The strict mapping came along: the copy refuses what the original refuses.
    refused = query(kourou_server.port, {"controller": "document", "action": "create", "index": target,
                                         "collection": "books", "body": {"title": "x", "isbn": "1"}})  # fmt: skip
    assert refused["error"]["id"] == "services.storage.strict_mapping_rejection"
