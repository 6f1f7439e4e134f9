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
from kuzzle_events.api import document_args as args
from kuzzle_events.api import document_export as exporting
from kuzzle_events.api import document_multi as multi
from kuzzle_events.api.document_writes import inject_metadata, write_one
from kuzzle_events.api.paging import bounds
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route
from kuzzle_events.documents.generic import FAMILIES, GenericDocumentEvents
from kuzzle_events.security.tokens import now_ms

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["document_actions", "attach_generic_events"]

_BASE = "/:index/:collection"


def _put(action: str, verb: str) -> tuple[str, str]:
    # Kuzzle 2.11 moved these routes off PUT: the PUT ones are kept, and deprecated.
    return "2.11.0", f'Use "document:{action}" route with {verb} instead of PUT'


def document_actions() -> Table:
    """The ``document`` controller: action -> (handler, HTTP routes), Kuzzle's routes."""
    return {
        "count": (count, [route("post", f"{_BASE}/_count")]),
        "create": (create, [route("post", f"{_BASE}/_create"), route("post", f"{_BASE}/:_id/_create")]),
        "createOrReplace": (create_or_replace, [route("put", f"{_BASE}/:_id")]),
        "delete": (delete, [route("delete", f"{_BASE}/:_id")]),
        "deleteByQuery": (multi.delete_by_query, [route("delete", f"{_BASE}/_query")]),
        "deleteFields": (delete_fields, [route("delete", f"{_BASE}/:_id/_fields")]),
        "exists": (exists, [route("get", f"{_BASE}/:_id/_exists")]),
        "export": (export, [route("get", f"{_BASE}/_export"), route("post", f"{_BASE}/_export")]),
        "get": (get, [route("get", f"{_BASE}/:_id")]),
        "mCreate": (multi.m_create, [route("post", f"{_BASE}/_mCreate")]),
        "mCreateOrReplace": (multi.m_create_or_replace, [route("put", f"{_BASE}/_mCreateOrReplace")]),
        "mDelete": (multi.m_delete, [route("delete", f"{_BASE}/_mDelete")]),
        "mExists": (multi.m_exists, [route("post", f"{_BASE}/_mExists")]),
        "mGet": (multi.m_get, [route("get", f"{_BASE}/_mGet"), route("post", f"{_BASE}/_mGet")]),
        "mReplace": (multi.m_replace, [route("put", f"{_BASE}/_mReplace")]),
        "mUpdate": (
            multi.m_update,
            [route("put", f"{_BASE}/_mUpdate", _put("mUpdate", "PATCH")), route("patch", f"{_BASE}/_mUpdate")],
        ),
        "mUpsert": (multi.m_upsert, [route("post", f"{_BASE}/_mUpsert")]),
        "replace": (replace, [route("put", f"{_BASE}/:_id/_replace")]),
        "scroll": (scroll, [route("get", "/_scroll/:scrollId")]),
        "search": (search, [route("post", f"{_BASE}/_search"), route("get", f"{_BASE}/_search")]),
        "update": (
            update,
            [route("put", f"{_BASE}/:_id/_update", _put("update", "PATCH")), route("patch", f"{_BASE}/:_id/_update")],
        ),
        "updateByQuery": (multi.update_by_query, [route("put", f"{_BASE}/_query")]),
        "upsert": (
            upsert,
            [route("post", f"{_BASE}/:_id/_upsert"), route("put", f"{_BASE}/:_id/_upsert", _put("upsert", "POST"))],
        ),
        "validate": (validate, [route("post", f"{_BASE}/_validate")]),
    }


def attach_generic_events(app: Application) -> None:
    """Give each ``document`` action its generic document events."""
    for name, act in app.controller.controllers["document"].actions.items():
        if name in FAMILIES:
            act.generic = GenericDocumentEvents(name)


# The storage functions, each as a coroutine function (one hop per call).
_db = Service("kuzzle_events.documents.storage")
_search = Service("kuzzle_events.documents.search")
_collections = Service("kuzzle_events.documents.collections")


# document ---------------------------------------------------------------------------------------


