"""Document writes in Django's database: sync functions, one hop per action.

Each operation of a list (``create``, ``createOrReplace``, ``replace``, ``update``, ``upsert``,
``delete``, ``deleteFields``) is written atomically (a savepoint of its own) and independently of
the others, as Kuzzle writes each document of an ``m*`` action: one that fails leaves the others
written. The outcome of each operation is either a success or ``{"error": KuzzleError}``, in the
order given.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from kuzzle_events import errors
from kuzzle_events.documents.dotted import indexed
from kuzzle_events.documents.rules import WriteRules
from kuzzle_events.documents.search import select
from kuzzle_events.documents.storage import _collection, _unstorable
from kuzzle_events.models import Collection, Document
from kuzzle_events.security.tokens import now_ms

__all__ = ["Operation", "apply", "merge", "remove_fields", "delete_matching", "update_matching"]

Operation = dict[str, Any]
"""``{"kind", "_id", "body", "default", "fields", "info", "default_info"}``.

``validate``: check the collection's specifications and fill in their defaults first (the writes
Kuzzle validates: ``create``, ``createOrReplace``, ``replace``, ``update``); every write is checked
against the mapping's ``strict`` levels and the collection's write block.
``default_wins``: a created upsert's ``default`` overrides its changes (``mUpsert``, as Kuzzle's).
``info`` is the ``_kuzzle_info`` to write: for ``create``, ``createOrReplace`` and ``replace`` the
whole of it (None: none at all); for ``update``, ``upsert`` and ``deleteFields`` the keys merged into
the document's. ``default_info`` is an upsert's ``_kuzzle_info`` when it creates the document.
"""

_REPLACING = ("create", "createOrReplace", "replace")
_CHUNK = 500


def merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` merged into ``target`` as Elasticsearch's partial update does: objects recursively."""
    merged = dict(target)
    for key, value in changes.items():
        current = merged.get(key)
        merged[key] = merge(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
    return merged


def remove_fields(source: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``source`` without the fields named (dotted paths; a key of the document holding the dots, first,
    as Kuzzle's lodash ``unset`` reads a path)."""
    result = copy.deepcopy(source)
    for field in fields:
        if field in result:
            del result[field]
            continue
        *parents, last = field.split(".")
        node: Any = result
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return result


def _success(row: Document, result: str, status: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    # "_previous": the content before the change, for realtime subscriptions it may leave.
    return {
        **row.to_kuzzle(),
        "_version": row.version,
        "result": result,
        "status": status,
        "created": result == "created",
        "_previous": previous,
    }


def _missing(key: str, target: Collection) -> errors.KuzzleError:
    return errors.get("services.storage.not_found", key, target.index_id, target.name)


def _one(
    target: Collection, rules: WriteRules, rows: dict[str, Document | None], op: Operation, now: int
) -> dict[str, Any]:
    kind = op["kind"]
    key = op.get("_id") or uuid.uuid4().hex
    rules.check_writable()
    if key not in rows:
        rows[key] = Document.objects.select_for_update().filter(collection=target, key=key).first()
    row = rows[key]
    if kind == "delete":
        if row is None:
            raise _missing(key, target)
        row.delete()
        rows[key] = None
        row.version += 1
        return _success(row, "deleted", 200, None)
    if kind == "create" and row is not None:
        raise errors.get("services.storage.document_already_exists")
    if kind in ("replace", "update", "deleteFields") and row is None:
        raise _missing(key, target)
    previous = None if row is None else row.content()
    body = op.get("body") or {}
    if op.get("validate") and kind in (*_REPLACING, "update"):
        # Kuzzle checks an update's changes merged into the document, then fills in the defaults.
        updating = kind == "update"
        whole = merge(previous or {}, body) if updating else body
        body = rules.validated(key, body, whole, update=updating)
    if kind in _REPLACING:
        source = body
    elif kind == "deleteFields":
        source = remove_fields(previous or {}, op["fields"])
    elif row is None:  # an upsert that creates; Kuzzle's mUpsert lets its default win, its upsert the changes
        default = op.get("default") or {}
        source = {**body, **default} if op.get("default_wins") else {**default, **body}
    else:
        source = merge(previous or {}, body)
    refused = _unstorable(source)
    if refused is not None:
        raise refused
    rules.check_mapping(indexed(source))  # as Elasticsearch's mapping sees dotted keys: paths
    created = row is None
    if created:
        row = Document(collection=target, key=key, version=0)
    assert row is not None
    if kind in _REPLACING:
        row.set_info(op.get("info"))
    elif created:
        row.set_info(merge(op.get("default_info") or {}, op.get("info") or {}))
    elif op.get("info") is not None:  # raw updates (bulk:updateByQuery) keep the metadata as they are
        row.set_info(merge(row.info() or {}, op["info"]))
    row.set_content(source)
    row.version += 1
    row.save()
    rows[key] = row
    return _success(row, "created" if created else "updated", 201 if created else 200, previous)


def apply(index: str, collection: str, operations: list[Operation]) -> list[dict[str, Any]]:
    """Run ``operations``, each atomically and independently; one outcome per operation."""
    now = now_ms()
    outcomes: list[dict[str, Any]] = []
    with transaction.atomic():
        target = _collection(index, collection)
        rules = WriteRules.of(target)
        keys = [op["_id"] for op in operations if isinstance(op.get("_id"), str)]
        rows: dict[str, Document | None] = dict.fromkeys(keys)
        rows.update({d.key: d for d in Document.objects.select_for_update().filter(collection=target, key__in=keys)})
        for op in operations:
            try:
                with transaction.atomic():
                    outcomes.append(_one(target, rules, rows, op, now))
            except errors.KuzzleError as error:
                rows.pop(op.get("_id") or "", None)  # read again: its savepoint was rolled back
                outcomes.append({"error": error})
            except IntegrityError:
                key = op.get("_id")
                if not key or not Document.objects.filter(collection=target, key=key).exists():
                    raise  # another constraint than the ids' (errors.from_exception maps it)
                # Another request created this id meanwhile.
                rows.pop(key, None)
                outcomes.append({"error": errors.get("services.storage.document_already_exists")})
    return outcomes


def delete_matching(index: str, collection: str, query: Any, lang: str, *, fetch: bool = True) -> list[dict[str, Any]]:
    """Delete the documents matching ``query``: the deleted ones as they were (``fetch``), or just their
    ids; in the order they were stored, as Elasticsearch lists them without a sort."""
    with transaction.atomic():
        matching = select(index, collection, query, lang)
        if fetch:
            rows = list(matching.select_for_update().order_by("pk"))
            deleted = [{**row.to_kuzzle(), "_version": row.version + 1} for row in rows]
            pks = [row.pk for row in rows]
        else:
            pairs = list(matching.values_list("pk", "key"))
            deleted, pks = [{"_id": key} for _, key in pairs], [pk for pk, _ in pairs]
        for start in range(0, len(pks), _CHUNK):  # SQLite bounds a statement's parameters
            Document.objects.filter(pk__in=pks[start : start + _CHUNK]).delete()
    return deleted


def update_matching(
    index: str, collection: str, query: Any, lang: str, changes: dict[str, Any], info: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Merge ``changes`` into each document matching ``query``: one outcome per document."""
    with transaction.atomic():
        keys = list(select(index, collection, query, lang).order_by("pk").values_list("key", flat=True))
        operations = [{"kind": "update", "_id": key, "body": changes, "info": info} for key in keys]
        return apply(index, collection, operations)
