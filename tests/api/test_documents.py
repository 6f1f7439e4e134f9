"""The document controller on Django's ORM, with the generic document events."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError

from kuzzle_events import Application, KuzzleRequest, errors
from kuzzle_events.core.request import Connection
from kuzzle_events.models import Document
from tests.accounts import issue_token, make_user
from tests.api.test_auth import call


@pytest.fixture
async def library(started: Application) -> Application:
    for request in (
        {"controller": "index", "action": "create", "index": "library"},
        {"controller": "collection", "action": "create", "index": "library", "collection": "books"},
    ):
        answer = await call(started, **request)
        assert answer["status"] == 200, answer["error"]
    return started


async def doc(app: Application, action: str, **data: Any) -> dict[str, Any]:
    return await call(app, controller="document", action=action, index="library", collection="books", **data)


async def stored() -> dict[str, dict[str, Any]]:
    return await sync_to_async(lambda: {d.key: d.source for d in Document.objects.all()})()


async def test_document_life_cycle_with_metadata(library: Application) -> None:
    token = await sync_to_async(issue_token)("ada")
    created = await doc(library, "create", _id="dune", body={"title": "Dune", "year": 1965}, jwt=token.jwt)
    assert created["status"] == 200, created["error"]
    info = created["result"]["_source"]["_kuzzle_info"]
    assert info["author"] == "ada" and info["updater"] is None and info["createdAt"] > 0
    assert created["result"]["_source"]["title"] == "Dune"
    dup = await doc(library, "create", _id="dune", body={})
    assert dup["error"]["id"] == "services.storage.document_already_exists"
    updated = await doc(library, "update", _id="dune", body={"year": 1966, "_kuzzle_info": {"author": "eve"}})
    assert set(updated["result"]["_source"]) == {"year", "_kuzzle_info"}  # without source: the changes
    updated = await doc(library, "update", _id="dune", source=True, body={"year": 1966})
    source = updated["result"]["_source"]
    assert (source["title"], source["year"]) == ("Dune", 1966)
    assert source["_kuzzle_info"]["author"] == "ada" and source["_kuzzle_info"]["updater"] == "-1"
    got = await doc(library, "get", _id="dune")
    assert got["result"]["_source"] == source
    replaced = await doc(library, "replace", _id="dune", body={"title": "Dune Messiah"})
    assert "year" not in replaced["result"]["_source"]
    missing = await doc(library, "replace", _id="nope", body={})
    assert (missing["status"], missing["error"]["id"]) == (404, "services.storage.not_found")
    upsert = await doc(
        library, "upsert", _id="emma", source=True, body={"changes": {"title": "Emma"}, "default": {"year": 1815}}
    )
    assert upsert["result"]["created"] is True and upsert["result"]["_source"]["year"] == 1815
    replaced = await doc(library, "createOrReplace", _id="emma", body={"title": "Emma!"})
    assert replaced["result"]["created"] is False
    assert (await doc(library, "exists", _id="emma"))["result"] is True
    assert (await doc(library, "delete", _id="emma"))["result"] == {"_id": "emma"}
    assert (await doc(library, "exists", _id="emma"))["result"] is False
    assert (await doc(library, "get", _id="emma"))["error"]["id"] == "services.storage.not_found"
    auto = await doc(library, "create", body={"title": "No id"})
    assert len(auto["result"]["_id"]) == 32
    for bad_id, error_id in [("_hidden", "api.assert.invalid_id"), ("_search", "services.storage.search_as_an_id")]:
        assert (await doc(library, "create", _id=bad_id, body={}))["error"]["id"] == error_id
    assert (await doc(library, "create", _id="x", body=[1]))["error"]["id"] == "api.assert.invalid_type"


async def test_multi_document_writes_answer_per_document(library: Application) -> None:
    await doc(library, "create", _id="b1", body={"n": 1})
    made = await doc(
        library, "mCreate", body={"documents": [{"_id": "b2", "body": {"n": 2}}, {"_id": "b1", "body": {"n": 9}}]}
    )
    assert made["status"] == 200, made["error"]
    (created,) = made["result"]["successes"]
    assert (created["_id"], created["_version"], created["result"], created["status"]) == ("b2", 1, "created", 201)
    assert created["_source"]["n"] == 2 and created["_source"]["_kuzzle_info"]["author"] == "-1"
    assert made["result"]["errors"] == [
        {"document": {"_id": "b1", "body": {"n": 9}}, "status": 400, "reason": "document already exists"}
    ]
    assert await stored() == {"b1": {"n": 1}, "b2": {"n": 2}}
    # Bad items are errors of their own; the others are written.
    bad = [7, {"_id": 3, "body": {}}, {"_id": "b4"}, {"body": {"x": 1}}]
    mixed = await doc(library, "mReplace", body={"documents": [{"_id": "b2", "body": {"r": 1}}, *bad[:3]]})
    assert [s["_id"] for s in mixed["result"]["successes"]] == ["b2"]
    assert mixed["result"]["successes"][0]["_version"] == 2
    assert [(e["document"], e["status"]) for e in mixed["result"]["errors"]] == [(i, 400) for i in bad[:3]]
    assert [e["reason"] for e in mixed["result"]["errors"]] == [
        "document body must be an object",
        "document _id must be a string",
        "document body must be an object",
    ]
    updated = await doc(
        library, "mUpdate", body={"documents": [{"_id": "b2", "body": {"m": {"a": 1}}}, {"_id": "zz", "body": {}}]}
    )
    assert [(s["_id"], s["_version"], s["_source"]["m"]) for s in updated["result"]["successes"]] == [
        ("b2", 3, {"a": 1})
    ]
    assert updated["result"]["errors"][0]["status"] == 404
    # As Kuzzle's mUpdate lists them: bad bodies, then missing ids, then documents not found.
    documents = [{"body": {}}, {"_id": "zz", "body": {}}, {"_id": "b2", "body": 1}]
    ordered = await doc(library, "mUpdate", body={"documents": documents})
    assert [e["document"] for e in ordered["result"]["errors"]] == [documents[2], documents[0], documents[1]]
    upserted = await doc(
        library,
        "mUpsert",
        body={
            "documents": [
                {"_id": "b2", "changes": {"m": {"b": 2}}},
                {"_id": "u1", "changes": {"c": 1}, "default": {"c": 0, "d": 1}},
            ]
        },
    )
    assert [(s["_id"], s["created"]) for s in upserted["result"]["successes"]] == [("b2", False), ("u1", True)]
    assert (await stored())["b2"] == {"r": 1, "m": {"a": 1, "b": 2}} and (await stored())["u1"] == {"c": 0, "d": 1}
    got = await doc(library, "mGet", body={"ids": ["b1", "zz", "b2", 4]})
    assert [(d["_id"], d["_version"]) for d in got["result"]["successes"]] == [("b1", 1), ("b2", 4)]
    assert got["result"]["errors"] == ["zz", "4"]  # a number is an id, as Elasticsearch reads it
    there = await doc(library, "mExists", body={"ids": ["b1", "zz"]})
    assert there["result"] == {"successes": ["b1"], "errors": ["zz"]}
    deleted = await doc(library, "mDelete", body={"ids": ["b1", "zz", 5]})
    assert deleted["result"]["successes"] == ["b1"]
    assert deleted["result"]["errors"] == [
        {"_id": 5, "reason": "document _id must be a string", "status": 400},
        {"_id": "zz", "reason": "document not found", "status": 404},
    ]
    both = await doc(
        library, "mCreateOrReplace", body={"documents": [{"_id": "b2", "body": {}}, {"_id": "b9", "body": {}}]}
    )
    assert [s["result"] for s in both["result"]["successes"]] == ["updated", "created"]


async def test_strict_fails_the_request_after_writing_the_others(library: Application) -> None:
    await doc(library, "create", _id="s1", body={})
    answer = await doc(
        library,
        "mCreate",
        strict=True,
        body={"documents": [{"_id": "s1", "body": {}}, {"_id": "s2", "body": {}}]},
    )
    assert (answer["status"], answer["error"]["id"]) == (400, "api.process.incomplete_multiple_request")
    assert [e["document"]["_id"] for e in answer["error"]["errors"]] == ["s1"]
    assert set(await stored()) == {"s1", "s2"}
    for action, body in [("mGet", {"ids": ["nope"]}), ("mDelete", {"ids": ["nope"]}), ("mExists", {"ids": ["nope"]})]:
        failed = await doc(library, action, strict=True, body=body)
        assert failed["error"]["id"] == "api.process.incomplete_multiple_request", action


async def test_versions_grow_with_each_write(library: Application) -> None:
    assert (await doc(library, "create", _id="v", body={"a": 1}))["result"]["_version"] == 1
    assert (await doc(library, "update", _id="v", body={"b": 1}))["result"]["_version"] == 2
    assert (await doc(library, "replace", _id="v", body={"c": 1}))["result"]["_version"] == 3
    assert (await doc(library, "createOrReplace", _id="v", body={"d": {"e": 1, "f": 2}}))["result"]["_version"] == 4
    assert (await doc(library, "upsert", _id="v", body={"changes": {"g": 1}}))["result"]["_version"] == 5
    fields = await doc(library, "deleteFields", _id="v", source=True, body={"fields": ["d.e"]})
    assert fields["result"]["_version"] == 6 and fields["result"]["_source"]["d"] == {"f": 2}
    got = await doc(library, "get", _id="v")
    assert got["result"]["_version"] == 6
    deleted = await doc(library, "delete", _id="v", source=True)
    assert deleted["result"]["_source"]["g"] == 1 and deleted["result"]["_version"] == 7
    for name, value in [("refresh", "wait_for"), ("retryOnConflict", 3)]:
        answer = await doc(library, "update", _id="nope", body={}, **{name: value})
        assert answer["error"]["id"] == "services.storage.not_found"
    assert (await doc(library, "create", body={}, refresh="sometimes"))["error"]["id"] == "api.assert.invalid_argument"


async def test_by_query_actions(library: Application) -> None:
    for n in reversed(range(4)):  # answered in the order they were stored, as Elasticsearch does
        await doc(library, "create", _id=f"q{n}", body={"n": n, "even": n % 2 == 0})
    updated = await doc(library, "updateByQuery", body={"query": {"term": {"even": True}}, "changes": {"seen": True}})
    assert sorted(s["_id"] for s in updated["result"]["successes"]) == ["q0", "q2"]
    assert "_source" not in updated["result"]["successes"][0] and updated["result"]["errors"] == []
    assert (await stored())["q2"] == {"n": 2, "even": True, "seen": True}
    deleted = await doc(library, "deleteByQuery", source=True, body={"query": {"range": {"n": {"gte": 2}}}})
    assert deleted["result"]["ids"] == ["q3", "q2"] and deleted["result"]["documents"][1]["_source"]["seen"] is True
    koncorde = await doc(library, "deleteByQuery", lang="koncorde", body={"query": {"equals": {"n": 0}}})
    assert koncorde["result"] == {"documents": [{"_id": "q0"}], "ids": ["q0"]}
    assert set(await stored()) == {"q1"}


async def test_inject_metadata_pipes_add_kuzzle_info_fields(library: Application) -> None:
    seen: list[dict[str, Any]] = []

    def inject(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        payload["metadata"]["customized"] = payload["request"].input.action
        return payload

    library.pipe.register("generic:document:injectMetadata", inject)
    await doc(library, "create", _id="meta", body={})
    await doc(library, "update", _id="meta", body={"x": 1})
    await doc(library, "upsert", _id="up", body={"changes": {}})
    got = await doc(library, "get", _id="meta")
    info = got["result"]["_source"]["_kuzzle_info"]
    assert info["customized"] == "update" and info["author"] == "-1"
    assert "defaultMetadata" in seen[2] and "defaultMetadata" not in seen[0]
    # m* actions add Kuzzle's metadata themselves, as Kuzzle does.
    await doc(library, "mCreate", body={"documents": [{"_id": "m", "body": {}}]})
    assert len(seen) == 3


async def test_search_and_count(library: Application) -> None:
    books = [("b1", "Dune", 1965, "sf"), ("b2", "Emma", 1815, "novel"), ("b3", "Hyperion", 1989, "sf")]
    documents = [{"_id": i, "body": {"title": t, "year": y, "genre": g}} for i, t, y, g in books]
    await doc(library, "mCreate", body={"documents": documents})
    query = {"bool": {"filter": [{"term": {"genre": "sf"}}], "must_not": [{"match": {"title": "emma"}}]}}
    found = await doc(library, "search", body={"query": query, "sort": [{"year": {"order": "desc"}}]})
    assert [h["_id"] for h in found["result"]["hits"]] == ["b3", "b1"] and found["result"]["total"] == 2
    assert found["result"]["hits"][0]["_source"]["_kuzzle_info"]["author"] == "-1"
    assert "scrollId" not in found["result"] and "aggregations" not in found["result"]
    page = await doc(library, "search", body={"sort": ["year"]}, **{"from": 1, "size": 1})
    assert [h["_id"] for h in page["result"]["hits"]] == ["b1"] and page["result"]["total"] == 3
    kourou = await doc(library, "search", body={"query": {}, "sort": {}})
    assert kourou["status"] == 200 and kourou["result"]["total"] == 3
    counted = await doc(library, "count", body={"query": {"range": {"year": {"lt": 1970}}}})
    assert counted["result"] == {"count": 2}
    assert (await doc(library, "count"))["result"] == {"count": 3}
    koncorde = await doc(library, "search", lang="koncorde", body={"query": {"equals": {"genre": "sf"}}})
    assert koncorde["result"]["total"] == 2
    koncorde = await doc(library, "count", lang="koncorde", body={"query": {"in": {"year": [1815, 1965]}}})
    assert koncorde["result"] == {"count": 2}
    bad = await doc(library, "search", body={"query": {"equals": {"genre": "sf"}}})
    assert (bad["status"], bad["error"]["id"]) == (400, "services.storage.unknown_query_keyword")
    assert "equals" in bad["error"]["message"]
    bad = await doc(library, "count", body={"query": {"fuzzy": {"title": "dune"}}})
    assert (bad["status"], bad["error"]["id"]) == (400, "services.storage.invalid_query_keyword")
    bad = await doc(library, "search", lang="sql", body={})
    assert (bad["status"], bad["error"]["id"]) == (400, "api.assert.invalid_argument")


async def test_search_with_aggregations_and_search_after(library: Application) -> None:
    documents = [{"_id": f"d{n}", "body": {"n": n, "kind": "odd" if n % 2 else "even"}} for n in range(6)]
    await doc(library, "mCreate", body={"documents": documents})
    body = {"aggregations": {"kinds": {"terms": {"field": "kind"}}, "top": {"max": {"field": "n"}}}}
    answer = await doc(library, "search", body=body, size=0)
    assert answer["result"]["hits"] == [] and answer["result"]["total"] == 6
    assert answer["result"]["aggregations"]["top"] == {"value": 5.0}
    buckets = answer["result"]["aggregations"]["kinds"]["buckets"]
    assert buckets == [{"key": "even", "doc_count": 3}, {"key": "odd", "doc_count": 3}]
    after = await doc(library, "search", body={"sort": [{"n": "desc"}], "search_after": [3]}, size=2)
    assert [h["_id"] for h in after["result"]["hits"]] == ["d2", "d1"]


async def test_scroll_through_the_funnel(library: Application) -> None:
    documents = [{"_id": f"s{n:02}", "body": {"n": n}} for n in range(12)]
    await doc(library, "mCreate", body={"documents": documents})
    first = await doc(library, "search", body={"sort": "n"}, size=5, scroll="30s")
    assert first["status"] == 200, first["error"]
    result = first["result"]
    assert (result["total"], result["remaining"], len(result["hits"])) == (12, 7, 5)
    seen = [h["_id"] for h in result["hits"]]
    while result["remaining"]:
        answer = await call(library, controller="document", action="scroll", scrollId=result["scrollId"], scroll="30s")
        assert answer["status"] == 200, answer["error"]
        result = answer["result"]
        assert set(result) == {"hits", "total", "remaining", "scrollId"}
        seen += [h["_id"] for h in result["hits"]]
    assert seen == [f"s{n:02}" for n in range(12)]
    gone = await call(library, controller="document", action="scroll", scrollId=result["scrollId"])
    assert (gone["status"], gone["error"]["id"]) == (404, "services.storage.unknown_scroll_id")
    too_long = await doc(library, "search", body={}, scroll="1h")
    assert (too_long["status"], too_long["error"]["id"]) == (400, "services.storage.scroll_duration_too_great")
    missing = await call(library, controller="document", action="scroll")
    assert (missing["status"], missing["error"]["id"]) == (400, "api.assert.missing_argument")


async def test_kuzzles_search_scenarios(library: Application) -> None:
    """DocumentController.feature's search and count scenarios (without highlight)."""
    people = [("document-1", "Melis", 25, "developer"), ("document-2", "Cavadanti", 32, "cto"),
              ("document-3", "Aschen", 27, "developer")]  # fmt: skip
    documents = [{"_id": i, "body": {"name": n, "age": a, "city": "Istanbul", "job": j}} for i, n, a, j in people]
    await doc(library, "mCreate", body={"documents": documents})
    after = await doc(library, "search", body={"search_after": [25], "sort": [{"age": "asc"}]})
    assert [h["_id"] for h in after["result"]["hits"]] == ["document-3", "document-2"]
    first = await doc(library, "search", body={"query": {}}, scroll="30s", size=1)
    remaining = [(first["result"]["remaining"], first["result"]["total"], len(first["result"]["hits"]))]
    for _ in range(2):
        page = await call(library, controller="document", action="scroll", scroll="30s",
                          scrollId=first["result"]["scrollId"])  # fmt: skip
        remaining.append((page["result"]["remaining"], page["result"]["total"], len(page["result"]["hits"])))
    assert remaining == [(2, 3, 1), (1, 3, 1), (0, 3, 1)]
    koncorde = {"and": [{"equals": {"city": "Istanbul"}}, {"exists": "name"}, {"not": {"range": {"age": {"gt": 25}}}}]}
    found = await doc(library, "search", body={"query": koncorde}, lang="koncorde")
    assert [h["_id"] for h in found["result"]["hits"]] == ["document-1"]
    mixed = {"and": [{"equals": {"city": "Istanbul"}}, {"wildcard": {"name": {"value": "*e*"}}}]}
    found = await doc(library, "search", body={"query": mixed}, lang="koncorde")
    assert [h["_id"] for h in found["result"]["hits"]] == ["document-1", "document-3"]
    assert (await doc(library, "count", body={"query": {"match": {"job": "developer"}}}))["result"] == {"count": 2}
    counted = await doc(library, "count", body={"query": {"equals": {"job": "developer"}}}, lang="koncorde")
    assert counted["result"] == {"count": 2}


