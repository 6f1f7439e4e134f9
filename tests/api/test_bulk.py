"""The bulk controller: Kuzzle's raw writes."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import Application
from tests.api.test_auth import call


@pytest.fixture
async def library(started: Application) -> Application:
    await call(started, controller="index", action="create", index="library")
    await call(started, controller="collection", action="create", index="library", collection="books")
    return started


async def bulk(app: Application, action: str, **data: Any) -> dict[str, Any]:
    return await call(app, controller="bulk", action=action, index="library", collection="books", **data)


async def doc(app: Application, action: str, **data: Any) -> dict[str, Any]:
    return await call(app, controller="document", action=action, index="library", collection="books", **data)


async def test_m_write_stores_content_and_metadata_as_given(library: Application) -> None:
    await doc(library, "create", _id="w1", body={"v": "strawberry"})
    answer = await bulk(
        library,
        "mWrite",
        body={
            "documents": [
                {"_id": "w1", "body": {"v": "blueberry"}},
                {"_id": "w2", "body": {"v": "kiwi", "_kuzzle_info": {"author": "custom", "extra": 1}}},
                {"_id": "w3"},
            ]
        },
    )
    result = answer["result"]
    assert [(s["_id"], s["_version"]) for s in result["successes"]] == [("w1", 2), ("w2", 1)]
    assert set(result["successes"][0]) == {"_id", "_source", "_version"}
    assert result["errors"][0]["reason"] == "document body must be an object"
    got = (await doc(library, "mGet", body={"ids": ["w1", "w2"]}))["result"]["successes"]
    assert "_kuzzle_info" not in got[0]["_source"]
    assert got[1]["_source"]["_kuzzle_info"] == {
        "author": "custom",
        "createdAt": None,
        "updater": None,
        "updatedAt": None,
        "extra": 1,
    }
    strict = await bulk(library, "mWrite", strict=True, body={"documents": [1]})
    assert strict["error"]["id"] == "api.process.incomplete_multiple_request"


async def test_write_fires_no_generic_event_and_notifies_only_when_asked(library: Application) -> None:
    seen: list[str] = []

    def listener(*payload: Any) -> Any:
        seen.append("event")
        return payload[0]

    for event in ("generic:document:beforeWrite", "generic:document:injectMetadata"):
        library.pipe.register(event, listener)
    written = await bulk(library, "write", _id="raw", body={"a": 1})
    assert written["result"] == {"_id": "raw", "_source": {"a": 1}, "_version": 1}
    assert seen == []
    generated = await bulk(library, "write", body={"b": 1})
    assert len(generated["result"]["_id"]) == 32


async def test_import_delete_and_update_by_query(library: Application) -> None:
    await doc(library, "create", _id="old", body={"n": 0})
    lines = [
        {"index": {"_id": "i1"}},
        {"n": 1},
        {"create": {"_id": "old"}},
        {"n": 9},
        {"create": {}},
        {"n": 2},
        {"update": {"_id": "i1"}},
        {"doc": {"m": 1}},
        {"update": {"_id": "nope"}},
        {"doc": {"m": 1}},
        {"delete": {"_id": "nope"}},
    ]
    answer = await bulk(library, "import", body={"bulkData": lines})
    result = answer["result"]
    assert [next(iter(s)) for s in result["successes"]] == ["index", "create", "update"]
    assert result["successes"][0] == {"index": {"_id": "i1", "status": 201}}
    assert [(next(iter(e)), next(iter(e.values()))["status"]) for e in result["errors"]] == [
        ("create", 409),
        ("update", 404),
        ("delete", 404),
    ]
    assert result["errors"][0]["create"]["_source"] == {"n": 9}
    i1 = (await doc(library, "get", _id="i1"))["result"]
    assert i1["_source"]["m"] == 1 and i1["_source"]["_kuzzle_info"]["updater"] == "-1" and i1["_version"] == 2
    updated = await bulk(library, "updateByQuery", body={"query": {"range": {"n": {"gte": 1}}}, "changes": {"seen": 1}})
    assert updated["result"] == {"updated": 2}
    i1 = (await doc(library, "get", _id="i1"))["result"]
    assert i1["_source"]["seen"] == 1 and i1["_source"]["_kuzzle_info"]["updater"] == "-1"
    deleted = await bulk(library, "deleteByQuery", body={"query": {"term": {"seen": 1}}})
    assert deleted["result"] == {"deleted": 2}
    left = await doc(library, "search", body={})
    assert [h["_id"] for h in left["result"]["hits"]] == ["old"]
    bad = await bulk(library, "import", body={"bulkData": [{"upsert": {}}]})
    assert bad["error"]["id"] == "api.assert.invalid_argument"


async def test_import_takes_numeric_ids_as_elasticsearch_does(library: Application) -> None:
    lines = [{"index": {"_id": 1}}, {"title": "foo"}, {"update": {"_id": 1}}, {"doc": {"title": "foobar"}}]
    answer = await bulk(library, "import", body={"bulkData": lines})
    assert answer["result"]["successes"] == [
        {"index": {"_id": "1", "status": 201}},
        {"update": {"_id": "1", "status": 200}},
    ]
    assert (await doc(library, "get", _id="1"))["result"]["_source"]["title"] == "foobar"
    for key in (True, {"a": 1}, [1]):
        bad = await bulk(library, "import", body={"bulkData": [{"delete": {"_id": key}}]})
        assert (bad["status"], bad["error"]["id"]) == (400, "api.assert.invalid_type")
