"""Mappings and validation specifications enforced on document writes, as Kuzzle enforces them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kuzzle_events import Application
from kuzzle_events.documents import writes
from tests.api.test_auth import call
from tests.api.test_documents import stored

STRICT = {"dynamic": "strict", "properties": {"title": {"type": "text"}, "author": {"properties": {"name": {}}}}}
SPEC = {
    "fields": {
        "title": {"type": "string", "mandatory": True},
        "year": {"type": "integer", "defaultValue": 2000, "typeOptions": {"range": {"max": 3000}}},
        "pages": {"type": "integer", "defaultValue": 0},
    },
    "validators": [{"not": {"equals": {"title": "forbidden"}}}],
}


async def doc(app: Application, action: str, **data: Any) -> dict[str, Any]:
    return await call(app, controller="document", action=action, index="library", collection="books", **data)


@pytest.fixture
async def strict(started: Application) -> Application:
    answer = await call(
        started, controller="collection", action="create", index="library", collection="books", body={"mappings": STRICT}
    )
    assert answer["status"] == 200, answer["error"]
    return started


@pytest.fixture
async def specified(started: Application) -> Application:
    for request in (
        {"controller": "collection", "action": "create", "collection": "books"},
        {"controller": "collection", "action": "updateSpecifications", "collection": "books", "body": SPEC},
    ):
        answer = await call(started, index="library", **request)
        assert answer["status"] == 200, answer["error"]
    return started


def _error(answer: dict[str, Any]) -> tuple[int, str, str]:
    return answer["status"], answer["error"]["id"], answer["error"]["message"]


async def test_a_strict_mapping_refuses_unknown_fields_on_every_single_write(strict: Application) -> None:
    refused = (
        400,
        "services.storage.strict_mapping_rejection",
        'Cannot create document. Field "year" is not present in collection "library:books" strict mapping',
    )
    assert _error(await doc(strict, "create", _id="a", body={"title": "A", "year": 1})) == refused
    assert _error(await doc(strict, "createOrReplace", _id="a", body={"year": 1})) == refused
    assert (await doc(strict, "create", _id="a", body={"title": "A", "author": {"name": "x"}}))["status"] == 200
    assert _error(await doc(strict, "replace", _id="a", body={"year": 1})) == refused
    assert _error(await doc(strict, "update", _id="a", body={"year": 1})) == refused
    assert _error(await doc(strict, "upsert", _id="b", body={"changes": {"title": "B"}, "default": {"year": 1}})) == (
        refused
    )
    # Elasticsearch names the field by its last part; strictness is inherited by the objects.
    nested = await doc(strict, "update", _id="a", body={"author": {"born": 1775}})
    assert _error(nested)[2].startswith('Cannot create document. Field "born" ')
    assert await stored() == {"a": {"title": "A", "author": {"name": "x"}}}


async def test_m_star_and_bulk_writes_refuse_per_document_in_elasticsearch_words(strict: Application) -> None:
    documents = [{"_id": "ok", "body": {"title": "fine"}}, {"_id": "ko", "body": {"title": "no", "year": 2}}]
    made = (await doc(strict, "mCreate", body={"documents": documents}))["result"]
    assert [s["_id"] for s in made["successes"]] == ["ok"]
    assert made["errors"] == [
        {
            "document": {"_id": "ko", "body": {"title": "no", "year": 2}},
            "status": 400,
            "reason": "mapping set to strict, dynamic introduction of [year] within [_doc] is not allowed",
        }
    ]
    upserted = await doc(strict, "mUpsert", body={"documents": [{"_id": "ok", "changes": {"author": {"x": 1}}}]})
    assert upserted["result"]["errors"][0]["reason"] == (
        "mapping set to strict, dynamic introduction of [x] within [author] is not allowed"
    )
    written = await call(
        strict, controller="bulk", action="mWrite", index="library", collection="books", body={"documents": documents}
    )
    assert [e["document"]["_id"] for e in written["result"]["errors"]] == ["ko"]
    imported = await call(
        strict,
        controller="bulk",
        action="import",
        index="library",
        collection="books",
        body={"bulkData": [{"index": {"_id": "i"}}, {"isbn": "1"}]},
    )
    assert imported["result"]["errors"] == [
        {
            "index": {
                "_id": "i",
                "status": 400,
                "_source": {"isbn": "1"},
                "error": {
                    "reason": "mapping set to strict, dynamic introduction of [isbn] within [_doc] is not allowed",
                    "type": "strict_dynamic_mapping_exception",
                },
            }
        }
    ]
    by_query = await doc(strict, "updateByQuery", body={"query": {}, "changes": {"year": 3}})
    assert by_query["result"]["successes"] == [] and len(by_query["result"]["errors"]) == 1
    assert set(await stored()) == {"ok"}


async def test_dynamic_false_keeps_unknown_fields(started: Application) -> None:
    body = {"mappings": {"dynamic": False, "properties": {"title": {"type": "text"}}}}
    await call(started, controller="collection", action="create", index="library", collection="books", body=body)
    assert (await doc(started, "create", _id="a", body={"title": "A", "year": 1}))["status"] == 200
    assert await stored() == {"a": {"title": "A", "year": 1}}


async def test_the_validated_writes_check_the_specifications_and_fill_in_defaults(specified: Application) -> None:
    created = await doc(specified, "create", _id="a", body={"title": "A", "pages": None})
    assert created["status"] == 200, created["error"]
    # A default of 0 is one JavaScript reads as false: Kuzzle leaves the field as given.
    assert created["result"]["_source"]["year"] == 2000 and created["result"]["_source"]["pages"] is None
    assert _error(await doc(specified, "create", body={"year": 1900})) == (
        400,
        "validation.check.failed_field",
        'Validation failed. Field "title": The field is mandatory.',
    )
    assert _error(await doc(specified, "createOrReplace", _id="a", body={"title": "forbidden"})) == (
        400,
        "validation.check.failed_document",
        "Failed to validate document: The document does not match validation filters.",
    )
    assert _error(await doc(specified, "replace", _id="a", body={"title": 3}))[1] == "validation.check.failed_field"
    # An update is checked merged into the document: the title it does not repeat is there.
    assert (await doc(specified, "update", _id="a", body={"year": 1999}))["status"] == 200
    assert _error(await doc(specified, "update", _id="a", body={"year": 4000}))[2] == (
        'Validation failed. Field "year": Value 4000 is greater than the allowed maximum (3000)'
    )
    # It fills in only the defaults of the fields it sets to null.
    assert (await doc(specified, "update", _id="a", body={"year": None}))["status"] == 200
    assert (await stored())["a"]["year"] == 2000
    assert (await doc(specified, "get", _id="a"))["result"]["_source"]["title"] == "A"


async def test_writes_kuzzle_does_not_validate_store_documents_as_given(specified: Application) -> None:
    # Kuzzle checks specifications on create, createOrReplace, replace and update only.
    upsert = await doc(specified, "upsert", _id="u", body={"changes": {"year": 1}})
    assert upsert["status"] == 200, upsert["error"]
    made = await doc(specified, "mCreate", body={"documents": [{"_id": "m", "body": {"year": 1}}]})
    assert made["result"]["errors"] == []
    written = await call(
        specified, controller="bulk", action="write", index="library", collection="books", _id="w", body={"year": 1}
    )
    assert written["status"] == 200
    assert await stored() == {"u": {"year": 1}, "m": {"year": 1}, "w": {"year": 1}}


async def test_validate_answers_every_problem_as_kuzzle(specified: Application) -> None:
    good = await doc(specified, "validate", body={"title": "A", "year": 1900})
    assert good["result"] == {"errorMessages": {}, "valid": True}
    bad = await doc(specified, "validate", body={"year": 4000, "title": ["x"]})
    assert bad["result"] == {
        "errorMessages": {
            "fieldScope": {
                "children": {
                    "title": {"messages": ["The field is not a multivalued field; Multiple values provided."]},
                    "year": {"messages": ["Value 4000 is greater than the allowed maximum (3000)"]},
                }
            }
        },
        "valid": False,
    }
    filtered = await doc(specified, "validate", body={"title": "forbidden", "year": 1})
    assert filtered["result"]["errorMessages"] == {"documentScope": ["The document does not match validation filters."]}
    # Nothing is stored, and a collection without specifications (even none at all) accepts anything.
    assert await stored() == {}
    other = await call(
        specified, controller="document", action="validate", index="library", collection="nope", body={"x": 1}
    )
    assert other["result"] == {"errorMessages": {}, "valid": True}


def test_the_collection_is_read_once_per_request_whatever_the_documents() -> None:
    from kuzzle_events.documents import collections

    collections.create_collection("library", "books", STRICT)
    collections.update_specifications("library", "books", {"fields": {"title": {"type": "string"}}})

    def collection_reads(count: int) -> int:
        operations = [
            {"kind": "create", "_id": f"{count}-{i}", "body": {"title": "t"}, "validate": True} for i in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            outcomes = writes.apply("library", "books", operations)
        assert all("error" not in o for o in outcomes)
        return sum('FROM "kuzzle_events_collection"' in q["sql"] for q in captured)

    assert collection_reads(1) == collection_reads(20) == 1


async def test_fields_dynamic_false_keeps_are_not_searched(started: Application) -> None:
    mappings = {
        "dynamic": False,
        "properties": {"title": {"type": "keyword"}, "meta": {"dynamic": "true", "properties": {}}},
    }
    await call(
        started, controller="collection", action="create", index="library", collection="books", body={"mappings": mappings}
    )
    await doc(started, "create", _id="a", body={"title": "A", "year": 1, "meta": {"n": 1}, "extra": {"n": 1}})
    await doc(started, "create", _id="b", body={"title": "B", "year": 2})

    async def ids(query: dict[str, Any], action: str = "search") -> Any:
        answer = await doc(started, action, body={"query": query})
        assert answer["status"] == 200, answer["error"]
        return answer["result"]["count"] if action == "count" else sorted(h["_id"] for h in answer["result"]["hits"])

    assert await ids({"term": {"title": "A"}}) == ["a"]
    for unindexed in ({"term": {"year": 1}}, {"range": {"year": {"gte": 0}}}, {"exists": {"field": "year"}},
                      {"match": {"extra.n": 1}}, {"prefix": {"year": "1"}}):  # fmt: skip
        assert await ids(unindexed) == [] and await ids(unindexed, "count") == 0
    # As in Elasticsearch, the negation of a clause on such a field matches every document.
    assert await ids({"bool": {"must_not": [{"term": {"year": 1}}]}}) == ["a", "b"]
    # A dynamic level below keeps its fields indexed, and the metadata always are.
    assert await ids({"term": {"meta.n": 1}}) == ["a"]
    assert await ids({"term": {"_kuzzle_info.author": "-1"}}) == ["a", "b"]
    koncorde = await doc(started, "search", lang="koncorde", body={"query": {"equals": {"year": 1}}})
    assert koncorde["result"]["hits"] == []
    deleted = await doc(started, "deleteByQuery", body={"query": {"term": {"year": 1}}})
    assert deleted["result"]["ids"] == [] and set(await stored()) == {"a", "b"}
