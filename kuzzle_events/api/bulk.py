"""The ``bulk`` controller: Kuzzle's raw writes.

No generic document events and no ``generic:document:injectMetadata``; ``bulk:write`` and
``bulk:mWrite`` store the content as given (its ``_kuzzle_info`` too, or none) and notify
subscribers only with ``notify``; ``bulk:import`` adds the metadata of a write by the request's
user, as Kuzzle does; ``*ByQuery`` notify no one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api import document_args as args
from kuzzle_events.api.document_multi import outcomes_to_result
from kuzzle_events.api.document_writes import notify, stored
from kuzzle_events.api.table import Table, route
from kuzzle_events.documents.rules import StrictMappingRejection
from kuzzle_events.security.tokens import now_ms

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["bulk_actions"]

_BASE = "/:index/:collection"
_IMPORT_KINDS = {"index": "createOrReplace", "create": "create", "update": "update", "delete": "delete"}
# What Elasticsearch answers for a bulk line that fails: status and error type.
_ES_ERRORS = {
    "services.storage.document_already_exists": (409, "version_conflict_engine_exception"),
    "services.storage.not_found": (404, "document_missing_exception"),
    "services.storage.strict_mapping_rejection": (400, "strict_dynamic_mapping_exception"),
}


def bulk_actions() -> Table:
    """The ``bulk`` controller: action -> (handler, HTTP routes), Kuzzle's routes."""
    return {
        "import": (import_, [route("post", f"{_BASE}/_bulk")]),
        "write": (write, [route("post", f"{_BASE}/_write")]),
        "mWrite": (m_write, [route("post", f"{_BASE}/_mWrite")]),
        "deleteByQuery": (delete_by_query, [route("delete", f"{_BASE}/_bulk/_query")]),
        "updateByQuery": (update_by_query, [route("patch", f"{_BASE}/_bulk/_query")]),
    }


def _raw(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A raw write's content and its ``_kuzzle_info`` (None: the document has none)."""
    info = body.get("_kuzzle_info")
    return {k: v for k, v in body.items() if k != "_kuzzle_info"}, info if isinstance(info, dict) else None


async def write(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create or replace a document as given, metadata included."""
    key = args.doc_id(request.input.args.get("_id"), required=False)
    body, info = _raw(request.get_body())
    args.refresh(request)
    (outcome,) = await stored(
        app, request, "apply", *args.target(request), [{"kind": "createOrReplace", "_id": key, "body": body, "info": info}]
    )
    if "error" in outcome:
        raise outcome["error"]
    if request.get_boolean("notify"):
        await notify(app, request, "write", [outcome])
    return {k: outcome[k] for k in ("_id", "_source", "_version")}


async def m_write(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Create or replace documents as given, metadata included: ``{successes, errors}``."""
    items = args.items(request)
    args.refresh(request)
    ops, rejected = [], []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("body"), dict):
            rejected.append({"document": item, "status": 400, "reason": "document body must be an object"})
        elif item.get("_id") is not None and not isinstance(item.get("_id"), str):
            rejected.append({"document": item, "status": 400, "reason": "document _id must be a string"})
        else:
            body, info = _raw(item["body"])
            ops.append({"kind": "createOrReplace", "_id": item.get("_id") or None, "body": body, "info": info})
    outcomes = await stored(app, request, "apply", *args.target(request), ops) if ops else []
    result = outcomes_to_result(ops, outcomes, rejected)
    if result["errors"] and request.get_boolean("strict"):
        error = errors.get("api.process.incomplete_multiple_request", "write")
        assert isinstance(error, errors.MultipleErrorsError)
        error.errors = result["errors"]
        raise error
    if request.get_boolean("notify"):
        await notify(app, request, "mWrite", [o for o in outcomes if "error" not in o])
    result["successes"] = [{k: s[k] for k in ("_id", "_source", "_version")} for s in result["successes"]]
    return result


def _import_operations(lines: list[Any], kuid: str | None) -> list[dict[str, Any]]:
    now = now_ms()
    created = {"author": kuid, "createdAt": now, "updatedAt": None, "updater": None}
    updated = {"updatedAt": now, "updater": kuid}
    ops: list[dict[str, Any]] = []
    position = 0
    while position < len(lines):
        line = lines[position]
        action = next(iter(line), None) if isinstance(line, dict) and len(line) == 1 else None
        if action not in _IMPORT_KINDS or not isinstance(line[action], dict):
            raise errors.get(
                "api.assert.invalid_argument",
                f"body.bulkData[{position}]",
                "an action: index, create, update or delete",
            )
        meta = line[action]
        key = meta.get("_id")
        if isinstance(key, int | float) and not isinstance(key, bool):
            key = str(key)  # Elasticsearch takes a number as the id it spells (Kuzzle's scenarios send 1, 2)
        elif key is not None and not isinstance(key, str):
            raise errors.get("api.assert.invalid_type", f"body.bulkData[{position}]._id", "string")
        op: dict[str, Any] = {"kind": _IMPORT_KINDS[action], "action": action, "_id": key or None}
        if action == "delete":
            position += 1
        else:
            payload = lines[position + 1] if position + 1 < len(lines) else None
            content = payload.get("doc") if action == "update" and isinstance(payload, dict) else payload
            if not isinstance(content, dict):
                raise errors.get("api.assert.invalid_type", f"body.bulkData[{position + 1}]", "object")
            op["body"] = {k: v for k, v in content.items() if k != "_kuzzle_info"}
            op["info"] = updated if action == "update" else created
            position += 2
        ops.append(op)
    return ops


async def import_(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Elasticsearch's bulk format (``body.bulkData``): ``{successes, errors}``, one ``{action: ...}`` each."""
    lines = request.get_body().get("bulkData")
    if not isinstance(lines, list):
        raise errors.get("api.assert.invalid_type", "body.bulkData", "array")
    args.refresh(request)
    ops = _import_operations(lines, args.kuid(request))
    outcomes = await stored(app, request, "apply", *args.target(request), ops) if ops else []
    successes, failures = [], []
    for op, outcome in zip(ops, outcomes, strict=True):
        action = op["action"]
        if "error" not in outcome:
            successes.append({action: {"_id": outcome["_id"], "status": outcome["status"]}})
            continue
        status, kind = _ES_ERRORS.get(outcome["error"].id, (outcome["error"].status, "illegal_argument_exception"))
        failed: dict[str, Any] = {"_id": op["_id"], "status": status}
        if action != "delete":
            failed["_source"] = op["body"]
            error = outcome["error"]
            why = error.reason if isinstance(error, StrictMappingRejection) else error.message
            failed["error"] = {"reason": why, "type": kind}
        failures.append({action: failed})
    if failures and request.get_boolean("strict"):
        error = errors.get("api.process.incomplete_multiple_request", "import")
        assert isinstance(error, errors.MultipleErrorsError)
        error.errors = failures
        raise error
    return {"successes": successes, "errors": failures}


async def delete_by_query(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete the documents matching ``body.query``: ``{deleted}``."""
    query = request.get_body().get("query")
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    args.refresh(request)
    deleted = await stored(app, request, "delete_matching", *args.target(request), query, "elasticsearch", fetch=False)
    return {"deleted": len(deleted)}


async def update_by_query(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge ``body.changes`` into the documents matching ``body.query``, metadata untouched: ``{updated}``."""
    body = request.get_body()
    query = body.get("query")
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    changes = args.source(body.get("changes"), "body.changes")
    args.refresh(request)
    outcomes = await stored(app, request, "update_matching", *args.target(request), query, "elasticsearch", changes, None)
    return {"updated": sum(1 for o in outcomes if "error" not in o)}
