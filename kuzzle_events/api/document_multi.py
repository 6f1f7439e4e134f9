"""The ``document`` actions on several documents: ``m*`` and ``*ByQuery``.

As in Kuzzle, each document is written on its own: the answer is ``{"successes": [...],
"errors": [...]}``, a document that cannot be written (a bad item too: not an object, a missing or
non-string ``_id``) being an entry of ``errors`` while the others are written. With ``strict``, a
request with errors fails (``api.process.incomplete_multiple_request``) after writing the others, as
Kuzzle does. Subscribers are notified of the successes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api import document_args as args
from kuzzle_events.api.document_writes import notify, reason, stored, success, updated_fields, write_many
from kuzzle_events.api.service import Service
from kuzzle_events.security.tokens import now_ms

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = [
    "m_create",
    "m_create_or_replace",
    "m_replace",
    "m_update",
    "m_upsert",
    "m_delete",
    "m_get",
    "m_exists",
    "delete_by_query",
    "update_by_query",
    "outcomes_to_result",
]

_db = Service("kuzzle_events.documents.storage")
_KINDS = {
    "mCreate": "create",
    "mCreateOrReplace": "createOrReplace",
    "mReplace": "replace",
    "mUpdate": "update",
    "mUpsert": "upsert",
}
_ID_REQUIRED = ("replace", "update", "upsert")


def _rejected(item: Any, why: str) -> dict[str, Any]:
    return {"document": item, "status": 400, "reason": why}


def _operation(item: Any, kind: str, info: dict[str, Any], default_info: dict[str, Any] | None) -> dict[str, Any]:
    """The operation of one item, or the ``errors`` entry that rejects it (``{"rejected": entry}``)."""
    if not isinstance(item, dict):
        return {"rejected": _rejected(item, "document body must be an object")}
    key = item.get("_id")
    if kind == "upsert":
        changes, default = item.get("changes"), item.get("default")
        if not isinstance(changes, dict):
            return {"rejected": _rejected(item, "document changes must be an object")}
        if default is not None and not isinstance(default, dict):
            return {"rejected": _rejected(item, "document default must be an object")}
        body = {k: v for k, v in changes.items() if k != "_kuzzle_info"}
    else:
        if not isinstance(item.get("body"), dict):
            return {"rejected": _rejected(item, "document body must be an object")}
        body, default = {k: v for k, v in item["body"].items() if k != "_kuzzle_info"}, None
    if (key is not None and not isinstance(key, str)) or (kind in _ID_REQUIRED and not key):
        # Kuzzle's mUpdate checks ids after every body: those errors come after the others.
        return {"rejected": _rejected(item, "document _id must be a string"), "late": kind == "update"}
    op: dict[str, Any] = {"kind": kind, "_id": key or None, "body": body, "info": info}
    if kind == "upsert":
        op.update(default=default or {}, default_info=default_info, default_wins=True)
    return op


def outcomes_to_result(
    ops: list[dict[str, Any]], outcomes: list[dict[str, Any]], rejected: list[dict[str, Any]], *, source: bool = True
) -> dict[str, Any]:
    """Kuzzle's ``{"successes", "errors"}`` of an ``m*`` write."""
    successes, failures = [], list(rejected)
    for op, outcome in zip(ops, outcomes, strict=True):
        if "error" in outcome:
            error = outcome["error"]
            document = {"_id": outcome.get("_id", op["_id"]), "body": op.get("body")}
            if error.id == "api.assert.invalid_argument":
                del document["body"]  # content no database can store: not echoed either
            failures.append({"document": document, "status": error.status, "reason": reason(error)})
        else:
            successes.append(success(outcome, source=source))
    return {"successes": successes, "errors": failures}


def _strict(request: KuzzleRequest, action: str, failures: list[Any]) -> None:
    if failures and request.get_boolean("strict"):
        error = errors.get("api.process.incomplete_multiple_request", action)
        assert isinstance(error, errors.MultipleErrorsError)
        error.errors = list(failures)
        raise error


async def _changes(app: Application, request: KuzzleRequest, method: str) -> dict[str, Any]:
    kind = _KINDS[method]
    items = args.items(request)
    if kind in ("update", "upsert"):
        args.retry_on_conflict(request)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("_source") is not None:
            raise errors.get("api.assert.unexpected_argument", f"documents[{i}]._source", f"documents[{i}].body")
    now, kuid = now_ms(), args.kuid(request)
    info: dict[str, Any] = {"author": kuid, "createdAt": now, "updatedAt": None, "updater": None}
    default_info = None
    if kind in ("update", "upsert"):
        info, default_info = {"updatedAt": now, "updater": kuid}, {"author": kuid, "createdAt": now}
    ops: list[dict[str, Any]] = []
    rejected: list[Any] = []
    late: list[Any] = []
    for item in items:
        op = _operation(item, kind, info, default_info)
        if "rejected" in op:
            (late if op.get("late") else rejected).append(op["rejected"])
        else:
            ops.append(op)
    rejected += late
    outcomes = await write_many(app, request, ops)
    result = outcomes_to_result(ops, outcomes, rejected, source=args.with_source(request))
    _strict(request, method, result["errors"])
    return result


