"""How a ``document`` action writes: metadata (``generic:document:injectMetadata``), the write's
hop to the database (:mod:`kuzzle_events.documents.writes`), realtime notifications, and Kuzzle's
shape of an ``m*`` action's answer (``{"successes": [...], "errors": [...]}``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from kuzzle_events import errors
from kuzzle_events.api import document_args as args
from kuzzle_events.api.service import Service
from kuzzle_events.documents.rules import StrictMappingRejection
from kuzzle_events.durable import reservations

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = [
    "INJECT_METADATA",
    "inject_metadata",
    "write_one",
    "write_many",
    "stored",
    "notify",
    "updated_fields",
    "reason",
    "success",
]

INJECT_METADATA = "generic:document:injectMetadata"

writes = Service("kuzzle_events.documents.writes")

# Kuzzle's reasons for the documents an m* action could not write.
_REASONS = {
    "services.storage.not_found": "document not found",
    "services.storage.document_already_exists": "document already exists",
}


@overload
async def inject_metadata(app: Application, request: KuzzleRequest, metadata: dict[str, Any]) -> dict[str, Any]: ...
@overload
async def inject_metadata(
    app: Application, request: KuzzleRequest, metadata: dict[str, Any], default: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]: ...
async def inject_metadata(
    app: Application, request: KuzzleRequest, metadata: dict[str, Any], default: dict[str, Any] | None = None
) -> Any:
    """The ``_kuzzle_info`` of a single-document write, after the ``injectMetadata`` pipes.

    The pipes get ``{"metadata", "request"}`` (and ``"defaultMetadata"`` for an upsert) and
    return it, possibly with other or more fields.
    """
    events = app.events
    if events.has_listeners(INJECT_METADATA):
        payload: dict[str, Any] = {"metadata": metadata, "request": request}
        if default is not None:
            payload["defaultMetadata"] = default
        result = await events.trigger(INJECT_METADATA, payload)
        if not isinstance(result, dict) or not isinstance(result.get("metadata"), dict):
            raise errors.get(
                "plugin.runtime.unexpected_error", f'pipes on "{INJECT_METADATA}" must return {{"metadata"}}'
            )
        metadata = result["metadata"]
        if default is not None and isinstance(result.get("defaultMetadata"), dict):
            default = result["defaultMetadata"]
    return metadata if default is None else (metadata, default)


async def notify(app: Application, request: KuzzleRequest, action: str, documents: list[dict[str, Any]]) -> None:
    """Tell realtime subscribers about documents written (or deleted, for ``delete``, ``mDelete``
    and ``deleteByQuery``) by ``action``; an update's documents carry their ``_updatedFields``."""
    realtime = getattr(app, "realtime", None)
    if realtime is not None and documents and not request.get_boolean("silent"):
        index, collection = args.target(request)
        await realtime.document_changed(request, index, collection, action, documents)


async def stored(app: Application, request: KuzzleRequest, function: str, *arguments: Any, **options: Any) -> Any:
    """``writes.<function>(*arguments)`` for ``request``, in one hop; the deliveries of the durable
    hooks its ``after`` events will record reserved in the same transaction when there are any."""
    plan = reservations.planned(app, request)
    if not plan:
        return await getattr(writes, function)(*arguments, **options)
    return await reservations.write(app, request, plan, function, *arguments, **options)


async def write_many(
    app: Application, request: KuzzleRequest, operations: list[dict[str, Any]], *, action: str | None = None
) -> list[dict[str, Any]]:
    """Run ``operations`` (one hop), notify subscribers of those that succeeded; their outcomes."""
    args.refresh(request)
    outcomes: list[dict[str, Any]] = (
        await stored(app, request, "apply", *args.target(request), operations) if operations else []
    )
    written = []
    for op, outcome in zip(operations, outcomes, strict=True):
        if "error" in outcome:
            continue
        if op["kind"] in ("update", "upsert") and not outcome["created"]:
            outcome = {**outcome, "_updatedFields": updated_fields(op.get("body") or {})}
        written.append(outcome)
    await notify(app, request, action or request.input.action or "", written)
    return outcomes


def updated_fields(changes: dict[str, Any], path: str = "") -> list[str]:
    """The fields an update's ``changes`` set, as dotted paths to their values (objects walked
    into, ``_kuzzle_info`` left out at any level): the ``_updatedFields`` of Kuzzle's notification."""
    fields = []
    for key, value in changes.items():
        if key == "_kuzzle_info":
            continue
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            fields += updated_fields(value, where)
        else:
            fields.append(where)
    return fields


async def write_one(app: Application, request: KuzzleRequest, operation: dict[str, Any]) -> dict[str, Any]:
    """Run one operation: its success, or its error raised."""
    (outcome,) = await write_many(app, request, [operation])
    if "error" in outcome:
        raise outcome["error"]
    return outcome


def reason(error: errors.KuzzleError) -> str:
    """What Kuzzle says of a document an ``m*`` action could not write (Elasticsearch's words for a
    field a strict mapping refuses, as Kuzzle passes them on)."""
    if isinstance(error, StrictMappingRejection):
        return error.reason
    return _REASONS.get(error.id, error.message)


def success(outcome: dict[str, Any], *, source: bool = True) -> dict[str, Any]:
    """A success as Kuzzle answers it: ``_id``, ``_source``, ``_version``, ``result``, ``status``."""
    done = {k: outcome[k] for k in ("_id", "_source", "_version", "result", "status", "created")}
    if not source:
        del done["_source"]
    return done
