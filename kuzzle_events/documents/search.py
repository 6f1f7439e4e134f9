"""``document:search``, ``count`` and ``scroll`` as SQL: sync functions, one hop per action.

The query (Elasticsearch's DSL, or Koncorde with ``lang="koncorde"``) becomes a ``WHERE``
(:mod:`kuzzle_events.documents.query`), ``sort`` an ``ORDER BY`` with the document id last
(:mod:`kuzzle_events.documents.sorting`; across several collections, ties go by collection in
Elasticsearch's order of their indexes' names before the id), a page ``LIMIT``/``OFFSET``, ``search_after`` and scroll
pages a keyset on the sort values, ``count`` a ``COUNT``, and aggregations ``GROUP BY`` and
aggregates (:mod:`kuzzle_events.documents.aggregations`): no query reads a whole collection into
the server process.

A scroll's cursor is a row (:class:`kuzzle_events.models.ScrollCursor`), so that any server process
can serve the next page, until it expires (its TTL is renewed by each page).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import connections, transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from kuzzle_events import errors
from kuzzle_events.documents.aggregations import aggregate, check
from kuzzle_events.documents.koncorde import to_elasticsearch
from kuzzle_events.documents.query import Translator
from kuzzle_events.documents.sorting import SortKey, after, order_by, parse_sort, sort_values
from kuzzle_events.documents.storage import _collection
from kuzzle_events.models import Collection, Document, ScrollCursor
from kuzzle_events.security.tokens import now_ms, parse_duration

__all__ = [
    "FETCH_LIMIT",
    "SCROLL_TTL",
    "MAX_SCROLL_DURATION",
    "prepare",
    "search",
    "count",
    "scroll",
    "scroll_duration",
    "select",
]

# Kuzzle's defaults: limits.documentsFetchCount, services.storageEngine.defaults.scrollTTL and
# services.storageEngine.maxScrollDuration.
FETCH_LIMIT = 10_000
SCROLL_TTL = "15s"
MAX_SCROLL_DURATION = 60_000

# The keys Kuzzle lets through to Elasticsearch, and those of them run here.
_KUZZLE_KEYS = frozenset(
    "aggregations aggs collapse explain fields from highlight post_filter query search_after "
    "search_timeout size sort suggest _name _source _source_excludes _source_includes".split()
)
_SUPPORTED = frozenset("aggregations aggs from query search_after search_timeout size sort _name".split())


def prepare(body: Any, lang: str = "elasticsearch") -> dict[str, Any]:
    """A search body checked, its query in Elasticsearch's language: ``{query, sort, search_after,
    aggregations}``. Every error a query can raise is raised here, before any database access."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    for key, value in body.items():
        if value is None:
            continue
        if key not in _KUZZLE_KEYS:
            raise errors.get("services.storage.invalid_search_query", key)
        if key not in _SUPPORTED:
            raise errors.get("services.storage.invalid_query_keyword", key)
    query = body.get("query")
    if query is None:
        query = {}
    if lang == "koncorde":
        query = to_elasticsearch(query)
    prepared = {"query": query, "sort": body.get("sort"), "search_after": body.get("search_after")}
    aggs = body.get("aggregations", body.get("aggs"))
    if aggs is not None:
        check(aggs)
        prepared["aggregations"] = aggs
    # Translated once on any vendor: what is refused is refused before the database is read.
    Translator("sqlite").query(query)
    keys = parse_sort(prepared["sort"])
    if prepared["search_after"] is not None:
        if not isinstance(prepared["search_after"], list) or not keys:
            raise errors.get("api.assert.invalid_argument", "body.search_after", "an array of values, with a sort")
        after(keys, prepared["search_after"], False)
    return prepared


def _postgres() -> bool:
    return bool(connections[Document.objects.db].vendor == "postgresql")


def _matching(target: Collection, query: Any, postgres: bool) -> QuerySet[Document]:
    condition = Translator("postgresql" if postgres else "sqlite", target.mappings).query(query)
    return _narrowed(Document.objects.filter(collection=target), condition)


def _matching_in(targets: list[Collection], query: Any, postgres: bool) -> QuerySet[Document]:
    """The documents of several collections matching ``query``: one condition per collection, as
    each collection's mapping decides which of its fields are indexed."""
    if len(targets) == 1:
        return _matching(targets[0], query, postgres)
    vendor = "postgresql" if postgres else "sqlite"
    either = Q(pk__in=[])
    for target in targets:
        condition = Translator(vendor, target.mappings).query(query)
        either |= Q(collection=target) if condition is None else Q(collection=target) & condition
    return Document.objects.filter(either)


