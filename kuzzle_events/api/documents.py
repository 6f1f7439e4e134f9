"""The ``index``, ``collection`` and ``document`` controllers, on Django's ORM.

Each action makes one hop to the database (``kuzzle_events.documents.storage``). ``document``
actions also fire the generic document events (``kuzzle_events.documents.generic``), and their
writes are published to realtime subscribers (``app.realtime``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from kuzzle_events import errors
from kuzzle_events.documents.filters import compile_filter, sort_documents
from kuzzle_events.documents.generic import FAMILIES, GenericDocumentEvents
from kuzzle_events.orm import orm

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["index_controller", "collection_controller", "document_controller", "attach_generic_events"]

_STORAGE = "kuzzle_events.documents.storage"
_db: dict[str, Callable[..., Any]] = {}


def db(name: str) -> Callable[..., Any]:
    """A storage function as a coroutine function (one hop per call)."""
    fn = _db.get(name)
    if fn is None:
        fn = _db[name] = orm(_STORAGE, name)
    return fn


def _route(verb: str, path: str) -> dict[str, str]:
    return {"verb": verb, "path": path}


# Arguments --------------------------------------------------------------------------------------


def _source(value: Any, name: str = "body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.get("api.assert.invalid_type", name, "object")
    # Metadata are the server's: a client cannot write its own.
    return {k: v for k, v in value.items() if k != "_kuzzle_info"}


def _doc_id(value: Any, name: str = "_id", *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise errors.get("api.assert.missing_argument", name)
        return None
    if not isinstance(value, str):
        raise errors.get("api.assert.invalid_type", name, "string")
    if value == "_search":
        raise errors.get("services.storage.search_as_an_id")
    if value.startswith("_"):
        raise errors.get("api.assert.invalid_id")
    return value


def _documents(request: KuzzleRequest, *, ids_required: bool) -> list[tuple[str | None, dict[str, Any]]]:
    items = request.get_body().get("documents")
    if not isinstance(items, list) or not items:
        raise errors.get("api.assert.invalid_type", "body.documents", "non-empty array")
    documents = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise errors.get("api.assert.invalid_type", f"body.documents[{i}]", "object")
        documents.append(
            (
                _doc_id(item.get("_id"), f"body.documents[{i}]._id", required=ids_required),
                _source(item.get("body"), f"body.documents[{i}].body"),
            )
        )
    return documents


def _ids(request: KuzzleRequest) -> list[str]:
    ids = request.get_body().get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise errors.get("api.assert.invalid_type", "body.ids", "non-empty array of strings")
    return ids


def _target(request: KuzzleRequest) -> tuple[str, str]:
    return request.get_index(), request.get_collection()


def _kuid(request: KuzzleRequest) -> str:
    return request.context.user.id


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {"_id": document["_id"], "_source": document["_source"]}


# index and collection ---------------------------------------------------------------------------


def index_controller(app: Application) -> dict[str, Any]:
    async def create(request: KuzzleRequest) -> dict[str, Any]:
        await db("create_index")(request.get_index())
        return {"acknowledged": True}

    async def delete(request: KuzzleRequest) -> dict[str, Any]:
        await db("delete_index")(request.get_index())
        return {"acknowledged": True}

    async def exists(request: KuzzleRequest) -> bool:
        return bool(await db("index_exists")(request.get_index()))

    async def list_(request: KuzzleRequest) -> dict[str, Any]:
        return {"indexes": await db("list_indexes")()}

    return {
        "actions": {
            "create": {"handler": create, "http": [_route("post", "/:index/_create")]},
            "delete": {"handler": delete, "http": [_route("delete", "/:index")]},
            "exists": {"handler": exists, "http": [_route("get", "/:index/_exists")]},
            "list": {"handler": list_, "http": [_route("get", "/_list")]},
        }
    }


def collection_controller(app: Application) -> dict[str, Any]:
    async def create(request: KuzzleRequest) -> dict[str, Any]:
        await db("create_collection")(*_target(request))
        return {"acknowledged": True}

    async def delete(request: KuzzleRequest) -> dict[str, Any]:
        await db("delete_collection")(*_target(request))
        return {"acknowledged": True}

    async def exists(request: KuzzleRequest) -> bool:
        return bool(await db("collection_exists")(*_target(request)))

    async def list_(request: KuzzleRequest) -> dict[str, Any]:
        names = await db("list_collections")(request.get_index())
        collections = [{"name": name, "type": "stored"} for name in names]
        start, size = request.get_integer("from", 0), request.get_integer("size", len(collections) or 1)
        return {"type": "stored", "collections": collections[start : start + size], "from": start, "size": size}

    return {
        "actions": {
            "create": {"handler": create, "http": [_route("put", "/:index/:collection")]},
            "delete": {"handler": delete, "http": [_route("delete", "/:index/:collection")]},
            "exists": {"handler": exists, "http": [_route("get", "/:index/:collection/_exists")]},
            "list": {"handler": list_, "http": [_route("get", "/:index/_list")]},
        }
    }


# document ---------------------------------------------------------------------------------------


def document_controller(app: Application) -> dict[str, Any]:
    async def notify(request: KuzzleRequest, action: str, documents: list[dict[str, Any]]) -> None:
        realtime = getattr(app, "realtime", None)
        if realtime is not None:
            index, collection = _target(request)
            await realtime.document_changed(request, index, collection, action, documents)

    def write_action(mode: str) -> Callable[[KuzzleRequest], Any]:
        async def handler(request: KuzzleRequest) -> dict[str, Any]:
            key = _doc_id(request.input.args.get("_id"), required=mode != "create")
            (written,) = await db("write")(
                *_target(request), [(key, _source(request.input.body))], mode, _kuid(request)
            )
            await notify(request, request.input.action or mode, [written])
            result = {"_id": written["_id"], "_version": 1, "_source": written["_source"]}
            if mode == "createOrReplace":
                result["created"] = written["created"]
            return result

        return handler

    def m_write_action(mode: str) -> Callable[[KuzzleRequest], Any]:
        async def handler(request: KuzzleRequest) -> dict[str, Any]:
            documents = _documents(request, ids_required=mode == "replace")
            written = await db("write")(*_target(request), documents, mode, _kuid(request))
            await notify(request, request.input.action or mode, written)
            return {"successes": [_public(d) for d in written], "errors": []}

        return handler

    async def update(request: KuzzleRequest) -> dict[str, Any]:
        key = _doc_id(request.input.args.get("_id"))
        (updated,) = await db("update")(*_target(request), [(key, _source(request.input.body))], _kuid(request))
        await notify(request, "update", [updated])
        return {"_id": updated["_id"], "_version": 1, "_source": updated["_source"]}

    async def upsert(request: KuzzleRequest) -> dict[str, Any]:
        key = _doc_id(request.input.args.get("_id"))
        body = request.get_body()
        changes = _source(body.get("changes"), "body.changes")
        default = _source(body.get("default", {}), "body.default")
        (updated,) = await db("update")(*_target(request), [(key, changes)], _kuid(request), default=default)
        await notify(request, "upsert", [updated])
        return {"_id": updated["_id"], "_version": 1, "_source": updated["_source"], "created": updated["created"]}

    async def m_update(request: KuzzleRequest) -> dict[str, Any]:
        documents = _documents(request, ids_required=True)
        updated = await db("update")(*_target(request), documents, _kuid(request))
        await notify(request, "mUpdate", updated)
        return {"successes": [_public(d) for d in updated], "errors": []}

    async def delete(request: KuzzleRequest) -> dict[str, Any]:
        key = _doc_id(request.input.args.get("_id"))
        deleted = await db("delete")(*_target(request), [key])
        await notify(request, "delete", deleted)
        return {"_id": key}

    async def m_delete(request: KuzzleRequest) -> dict[str, Any]:
        deleted = await db("delete")(*_target(request), _ids(request))
        await notify(request, "mDelete", deleted)
        return {"successes": [d["_id"] for d in deleted], "errors": []}

    async def get(request: KuzzleRequest) -> dict[str, Any]:
        key = _doc_id(request.input.args.get("_id"))
        index, collection = _target(request)
        found = (await db("get")(index, collection, [key])).get(key)
        if found is None:
            raise errors.get("services.storage.not_found", key, index, collection)
        return {"_id": key, "_version": 1, "_source": found["_source"]}

    async def exists(request: KuzzleRequest) -> bool:
        key = _doc_id(request.input.args.get("_id"))
        return key in await db("get")(*_target(request), [key])

    async def m_get(request: KuzzleRequest) -> dict[str, Any]:
        ids = _ids(request)
        found = await db("get")(*_target(request), ids)
        return {"successes": [found[i] for i in ids if i in found], "errors": [i for i in ids if i not in found]}

    def matching(request: KuzzleRequest, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = request.get_body({})
        match = compile_filter(body.get("query", {}))
        hits = [d for d in documents if match(d["_id"], d["_source"])]
        return sort_documents(hits, body.get("sort"))

    async def search(request: KuzzleRequest) -> dict[str, Any]:
        start = request.get_integer("from", 0)
        size = request.get_integer("size", 10)
        if start < 0 or size < 0:
            raise errors.get("api.assert.invalid_argument", "from/size", "positive integers")
        # The filter is checked before the database is read.
        compile_filter(request.get_body({}).get("query", {}))
        hits = matching(request, await db("scan")(*_target(request)))
        page = [{"_id": d["_id"], "_score": 1, "_source": d["_source"]} for d in hits[start : start + size]]
        return {"hits": page, "total": len(hits)}

    async def count(request: KuzzleRequest) -> dict[str, Any]:
        compile_filter(request.get_body({}).get("query", {}))
        return {"count": len(matching(request, await db("scan")(*_target(request))))}

    base = "/:index/:collection"
    actions: dict[str, tuple[Callable[[KuzzleRequest], Any], list[dict[str, str]]]] = {
        "create": (write_action("create"), [_route("post", f"{base}/_create"), _route("post", f"{base}/:_id/_create")]),
        "createOrReplace": (write_action("createOrReplace"), [_route("put", f"{base}/:_id")]),
        "replace": (write_action("replace"), [_route("put", f"{base}/:_id/_replace")]),
        "update": (update, [_route("put", f"{base}/:_id/_update")]),
        "upsert": (upsert, [_route("post", f"{base}/:_id/_upsert")]),
        "delete": (delete, [_route("delete", f"{base}/:_id")]),
        "get": (get, [_route("get", f"{base}/:_id")]),
        "exists": (exists, [_route("get", f"{base}/:_id/_exists")]),
        "mGet": (m_get, [_route("post", f"{base}/_mGet")]),
        "mCreate": (m_write_action("create"), [_route("post", f"{base}/_mCreate")]),
        "mCreateOrReplace": (m_write_action("createOrReplace"), [_route("put", f"{base}/_mCreateOrReplace")]),
        "mReplace": (m_write_action("replace"), [_route("put", f"{base}/_mReplace")]),
        "mUpdate": (m_update, [_route("put", f"{base}/_mUpdate")]),
        "mDelete": (m_delete, [_route("delete", f"{base}/_mDelete")]),
        "count": (count, [_route("post", f"{base}/_count")]),
        "search": (search, [_route("post", f"{base}/_search")]),
    }
    return {"actions": {name: {"handler": fn, "http": http} for name, (fn, http) in actions.items()}}


def attach_generic_events(app: Application) -> None:
    """Give each ``document`` action its generic document events."""
    for name, act in app.controller.controllers["document"].actions.items():
        if name in FAMILIES:
            act.generic = GenericDocumentEvents(name)
