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
