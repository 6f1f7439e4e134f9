"""Documents in Django's database: sync functions, one hop per action.

Every multi-document write runs in one transaction: either each document is written, or nothing is
and the request fails listing what went wrong.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from kuzzle_events import errors
from kuzzle_events.core.response import dumps, encodable
from kuzzle_events.documents.collections import index_exists
from kuzzle_events.models import Collection, Document
from kuzzle_events.security.tokens import now_ms

__all__ = [
    "write",
    "update",
    "delete",
    "get",
    "scan",
]

# A NUL character as the JSON encoder writes it (not an escaped backslash followed by "u0000").
_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _unstorable(content: Any) -> errors.KuzzleError | None:
    """Why a document's content cannot be stored on every database, or None.

    What JSON cannot carry (NaN, infinities, other objects than JSON's, unpaired surrogates) and
    the NUL character (PostgreSQL's jsonb refuses it) are refused the same way on every database,
    before any SQL.
    """
    try:
        text = dumps(content)
    except (TypeError, ValueError, RecursionError) as error:
        return errors.get("api.assert.invalid_argument", "body", f"JSON content ({error})")
    if not encodable(text):
        return errors.get("api.assert.invalid_argument", "body", "text without unpaired surrogates")
    if "\\u0000" in text and _NUL.search(text) is not None:
        return errors.get("api.assert.invalid_argument", "body", "content without NUL characters")
    return None


def _collection(index: str, name: str) -> Collection:
    found = Collection.objects.filter(index_id=index, name=name).first()
    if found is None:
        if not index_exists(index):
            raise errors.get("services.storage.unknown_index", index)
        raise errors.get("services.storage.unknown_collection", index, name)
    return found


def _failed(failures: list[tuple[str, errors.KuzzleError]], total: int) -> errors.KuzzleError:
    """The error of a single-document action; for several documents, every failure listed."""
    if total == 1:
        return failures[0][1]
    reasons = [{"_id": key, "reason": {"id": e.id, "status": e.status, "message": e.message}} for key, e in failures]
    return errors.MultipleErrorsError(
        f"{len(failures)} of {total} documents failed; none was written.",
        errors=reasons,
        id="services.storage.incomplete_write",
    )


def write(
    index: str, collection: str, documents: list[tuple[str | None, dict[str, Any]]], mode: str, kuid: str
) -> list[dict[str, Any]]:
    """Create (``create``), create or replace (``createOrReplace``) or replace (``replace``) documents.

    Returns ``[{"_id", "_source", "created"}]`` in the order given.
    """
    now = now_ms()
    with transaction.atomic():
        target = _collection(index, collection)
        keys = [key for key, _ in documents if key is not None]
        existing = {d.key: d for d in Document.objects.select_for_update().filter(collection=target, key__in=keys)}
        results: list[dict[str, Any]] = []
        failures: list[tuple[str, errors.KuzzleError]] = []
        seen: set[str] = set()
        for key, source in documents:
            key = key or uuid.uuid4().hex
            current = existing.get(key)
            if key in seen or (mode == "create" and current is not None):
                failures.append((key, errors.get("services.storage.document_already_exists")))
                continue
            if mode == "replace" and current is None:
                failures.append((key, errors.get("services.storage.not_found", key, index, collection)))
                continue
            refused = _unstorable(source)
            if refused is not None:
                failures.append((key, refused))
                continue
            seen.add(key)
            if current is None:
                row = Document(collection=target, key=key, source=source, author=kuid, created_at=now)
                existing[key] = row
                previous = None
            else:
                row, previous = current, current.source
                row.source, row.updater, row.updated_at = source, kuid, now
            results.append({"row": row, "created": current is None, "previous": previous})
        if failures:
            raise _failed(failures, len(documents))
        try:
            with transaction.atomic():
                for item in results:
                    item["row"].save()
        except IntegrityError:
            created = [item["row"].key for item in results if item["created"]]
            if not Document.objects.filter(collection=target, key__in=created).exists():
                raise  # another constraint than the ids' (errors.from_exception maps it)
            # Another request created one of these ids meanwhile.
            raise errors.get("services.storage.document_already_exists") from None
    # "_previous": the content before the change, for realtime subscriptions it may leave.
    return [{**item["row"].to_kuzzle(), "created": item["created"], "_previous": item["previous"]} for item in results]


def update(
    index: str,
    collection: str,
    documents: list[tuple[str, dict[str, Any]]],
    kuid: str,
    *,
    default: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Merge changes into documents (top-level keys); with ``default``, create a missing one (upsert)."""
    now = now_ms()
    with transaction.atomic():
        target = _collection(index, collection)
        rows = {
            d.key: d
            for d in Document.objects.select_for_update().filter(collection=target, key__in=[k for k, _ in documents])
        }
        failures = [
            (key, errors.get("services.storage.not_found", key, index, collection))
            for key, _ in documents
            if key not in rows and default is None
        ]
        failures += [(key, refused) for key, changes in documents if (refused := _unstorable(changes)) is not None]
        if default:
            refused = _unstorable(default)
            failures += [(key, refused) for key, _ in documents if refused is not None and key not in rows]
        if failures:
            raise _failed(failures, len(documents))
        results = []
        for key, changes in documents:
            row = rows.get(key)
            if row is None:
                row = rows[key] = Document(
                    collection=target,
                    key=key,
                    source={**(default or {}), **changes},
                    author=kuid,
                    created_at=now,
                )
                created, previous = True, None
            else:
                previous = row.source
                row.source, row.updater, row.updated_at = {**row.source, **changes}, kuid, now
                created = False
            row.save()
            results.append({**row.to_kuzzle(), "created": created, "_previous": previous})
    return results


def delete(index: str, collection: str, keys: list[str]) -> list[dict[str, Any]]:
    """Delete documents; the deleted ones as they were."""
    with transaction.atomic():
        target = _collection(index, collection)
        rows = {d.key: d for d in Document.objects.select_for_update().filter(collection=target, key__in=keys)}
        failures = [
            (key, errors.get("services.storage.not_found", key, index, collection))
            for key in keys
            if key not in rows
        ]
        if failures:
            raise _failed(failures, len(keys))
        Document.objects.filter(pk__in=[row.pk for row in rows.values()]).delete()
    return [rows[key].to_kuzzle() for key in keys]


def get(index: str, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The documents found among ``keys``, by id."""
    target = _collection(index, collection)
    return {d.key: d.to_kuzzle() for d in Document.objects.filter(collection=target, key__in=list(keys))}


def scan(index: str, collection: str) -> list[dict[str, Any]]:
    """Every document of a collection, by id (searches run in SQL: kuzzle_events.documents.search)."""
    target = _collection(index, collection)
    return [d.to_kuzzle() for d in Document.objects.filter(collection=target).order_by("key")]