def _collections(targets: list[tuple[str, str]]) -> list[Collection]:
    """The collections named by ``(index, collection)`` pairs, each once, in the order in which
    Elasticsearch breaks ties between them (:func:`_es_order`); the storage's error for the first
    one missing, in the order given."""
    found: dict[tuple[str, str], Collection] = {}
    for pair in targets:
        if pair not in found:
            found[pair] = _collection(*pair)
    return sorted(found.values(), key=_es_order)


def _es_order(target: Collection) -> str:
    """Elasticsearch merges the hits of several indexes with equal sort values (or scores) in the
    order of the indexes' names; Kuzzle's index for a collection is named ``&<index>.<collection>``."""
    return f"{target.index_id}.{target.name}"


def _rank(targets: list[Collection]) -> Case:
    """Each document's collection as its position in ``targets``: the tie-break before the id."""
    whens = [When(collection_id=t.pk, then=Value(i)) for i, t in enumerate(targets)]
    return Case(*whens, default=Value(len(targets)), output_field=IntegerField())


def _narrowed(documents: QuerySet[Document], condition: Q | None) -> QuerySet[Document]:
    return documents if condition is None else documents.filter(condition)


def select(index: str, collection: str, query: Any, lang: str = "elasticsearch") -> QuerySet[Document]:
    """The documents matching ``query`` (for actions that change them: ``*ByQuery``)."""
    prepared = prepare({"query": query}, lang)
    return _matching(_collection(index, collection), prepared["query"], _postgres())


def count(index: str, collection: str, body: Any, lang: str = "elasticsearch") -> int:
    """How many documents match ``body.query``: one ``COUNT``."""
    prepared = prepare({"query": body.get("query")} if isinstance(body, dict) else body, lang)
    return int(_matching(_collection(index, collection), prepared["query"], _postgres()).count())


def _page(
    documents: QuerySet[Document], keys: list[SortKey], postgres: bool, start: int, size: int, targets: list[Collection]
) -> list[Any]:
    terms = order_by(keys, postgres)
    if len(targets) > 1:
        if "_rank" not in documents.query.annotations:
            documents = documents.annotate(_rank=_rank(targets))
        terms.insert(-1, F("_rank").asc())  # before the id, which comes last
    ordered = documents.annotate(**sort_values(keys, postgres)).order_by(*terms)
    return list(ordered[start : start + size])


def _hits(rows: list[Any], targets: list[Collection]) -> list[dict[str, Any]]:
    names = {t.pk: (t.index_id, t.name) for t in targets}
    hits = []
    for row in rows:
        index, name = names[row.collection_id]
        hits.append({**row.to_kuzzle(), "_score": 1, "index": index, "collection": name})
    return hits


def _position(row: Any, keys: list[SortKey]) -> list[Any]:
    """Where a page ends: the sort values of its last document, its collection's rank when it
    searched several (:func:`_rank`), then its id."""
    values = [getattr(row, f"_s{i}") if k.name is not None else None for i, k in enumerate(keys)]
    rank = getattr(row, "_rank", None)
    return values + ([] if rank is None else [rank]) + [row.key]


def scroll_duration(value: Any) -> int:
    """A scroll's TTL in milliseconds (Kuzzle's default when ``None``), checked as Kuzzle does."""
    return _ttl(value)


def _ttl(value: Any) -> int:
    ttl = parse_duration(SCROLL_TTL if value is None else value, "scroll")
    if ttl > MAX_SCROLL_DURATION:
        raise errors.get("services.storage.scroll_duration_too_great", value)
    if ttl < 0:
        raise errors.get("api.assert.invalid_argument", "scroll", 'a duration such as "30s"')
    return ttl


def _digest(scroll_id: str) -> str:
    return hashlib.sha256(scroll_id.encode()).hexdigest()


