"""``sort`` in Elasticsearch's forms, as SQL ``ORDER BY``, and the keyset that follows a page.

Accepted: ``"field"``, ``{"field": "desc"}``, ``{"field": {"order": "desc", "missing": "_first"}}``,
a list of those, ``{}`` and ``[]`` (no sort), ``_id``, ``_kuzzle_info.createdAt`` and the other
metadata, ``_score`` (every hit scores the same: no effect) and ``_doc``. Documents without the
field come last in either order (Elasticsearch's ``missing: "_last"``). The document id always
breaks ties, so pages never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.lookups import IsNull

from kuzzle_events import errors
from kuzzle_events.documents.fields import NONE, Column, comparison, field
from kuzzle_events.documents.query import both, either

__all__ = ["SortKey", "parse_sort", "order_by", "sort_values", "after"]

_OPTIONS = frozenset({"order", "missing", "unmapped_type"})


@dataclass(frozen=True)
class SortKey:
    """One sort field: ``None`` as name for ``_score`` (a constant here)."""

    name: str | None
    descending: bool = False
    missing_first: bool = False


def _invalid(expected: str) -> errors.KuzzleError:
    return errors.get("api.assert.invalid_argument", "body.sort", expected)


def _key(name: Any, spec: Any) -> SortKey:
    if not isinstance(name, str) or not name:
        raise _invalid("field names")
    if isinstance(spec, str):
        spec = {"order": spec}
    if not isinstance(spec, dict):
        raise _invalid('"asc", "desc" or {"order": "asc"|"desc"}')
    for option in set(spec) - _OPTIONS:
        raise errors.get("services.storage.invalid_query_keyword", f"sort.{option}")
    order = spec.get("order", "desc" if name == "_score" else "asc")
    missing = spec.get("missing", "_last")
    if order not in ("asc", "desc") or missing not in ("_last", "_first"):
        raise _invalid('order "asc" or "desc", missing "_last" or "_first"')
    if name.startswith("_") and name not in ("_id", "_score", "_doc") and not name.startswith("_kuzzle_info."):
        raise errors.get("services.storage.invalid_query_keyword", f"sort.{name}")
    return SortKey(None if name == "_score" else name, order == "desc", missing == "_first")


def parse_sort(sort: Any) -> list[SortKey]:
    """The sort keys of ``body.sort`` (none for ``None``, ``{}``, ``[]``)."""
    if sort is None:
        return []
    items = sort if isinstance(sort, list) else [sort]
    keys: list[SortKey] = []
    for item in items:
        if isinstance(item, str):
            keys.append(_key(item, {}))
        elif isinstance(item, dict):
            keys.extend(_key(name, spec) for name, spec in item.items())
        else:
            raise errors.get("api.assert.invalid_type", "body.sort", "string, object or array")
    return keys


def _expression(key: SortKey, postgres: bool) -> Any:
    if key.name == "_doc":
        return F("key")
    return field(key.name or "_id", postgres).value()


def order_by(keys: list[SortKey], postgres: bool) -> list[Any]:
    """``ORDER BY`` terms: the keys (``_score`` left out), then the document id."""
    terms = []
    for key in keys:
        if key.name is None:
            continue
        expression = _expression(key, postgres)
        nulls = {"nulls_first": True} if key.missing_first else {"nulls_last": True}
        terms.append(expression.desc(**nulls) if key.descending else expression.asc(**nulls))
    terms.append(F("key").asc())
    return terms


def sort_values(keys: list[SortKey], postgres: bool) -> dict[str, Any]:
    """The sort values of each hit, selected with it (``_s0``, ``_s1``...), for the next page."""
    return {f"_s{i}": _expression(k, postgres) for i, k in enumerate(keys) if k.name is not None}


def after(
    keys: list[SortKey], values: list[Any], postgres: bool, *, tie_break: str | None = None, rank: int | None = None
) -> Q | None:
    """Documents sorted strictly after ``values`` (one per key; ``_score``'s is ignored).

    ``tie_break``: the id of the last document sent, for a scroll (search_after has none);
    ``rank``: its collection's rank (the ``_rank`` annotation), when the scroll searches several.
    """
    if len(values) != len(keys):
        raise errors.get("api.assert.invalid_argument", "body.search_after", f"{len(keys)} values, one per sort field")
    pairs = [(k, v) for k, v in zip(keys, values) if k.name is not None]
    branches: list[Q | None] = []
    ties: list[Q | None] = []
    for key, value in pairs:
        target = field("_id" if key.name in (None, "_doc") else key.name, postgres)
        expression = _expression(key, postgres)
        is_null = Q(IsNull(expression, True))
        if isinstance(target, Column) and value is not None and not target.fits(value):
            raise errors.get(
                "api.assert.invalid_argument", "body.search_after", f"a {target.kind.__name__} for {key.name}"
            )
        if value is None:
            beyond = NONE if not key.missing_first else ~is_null
            same = is_null
        else:
            op = "lt" if key.descending else "gt"
            beyond = comparison(op, expression, target.param(value))
            if not key.missing_first:
                beyond = beyond | is_null
            same = comparison("eq", expression, target.param(value))
        branches.append(both([*ties, beyond]))
        ties.append(same)
    if tie_break is not None:
        beyond = comparison("gt", F("key"), Value(tie_break))
        if rank is not None:
            beyond = comparison("gt", F("_rank"), Value(rank)) | (comparison("eq", F("_rank"), Value(rank)) & beyond)
        branches.append(both([*ties, beyond]))
    return either(branches)
