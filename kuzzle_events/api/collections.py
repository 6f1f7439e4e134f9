"""The ``index`` and ``collection`` controllers, on Django's ORM.

Each action reads its arguments, then makes one hop to the database
(:mod:`kuzzle_events.documents.collections`). Results are Kuzzle's: ``index:create`` and
``collection:update``/``delete``/``refresh`` answer nothing (``null``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.paging import bounds
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["index_actions", "collection_actions"]

_BASE = "/:index/:collection"
_MDELETE = ("2.4.0", "Use this route instead: http://kuzzle:7512/_mDelete")
_LIST_TYPES = ("all", "stored", "realtime")
_FETCH_LIMIT = 10_000  # Kuzzle's limits.documentsFetchCount


def index_actions() -> Table:
    """The ``index`` controller: action -> (handler, HTTP routes)."""
    return {
        "create": (create_index, [route("post", "/:index/_create")]),
        "delete": (delete_index, [route("delete", "/:index")]),
        "exists": (index_exists, [route("get", "/:index/_exists")]),
        "list": (list_indexes, [route("get", "/_list")]),
        "mDelete": (delete_indexes, [route("delete", "/_mDelete"), route("delete", "/_mdelete", _MDELETE)]),
        "stats": (stats, [route("get", "/_storageStats")]),
    }


def collection_actions() -> Table:
    """The ``collection`` controller: action -> (handler, HTTP routes)."""
    return {
        "create": (create_collection, [route("put", _BASE)]),
        "update": (update_collection, [route("post", _BASE)]),
        "delete": (delete_collection, [route("delete", _BASE)]),
        "exists": (collection_exists, [route("get", f"{_BASE}/_exists")]),
        "list": (list_collections, [route("get", "/:index/_list")]),
        "refresh": (refresh, [route("post", f"{_BASE}/_refresh")]),
        "truncate": (truncate, [route("delete", f"{_BASE}/_truncate")]),
        "getMapping": (get_mapping, [route("get", f"{_BASE}/_mapping")]),
        "updateMapping": (update_mapping, [route("put", f"{_BASE}/_mapping", ("2.1.0", "Use collection:update"))]),
        "getSettings": (get_settings, [route("get", f"{_BASE}/_settings")]),
        "updateSettings": (update_settings, [route("post", f"{_BASE}/_settings")]),
        "getSpecifications": (get_specifications, [route("get", f"{_BASE}/_specifications")]),
        "updateSpecifications": (update_specifications, [route("put", f"{_BASE}/_specifications")]),
        "validateSpecifications": (validate_specifications, [route("post", f"{_BASE}/_validateSpecifications")]),
        "deleteSpecifications": (delete_specifications, [route("delete", f"{_BASE}/_specifications")]),
        "searchSpecifications": (search_specifications, [route("post", "/validations/_search")]),
        "scrollSpecifications": (scroll_specifications, [route("get", "/validations/_scroll/:scrollId")]),
    }


# The storage functions, each as a coroutine function (one hop per call).
_db = Service("kuzzle_events.documents.collections")
_scrolling = Service("kuzzle_events.documents.specification_scroll")


# index ------------------------------------------------------------------------------------------


async def create_index(app: Application, request: KuzzleRequest) -> None:
    """Create an index; as Kuzzle, the answer has no ``result`` at all."""
    await _db.create_index(request.get_index())
    request.response.no_result = True


async def delete_index(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete an index, its collections and their documents."""
    await _db.delete_index(request.get_index())
    return {"acknowledged": True}


async def index_exists(app: Application, request: KuzzleRequest) -> bool:
    """Whether an index exists."""
    return bool(await _db.index_exists(request.get_index()))