async def m_create(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create documents; those whose id is taken are errors."""
    return await _changes(app, request, "mCreate")


async def m_create_or_replace(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create or replace documents."""
    return await _changes(app, request, "mCreateOrReplace")


async def m_replace(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Replace existing documents; missing ones are errors."""
    return await _changes(app, request, "mReplace")


async def m_update(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge changes into existing documents; missing ones are errors."""
    result = await _changes(app, request, "mUpdate")
    result["successes"] = [
        {k: s[k] for k in ("_id", "_source", "_version", "status") if k in s} for s in result["successes"]
    ]
    return result


async def m_upsert(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge changes into documents, creating the missing ones (with their ``default``)."""
    result = await _changes(app, request, "mUpsert")
    keep = ("_id", "_source", "_version", "created", "status")
    result["successes"] = [{k: s[k] for k in keep if k in s} for s in result["successes"]]
    return result


async def m_delete(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete documents: ``successes`` their ids, ``errors`` ``{_id, reason, status}``."""
    ids = args.items(request, "ids")
    failures = [
        {"_id": i, "reason": "document _id must be a string", "status": 400} for i in ids if not isinstance(i, str)
    ]
    ops = [{"kind": "delete", "_id": i} for i in ids if isinstance(i, str)]
    outcomes = await write_many(app, request, ops, action="mDelete")
    for op, outcome in zip(ops, outcomes, strict=True):
        if "error" in outcome:
            failures.append({"_id": op["_id"], "reason": reason(outcome["error"]), "status": outcome["error"].status})
    _strict(request, "delete", failures)
    return {"successes": [o["_id"] for o in outcomes if "error" not in o], "errors": failures}


def _lookup_ids(request: KuzzleRequest) -> list[Any]:
    # Elasticsearch reads a number as the id it spells; other values cannot be ids (errors).
    return [str(i) if isinstance(i, (int, float)) and not isinstance(i, bool) else i for i in args.ids(request)]


async def m_get(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Documents by id: ``successes`` those found, ``errors`` the ids of the others."""
    ids = _lookup_ids(request)
    found = await _db.get(*args.target(request), [i for i in ids if isinstance(i, str)])
    missing = [i for i in ids if not isinstance(i, str) or i not in found]
    _strict(request, "get", missing)
    successes = [found[i] for i in ids if isinstance(i, str) and i in found]
    return {"successes": successes, "errors": missing}


async def m_exists(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Which ids exist: ``successes`` those that do, ``errors`` the others."""
    ids = _lookup_ids(request)
    found = await _db.get(*args.target(request), [i for i in ids if isinstance(i, str)])
    missing = [i for i in ids if not isinstance(i, str) or i not in found]
    _strict(request, "get", missing)
    return {"successes": [i for i in ids if isinstance(i, str) and i in found], "errors": missing}


async def delete_by_query(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete the documents matching ``body.query``: ``{documents, ids}``."""
    query = request.get_body().get("query", {})
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    args.refresh(request)
    deleted = await stored(app, request, "delete_matching", *args.target(request), query, args.lang(request))
    # As Kuzzle, each deleted document is notified as a deletion (action "delete", scope "out").
    await notify(app, request, "deleteByQuery", deleted)
    keep = ("_id", "_source") if request.get_boolean("source") else ("_id",)
    return {"documents": [{k: d[k] for k in keep} for d in deleted], "ids": [d["_id"] for d in deleted]}


async def update_by_query(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge ``body.changes`` into the documents matching ``body.query``: ``{successes, errors}``."""
    body = request.get_body()
    query, changes = body.get("query"), body.get("changes")
    if "query" not in body:
        raise errors.get("api.assert.missing_argument", "body.query")
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    changes = args.source(changes, "body.changes")
    args.refresh(request)
    info = {"updatedAt": now_ms(), "updater": args.kuid(request)}
    outcomes = await stored(app, request, "update_matching", *args.target(request), query, args.lang(request), changes, info)
    changed = updated_fields(changes)
    await notify(app, request, "updateByQuery", [{**o, "_updatedFields": changed} for o in outcomes if "error" not in o])
    ops = [{"_id": o.get("_id"), "body": changes} for o in outcomes]
    result = outcomes_to_result(ops, outcomes, [], source=request.get_boolean("source"))
    result["successes"] = [
        {k: s[k] for k in ("_id", "_source", "_version", "status") if k in s} for s in result["successes"]
    ]
    return result
