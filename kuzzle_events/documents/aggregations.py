"""``aggregations`` (or ``aggs``) of a search, as SQL aggregates, in Elasticsearch's result shape.

Metrics: ``min``, ``max``, ``avg``, ``sum`` (numbers), ``value_count``, ``cardinality``: one query
for all of them, answering ``{"value": ...}``. Buckets: ``terms`` (``field``, ``size`` (10),
``order`` by ``_count``, ``_key`` or a metric of the bucket), one ``GROUP BY`` query each, with
metrics as sub-aggregations. Anything else is a 400 ``services.storage.invalid_query_keyword``.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Avg, Case, Count, F, Max, Min, QuerySet, Sum, Value, When
from django.db.models.functions import Cast

from kuzzle_events import errors
from kuzzle_events.documents.fields import Column, Field, field

__all__ = ["aggregate", "check", "METRICS"]

METRICS = frozenset({"min", "max", "avg", "sum", "value_count", "cardinality"})
_MAX_BUCKETS = 10_000


def _invalid(where: str, expected: str) -> errors.KuzzleError:
    return errors.get("api.assert.invalid_argument", where, expected)


def _parse(aggs: Any, where: str, nested: bool) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """``{name: (type, options, sub-aggregations)}``, checked."""
    if not isinstance(aggs, dict):
        raise errors.get("api.assert.invalid_type", where, "object")
    parsed = {}
    for name, spec in aggs.items():
        here = f"{where}.{name}"
        if not isinstance(spec, dict):
            raise errors.get("api.assert.invalid_type", here, "object")
        subs = spec.get("aggs", spec.get("aggregations", {}))
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise _invalid(here, "exactly one aggregation type")
        (kind,) = kinds
        if kind not in METRICS and (kind != "terms" or nested):
            raise errors.get("services.storage.invalid_query_keyword", f"aggregations.{kind}")
        options = spec[kind]
        if not isinstance(options, dict) or not isinstance(options.get("field"), str):
            raise _invalid(f"{here}.{kind}", '{"field": <name>}')
        allowed = {"field", "size", "order"} if kind == "terms" else {"field"}
        for option in set(options) - allowed:
            raise errors.get("services.storage.invalid_query_keyword", f"{kind}.{option}")
        if subs and kind != "terms":
            raise errors.get("services.storage.invalid_query_keyword", f"{kind}.aggs")
        parsed[name] = (kind, options, _parse(subs, f"{here}.aggs", True) if subs else {})
    return parsed


def _number(target: Field) -> Any:
    if isinstance(target, Column):
        return Cast(F(target.name), models.FloatField()) if target.kind is int else Value(None)
    text = target.text() if target.postgres else target.value()
    number = Cast(text, models.FloatField())
    return Case(When(target.of_type(target.NUMBER), then=number), default=None, output_field=models.FloatField())


def _metric(kind: str, target: Field) -> Any:
    if kind in ("min", "max", "avg", "sum"):
        function = {"min": Min, "max": Max, "avg": Avg, "sum": Sum}[kind]
        return function(_number(target), output_field=models.FloatField())
    if kind == "value_count":
        return Count(Case(When(target.exists(), then=Value(1))))
    return Count(target.value(), distinct=True)


def _metric_result(kind: str, value: Any) -> dict[str, Any]:
    if kind == "sum" and value is None:
        value = 0.0
    return {"value": value}


def _key(value: Any, typed: str) -> dict[str, Any]:
    if isinstance(value, bool) or typed in ("boolean", "true", "false"):
        truth = value in (True, 1) or typed == "true"
        return {"key": int(truth), "key_as_string": "true" if truth else "false"}
    return {"key": value}


def _terms(queryset: QuerySet[Any], options: dict[str, Any], subs: dict[str, Any], where: str, postgres: bool) -> Any:
    target = field(options["field"], postgres)
    size = options.get("size", 10)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= _MAX_BUCKETS:
        raise _invalid(f"{where}.size", f"an integer from 1 to {_MAX_BUCKETS}")
    if isinstance(target, Column):
        present = target.exists()
        typed: Any = Value("")
    else:
        present = target.of_type(target.NUMBER + target.STRING + target.BOOLEAN)
        typed = target.json_type()
    rows = queryset.filter(present)
    metrics = {f"_m_{name}": _metric(kind, field(o["field"], postgres)) for name, (kind, o, _) in subs.items()}
    ordering = []
    order = options.get("order", {"_count": "desc"})
    for item in order if isinstance(order, list) else [order]:
        if not isinstance(item, dict):
            raise _invalid(f"{where}.order", '{"_count"|"_key"|<metric>: "asc"|"desc"}')
        for by, direction in item.items():
            column = {"_count": "_count", "_key": "_key"}.get(by) or (f"_m_{by}" if by in subs else None)
            if column is None or direction not in ("asc", "desc"):
                raise _invalid(f"{where}.order", '{"_count"|"_key"|<metric>: "asc"|"desc"}')
            ordering.append(F(column).desc() if direction == "desc" else F(column).asc())
    grouped = (
        rows.annotate(_key=target.value(), _type=typed)
        .values("_key", "_type")
        .annotate(_count=Count("pk"), **metrics)
        .order_by(*ordering, F("_key").asc())
    )
    buckets = []
    for row in grouped[:size]:
        bucket = {**_key(row["_key"], row["_type"]), "doc_count": row["_count"]}
        for name, (kind, _, _) in subs.items():
            bucket[name] = _metric_result(kind, row[f"_m_{name}"])
        buckets.append(bucket)
    counted = sum(b["doc_count"] for b in buckets)
    others = rows.count() - counted if len(buckets) == size else 0
    return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": others, "buckets": buckets}


def check(aggs: Any) -> None:
    """Refuse a malformed or unsupported ``aggregations`` before any query."""
    _parse(aggs, "body.aggregations", False)


def aggregate(queryset: QuerySet[Any], aggs: Any, postgres: bool) -> dict[str, Any]:
    """The aggregations of the documents of ``queryset``."""
    parsed = _parse(aggs, "body.aggregations", False)
    results: dict[str, Any] = {}
    metrics = {name: spec for name, spec in parsed.items() if spec[0] in METRICS}
    if metrics:
        values = queryset.order_by().aggregate(
            **{f"_m_{name}": _metric(kind, field(o["field"], postgres)) for name, (kind, o, _) in metrics.items()}
        )
        for name, (kind, _, _) in metrics.items():
            results[name] = _metric_result(kind, values[f"_m_{name}"])
    for name, (kind, options, subs) in parsed.items():
        if kind == "terms":
            results[name] = _terms(queryset.order_by(), options, subs, f"body.aggregations.{name}.terms", postgres)
    # In the order the request named them.
    return {name: results[name] for name in parsed}
