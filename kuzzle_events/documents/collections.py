"""Indexes and collections in Django's database, with their mappings, settings and validation
specifications: sync functions, one hop per action.

What a collection asks of the documents written to it is :class:`~kuzzle_events.documents.rules.WriteRules`,
which :mod:`kuzzle_events.documents.writes` builds once per request; :func:`check_mapping`,
:func:`validate_document` and :func:`with_defaults` ask it for one document.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Sum, TextField
from django.db.models.functions import Cast, Coalesce, Length

from kuzzle_events import errors
from kuzzle_events.documents import field_indexes
from kuzzle_events.documents import mappings as mapping
from kuzzle_events.documents import specifications as specs
from kuzzle_events.documents.filters import compile_filter
from kuzzle_events.documents.rules import WriteRules
from kuzzle_events.models import Collection, Document, Index

__all__ = [
    "RESERVED_COLLECTIONS",
    "check_name",
    "create_index",
    "delete_index",
    "delete_indexes",
    "index_exists",
    "list_indexes",
    "collection_counts",
    "stats",
    "create_collection",
    "update_collection",
    "delete_collection",
    "collection_exists",
    "list_collections",
    "truncate_collection",
    "find_collection",
    "get_mapping",
    "update_mapping",
    "get_settings",
    "update_settings",
    "get_specifications",
    "update_specifications",
    "delete_specifications",
    "specification_errors",
    "search_specifications",
    "check_mapping",
    "validate_document",
    "validation_report",
    "with_defaults",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_+\-]{0,125}$")
RESERVED_COLLECTIONS = frozenset({"_kuzzle_keep"})
"""Kuzzle's own collection names (the one that keeps an empty index alive): never a user's."""

# What Elasticsearch answers for settings a collection was not given.
_DEFAULT_SETTINGS = {"number_of_shards": "1", "number_of_replicas": "1"}


def check_name(kind: str, name: Any) -> str:
    """An index or collection name: lower case letters, digits, ``_ + -``, at most 126 characters."""
    if kind == "collection" and name in RESERVED_COLLECTIONS:
        raise errors.get("services.storage.collection_reserved", name)
    if not isinstance(name, str) or not _NAME.match(name):
        raise errors.get(f"services.storage.invalid_{kind}_name", name)
    return name


# Indexes ------------------------------------------------------------------------------------------


def create_index(name: str) -> None:
    check_name("index", name)
    _, created = Index.objects.get_or_create(name=name)
    if not created:
        raise errors.get("services.storage.index_already_exists", "public", name)


def delete_index(name: str) -> None:
    deleted, _ = Index.objects.filter(name=name).delete()
    if not deleted:
        raise errors.get("services.storage.unknown_index", name)


def delete_indexes(names: list[str]) -> list[str]:
    """Delete those of ``names`` that exist; the deleted ones, in creation order."""
    with transaction.atomic():
        found = [i for i in list_indexes() if i in set(names)]
        Index.objects.filter(name__in=found).delete()
    return found


def index_exists(name: str) -> bool:
    return Index.objects.filter(name=name).exists()


def list_indexes() -> list[str]:
    """Every index, in creation order."""
    return list(Index.objects.order_by("created_at", "name").values_list("name", flat=True))


def collection_counts() -> dict[str, int]:
    """How many collections each index has."""
    counted = Index.objects.annotate(n=Count("collections")).values_list("name", "n")
    return dict(counted)


def stats() -> dict[str, Any]:
    """``index:stats``: documents and bytes (of their JSON content) by collection, by index."""
    rows = (
        Collection.objects.order_by("index__created_at", "index_id", "name")
        .annotate(
            count=Count("documents"),
            bytes=Coalesce(Sum(Length(Cast(F("documents__source"), output_field=TextField()))), 0),
        )
        .values_list("index_id", "name", "count", "bytes")
    )
    indexes: dict[str, dict[str, Any]] = {name: {"name": name, "size": 0, "collections": []} for name in list_indexes()}
    for index, name, count, size in rows:
        indexes[index]["collections"].append({"name": name, "documentCount": count, "size": int(size)})
        indexes[index]["size"] += int(size)
    return {"indexes": list(indexes.values()), "size": sum(i["size"] for i in indexes.values())}


# Collections --------------------------------------------------------------------------------------


def create_collection(
    index: str, name: str, mappings: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
) -> bool:
    """Create a collection, and its index if missing, as Kuzzle does; an existing one is updated.

    ``True`` if the collection was created.
    """
    check_name("index", index)
    check_name("collection", name)
    checked = mapping.check(mappings or {})
    _check_settings(settings or {})
    with transaction.atomic():
        found, _ = Index.objects.get_or_create(name=index)
        row, created = Collection.objects.select_for_update().get_or_create(
            index=found, name=name, defaults={"mappings": checked, "settings": settings or {}}
        )
        if not created:
            _update(row, checked, settings or {})
    field_indexes.ensure(row.mappings)
    return created


def update_collection(
    index: str, name: str, mappings: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
) -> None:
    """Merge ``mappings`` and ``settings`` into an existing collection's."""
    checked = mapping.check(mappings or {})
    _check_settings(settings or {})
    with transaction.atomic():
        row = find_collection(index, name, lock=True)
        _update(row, checked, settings or {})
    field_indexes.ensure(row.mappings)


