"""The ``document`` controller, on Django's ORM (``index``, ``collection``: :mod:`.collections`).

Each action reads its arguments, then makes one hop to the database
(:mod:`kuzzle_events.documents.storage`). ``document`` actions also fire the generic document
events (:mod:`kuzzle_events.documents.generic`), and their writes are published to realtime
subscribers (``app.realtime``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.paging import bounds
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Handler, Table, route
from kuzzle_events.documents.generic import FAMILIES, GenericDocumentEvents

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["document_actions", "attach_generic_events"]

_BASE = "/:index/:collection"


def document_actions() -> Table:
    """The ``document`` controller: action -> (handler, HTTP routes)."""
    return {
        "create": (_write("create"), [route("post", f"{_BASE}/_create"), route("post", f"{_BASE}/:_id/_create")]),
        "createOrReplace": (_write("createOrReplace"), [route("put", f"{_BASE}/:_id")]),
        "replace": (_write("replace"), [route("put", f"{_BASE}/:_id/_replace")]),
        "update": (update, [route("put", f"{_BASE}/:_id/_update")]),
        "upsert": (upsert, [route("post", f"{_BASE}/:_id/_upsert")]),
        "delete": (delete, [route("delete", f"{_BASE}/:_id")]),
        "get": (get, [route("get", f"{_BASE}/:_id")]),
        "exists": (exists, [route("get", f"{_BASE}/:_id/_exists")]),
        "mGet": (m_get, [route("post", f"{_BASE}/_mGet")]),
        "mCreate": (_m_write("create"), [route("post", f"{_BASE}/_mCreate")]),
        "mCreateOrReplace": (_m_write("createOrReplace"), [route("put", f"{_BASE}/_mCreateOrReplace")]),
        "mReplace": (_m_write("replace"), [route("put", f"{_BASE}/_mReplace")]),
        "mUpdate": (m_update, [route("put", f"{_BASE}/_mUpdate")]),
        "mDelete": (m_delete, [route("delete", f"{_BASE}/_mDelete")]),
        "count": (count, [route("post", f"{_BASE}/_count")]),
        "search": (search, [route("post", f"{_BASE}/_search"), route("get", f"{_BASE}/_search")]),
        "scroll": (scroll, [route("get", "/_scroll/:scrollId")]),
    }


def attach_generic_events(app: Application) -> None:
    """Give each ``document`` action its generic document events."""
    for name, act in app.controller.controllers["document"].actions.items():
        if name in FAMILIES:
            act.generic = GenericDocumentEvents(name)


# The storage functions, each as a coroutine function (one hop per call).
_db = Service("kuzzle_events.documents.storage")
_search = Service("kuzzle_events.documents.search")


# document ---------------------------------------------------------------------------------------


def _write(mode: str) -> Handler:
    async def handler(app: Application, request: KuzzleRequest) -> dict[str, Any]:
        key = _doc_id(request.input.args.get("_id"), required=mode != "create")
        (written,) = await _db.write(*_target(request), [(key, _source(request.input.body))], mode, _kuid(request))
        await _notify(app, request, request.input.action or mode, [written])
        result = {"_id": written["_id"], "_version": 1, "_source": written["_source"]}
        if mode == "createOrReplace":
            result["created"] = written["created"]
        return result

    return handler


def _m_write(mode: str) -> Handler:
    async def handler(app: Application, request: KuzzleRequest) -> dict[str, Any]:
        documents = _documents(request, ids_required=mode == "replace")
        written = await _db.write(*_target(request), documents, mode, _kuid(request))
        await _notify(app, request, request.input.action or mode, written)
        return {"successes": [_public(d) for d in written], "errors": []}

    return handler


async def update(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    key = _doc_id(request.input.args.get("_id"))
    (updated,) = await _db.update(*_target(request), [(key, _source(request.input.body))], _kuid(request))
    await _notify(app, request, "update", [updated])
    return {"_id": updated["_id"], "_version": 1, "_source": updated["_source"]}


async def upsert(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    key = _doc_id(request.input.args.get("_id"))
    body = request.get_body()
    changes = _source(body.get("changes"), "body.changes")
    default = _source(body.get("default", {}), "body.default")
    (updated,) = await _db.update(*_target(request), [(key, changes)], _kuid(request), default=default)
    await _notify(app, request, "upsert", [updated])
    return {"_id": updated["_id"], "_version": 1, "_source": updated["_source"], "created": updated["created"]}


async def m_update(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    documents = _documents(request, ids_required=True)
    updated = await _db.update(*_target(request), documents, _kuid(request))
    await _notify(app, request, "mUpdate", updated)
    return {"successes": [_public(d) for d in updated], "errors": []}


async def delete(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    key = _doc_id(request.input.args.get("_id"))
    deleted = await _db.delete(*_target(request), [key])
    await _notify(app, request, "delete", deleted)
    return {"_id": key}


async def m_delete(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    deleted = await _db.delete(*_target(request), _ids(request))
    await _notify(app, request, "mDelete", deleted)
    return {"successes": [d["_id"] for d in deleted], "errors": []}


async def get(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    key = _doc_id(request.input.args.get("_id"))
    index, collection = _target(request)
    found = (await _db.get(index, collection, [key])).get(key)
    if found is None:
        raise errors.get("services.storage.not_found", key, index, collection)
    return {"_id": key, "_version": 1, "_source": found["_source"]}


async def exists(app: Application, request: KuzzleRequest) -> bool:
    key = _doc_id(request.input.args.get("_id"))
    return key in await _db.get(*_target(request), [key])


async def m_get(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    ids = _ids(request)
    found = await _db.get(*_target(request), ids)
    return {"successes": [found[i] for i in ids if i in found], "errors": [i for i in ids if i not in found]}


async def search(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    start, size = bounds(request)
    return dict(
        await _search.search(
            *_target(request),
            _search_body(request),
            _lang(request),
            start=start,
            size=size,
            scroll_ttl=_scroll_ttl(request),
        )
    )


async def count(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return {"count": await _search.count(*_target(request), _search_body(request), _lang(request))}


async def scroll(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    scroll_id = request.get_string("scrollId")
    return dict(await _search.scroll(scroll_id, _scroll_ttl(request)))


def _search_body(request: KuzzleRequest) -> dict[str, Any]:
    """The search body; over HTTP ``GET``, the ``searchBody`` argument (JSON text), as in Kuzzle."""
    connection = request.context.connection
    if connection.protocol == "http" and connection.misc.get("verb", "").upper() == "GET":
        text = request.get_string("searchBody", "{}")
        try:
            body = json.loads(text)
        except ValueError:
            raise errors.get("api.assert.invalid_type", "searchBody", "JSON string") from None
    else:
        body = request.get_body({})
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    return body


def _lang(request: KuzzleRequest) -> str:
    lang = request.get_string("lang", "elasticsearch")
    if lang not in ("elasticsearch", "koncorde"):
        raise errors.get("api.assert.invalid_argument", "lang", '"elasticsearch" or "koncorde"')
    return lang


def _scroll_ttl(request: KuzzleRequest) -> str | None:
    value = request.input.args.get("scroll")
    if value is not None and not isinstance(value, str):
        raise errors.get("api.assert.invalid_type", "scroll", "string")
    return value or None


async def _notify(app: Application, request: KuzzleRequest, action: str, documents: list[dict[str, Any]]) -> None:
    realtime = getattr(app, "realtime", None)
    if realtime is not None:
        index, collection = _target(request)
        await realtime.document_changed(request, index, collection, action, documents)


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
