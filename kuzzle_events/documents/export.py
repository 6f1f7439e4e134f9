"""``document:export``: the documents matching a query as Kuzzle dumps them, JSON lines or CSV."""

from __future__ import annotations

import json
from typing import Any

from kuzzle_events.documents.search import select
from kuzzle_events.models import Document

__all__ = ["export"]


def _json(value: Any) -> str:
    # As JavaScript's JSON.stringify writes it for Kuzzle: no spaces, characters as they are.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _value(source: Any, path: str) -> str:
    for name in path.split("."):
        source = source.get(name) if isinstance(source, dict) else None
    if source is None:
        return ""
    return source if isinstance(source, str) else _json(source)


def _body(row: Document) -> dict[str, Any]:
    # As Kuzzle stores it: the metadata first, in Kuzzle's order of their keys.
    info = row.info()
    if info is None:
        return dict(row.content())
    ordered = {k: info[k] for k in ("author", "createdAt", "updatedAt", "updater")}
    return {"_kuzzle_info": {**ordered, **info}, **row.content()}


def export(
    index: str,
    collection: str,
    query: Any,
    lang: str,
    fmt: str,
    fields: list[str],
    separator: str,
    names: dict[str, str],
) -> str:
    """The dump, documents in the order they were stored: JSON lines (a header line, then ``{"_id", "body"}`` per document) or CSV (``_id``
    then ``fields``)."""
    rows = select(index, collection, query, lang).order_by("pk").iterator()
    if fmt == "csv":
        columns = [f for f in fields if f != "_id"]
        lines = [separator.join(names.get(f, f) for f in ["_id", *columns])]
        for row in rows:
            document = row.to_kuzzle()
            lines.append(separator.join([row.key, *(_value(document["_source"], f) for f in columns)]))
    else:
        lines = [_json({"collection": collection, "index": index, "type": "collection"})]
        lines += [_json({"_id": row.key, "body": _body(row)}) for row in rows]
    return "".join(f"{line}\n" for line in lines)