def _update(row: Collection, mappings: dict[str, Any], settings: dict[str, Any]) -> None:
    row.mappings = mapping.merge(row.mappings, mappings)
    row.settings = _merged(row.settings, settings)
    row.save(update_fields=["mappings", "settings"])


def _check_settings(settings: Any) -> None:
    if not isinstance(settings, dict):
        raise errors.get("api.assert.invalid_type", "body.settings", "object")


def _merged(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    result = dict(left)
    for key, value in right.items():
        result[key] = (
            _merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


def delete_collection(index: str, name: str) -> None:
    find_collection(index, name).delete()


def collection_exists(index: str, name: str) -> bool:
    return Collection.objects.filter(index_id=index, name=name).exists()


def list_collections(index: str) -> list[str]:
    """The collections of ``index``, by name."""
    if not index_exists(index):
        raise errors.get("services.storage.unknown_index", index)
    return list(Collection.objects.filter(index_id=index).order_by("name").values_list("name", flat=True))


def truncate_collection(index: str, name: str) -> None:
    """Delete every document of a collection; its mappings, settings and specifications stay."""
    Document.objects.filter(collection=find_collection(index, name)).delete()


def find_collection(index: str, name: str, *, lock: bool = False) -> Collection:
    """The collection's row; ``services.storage.unknown_index`` / ``unknown_collection`` if missing."""
    rows = Collection.objects.select_for_update() if lock else Collection.objects
    found = rows.filter(index_id=index, name=name).first()
    if found is None:
        if not index_exists(index):
            raise errors.get("services.storage.unknown_index", index)
        raise errors.get("services.storage.unknown_collection", index, name)
    return found


# Mappings and settings ----------------------------------------------------------------------------


def get_mapping(index: str, name: str, *, kuzzle_meta: bool = False) -> dict[str, Any]:
    """``{_meta, dynamic, properties}``, with ``_kuzzle_info``'s mapping if ``kuzzle_meta``."""
    return mapping.public(find_collection(index, name).mappings, kuzzle_meta=kuzzle_meta)


def update_mapping(index: str, name: str, mappings: dict[str, Any]) -> dict[str, Any]:
    """Merge ``mappings`` into the collection's; the mapping as it is now."""
    update_collection(index, name, mappings=mappings)
    return get_mapping(index, name)


def get_settings(index: str, name: str) -> dict[str, Any]:
    """The collection's settings, Elasticsearch's defaults filled in (``index.`` prefix dropped)."""
    given = find_collection(index, name).settings
    flat = {k: v for k, v in given.items() if k != "index"}
    return {**_DEFAULT_SETTINGS, **flat, **given.get("index", {})}


def update_settings(index: str, name: str, settings: dict[str, Any]) -> None:
    update_collection(index, name, settings=settings)


# Validation specifications ------------------------------------------------------------------------


def get_specifications(index: str, name: str) -> dict[str, Any]:
    """``{index, collection, validation}``; ``validation.assert.not_found`` if there are none."""
    found = Collection.objects.filter(index_id=index, name=name).values_list("specifications", flat=True).first()
    if found is None:
        raise errors.get("validation.assert.not_found", index, name)
    return {"index": index, "collection": name, "validation": found}


def specification_errors(index: str, name: str, specification: Any) -> list[str]:
    """What is wrong with ``specification`` (Kuzzle's messages), ``[]`` if it is valid."""
    problems = specs.format_errors(index, name, specification)
    validators = specification.get("validators") if isinstance(specification, dict) else None
    if not problems and validators:
        try:
            compile_filter({"and": validators}, "validators")
        except errors.KuzzleError as error:
            problems.append(errors.get("validation.assert.invalid_filters", error.message).message)
    return problems


def update_specifications(index: str, name: str, specification: Any) -> dict[str, Any]:
    """Store a collection's specifications; ``validation.assert.invalid_specifications`` if malformed."""
    problems = specification_errors(index, name, specification)
    if problems:
        raise errors.get("validation.assert.invalid_specifications", "\n\t- ".join(problems))
    with transaction.atomic():
        row = find_collection(index, name, lock=True)
        row.specifications = specification
        row.save(update_fields=["specifications"])
    return dict(specification)


def delete_specifications(index: str, name: str) -> None:
    """Remove a collection's specifications (none, or no such collection: nothing to do)."""
    Collection.objects.filter(index_id=index, name=name).update(specifications=None)


def search_specifications(query: dict[str, Any], start: int, size: int) -> dict[str, Any]:
    """The specifications whose ``{index, collection}`` match an Elasticsearch ``query``.

    Specifications are configuration (one per collection): they are matched here, not in SQL.
    """
    matches = _spec_query(query)
    rows = Collection.objects.exclude(specifications=None).order_by("index_id", "name")
    hits = []
    for index, name, validation in rows.values_list("index_id", "name", "specifications"):
        source = {"index": index, "collection": name, "validation": validation}
        if matches(f"{index}#{name}", source):
            hits.append({"_id": f"{index}#{name}", "_source": source})
    return {"hits": hits[start : start + size], "total": len(hits)}


def _spec_query(query: Any) -> Any:
    """A predicate on ``(_id, source)`` for the few Elasticsearch clauses specifications are searched with."""
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    if not query or "match_all" in query:
        return lambda _id, source: True
    ((keyword, clause),) = query.items() if len(query) == 1 else ((None, None),)
    if keyword in ("term", "match") and isinstance(clause, dict) and len(clause) == 1:
        ((field, value),) = clause.items()
        value = value.get("value", value.get("query")) if isinstance(value, dict) else value
        return lambda _id, source: source.get(field) == value
    if keyword == "terms" and isinstance(clause, dict) and len(clause) == 1:
        ((field, values),) = clause.items()
        return lambda _id, source: source.get(field) in values
    if keyword == "ids" and isinstance(clause, dict):
        return lambda _id, source: _id in clause.get("values", [])
    if keyword == "bool" and isinstance(clause, dict):
        musts = [_spec_query(q) for part in ("must", "filter") for q in _as_list(clause.get(part))]
        nots = [_spec_query(q) for q in _as_list(clause.get("must_not"))]
        shoulds = [_spec_query(q) for q in _as_list(clause.get("should"))]
        return lambda _id, s: (
            all(m(_id, s) for m in musts)
            and not any(n(_id, s) for n in nots)
            and (not shoulds or any(o(_id, s) for o in shoulds))
        )
    raise errors.get("services.storage.unknown_query_keyword", next(iter(query)))


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


# Document writes ----------------------------------------------------------------------------------


def check_mapping(index: str, name: str, source: dict[str, Any], *, row: Collection | None = None) -> None:
    """Refuse a document the collection cannot take: a field its ``strict`` mapping does not declare
    (``services.storage.strict_mapping_rejection``), or any write if its settings block writes.

    ``row``: the collection, when the caller has it already (no query then).
    """
    rules = WriteRules.of(row or find_collection(index, name))
    rules.check_writable()
    rules.check_mapping(source)


def validate_document(
    index: str, name: str, source: dict[str, Any], *, row: Collection | None = None
) -> list[specs.Problem]:
    """Why ``source`` breaks the collection's specifications, ``[]`` if it does not (or has none).

    A write refuses such a document with ``specifications.failure(problems)`` (Kuzzle's
    ``validation.check.failed_field`` / ``failed_document``); ``document:validate`` answers
    ``specifications.error_messages(problems)``.
    """
    return WriteRules.of(row or find_collection(index, name)).problems("", source)


def validation_report(index: str, name: str, key: str, source: dict[str, Any]) -> dict[str, Any]:
    """What ``document:validate`` answers: ``{"errorMessages": {...}, "valid": bool}``.

    As in Kuzzle, a collection without specifications (or no collection at all) accepts anything.
    """
    row = Collection.objects.filter(index_id=index, name=name).first()
    problems = WriteRules.of(row).problems(key, source) if row is not None else []
    return {"errorMessages": specs.error_messages(problems), "valid": not problems}


def with_defaults(
    index: str, name: str, source: dict[str, Any], *, update: bool = False, row: Collection | None = None
) -> dict[str, Any]:
    """``source`` with the ``defaultValue`` of its specified fields that are null (or, unless
    ``update``, missing), as Kuzzle fills them in before a write."""
    fields = WriteRules.of(row or find_collection(index, name)).fields
    return source if fields is None else specs.apply_defaults(fields, source, update=update)
