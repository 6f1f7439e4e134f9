"""Documents in Django's database: sync functions, one hop per action.

Documents are written by :mod:`kuzzle_events.documents.writes`: each atomically, independently of
the others.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.core.response import dumps, encodable
from kuzzle_events.documents.collections import index_exists
from kuzzle_events.models import Collection, Document
from kuzzle_events.security.tokens import now_ms

__all__ = [
    "write",
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


def write(
    index: str, collection: str, documents: list[tuple[str | None, dict[str, Any]]], mode: str, kuid: str | None
) -> list[dict[str, Any]]:
    """Store documents in one transaction (``create``, ``createOrReplace`` or ``replace``), with the
    metadata of a write by ``kuid``: for fixtures and loading data. The API's writes go through
    :func:`kuzzle_events.documents.writes.apply`, which answers for each document.
    """
    info = {"author": kuid, "createdAt": now_ms(), "updater": None, "updatedAt": None}
    written = []
    with transaction.atomic():
        target = _collection(index, collection)
        for key, source in documents:
            refused = _unstorable(source)
            if refused is not None:
                raise refused
            row = Document.objects.filter(collection=target, key=key).first() if key else None
            if (mode == "create" and row is not None) or (mode == "replace" and row is None):
                raise errors.get(
                    "services.storage.document_already_exists" if row else "services.storage.not_found",
                    key,
                    index,
                    collection,
                )
            row = row or Document(collection=target, key=key or uuid.uuid4().hex, version=0)
            row.set_content(source)
            row.version += 1
            row.set_info(info)
            row.save()
            written.append({**row.to_kuzzle(), "_version": row.version})
    return written


def get(index: str, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The documents found among ``keys``, by id, with their ``_version``."""
    target = _collection(index, collection)
    found = Document.objects.filter(collection=target, key__in=list(keys))
    return {d.key: {**d.to_kuzzle(), "_version": d.version} for d in found}


def scan(index: str, collection: str) -> list[dict[str, Any]]:
    """Every document of a collection, by id (searches run in SQL: kuzzle_events.documents.search)."""
    target = _collection(index, collection)
    return [d.to_kuzzle() for d in Document.objects.filter(collection=target).order_by("key")]