def search(
    index: str,
    collection: str,
    body: Any,
    lang: str = "elasticsearch",
    *,
    start: int = 0,
    size: int = 10,
    scroll_ttl: str | None = None,
    targets: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A page of the documents matching ``body``, Kuzzle's result: ``hits``, ``total``, and
    ``aggregations``, ``scrollId`` and ``remaining`` when asked for.

    ``targets``: ``(index, collection)`` pairs to search all at once instead (Kuzzle's multi-target
    search); each hit names its index and collection.
    """
    prepared = prepare(body, lang)
    if start < 0 or size < 0:
        raise errors.get("api.assert.invalid_argument", "from/size", "positive integers")
    if size - start > FETCH_LIMIT:
        raise errors.get("services.storage.get_limit_exceeded")
    ttl = _ttl(scroll_ttl) if scroll_ttl is not None else None
    if ttl is not None and size == 0:
        raise errors.get("api.assert.invalid_argument", "size", "a positive size with scroll")
    postgres = _postgres()
    collections = _collections(targets or [(index, collection)])
    documents = _matching_in(collections, prepared["query"], postgres)
    keys = parse_sort(prepared["sort"])
    matching = documents
    if prepared["search_after"] is not None:
        documents = _narrowed(documents, after(keys, prepared["search_after"], postgres))
    rows = _page(documents, keys, postgres, start, size, collections) if size else []
    # A first page that is not full holds every match: no COUNT needed.
    whole = start == 0 and len(rows) < size and prepared["search_after"] is None
    result: dict[str, Any] = {"hits": _hits(rows, collections), "total": len(rows) if whole else matching.count()}
    if "aggregations" in prepared:
        result["aggregations"] = aggregate(matching, prepared["aggregations"], postgres)
    if ttl is not None:
        now = now_ms()
        ScrollCursor.objects.filter(expires_at__lte=now).delete()
        scroll_id = secrets.token_urlsafe(24)
        search = {"query": prepared["query"], "sort": prepared["sort"]}
        if len(collections) > 1:
            search["targets"] = [t.pk for t in collections]  # the cursor's collection is the first
        ScrollCursor.objects.create(
            digest=_digest(scroll_id),
            collection=collections[0],
            search=search,
            after=_position(rows[-1], keys) if rows else [],
            size=size,
            total=result["total"],
            fetched=len(rows),
            expires_at=now + ttl,
        )
        result["scrollId"] = scroll_id
        result["remaining"] = max(result["total"] - len(rows), 0)
    return result


def scroll(scroll_id: Any, scroll_ttl: str | None = None) -> dict[str, Any]:
    """The next page of a search made with ``scroll``: ``hits``, ``total``, ``remaining``, ``scrollId``.

    After the last page the cursor is deleted: its id is then unknown, as in Kuzzle.
    """
    if not isinstance(scroll_id, str) or not scroll_id:
        raise errors.get("api.assert.missing_argument", "scrollId")
    ttl = _ttl(scroll_ttl)
    now = now_ms()
    postgres = _postgres()
    with transaction.atomic():
        cursor = (
            ScrollCursor.objects.select_for_update()
            .select_related("collection")
            .filter(digest=_digest(scroll_id), expires_at__gt=now)
            .first()
        )
        if cursor is None:
            raise errors.get("services.storage.unknown_scroll_id")
        collections = [cursor.collection]
        if cursor.search.get("targets"):
            by_pk = Collection.objects.in_bulk(cursor.search["targets"])
            collections = [by_pk[pk] for pk in cursor.search["targets"] if pk in by_pk]
        keys = parse_sort(cursor.search.get("sort"))
        documents = _matching_in(collections, cursor.search.get("query"), postgres)
        if len(collections) > 1:
            documents = documents.annotate(_rank=_rank(collections))
        if cursor.after:
            position = list(cursor.after)
            rank = position.pop(-2) if len(collections) > 1 else None
            documents = _narrowed(documents, after(keys, position[:-1], postgres, tie_break=position[-1], rank=rank))
        rows = _page(documents, keys, postgres, 0, cursor.size, collections)
        cursor.fetched += len(rows)
        if rows:
            cursor.after = _position(rows[-1], keys)
        if cursor.fetched >= cursor.total or len(rows) < cursor.size:
            cursor.delete()
        else:
            cursor.expires_at = now + ttl
            cursor.save(update_fields=["fetched", "after", "expires_at"])
    return {
        "hits": _hits(rows, collections),
        "total": cursor.total,
        "remaining": max(cursor.total - cursor.fetched, 0),
        "scrollId": scroll_id,
    }
