"""How ``document:search`` orders and reads documents where Elasticsearch decides: ties between
several collections, and keys that hold dots."""

from __future__ import annotations

from typing import Any

from kuzzle_events import Application
from tests.api.test_auth import call


async def ok(app: Application, **data: Any) -> dict[str, Any]:
    answer = await call(app, **data)
    assert answer["status"] == 200, answer["error"]
    return answer["result"]


async def test_ties_between_collections_follow_the_index_names(started: Application) -> None:
    for index, collection in (("nyc", "yellow"), ("mtp", "green"), ("mtp", "blue")):
        await ok(started, controller="collection", action="create", index=index, collection=collection)
        await ok(started, controller="document", action="mCreate", index=index, collection=collection,
                 body={"documents": [{"_id": f"d{i}", "body": {"age": 50 + i}} for i in (2, 1)]})  # fmt: skip
    # Given nyc first: Elasticsearch still merges equal hits by index name (mtp.blue, mtp.green, nyc.yellow).
    targets = [{"index": "nyc", "collections": ["yellow"]}, {"index": "mtp", "collections": ["green", "blue"]}]
    query = {"query": {"range": {"age": {"gt": 42}}}}
    found = await ok(started, controller="document", action="search", targets=targets, body=query, lang="koncorde")
    expected = [(i, c, d) for i, c in (("mtp", "blue"), ("mtp", "green"), ("nyc", "yellow")) for d in ("d1", "d2")]
    assert [(h["index"], h["collection"], h["_id"]) for h in found["hits"]] == expected
    # A sort decides first; the collections break its ties in the same order.
    body = {"query": {"match_all": {}}, "sort": {"age": "desc"}}
    found = await ok(started, controller="document", action="search", targets=targets, body=body)
    assert [(h["_id"], h["index"], h["collection"]) for h in found["hits"]] == [
        (d, i, c) for d in ("d2", "d1") for i, c in (("mtp", "blue"), ("mtp", "green"), ("nyc", "yellow"))
    ]
    # Scrolled one by one, the pages go through the same order, each document once.
    page = await ok(started, controller="document", action="search", targets=targets, body=query, size=1, scroll="10s")
    seen = [(page["hits"][0]["index"], page["hits"][0]["collection"], page["hits"][0]["_id"])]
    while page["hits"]:
        page = await ok(started, controller="document", action="scroll", scrollId=page["scrollId"])
        seen += [(h["index"], h["collection"], h["_id"]) for h in page["hits"]]
        if not page["remaining"]:
            break
    assert seen == expected


async def test_keys_with_dots_are_searched_as_paths_and_returned_as_sent(started: Application) -> None:
    mappings = {"dynamic": "strict", "properties": {"foo": {"type": "keyword"},
                "field": {"properties": {"path": {"type": "keyword"}, "n": {"type": "integer"}}}}}  # fmt: skip
    await ok(
        started, controller="collection", action="create", index="nyc", collection="taxi", body={"mappings": mappings}
    )
    where = {"controller": "document", "index": "nyc", "collection": "taxi"}
    sent = {"foo": "bar", "field.path": ["ALPHA", "BETA"]}
    created = await ok(started, **where, action="create", _id="e1", body=sent)
    assert {k: v for k, v in created["_source"].items() if k != "_kuzzle_info"} == sent
    await ok(started, **where, action="create", _id="e2", body={"field": {"path": "GAMMA", "n": 1}})

    async def ids(filters: dict[str, Any]) -> list[str]:
        found = await ok(started, **where, action="search", lang="koncorde", body={"query": filters, "sort": "_id"})
        return [hit["_id"] for hit in found["hits"]]

    assert await ids({"exists": {"field": "foo"}}) == ["e1"]
    assert await ids({"exists": {"field": "name"}}) == []
    assert await ids({"exists": {"field": 'field.path["BETA"]'}}) == ["e1"]
    assert await ids({"exists": {"field": 'field.path["GAMMA"]'}}) == ["e2"]
    assert await ids({"exists": {"field": "field.path"}}) == ["e1", "e2"]
    # The source comes back as it was sent, from a search and a get.
    found = await ok(started, **where, action="search", body={"query": {"term": {"field.path": "ALPHA"}}})
    assert [h["_source"]["field.path"] for h in found["hits"]] == [["ALPHA", "BETA"]]
    got = await ok(started, **where, action="get", _id="e1")
    assert "field" not in got["_source"] and got["_source"]["field.path"] == ["ALPHA", "BETA"]
    # An update merges into the source as sent, and is searched as paths again.
    updated = await ok(started, **where, action="update", _id="e1", source=True, body={"field.n": 7})
    assert {k: v for k, v in updated["_source"].items() if k != "_kuzzle_info"} == {**sent, "field.n": 7}
    assert await ids({"range": {"field.n": {"gt": 5}}}) == ["e1"]
    # The strict mapping checks the paths: field.n is declared, field.other is not.
    refused = await call(started, **where, action="create", _id="e3", body={"field.other": 1})
    assert refused["error"]["id"] == "services.storage.strict_mapping_rejection"
    # deleteFields removes the key holding the dots.
    await ok(started, **where, action="deleteFields", _id="e1", body={"fields": ["field.path"]})
    assert (await ok(started, **where, action="get", _id="e1"))["_source"]["field.n"] == 7
    assert await ids({"exists": {"field": "field.path"}}) == ["e2"]
