"""The arguments of the ``document`` and ``bulk`` actions, checked as Kuzzle checks them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.core.request import NOBODY

if TYPE_CHECKING:
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["source", "doc_id", "target", "search_targets", "kuid", "refresh", "retry_on_conflict", "items", "ids"]

_REFRESH = (None, False, "false", "", "wait_for")


def source(value: Any, name: str = "body") -> dict[str, Any]:
    """A document's content: an object; its ``_kuzzle_info`` dropped (metadata are the server's)."""
    if not isinstance(value, dict):
        raise errors.get("api.assert.invalid_type", name, "object")
    return {k: v for k, v in value.items() if k != "_kuzzle_info"}


def doc_id(value: Any, name: str = "_id", *, required: bool = True) -> str | None:
    """A document id argument (None when absent and not ``required``)."""
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


def target(request: KuzzleRequest) -> tuple[str, str]:
    """``(index, collection)``."""
    return request.get_index(), request.get_collection()


def _multi(name: str) -> bool:
    return any(c in name for c in ",*+") or name == "_all"


def search_targets(request: KuzzleRequest) -> list[tuple[str, str]]:
    """What a search reads, as ``(index, collection)`` pairs: the ``targets`` argument
    (``[{"index", "collections": [...]}]``, Kuzzle's multi-target search) or ``index`` and
    ``collection``, checked as Kuzzle checks them."""
    args = request.input.args
    targets = request.get_array("targets", [])
    index, collection = args.get("index"), args.get("collection")
    if not targets:
        if not index and not collection:
            raise errors.get("api.assert.missing_argument", "index, collection or targets")
        if isinstance(index, str) and isinstance(collection, str) and (_multi(index) or _multi(collection)):
            raise errors.get("services.storage.invalid_multi_index_collection_usage")
        return [target(request)]
    if index or collection:
        raise errors.get("api.assert.mutually_exclusive", "index, collection", "targets")
    pairs = []
    for i, item in enumerate(targets):
        if not isinstance(item, dict) or not item.get("index"):
            raise errors.get("api.assert.missing_argument", f"targets[{i}].index")
        name, collections = item["index"], item.get("collections")
        if not isinstance(name, str) or _multi(name):
            raise errors.get("services.storage.invalid_target_format", f"targets[{i}].index", name)
        if collections is None:
            raise errors.get("api.assert.missing_argument", f"targets[{i}].collections")
        if not isinstance(collections, list):
            raise errors.get("api.assert.invalid_type", f"targets[{i}].collections", "array")
        if not collections:
            raise errors.get("api.assert.empty_argument", f"targets[{i}].collections")
        for j, each in enumerate(collections):
            if not isinstance(each, str):
                raise errors.get("api.assert.invalid_type", f"targets[{i}].collections[{j}]", "string")
            if _multi(each):
                raise errors.get("services.storage.invalid_target_format", f"targets[{i}].collections[{j}]", each)
            pairs.append((name, each))
    return pairs


def kuid(request: KuzzleRequest) -> str | None:
    """Who writes: the request's user; nobody (None) for the server's own code through the
    embedded SDK without a user, as in Kuzzle."""
    user = request.context.user
    return None if user is NOBODY else user.id


def refresh(request: KuzzleRequest) -> None:
    """``refresh``: ``"wait_for"`` or false. The database is consistent at once, so it changes nothing."""
    value = request.input.args.get("refresh")
    if value not in _REFRESH:
        raise errors.get("api.assert.invalid_argument", "refresh", '"wait_for" or false')


def retry_on_conflict(request: KuzzleRequest) -> int:
    """``retryOnConflict``: accepted (rows are locked while written, so no write conflicts)."""
    value = request.get_integer("retryOnConflict", 0)
    if value < 0:
        raise errors.get("api.assert.invalid_argument", "retryOnConflict", "a positive integer")
    return value


def items(request: KuzzleRequest, name: str = "documents") -> list[Any]:
    """``body.<name>``: an array (its items are checked one by one, each failing on its own)."""
    value = request.get_body().get(name)
    if not isinstance(value, list):
        raise errors.get("api.assert.invalid_type", f"body.{name}", "array")
    return value


def ids(request: KuzzleRequest) -> list[Any]:
    """``ids``: in the body, else as an argument (an array, or comma-separated over HTTP)."""
    body = request.input.body
    found = body.get("ids") if isinstance(body, dict) else None
    if found:
        if not isinstance(found, list):
            raise errors.get("api.assert.invalid_type", "body.ids", "array")
        return found
    return request.get_array("ids")


def lang(request: KuzzleRequest) -> str:
    """``lang``: the query's language, Elasticsearch's (the default) or ``koncorde``."""
    value = request.get_string("lang", "elasticsearch")
    if value not in ("elasticsearch", "koncorde"):
        raise errors.get("api.assert.invalid_argument", "lang", '"elasticsearch" or "koncorde"')
    return value


def with_source(request: KuzzleRequest) -> bool:
    """``source`` of an ``m*`` action: true unless given false (``"false"`` over HTTP)."""
    value = request.input.args.get("source")
    if value is None:
        return True
    return value != "false" and request.get_boolean("source")
