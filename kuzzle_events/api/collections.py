"""The ``index`` and ``collection`` controllers, on Django's ORM.

Each action reads its arguments, then makes one hop to the database
(:mod:`kuzzle_events.documents.collections`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["index_actions", "collection_actions"]

_BASE = "/:index/:collection"


def index_actions() -> Table:
    """The ``index`` controller: action -> (handler, HTTP routes)."""
    return {
        "create": (create_index, [route("post", "/:index/_create")]),
        "delete": (delete_index, [route("delete", "/:index")]),
        "exists": (index_exists, [route("get", "/:index/_exists")]),
        "list": (list_indexes, [route("get", "/_list")]),
    }


def collection_actions() -> Table:
    """The ``collection`` controller: action -> (handler, HTTP routes)."""
    return {
        "create": (create_collection, [route("put", _BASE)]),
        "delete": (delete_collection, [route("delete", _BASE)]),
        "exists": (collection_exists, [route("get", f"{_BASE}/_exists")]),
        "list": (list_collections, [route("get", "/:index/_list")]),
    }


# The storage functions, each as a coroutine function (one hop per call).
_db = Service("kuzzle_events.documents.collections")


# index ------------------------------------------------------------------------------------------


async def create_index(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    await _db.create_index(request.get_index())
    return {"acknowledged": True}


async def delete_index(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    await _db.delete_index(request.get_index())
    return {"acknowledged": True}


async def index_exists(app: Application, request: KuzzleRequest) -> bool:
    return bool(await _db.index_exists(request.get_index()))


async def list_indexes(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return {"indexes": await _db.list_indexes()}


# collection -------------------------------------------------------------------------------------


async def create_collection(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    await _db.create_collection(*_target(request))
    return {"acknowledged": True}


async def delete_collection(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    await _db.delete_collection(*_target(request))
    return {"acknowledged": True}


async def collection_exists(app: Application, request: KuzzleRequest) -> bool:
    return bool(await _db.collection_exists(*_target(request)))


async def list_collections(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    names = await _db.list_collections(request.get_index())
    collections = [{"name": name, "type": "stored"} for name in names]
    start, size = request.get_integer("from", 0), request.get_integer("size", len(collections) or 1)
    return {"type": "stored", "collections": collections[start : start + size], "from": start, "size": size}


def _target(request: KuzzleRequest) -> tuple[str, str]:
    return request.get_index(), request.get_collection()