async def test_search_over_http_get_reads_search_body(library: Application) -> None:
    await doc(library, "create", _id="a", body={"t": "x"})
    await doc(library, "create", _id="b", body={"t": "y"})
    connection = Connection(protocol="http", ips=["10.0.0.1"], misc={"verb": "GET"})
    data = {"controller": "document", "action": "search", "index": "library", "collection": "books"}
    request = KuzzleRequest({**data, "searchBody": json.dumps({"query": {"term": {"t": "y"}}})}, connection=connection)
    answer = (await library.funnel.execute(request)).to_dict()
    assert [h["_id"] for h in answer["result"]["hits"]] == ["b"]
    request = KuzzleRequest({**data, "searchBody": "{nope"}, connection=connection)
    answer = (await library.funnel.execute(request)).to_dict()
    assert (answer["status"], answer["error"]["id"]) == (400, "api.assert.invalid_type")


async def test_generic_events_rewrite_before_write_and_after_read(library: Application) -> None:
    seen: list[str] = []

    async def before_write(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
        seen.append(f"generic:beforeWrite {request.input.action}")
        return [{"_id": f"{d['_id']}-x", "_source": {**d["_source"], "stamped": True}} for d in documents]

    async def before_create(request: KuzzleRequest) -> KuzzleRequest:
        seen.append("document:beforeCreate")
        return request

    async def after_get(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
        seen.append("generic:afterGet")
        return [{"_id": d["_id"], "_source": {"title": d["_source"]["title"].upper()}} for d in documents]

    library.pipe.register("generic:document:beforeWrite", before_write)
    library.pipe.register("document:beforeCreate", before_create)
    library.pipe.register("generic:document:afterGet", after_get)
    created = await doc(library, "create", _id="d", body={"title": "dune"})
    assert created["result"]["_id"] == "d-x"
    assert (await stored()) == {"d-x": {"title": "dune", "stamped": True}}
    assert seen == ["generic:beforeWrite create", "document:beforeCreate"]
    got = await doc(library, "get", _id="d-x")
    assert got["result"]["_source"] == {"title": "DUNE"}
    found = await doc(library, "search", body={})
    assert found["result"]["hits"] == [{"_id": "d-x", "_source": {"title": "DUNE"}}]
    multi = await doc(library, "mCreate", body={"documents": [{"_id": "m", "body": {"title": "emma"}}]})
    assert multi["result"]["successes"][0]["_id"] == "m-x"


async def test_a_pipe_raising_before_a_write_stores_nothing(library: Application) -> None:
    async def refuse(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
        if any(d["_source"].get("title") == "forbidden" for d in documents):
            raise errors.ForbiddenError("No such title")
        return documents

    library.pipe.register("generic:document:beforeWrite", refuse)
    refused = await doc(
        library,
        "mCreate",
        body={"documents": [{"_id": "a", "body": {"title": "ok"}}, {"_id": "b", "body": {"title": "forbidden"}}]},
    )
    assert refused["status"] == 403
    assert await stored() == {}


async def test_generic_event_payloads(library: Application) -> None:
    payloads: list[tuple[str, Any]] = []

    def recorder(event: str) -> Any:
        async def record(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
            payloads.append((event, [dict(d) for d in documents]))
            assert isinstance(request, KuzzleRequest)
            return documents

        return record

    for family in ("Write", "Update", "Delete", "Get"):
        for when in ("before", "after"):
            event = f"generic:document:{when}{family}"
            library.pipe.register(event, recorder(event))
    await doc(library, "create", _id="a", body={"t": 1})
    await doc(library, "update", _id="a", body={"t": 2})
    await doc(library, "get", _id="a")
    await doc(library, "delete", _id="a")
    names = [name for name, _ in payloads]
    assert names == [
        "generic:document:beforeWrite", "generic:document:afterWrite",
        "generic:document:beforeUpdate", "generic:document:afterUpdate",
        "generic:document:beforeGet", "generic:document:afterGet",
        "generic:document:beforeDelete", "generic:document:afterDelete",
    ]  # fmt: skip
    assert payloads[0][1] == [{"_id": "a", "_source": {"t": 1}}]
    assert payloads[2][1] == [{"_id": "a", "_source": {"t": 2}}]
    # As Kuzzle's extractor: a read or a deletion names its ids; after, the action's whole result.
    assert payloads[4][1] == [{"_id": "a"}]
    assert payloads[5][1][0]["_source"]["t"] == 2 and payloads[5][1][0]["_version"] == 2
    assert payloads[6][1] == [{"_id": "a"}] and payloads[7][1] == [{"_id": "a"}]


async def test_generic_events_of_the_other_document_actions(library: Application) -> None:
    payloads: list[tuple[str, Any]] = []

    def recorder(event: str) -> Any:
        async def record(documents: Any, request: KuzzleRequest) -> Any:
            payloads.append((event, request.input.action, documents))
            return documents

        return record

    for family in ("Write", "Update", "Delete", "Get"):
        for when in ("before", "after"):
            event = f"generic:document:{when}{family}"
            library.pipe.register(event, recorder(event))

    async def seen(action: str, **data: Any) -> list[tuple[str, Any]]:
        payloads.clear()
        answer = await doc(library, action, **data)
        assert answer["status"] == 200, answer["error"]
        return [(event, documents) for event, _, documents in payloads]

    upserted = await seen("mUpsert", body={"documents": [{"_id": "u", "changes": {"n": 1}, "default": {"d": 1}}]})
    assert upserted[0] == ("generic:document:beforeUpdate", [{"_id": "u", "_source": {"n": 1}}])
    assert upserted[1][0] == "generic:document:afterUpdate" and upserted[1][1][0]["_source"]["d"] == 1
    assert await seen("mExists", body={"ids": ["u", "x"]}) == [
        ("generic:document:beforeGet", [{"_id": "u"}, {"_id": "x"}]),
        ("generic:document:afterGet", [{"_id": "u"}]),
    ]
    assert await seen("exists", _id="u") == [
        ("generic:document:beforeGet", [{"_id": "u"}]),
        ("generic:document:afterGet", [True]),
    ]
    fields = await seen("deleteFields", _id="u", body={"fields": ["d"]})
    assert fields[0] == ("generic:document:beforeUpdate", [{"_id": "u", "_source": ["d"]}])
    assert fields[1][0] == "generic:document:afterUpdate" and fields[1][1] == [{"_id": "u", "_version": 2}]
    # The by-query actions have only their "after" event.
    by_query = await seen("updateByQuery", body={"query": {}, "changes": {"m": 2}})
    assert [(e, [d["_id"] for d in docs]) for e, docs in by_query] == [("generic:document:afterUpdate", ["u"])]
    deleted = await seen("deleteByQuery", body={"query": {}})
    assert deleted == [("generic:document:afterDelete", [{"_id": "u"}])]
    assert await seen("count", body={}) == []


async def test_generic_pipes_rewrite_the_other_actions(library: Application) -> None:
    async def renamed(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
        if request.input.action in ("mUpsert", "deleteFields"):
            return [{**d, "_id": f"{d['_id']}-x"} for d in documents]
        return documents

    async def hidden(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
        return [d for d in documents if d["_id"] != "secret"]

    library.pipe.register("generic:document:beforeUpdate", renamed)
    library.pipe.register("generic:document:afterGet", hidden)
    made = await doc(library, "mUpsert", body={"documents": [{"_id": "a", "changes": {"n": 1}, "default": {"d": 2}}]})
    assert made["result"]["successes"][0]["_id"] == "a-x"
    assert (await stored())["a-x"] == {"n": 1, "d": 2}  # the default kept by position
    await doc(library, "create", _id="secret", body={})
    assert (await doc(library, "mExists", body={"ids": ["a-x", "secret"]}))["result"]["successes"] == ["a-x"]
    got = await doc(library, "mGet", ids=["a-x", "secret"])
    assert [d["_id"] for d in got["result"]["successes"]] == ["a-x"]


async def test_rights_apply_per_document_action(library: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)
    root = await sync_to_async(issue_token)("root")
    await call(library, controller="security", action="createRole", _id="reader", jwt=root.jwt,
               body={"controllers": {"document": {"actions": {"get": True, "search": True}}}})  # fmt: skip
    await call(library, controller="security", action="createProfile", _id="readers", jwt=root.jwt,
               body={"policies": [{"roleId": "reader"}]})  # fmt: skip
    reader = await sync_to_async(issue_token)("rita", profiles=["readers"])
    assert (await doc(library, "create", _id="a", body={}, jwt=root.jwt))["status"] == 200
    assert (await doc(library, "get", _id="a", jwt=reader.jwt))["status"] == 200
    refused = await doc(library, "create", _id="b", body={}, jwt=reader.jwt)
    assert (refused["status"], refused["error"]["id"]) == (403, "security.rights.forbidden")
    assert (await doc(library, "get", _id="a"))["status"] == 401
    assert set(await stored()) == {"a"}


UNSTORABLE = {
    "nan": {"n": float("nan")},
    "infinity": {"n": [float("-inf")]},
    "nul": {"s": "a\x00b"},
    "surrogate": {"s": "a\ud800b"},
    "object": {"o": object()},
}


@pytest.mark.parametrize("name", UNSTORABLE)
async def test_content_no_database_can_store_is_a_400_naming_no_value(library: Application, name: str) -> None:
    # Handlers and the embedded SDK hand Python values over, without JSON text to refuse them.
    content = UNSTORABLE[name]
    answers = [
        await doc(library, "create", _id="bad", body=content),
        await doc(library, "createOrReplace", _id="bad", body=content),
        await doc(library, "upsert", _id="bad", body={"changes": {"ok": 1}, "default": content}),
    ]
    await doc(library, "create", _id="good", body={"ok": 1})
    answers.append(await doc(library, "update", _id="good", body=content))
    for answer in answers:
        assert (answer["status"], answer["error"]["id"]) == (400, "api.assert.invalid_argument")
        assert "a\x00b" not in answer["error"]["message"] and "INSERT" not in answer["error"]["message"]
    multi = await doc(
        library, "mCreate", body={"documents": [{"_id": "m1", "body": {"ok": 1}}, {"_id": "m2", "body": content}]}
    )
    assert [s["_id"] for s in multi["result"]["successes"]] == ["m1"]
    (error,) = multi["result"]["errors"]
    assert (error["document"], error["status"]) == ({"_id": "m2"}, 400)
    assert set(await stored()) == {"good", "m1"} and (await stored())["good"] == {"ok": 1}


async def test_escaped_backslashes_before_u0000_are_text(library: Application) -> None:
    answer = await doc(library, "create", _id="text", body={"s": "\\u0000", "t": "\\\\u0000"})
    assert answer["status"] == 200, answer["error"]
    assert (await stored())["text"] == {"s": "\\u0000", "t": "\\\\u0000"}


async def test_an_integrity_error_other_than_a_taken_id_is_not_document_already_exists(library: Application) -> None:
    refused = IntegrityError("CHECK constraint failed: source (INSERT INTO ... 'secret')")
    with mock.patch.object(Document, "save", side_effect=refused):
        answer = await doc(library, "create", _id="checked", body={"ok": 1})
    assert (answer["status"], answer["error"]["id"]) == (400, "services.storage.unexpected_bad_request")
    assert "secret" not in answer["error"]["message"]


# Kuzzle 2.56's HTTP routes of the document and bulk controllers (lib/api/httpRoutes.js).
KUZZLE_ROUTES = {
    ("document", "count", "post", "/:index/:collection/_count"),
    ("document", "create", "post", "/:index/:collection/_create"),
    ("document", "create", "post", "/:index/:collection/:_id/_create"),
    ("document", "createOrReplace", "put", "/:index/:collection/:_id"),
    ("document", "delete", "delete", "/:index/:collection/:_id"),
    ("document", "deleteByQuery", "delete", "/:index/:collection/_query"),
    ("document", "deleteFields", "delete", "/:index/:collection/:_id/_fields"),
    ("document", "exists", "get", "/:index/:collection/:_id/_exists"),
    ("document", "export", "get", "/:index/:collection/_export"),
    ("document", "export", "post", "/:index/:collection/_export"),
    ("document", "get", "get", "/:index/:collection/:_id"),
    ("document", "mCreate", "post", "/:index/:collection/_mCreate"),
    ("document", "mCreateOrReplace", "put", "/:index/:collection/_mCreateOrReplace"),
    ("document", "mDelete", "delete", "/:index/:collection/_mDelete"),
    ("document", "mExists", "post", "/:index/:collection/_mExists"),
    ("document", "mGet", "get", "/:index/:collection/_mGet"),
    ("document", "mGet", "post", "/:index/:collection/_mGet"),
    ("document", "mReplace", "put", "/:index/:collection/_mReplace"),
    ("document", "mUpdate", "put", "/:index/:collection/_mUpdate"),
    ("document", "mUpdate", "patch", "/:index/:collection/_mUpdate"),
    ("document", "mUpsert", "post", "/:index/:collection/_mUpsert"),
    ("document", "replace", "put", "/:index/:collection/:_id/_replace"),
    ("document", "scroll", "get", "/_scroll/:scrollId"),
    ("document", "search", "get", "/:index/:collection/_search"),
    ("document", "search", "post", "/:index/:collection/_search"),
    ("document", "update", "put", "/:index/:collection/:_id/_update"),
    ("document", "update", "patch", "/:index/:collection/:_id/_update"),
    ("document", "updateByQuery", "put", "/:index/:collection/_query"),
    ("document", "upsert", "post", "/:index/:collection/:_id/_upsert"),
    ("document", "upsert", "put", "/:index/:collection/:_id/_upsert"),
    ("document", "validate", "post", "/:index/:collection/_validate"),
    ("bulk", "import", "post", "/:index/:collection/_bulk"),
    ("bulk", "mWrite", "post", "/:index/:collection/_mWrite"),
    ("bulk", "write", "post", "/:index/:collection/_write"),
    ("bulk", "deleteByQuery", "delete", "/:index/:collection/_bulk/_query"),
    ("bulk", "updateByQuery", "patch", "/:index/:collection/_bulk/_query"),
}


async def test_public_api_lists_every_kuzzle_route(started: Application) -> None:
    api = (await call(started, controller="server", action="publicApi"))["result"]
    served = {
        (controller, action, route["verb"].lower(), route["path"])
        for controller in ("document", "bulk")
        for action, spec in api[controller].items()
        for route in spec.get("http", [])
    }
    assert KUZZLE_ROUTES <= served


async def test_m_actions_over_http_answer_partial_successes(library: Application) -> None:
    from tests.protocols.test_http import asgi_client

    http = asgi_client(library)
    headers = {"content-type": "application/json"}
    body = {"documents": [{"_id": "h1", "body": {"n": 1}}, {"_id": "h1", "body": {"n": 2}}, "bad"]}
    made = await http("POST", "/library/books/_mCreate", headers=headers, content=json.dumps(body).encode())
    result = made.json()["result"]
    assert made.status == 200 and [s["_id"] for s in result["successes"]] == ["h1"]
    assert [e["reason"] for e in result["errors"]] == ["document body must be an object", "document already exists"]
    got = await http("GET", "/library/books/_mGet?ids=h1,nope")
    assert got.json()["result"]["errors"] == ["nope"] and got.json()["result"]["successes"][0]["_version"] == 1
    strict = await http("GET", "/library/books/_mGet?ids=nope&strict")
    assert strict.status == 400 and strict.json()["error"]["id"] == "api.process.incomplete_multiple_request"
    patched = await http("PATCH", "/library/books/h1/_update", headers=headers, content=b'{"m": 1}')
    assert patched.json()["result"]["_version"] == 2
    upserted = await http("POST", "/library/books/_mUpsert", headers=headers, content=b'{"documents": [{"_id": "h2", "changes": {}}]}')
    assert upserted.json()["result"]["successes"][0]["created"] is True
    fields = await http("DELETE", "/library/books/h1/_fields?source", headers=headers, content=b'{"fields": ["m"]}')
    assert fields.json()["result"]["_source"]["n"] == 1 and "m" not in fields.json()["result"]["_source"]
    exported = await http("GET", "/library/books/_export")
    text = exported.body.decode().splitlines()
    # Written as JSON.stringify writes it for Kuzzle: no spaces.
    assert text[0] == '{"collection":"books","index":"library","type":"collection"}'
    lines = [json.loads(line) for line in text]
    assert lines[0] == {"collection": "books", "index": "library", "type": "collection"}
    assert [line["_id"] for line in lines[1:]] == ["h1", "h2"] and lines[1]["body"]["n"] == 1
    assert list(lines[1]["body"]) == ["_kuzzle_info", "n"]
    assert list(lines[1]["body"]["_kuzzle_info"]) == ["author", "createdAt", "updatedAt", "updater"]
    csv = await http("GET", '/library/books/_export?format=csv&fields=["n"]')
    assert csv.body.decode().splitlines() == ["_id,n", "h1,1", "h2,"]
    assert csv.headers["content-disposition"] == 'attachment; filename="library-books.csv"'
    valid = await http("POST", "/library/books/_validate", headers=headers, content=b'{"n": 1}')
    assert valid.json()["result"]["valid"] is True
    assert (await doc(library, "export"))["error"]["id"] == "api.assert.unsupported_protocol"


async def test_m_writes_notify_subscribers_of_their_successes_only(library: Application) -> None:
    from tests.realtime.test_hub import Client

    await doc(library, "create", _id="n0", body={"n": 0})
    async with Client(library) as alice:
        subscribed = await alice.query(
            controller="realtime", action="subscribe", index="library", collection="books", body={}
        )
        assert subscribed["status"] == 200, subscribed["error"]
        documents = [{"_id": "n0", "body": {"n": 9}}, {"_id": "n1", "body": {"n": 1}}, {"_id": "n2", "body": 3}]
        await doc(library, "mCreate", body={"documents": documents})
        note = await alice.notification()
        # Kuzzle's notifications name what happened to each document, not the request's action.
        assert (note["action"], note["event"], note["result"]["_id"]) == ("create", "write", "n1")
        assert await alice.nothing()
        await doc(library, "mDelete", body={"ids": ["n1", "gone"]})
        note = await alice.notification()
        assert (note["action"], note["event"], note["result"]["_id"]) == ("delete", "delete", "n1")
        assert await alice.nothing()
        await call(library, controller="bulk", action="mWrite", index="library", collection="books",
                   body={"documents": [{"_id": "b", "body": {}}]})  # fmt: skip
        assert await alice.nothing()
        await call(library, controller="bulk", action="write", index="library", collection="books", _id="b",
                   notify=True, body={})  # fmt: skip
        assert (await alice.notification())["result"]["_id"] == "b"


async def test_notifications_name_each_change_as_kuzzle_does(library: Application) -> None:
    from tests.realtime.test_hub import Client

    async with Client(library) as alice:
        subscribed = await alice.query(
            controller="realtime", action="subscribe", index="library", collection="books", body={}, scope="all"
        )
        assert subscribed["status"] == 200, subscribed["error"]

        async def notes(count: int) -> list[tuple[str, str, str, Any]]:
            got = [await alice.notification() for _ in range(count)]
            assert await alice.nothing()
            return [(n["action"], n["scope"], n["result"]["_id"], n["result"].get("_updatedFields")) for n in got]

        await doc(library, "createOrReplace", _id="a", body={"n": 1, "tags": {"x": 1}})
        await doc(library, "createOrReplace", _id="a", body={"n": 1})
        assert await notes(2) == [("create", "in", "a", None), ("replace", "in", "a", None)]
        await doc(library, "update", _id="a", body={"n": 2, "meta": {"by": "me", "at": {"h": 1}}, "_kuzzle_info": {}})
        assert await notes(1) == [("update", "in", "a", ["n", "meta.by", "meta.at.h"])]
        await doc(library, "upsert", _id="b", body={"changes": {"n": 5}})
        await doc(library, "upsert", _id="b", body={"changes": {"n": 6}})
        assert await notes(2) == [("create", "in", "b", None), ("update", "in", "b", ["n"])]
        await doc(library, "mUpdate", body={"documents": [{"_id": "a", "body": {"z": 0}}]})
        await doc(library, "mUpsert", body={"documents": [{"_id": "c", "changes": {"y": 1}}, {"_id": "b", "changes": {"y": 2}}]})
        assert await notes(3) == [("update", "in", "a", ["z"]), ("create", "in", "c", None), ("update", "in", "b", ["y"])]
        await doc(library, "deleteFields", _id="a", body={"fields": ["z"]})
        assert await notes(1) == [("update", "in", "a", None)]
        await doc(library, "updateByQuery", body={"query": {"ids": {"values": ["a", "b"]}}, "changes": {"q": {"r": 1}}})
        assert sorted(await notes(2)) == [("update", "in", "a", ["q.r"]), ("update", "in", "b", ["q.r"])]
        # deleteByQuery: each document deleted, notified as a deletion with its content.
        deleted = await doc(library, "deleteByQuery", body={"query": {"ids": {"values": ["b", "c"]}}})
        assert sorted(deleted["result"]["ids"]) == ["b", "c"]
        got = [await alice.notification() for _ in range(2)]
        assert sorted((n["action"], n["event"], n["scope"], n["result"]["_id"]) for n in got) == [
            ("delete", "delete", "out", "b"),
            ("delete", "delete", "out", "c"),
        ]
        assert {n["result"]["_id"]: n["result"]["_source"]["y"] for n in got} == {"b": 2, "c": 1}
        await doc(library, "deleteByQuery", silent=True, body={"query": {}})
        assert await alice.nothing()


async def test_a_search_on_several_targets(library: Application) -> None:
    await call(library, controller="collection", action="create", index="library", collection="films",
               body={"mappings": {"dynamic": False, "properties": {"title": {"type": "keyword"}}}})  # fmt: skip
    await call(library, controller="collection", action="create", index="shop", collection="pens")
    await doc(library, "mCreate", body={"documents": [{"_id": f"b{i}", "body": {"n": i, "title": "x"}} for i in range(4)]})
    await call(library, controller="document", action="mCreate", index="library", collection="films",
               body={"documents": [{"_id": f"f{i}", "body": {"n": i, "title": "x"}} for i in range(3)]})  # fmt: skip
    await call(library, controller="document", action="create", index="shop", collection="pens", _id="p", body={"n": 1})
    targets = [{"index": "library", "collections": ["books", "films"]}, {"index": "shop", "collections": ["pens"]}]

    async def search(**data: Any) -> dict[str, Any]:
        answer = await call(library, controller="document", action="search", **data)
        assert answer["status"] == 200, answer["error"]
        return answer["result"]

    found = await search(targets=targets, body={"query": {"range": {"n": {"gte": 1}}}, "sort": ["n", "_id"]}, size=20)
    # films' mapping does not index "n" (dynamic: false): none of them matches a clause on it.
    assert [(h["index"], h["collection"], h["_id"]) for h in found["hits"]] == [
        ("library", "books", "b1"), ("shop", "pens", "p"), ("library", "books", "b2"), ("library", "books", "b3"),
    ]  # fmt: skip
    assert found["total"] == 4
    everything = await search(targets=targets, body={"query": {"term": {"title": "x"}}}, size=3, scroll="10s")
    ids = [h["_id"] for h in everything["hits"]]
    for _ in range(2):
        scrolled = await call(library, controller="document", action="scroll", scrollId=everything["scrollId"])
        ids += [h["_id"] for h in scrolled["result"]["hits"]]
    assert everything["total"] == 7 and sorted(ids) == ["b0", "b1", "b2", "b3", "f0", "f1", "f2"]
    aggregated = await search(targets=targets, body={"aggs": {"n": {"max": {"field": "n"}}}}, size=0)
    assert aggregated["aggregations"]["n"]["value"] == 3

    async def refused(**data: Any) -> tuple[str, str]:
        answer = await call(library, controller="document", action="search", body={}, **data)
        return answer["error"]["id"], answer["error"]["message"]

    assert await refused() == (
        "api.assert.missing_argument", 'Missing argument "index, collection or targets".'
    )  # fmt: skip
    assert (await refused(index="library", targets=targets))[0] == "api.assert.mutually_exclusive"
    assert (await refused(index="library,shop", collection="books"))[0] == (
        "services.storage.invalid_multi_index_collection_usage"
    )
    assert await refused(targets=[{"index": "library", "collections": ["bo*"]}]) == (
        "services.storage.invalid_target_format",
        'The targets[0].collections[0] ("bo*") contains invalid characters ",+*" or is equal to "_all" which is forbidden',
    )
    assert (await refused(targets=[{"index": "library"}]))[0] == "api.assert.missing_argument"
    assert (await refused(targets=[{"index": "library", "collections": []}]))[0] == "api.assert.empty_argument"
    assert (await refused(targets=[{"index": "library", "collections": ["nope"]}]))[0] == (
        "services.storage.unknown_collection"
    )