async def create(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create a document (its id generated when not given)."""
    key = args.doc_id(request.input.args.get("_id"), required=False)
    now, kuid = now_ms(), args.kuid(request)
    info = await inject_metadata(app, request, {"author": kuid, "createdAt": now, "updatedAt": None, "updater": None})
    written = await write_one(
        app,
        request,
        {"kind": "create", "_id": key, "body": args.source(request.input.body), "info": info, "validate": True},
    )
    return {"_id": written["_id"], "_source": written["_source"], "_version": written["_version"]}


async def create_or_replace(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create a document, or replace it (its metadata too) when it exists."""
    return await _replace(app, request, "createOrReplace")


async def replace(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Replace an existing document's content."""
    return await _replace(app, request, "replace")


async def _replace(app: Application, request: KuzzleRequest, kind: str) -> dict[str, Any]:
    key = args.doc_id(request.input.args.get("_id"))
    now, kuid = now_ms(), args.kuid(request)
    info = await inject_metadata(app, request, {"author": kuid, "createdAt": now, "updatedAt": now, "updater": kuid})
    body = args.source(request.input.body)
    written = await write_one(app, request, {"kind": kind, "_id": key, "body": body, "info": info, "validate": True})
    result = {"_id": written["_id"], "_source": written["_source"], "_version": written["_version"]}
    if kind == "createOrReplace":
        result["created"] = written["created"]
    return result


async def update(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge changes into a document (objects recursively, as Elasticsearch does)."""
    key = args.doc_id(request.input.args.get("_id"))
    changes = args.source(request.input.body)
    args.retry_on_conflict(request)
    info = await inject_metadata(app, request, {"updatedAt": now_ms(), "updater": args.kuid(request)})
    op = {"kind": "update", "_id": key, "body": changes, "info": info, "validate": True}
    written = await write_one(app, request, op)
    if request.get_boolean("source"):
        return _public(written)
    source = {**changes, "_kuzzle_info": written["_source"].get("_kuzzle_info")}
    return {"_id": written["_id"], "_source": source, "_version": written["_version"]}


async def upsert(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge changes into a document, creating it (with ``default``) when missing."""
    key = args.doc_id(request.input.args.get("_id"))
    body = request.get_body()
    changes = args.source(body.get("changes"), "body.changes")
    default = args.source(body.get("default", {}), "body.default")
    args.retry_on_conflict(request)
    now, kuid = now_ms(), args.kuid(request)
    info, default_info = await inject_metadata(
        app, request, {"updatedAt": now, "updater": kuid}, {"author": kuid, "createdAt": now}
    )
    op = {"kind": "upsert", "_id": key, "body": changes, "default": default, "info": info, "default_info": default_info}
    written = await write_one(app, request, op)
    result = {"_id": written["_id"], "_version": written["_version"], "created": written["created"]}
    if request.get_boolean("source"):
        result["_source"] = written["_source"]
    return result


async def delete(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete a document; with ``source``, answer it as it was."""
    key = args.doc_id(request.input.args.get("_id"))
    deleted = await write_one(app, request, {"kind": "delete", "_id": key})
    return _public(deleted) if request.get_boolean("source") else {"_id": deleted["_id"]}


async def delete_fields(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Remove fields (dotted paths) from a document."""
    key = args.doc_id(request.input.args.get("_id"))
    fields = request.get_body().get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise errors.get("api.assert.invalid_type", "body.fields", "array of strings")
    info = {"updatedAt": now_ms(), "updater": args.kuid(request)}
    written = await write_one(app, request, {"kind": "deleteFields", "_id": key, "fields": fields, "info": info})
    return (
        _public(written) if request.get_boolean("source") else {"_id": written["_id"], "_version": written["_version"]}
    )


async def get(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A document, with its ``_version``."""
    key = args.doc_id(request.input.args.get("_id"))
    index, collection = args.target(request)
    found = (await _db.get(index, collection, [key])).get(key)
    if found is None:
        raise errors.get("services.storage.not_found", key, index, collection)
    return _public(found)


async def exists(app: Application, request: KuzzleRequest) -> bool:
    """Whether a document exists."""
    key = args.doc_id(request.input.args.get("_id"))
    return key in await _db.get(*args.target(request), [key])


async def validate(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Whether the collection's specifications accept a document: ``{errorMessages, valid}``, every
    problem listed (``documentScope``, ``fieldScope``), as Kuzzle's verbose validation answers."""
    index, collection = args.target(request)
    source = args.source(request.input.body)
    key = request.input.args.get("_id")
    return dict(await _collections.validation_report(index, collection, key if isinstance(key, str) else "", source))


async def export(app: Application, request: KuzzleRequest) -> Any:
    """The documents matching ``query``, as JSON lines or CSV (HTTP only, as in Kuzzle)."""
    return await exporting.export(app, request)


async def search(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A page of the documents matching the body, in one collection, or in several (``targets``)."""
    targets = args.search_targets(request)
    start, size = bounds(request)
    return dict(
        await _search.search(
            *targets[0],
            _search_body(request),
            _lang(request),
            start=start,
            size=size,
            scroll_ttl=_scroll_ttl(request),
            targets=targets if "targets" in request.input.args else None,
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


def _target(request: KuzzleRequest) -> tuple[str, str]:
    return args.target(request)


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {"_id": document["_id"], "_source": document["_source"], "_version": document["_version"]}