async def list_indexes(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Every index, in creation order; with ``countCollection``, how many collections each has."""
    indexes = await _db.list_indexes()
    if not request.get_boolean("countCollection"):
        return {"indexes": indexes}
    counts = await _db.collection_counts()
    return {"indexes": indexes, "collections": {name: counts.get(name, 0) for name in indexes}}


async def delete_indexes(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete the indexes of ``body.indexes`` that exist and that the user may delete (``index:delete``)."""
    names = request.get_body({}).get("indexes", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise errors.get("api.assert.invalid_type", "body.indexes", "array of strings")
    if request.context.check_rights or request.context.token is not None:
        # As Kuzzle: an index the user may not delete is left out, not an error.
        rights = await app.security.rights()
        if not rights.allows(request.context.user.profile_ids, "index", "delete"):
            names = []
    return {"deleted": await _db.delete_indexes(names)}


async def stats(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Documents and bytes by collection and by index (bytes: the size of the documents' JSON)."""
    return dict(await _db.stats())


# collection -------------------------------------------------------------------------------------


async def create_collection(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create a collection (and its index, if missing) with ``mappings`` and ``settings``; an existing
    one is updated with them."""
    body = request.get_body({})
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    if any(key in body for key in ("properties", "dynamic", "_meta")):
        # Kuzzle's former form (before 2.1): the body is the mappings.
        body = {"mappings": body}
    await _db.create_collection(*_target(request), body.get("mappings"), body.get("settings"))
    return {"acknowledged": True}


async def update_collection(app: Application, request: KuzzleRequest) -> None:
    """Merge ``mappings`` and ``settings`` into a collection's."""
    body = request.get_body({})
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    await _db.update_collection(*_target(request), body.get("mappings"), body.get("settings"))


async def delete_collection(app: Application, request: KuzzleRequest) -> None:
    """Delete a collection and its documents."""
    await _db.delete_collection(*_target(request))


async def collection_exists(app: Application, request: KuzzleRequest) -> bool:
    """Whether a collection exists."""
    return bool(await _db.collection_exists(*_target(request)))


async def list_collections(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The collections of an index, by name: ``type`` ``stored``, ``realtime`` (with subscriptions) or
    ``all``; ``from``/``size`` page them (``size`` absent or 0: every one)."""
    index = request.get_index()
    start, size = request.get_integer("from", 0), request.get_integer("size", 0)
    kind = request.get_string("type", "all")
    if kind not in _LIST_TYPES:
        raise errors.get("api.assert.invalid_argument", "type", '"all", "stored", "realtime"')
    if start < 0 or size < 0:
        raise errors.get("api.assert.invalid_argument", "from/size", "positive integers")
    collections: list[dict[str, str]] = []
    if kind != "stored":
        realtime = getattr(app, "realtime", None)
        rooms = {} if realtime is None else (await realtime.list()).get(index, {})
        collections += [{"name": name, "type": "realtime"} for name in rooms]
    if kind != "realtime":
        collections += [{"name": name, "type": "stored"} for name in await _db.list_collections(index)]
    collections.sort(key=lambda c: c["name"])
    result: dict[str, Any] = {"collections": collections, "type": kind}
    if start or size:
        result["from"] = start
        if size:
            result["size"] = size
        result["collections"] = collections[start : start + size] if size else collections[start:]
    return result


async def refresh(app: Application, request: KuzzleRequest) -> None:
    """Accepted for Kuzzle's clients: the database answers what was written at once."""
    await _db.find_collection(*_target(request))


async def truncate(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete every document of a collection, keeping its mappings, settings and specifications."""
    await _db.truncate_collection(*_target(request))
    return {"acknowledged": True}


async def get_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """``{_meta, dynamic, properties}``; ``includeKuzzleMeta`` adds ``_kuzzle_info``'s."""
    kuzzle_meta = request.get_boolean("includeKuzzleMeta")
    return dict(await _db.get_mapping(*_target(request), kuzzle_meta=kuzzle_meta))


async def update_mapping(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge the body (mappings) into a collection's (Kuzzle deprecates it for ``collection:update``)."""
    return dict(await _db.update_mapping(*_target(request), request.get_body()))


async def get_settings(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A collection's settings."""
    return dict(await _db.get_settings(*_target(request)))


async def update_settings(app: Application, request: KuzzleRequest) -> None:
    """Merge the body (settings) into a collection's."""
    await _db.update_settings(*_target(request), request.get_body())


async def get_specifications(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """``{index, collection, validation}``: a collection's validation specifications."""
    return dict(await _db.get_specifications(*_target(request)))


async def update_specifications(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Store a collection's validation specifications, checked first (Kuzzle's format)."""
    return dict(await _db.update_specifications(*_target(request), request.get_body()))


async def validate_specifications(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Whether the body is a valid specification, and if not, every reason."""
    problems = await _db.specification_errors(*_target(request), request.get_body())
    if problems:
        return {"valid": False, "details": problems, "description": "Some errors with provided specifications."}
    return {"valid": True}


async def delete_specifications(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Remove a collection's validation specifications."""
    await _db.delete_specifications(*_target(request))
    return {"acknowledged": True}


async def search_specifications(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The stored specifications matching ``body.query``: ``{hits, total}``."""
    body = request.get_body({})
    query = body.get("query", {}) if isinstance(body, dict) else None
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    start, size = bounds(request)
    if size - start > _FETCH_LIMIT:
        raise errors.get("services.storage.get_limit_exceeded")
    ttl = request.input.args.get("scroll")
    if ttl is not None:
        # As Kuzzle's (Elasticsearch's) scroll: {hits, scrollId, total}, the next page by scrollSpecifications.
        return dict(await _scrolling.search(query, start, size, ttl))
    return dict(await _db.search_specifications(query, start, size))


async def scroll_specifications(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The next page of a ``searchSpecifications`` made with ``scroll``: ``{hits, scrollId, total}``."""
    return dict(await _scrolling.scroll(request.get_string("scrollId"), request.input.args.get("scroll")))


def _target(request: KuzzleRequest) -> tuple[str, str]:
    return request.get_index(), request.get_collection()
