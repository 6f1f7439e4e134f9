"""The index and collection controllers: Kuzzle's results, routes and error ids."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async

from kuzzle_events import Application
from kuzzle_events.api.collections import collection_actions, index_actions
from tests.api.test_auth import call
from tests.protocols.test_http import asgi_client
from tests.realtime.test_hub import Client

JSON = {"content-type": "application/json"}
STRICT = {"dynamic": "strict", "properties": {"name": {"type": "keyword"}}}


async def ok(app: Application, **data: Any) -> Any:
    answer = await call(app, **data)
    assert answer["status"] == 200, answer["error"]
    return answer.get("result")  # index:create answers none


async def failed(app: Application, **data: Any) -> tuple[int, str]:
    answer = await call(app, **data)
    return answer["status"], answer["error"]["id"]


async def coll(app: Application, action: str, collection: str = "books", **data: Any) -> Any:
    return await ok(app, controller="collection", action=action, index="library", collection=collection, **data)


async def test_index_life_cycle(started: Application) -> None:
    created = await call(started, controller="index", action="create", index="library")
    assert created["status"] == 200 and "result" not in created
    assert await failed(started, controller="index", action="create", index="library") == (
        412,
        "services.storage.index_already_exists",
    )
    for bad in ("Bad Name", "%kuzzle", "&kuzzle", "kuz.zle"):
        assert await failed(started, controller="index", action="create", index=bad) == (
            400,
            "services.storage.invalid_index_name",
        )
    assert await ok(started, controller="index", action="exists", index="library") is True
    assert await ok(started, controller="index", action="delete", index="library") == {"acknowledged": True}
    assert await ok(started, controller="index", action="exists", index="library") is False
    assert await failed(started, controller="index", action="delete", index="library") == (
        412,
        "services.storage.unknown_index",
    )


async def test_index_list_is_in_creation_order_and_counts_collections(started: Application) -> None:
    for name in ("nyc", "mtp", "abc"):
        await ok(started, controller="index", action="create", index=name)
    await ok(started, controller="collection", action="create", index="nyc", collection="yellow")
    await ok(started, controller="collection", action="create", index="nyc", collection="green")
    assert await ok(started, controller="index", action="list") == {"indexes": ["nyc", "mtp", "abc"]}
    counted = await ok(started, controller="index", action="list", countCollection=True)
    assert counted == {"indexes": ["nyc", "mtp", "abc"], "collections": {"nyc": 2, "mtp": 0, "abc": 0}}


async def test_index_m_delete_deletes_the_existing_ones(started: Application) -> None:
    for name in ("a", "b", "c"):
        await ok(started, controller="index", action="create", index=name)
    deleted = await ok(started, controller="index", action="mDelete", body={"indexes": ["c", "a", "nope"]})
    assert deleted == {"deleted": ["a", "c"]}
    assert await ok(started, controller="index", action="list") == {"indexes": ["b"]}
    assert await failed(started, controller="index", action="mDelete", body={"indexes": "b"}) == (
        400,
        "api.assert.invalid_type",
    )


async def test_index_stats_counts_documents_and_bytes(started: Application) -> None:
    await coll(started, "create")
    await coll(started, "create", collection="films")
    await ok(started, controller="document", action="create", index="library", collection="books", body={"t": "x"})
    result = await ok(started, controller="index", action="stats")
    (library,) = result["indexes"]
    assert library["name"] == "library"
    by_name = {c["name"]: c for c in library["collections"]}
    assert by_name["books"]["documentCount"] == 1 and by_name["books"]["size"] > 0
    assert by_name["films"] == {"name": "films", "documentCount": 0, "size": 0}
    assert result["size"] == library["size"] == by_name["books"]["size"]


async def test_collection_create_makes_the_index_and_answers_as_kuzzle(started: Application) -> None:
    assert await coll(started, "create") == {"acknowledged": True}
    assert await ok(started, controller="index", action="exists", index="library") is True
    assert await coll(started, "exists") is True
    assert await coll(started, "exists", collection="films") is False
    # Creating it again is an update, not an error.
    assert await coll(started, "create", body={"mappings": STRICT}) == {"acknowledged": True}
    assert (await coll(started, "getMapping"))["dynamic"] == "strict"
    assert await coll(started, "refresh") is None
    assert await coll(started, "delete") is None
    assert await failed(started, controller="collection", action="refresh", index="library", collection="books") == (
        412,
        "services.storage.unknown_collection",
    )


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("_kuzzle_keep", "services.storage.collection_reserved"),
        ("%users", "services.storage.invalid_collection_name"),
        ("&users", "services.storage.invalid_collection_name"),
        ("us.ers", "services.storage.invalid_collection_name"),
    ],
)
async def test_collection_names(started: Application, name: str, error: str) -> None:
    data = {"controller": "collection", "action": "create", "index": "library", "collection": name}
    assert await failed(started, **data, body={"mappings": "mappings"}) == (400, error)


async def test_collection_list_all_types_and_pages(started: Application) -> None:
    for name in ("yellow", "green", "blue"):
        await coll(started, "create", collection=name)
    async with Client(started) as alice:
        subscribed = await alice.query(
            controller="realtime", action="subscribe", index="library", collection="red", body={}
        )
        assert subscribed["status"] == 200, subscribed
        listed = await ok(started, controller="collection", action="list", index="library")
        realtime = await ok(started, controller="collection", action="list", index="library", type="realtime")
    assert listed == {
        "type": "all",
        "collections": [
            {"name": "blue", "type": "stored"},
            {"name": "green", "type": "stored"},
            {"name": "red", "type": "realtime"},
            {"name": "yellow", "type": "stored"},
        ],
    }
    # size 0, as Kuzzle's SDK always sends it, is every collection.
    stored = await ok(started, controller="collection", action="list", index="library", type="stored", size=0)
    assert [c["name"] for c in stored["collections"]] == ["blue", "green", "yellow"]
    assert realtime["collections"] == [{"name": "red", "type": "realtime"}]
    page = await ok(
        started, controller="collection", action="list", index="library", type="stored", **{"from": 1}, size=1
    )
    assert page == {"type": "stored", "collections": [{"name": "green", "type": "stored"}], "from": 1, "size": 1}
    rest = await ok(started, controller="collection", action="list", index="library", type="stored", **{"from": 1})
    assert [c["name"] for c in rest["collections"]] == ["green", "yellow"] and "size" not in rest
    bad = {"controller": "collection", "action": "list", "index": "library"}
    assert await failed(started, **bad, type="nope") == (400, "api.assert.invalid_argument")
    assert await failed(started, controller="collection", action="list", index="nope", type="stored") == (
        412,
        "services.storage.unknown_index",
    )


async def test_mappings_update_merge_and_kuzzle_meta(started: Application) -> None:
    await coll(started, "create", body={"mappings": STRICT, "settings": {"index": {"blocks": {"write": True}}}})
    await coll(
        started,
        "update",
        body={
            "mappings": {"properties": {"age": {"type": "integer"}}},
            "settings": {"index": {"blocks": {"write": False}}},
        },
    )
    assert await coll(started, "getMapping") == {
        "_meta": {},
        "dynamic": "strict",
        "properties": {"name": {"type": "keyword"}, "age": {"type": "integer"}},
    }
    meta = await coll(started, "getMapping", includeKuzzleMeta=True)
    assert meta["properties"]["_kuzzle_info"]["properties"]["createdAt"] == {"type": "date"}
    updated = await coll(started, "updateMapping", body={"dynamic": False, "_meta": {"v": 2}})
    assert (updated["dynamic"], updated["_meta"]) == ("false", {"v": 2})
    settings = await coll(started, "getSettings")
    assert settings["number_of_shards"] == "1" and settings["blocks"] == {"write": False}
    assert await coll(started, "updateSettings", body={"index": {"refresh_interval": "1s"}}) is None
    assert (await coll(started, "getSettings"))["refresh_interval"] == "1s"


@pytest.mark.parametrize(
    "mappings",
    [
        {"dynamik": "strict"},
        {"dynamic": "sometimes"},
        {"dynamic": 1},
        {"properties": {"a": {"properties": {"b": {}}, "typo": 1}}},
    ],
)
async def test_a_bad_mapping_is_refused(started: Application, mappings: dict[str, Any]) -> None:
    data = {"controller": "collection", "action": "create", "index": "library", "collection": "books"}
    assert await failed(started, **data, body={"mappings": mappings}) == (400, "services.storage.invalid_mapping")
    assert await ok(started, controller="collection", action="exists", index="library", collection="books") is False


async def test_deprecated_mappings_body_and_truncate(started: Application) -> None:
    await coll(started, "create", body=STRICT)
    await coll(started, "create", body={"dynamic": "strict", "properties": {"age": {"type": "integer"}}})
    assert set((await coll(started, "getMapping"))["properties"]) == {"name", "age"}
    document = {"controller": "document", "action": "create", "index": "library", "collection": "books"}
    await ok(started, **document, body={"name": "a"})
    assert await coll(started, "truncate") == {"acknowledged": True}
    assert (await ok(started, **{**document, "action": "count"}, body={}))["count"] == 0
    assert (await coll(started, "getMapping"))["dynamic"] == "strict"


SPEC = {
    "strict": True,
    "fields": {
        "title": {"type": "string", "mandatory": True, "typeOptions": {"length": {"min": 1}}},
        "year": {"type": "integer", "typeOptions": {"range": {"min": 0}}},
        "tags": {"type": "string", "multivalued": {"value": True, "maxCount": 3}},
    },
}


async def test_specifications_are_searched_with_scroll_and_scrolled(started: Application) -> None:
    for name in ("c1", "c2", "c3", "c4", "c5"):
        await coll(started, "create", collection=name)
        await coll(started, "updateSpecifications", collection=name, body=SPEC)
    spec = {"controller": "collection", "action": "searchSpecifications", "body": {"query": {"match_all": {}}}}
    first = await ok(started, **spec, size=2, scroll="10s")
    assert first["total"] == 5 and [h["_id"] for h in first["hits"]] == ["library#c1", "library#c2"]
    ids, scroll_id = [h["_id"] for h in first["hits"]], first["scrollId"]
    for _ in range(3):
        page = await ok(started, controller="collection", action="scrollSpecifications", scrollId=scroll_id, scroll="5s")
        assert page["total"] == 5
        ids += [h["_id"] for h in page["hits"]]
        scroll_id = page["scrollId"]
    assert ids == [f"library#c{i}" for i in range(1, 6)]  # and the last page is empty
    # Without scroll, no scrollId; a forged or altered one is unknown, as Kuzzle answers.
    assert "scrollId" not in await ok(started, **spec)
    for bad in ("nope", first["scrollId"][:-2] + "xx"):
        assert await failed(started, controller="collection", action="scrollSpecifications", scrollId=bad) == (
            404,
            "services.storage.unknown_scroll_id",
        )
    assert (await failed(started, **spec, scroll="1d"))[1] == "services.storage.scroll_duration_too_great"
    http = asgi_client(started)
    scrolled = await http("GET", f"/validations/_scroll/{first['scrollId']}")
    assert scrolled.json()["result"]["hits"][0]["_id"] == "library#c3"


async def test_an_expired_specifications_scroll_is_unknown(started: Application) -> None:
    from kuzzle_events.documents import specification_scroll

    await coll(started, "create")
    with mock.patch.object(specification_scroll, "now_ms", return_value=0):
        expired = await sync_to_async(specification_scroll.search)({}, 0, 1, "1s")
    assert await failed(
        started, controller="collection", action="scrollSpecifications", scrollId=expired["scrollId"]
    ) == (404, "services.storage.unknown_scroll_id")


async def test_specifications_life_cycle(started: Application) -> None:
    await coll(started, "create")
    assert await failed(
        started, controller="collection", action="getSpecifications", index="library", collection="books"
    ) == (
        404,
        "validation.assert.not_found",
    )
    assert await coll(started, "validateSpecifications", body=SPEC) == {"valid": True}
    assert await coll(started, "updateSpecifications", body=SPEC) == SPEC
    assert await coll(started, "getSpecifications") == {"index": "library", "collection": "books", "validation": SPEC}
    found = await ok(
        started,
        controller="collection",
        action="searchSpecifications",
        body={"query": {"term": {"collection": "books"}}},
    )
    assert found == {
        "hits": [{"_id": "library#books", "_source": {"index": "library", "collection": "books", "validation": SPEC}}],
        "total": 1,
    }
    none = await ok(
        started, controller="collection", action="searchSpecifications", body={"query": {"term": {"index": "x"}}}
    )
    assert none == {"hits": [], "total": 0}
    assert await coll(started, "deleteSpecifications") == {"acknowledged": True}
    assert await coll(started, "deleteSpecifications") == {"acknowledged": True}
    assert (
        await call(started, controller="collection", action="getSpecifications", index="library", collection="books")
    )["status"] == 404


async def test_bad_specifications_are_refused_with_kuzzle_messages(started: Application) -> None:
    await coll(started, "create")
    bad = {
        "fields": {
            "a": {"type": "nope"},
            "b": {"mandatory": True},
            "c": {"type": "string", "multivalued": {"value": False, "minCount": 1}},
        }
    }
    checked = await coll(started, "validateSpecifications", body=bad)
    assert checked["valid"] is False and checked["description"] == "Some errors with provided specifications."
    assert checked["details"] == [
        'In "library.books.a": unknown type "nope".',
        'Missing property "type" in field "library.books.b".',
        'Field "library.books.c": cannot set a property "minCount" if the field is not multivalued.',
    ]
    answer = await call(
        started, controller="collection", action="updateSpecifications", index="library", collection="books", body=bad
    )
    assert (answer["status"], answer["error"]["id"]) == (400, "validation.assert.invalid_specifications")
    assert 'unknown type "nope"' in answer["error"]["message"]
    unexpected = await coll(started, "validateSpecifications", body={"fields": {}, "other": 1})
    assert unexpected["details"] == [
        'The object "library.books" contains unexpected properties (allowed: strict, fields, validators).'
    ]


def test_every_action_has_kuzzle_routes() -> None:
    routes = {name: http for name, (_, http) in {**index_actions(), **collection_actions()}.items()}
    assert routes["stats"] == [{"verb": "get", "path": "/_storageStats"}]
    assert routes["mDelete"][0] == {"verb": "delete", "path": "/_mDelete"}
    assert routes["mDelete"][1]["path"] == "/_mdelete" and routes["mDelete"][1]["deprecated"]["since"] == "2.4.0"
    assert routes["update"] == [{"verb": "post", "path": "/:index/:collection"}]
    assert routes["searchSpecifications"] == [{"verb": "post", "path": "/validations/_search"}]
    assert all(routes.values())


async def test_public_api_lists_the_actions(started: Application) -> None:
    api = await ok(started, controller="server", action="publicApi")
    assert {"create", "delete", "exists", "list", "mDelete", "stats"} <= set(api["index"])
    assert {"refresh", "truncate", "getSpecifications", "searchSpecifications", "updateMapping"} <= set(
        api["collection"]
    )
    assert [r["verb"] + " " + r["path"] for r in api["collection"]["truncate"]["http"]] == [
        "DELETE /:index/:collection/_truncate"
    ]


async def test_http_routes(started: Application) -> None:
    http = asgi_client(started)
    # Kuzzle answers index:create without a result (undefined in JavaScript, left out of the JSON).
    created = (await http("POST", "/library/_create")).json()
    assert "result" not in created and created["status"] == 200 and created["error"] is None
    failed = (await http("POST", "/library/_create")).json()
    assert failed["result"] is None and failed["error"]["id"] == "services.storage.index_already_exists"
    assert (
        await http("PUT", "/library/books", headers=JSON, content=json.dumps({"mappings": STRICT}).encode())
    ).json()["status"] == 200
    assert (await http("GET", "/library/_list?size=0")).json()["result"]["collections"] == [
        {"name": "books", "type": "stored"}
    ]
    assert (await http("POST", "/library/books/_refresh")).json()["status"] == 200
    assert (await http("GET", "/library/books/_mapping")).json()["result"]["dynamic"] == "strict"
    spec = json.dumps(SPEC).encode()
    assert (await http("PUT", "/library/books/_specifications", headers=JSON, content=spec)).json()["status"] == 200
    assert (await http("POST", "/validations/_search", headers=JSON, content=b"{}")).json()["result"]["total"] == 1
    assert (await http("DELETE", "/library/books/_truncate")).json()["result"] == {"acknowledged": True}
    assert (await http("GET", "/_storageStats")).json()["result"]["indexes"][0]["name"] == "library"
    deleted = await http("DELETE", "/_mDelete", headers=JSON, content=b'{"indexes": ["library"]}')
    assert deleted.json()["result"] == {"deleted": ["library"]}
