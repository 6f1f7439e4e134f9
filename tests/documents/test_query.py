"""Search in the database (kuzzle_events.documents.query, sorting, koncorde, aggregations, search):
each clause on the test database (SQLite, or PostgreSQL with DATABASE_URL), sort forms, errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from kuzzle_events import errors
from kuzzle_events.documents import collections, search, storage
from kuzzle_events.documents.koncorde import to_elasticsearch
from kuzzle_events.documents.query import Translator
from kuzzle_events.models import Document, ScrollCursor

BOOKS: dict[str, dict[str, Any]] = {
    "b1": {
        "title": "Dune",
        "year": 1965,
        "genre": "sf",
        "author": {"name": "Frank Herbert"},
        "tags": ["desert", "spice"],
    },
    "b2": {"title": "Emma", "year": 1815, "genre": "novel", "price": None, "blurb": "A comedy of manners."},
    "b3": {"title": "Hyperion", "year": 1989, "genre": "sf", "price": 9.5, "tags": "space"},
    "b4": {"title": "Ulysses", "year": 1922, "genre": "novel", "price": 12, "flag": True, "blurb": "One day in Dublin"},
    "b5": {"title": "The Left Hand of Darkness", "year": "1969", "genre": "sf", "flag": False},
}


@pytest.fixture
def books() -> None:
    collections.create_index("library")
    collections.create_collection("library", "books")
    storage.write("library", "books", list(BOOKS.items()), "create", "ada")


def ids(query: Any, lang: str = "elasticsearch") -> list[str]:
    return sorted(search.select("library", "books", query, lang).values_list("key", flat=True))


def refused(query: Any, lang: str = "elasticsearch") -> errors.KuzzleError:
    with pytest.raises(errors.KuzzleError) as caught:
        search.select("library", "books", query, lang)
    return caught.value


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["b1", "b2", "b3", "b4", "b5"]),
        ({"match_all": {}}, ["b1", "b2", "b3", "b4", "b5"]),
        ({"match_none": {}}, []),
        ({"term": {"genre": "sf"}}, ["b1", "b3", "b5"]),
        ({"term": {"genre": {"value": "novel", "boost": 2}}}, ["b2", "b4"]),
        ({"term": {"author.name": "Frank Herbert"}}, ["b1"]),
        ({"term": {"tags": "spice"}}, ["b1"]),  # an array holding the value
        ({"term": {"tags": "space"}}, ["b3"]),
        ({"term": {"year": 1965}}, ["b1"]),
        ({"term": {"year": 1969}}, []),  # the string "1969" is not the number 1969
        ({"term": {"price": 12.0}}, ["b4"]),  # 12 is 12.0
        ({"term": {"flag": True}}, ["b4"]),
        ({"term": {"flag": 1}}, []),  # true is not 1
        ({"term": {"_id": "b2"}}, ["b2"]),
        ({"term": {"_kuzzle_info.author": "ada"}}, ["b1", "b2", "b3", "b4", "b5"]),
        ({"terms": {"title": ["Emma", "Dune", "Nope"]}}, ["b1", "b2"]),
        ({"terms": {"tags": ["space", "spice"]}}, ["b1", "b3"]),
        ({"range": {"year": {"gte": 1900, "lt": 1989}}}, ["b1", "b4"]),  # numbers only: not "1969"
        ({"range": {"year": {"gt": 1989}}}, []),
        ({"range": {"title": {"gte": "E", "lt": "I"}}}, ["b2", "b3"]),
        ({"range": {"_kuzzle_info.createdAt": {"gt": 0}}}, ["b1", "b2", "b3", "b4", "b5"]),
        ({"range": {"_id": {"gte": "b4"}}}, ["b4", "b5"]),
        ({"exists": {"field": "price"}}, ["b3", "b4"]),  # null does not exist
        ({"exists": {"field": "author.name"}}, ["b1"]),
        ({"exists": {"field": "_kuzzle_info.updatedAt"}}, []),
        ({"ids": {"values": ["b4", "b2", "zz"]}}, ["b2", "b4"]),
        ({"prefix": {"title": "Hyp"}}, ["b3"]),
        ({"prefix": {"title": "hyp"}}, []),  # case-sensitive
        ({"prefix": {"title": {"value": "hyp", "case_insensitive": True}}}, ["b3"]),
        ({"prefix": {"_id": "b"}}, ["b1", "b2", "b3", "b4", "b5"]),
        ({"wildcard": {"title": "*e*"}}, ["b1", "b3", "b4", "b5"]),
        ({"wildcard": {"title": {"value": "E?ma"}}}, ["b2"]),
        ({"wildcard": {"title": "D.*"}}, []),  # regular expression characters are literal
        ({"match": {"blurb": "DUBLIN comedy"}}, ["b2", "b4"]),  # any word, lower-cased
        ({"match": {"blurb": {"query": "one dublin", "operator": "and"}}}, ["b4"]),
        ({"match": {"blurb": "dub"}}, []),  # whole words
        ({"match": {"tags": "spice"}}, ["b1"]),
        ({"match": {"year": 1922}}, ["b4"]),
        ({"match": {"blurb": "..."}}, []),  # no word: nothing
        ({"match_phrase": {"blurb": "day in dublin"}}, ["b4"]),
        ({"match_phrase": {"blurb": "dublin in day"}}, []),
        ({"bool": {"must": [{"term": {"genre": "sf"}}], "must_not": {"range": {"year": {"gt": 1970}}}}}, ["b1", "b5"]),
        ({"bool": {"filter": {"term": {"genre": "sf"}}, "should": [{"term": {"title": "Dune"}}]}}, ["b1", "b3", "b5"]),
        ({"bool": {"should": [{"term": {"title": "Dune"}}, {"term": {"title": "Emma"}}]}}, ["b1", "b2"]),
        (
            {
                "bool": {
                    "should": [{"term": {"genre": "sf"}}, {"exists": {"field": "price"}}, {"term": {"flag": True}}],
                    "minimum_should_match": 2,
                }
            },
            ["b3", "b4"],
        ),
        (
            {"bool": {"should": [{"term": {"genre": "sf"}}, {"match_all": {}}], "minimum_should_match": "100%"}},
            ["b1", "b3", "b5"],
        ),
        ({"bool": {"must_not": [{"exists": {"field": "price"}}]}}, ["b1", "b2", "b5"]),  # missing fields included
        ({"bool": {"must_not": {"match_all": {}}}}, []),
        ({"constant_score": {"filter": {"term": {"genre": "novel"}}}}, ["b2", "b4"]),
    ],
)
def test_each_clause(books: None, query: Any, expected: list[str]) -> None:
    assert ids(query) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"equals": {"genre": "sf"}}, ["b1", "b3", "b5"]),
        ({"in": {"title": ["Emma", "Dune"]}}, ["b1", "b2"]),
        ({"and": [{"equals": {"genre": "sf"}}, {"not": {"range": {"year": {"gt": 1970}}}}]}, ["b1", "b5"]),
        ({"or": [{"equals": {"title": "Dune"}}, {"ids": {"values": ["b4"]}}]}, ["b1", "b4"]),
        ({"exists": "price"}, ["b3", "b4"]),
        ({"exists": {"field": "author.name"}}, ["b1"]),
        ({"exists": 'tags["spice"]'}, ["b1"]),
        ({"missing": "price"}, ["b1", "b2", "b5"]),
        # Kuzzle passes Elasticsearch clauses on inside Koncorde filters.
        ({"and": [{"equals": {"genre": "sf"}}, {"wildcard": {"title": {"value": "*e*"}}}]}, ["b1", "b3", "b5"]),
    ],
)
def test_koncorde_in_sql(books: None, filters: Any, expected: list[str]) -> None:
    assert ids(filters, "koncorde") == expected


def test_terms_with_many_values(books: None) -> None:
    # One json_each on SQLite, whose expressions have a bounded depth.
    values: list[Any] = ["Dune", *(f"x{n}" for n in range(2000)), 1815, True]
    assert ids({"terms": {"title": values}}) == ["b1"]
    assert ids({"terms": {"year": values}}) == ["b2"]
    assert ids({"terms": {"_id": values + ["b3"]}}) == ["b3"]


def test_koncorde_translation_is_kuzzles() -> None:
    assert to_elasticsearch({}) == {}
    assert to_elasticsearch({"and": [{"equals": {"a": 1}}, {"in": {"b": [1]}}]}) == {
        "bool": {"filter": [{"term": {"a": 1}}, {"terms": {"b": [1]}}]}
    }
    assert to_elasticsearch({"not": {"exists": "a"}}) == {"bool": {"must_not": [{"exists": {"field": "a"}}]}}
    assert to_elasticsearch({"geoDistance": {"x": 1}}) == {"geo_distance": {"x": 1}}
    with pytest.raises(errors.KuzzleError) as caught:
        to_elasticsearch({"bool": {}})
    assert caught.value.id == "api.assert.koncorde_restricted_keyword"


@pytest.mark.parametrize(
    ("query", "error_id", "named"),
    [
        ({"equals": {"genre": "sf"}}, "services.storage.unknown_query_keyword", "equals"),
        ({"bool": {"must": [{"nope": {}}]}}, "services.storage.unknown_query_keyword", "nope"),
        ({"fuzzy": {"title": "dune"}}, "services.storage.invalid_query_keyword", "fuzzy"),
        (
            {"bool": {"should": [{"query_string": {"query": "x"}}]}},
            "services.storage.invalid_query_keyword",
            "query_string",
        ),
        ({"match": {"title": {"query": "x", "fuzziness": 2}}}, "services.storage.invalid_query_keyword", "fuzziness"),
        ({"range": {"year": {"gt": "now-1d", "format": "x"}}}, "services.storage.invalid_query_keyword", "format"),
        ({"bool": {"must": [], "adjust": 1}}, "services.storage.invalid_query_keyword", "adjust"),
        ({"term": {"a": 1}, "terms": {"b": [1]}}, "api.assert.invalid_argument", "exactly one"),
        ({"term": {"a": [1]}}, "api.assert.invalid_argument", "body.query.term.a"),
        ({"terms": {"a": "x"}}, "api.assert.invalid_argument", "body.query.terms.a"),
        ({"range": {"a": {"gt": 1, "lt": "z"}}}, "api.assert.invalid_argument", "numbers or all strings"),
        (
            {"bool": {"should": [{"term": {"a": 1}}], "minimum_should_match": "many"}},
            "api.assert.invalid_argument",
            "minimum",
        ),
        ([], "api.assert.invalid_type", "body.query"),
    ],
)
def test_unsupported_or_malformed_clauses_are_400s_naming_them(
    books: None, query: Any, error_id: str, named: str
) -> None:
    error = refused(query)
    assert (error.status, error.id) == (400, error_id)
    assert named in error.message


def test_an_unknown_koncorde_keyword_reaches_elasticsearchs_check(books: None) -> None:
    assert refused({"regexp": {"title": {"value": "D.*"}}}, "koncorde").id == "services.storage.invalid_query_keyword"


def hit_ids(body: dict[str, Any], **options: Any) -> list[str]:
    return [h["_id"] for h in search.search("library", "books", body, **options)["hits"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["b1", "b2", "b3", "b4", "b5"]),
        ({}, ["b1", "b2", "b3", "b4", "b5"]),
        ([], ["b1", "b2", "b3", "b4", "b5"]),
        ("_id", ["b1", "b2", "b3", "b4", "b5"]),
        ({"_id": "desc"}, ["b5", "b4", "b3", "b2", "b1"]),
        ("price", ["b3", "b4", "b1", "b2", "b5"]),  # missing and null last
        ({"price": {"order": "desc"}}, ["b4", "b3", "b1", "b2", "b5"]),
        ({"price": {"order": "asc", "missing": "_first"}}, ["b1", "b2", "b5", "b3", "b4"]),
        (["genre", {"title": "desc"}], ["b4", "b2", "b5", "b3", "b1"]),
        ([{"genre": "asc"}, "_kuzzle_info.createdAt", "_score", "_id"], ["b2", "b4", "b1", "b3", "b5"]),
        ({"author.name": "asc"}, ["b1", "b2", "b3", "b4", "b5"]),
    ],
)
def test_sort_forms(books: None, sort: Any, expected: list[str]) -> None:
    assert hit_ids({"sort": sort}, size=10) == expected


def test_sort_errors(books: None) -> None:
    for sort, error_id in [
        ({"year": "up"}, "api.assert.invalid_argument"),
        ({"year": {"order": "asc", "mode": "min"}}, "services.storage.invalid_query_keyword"),
        ({"_geo_distance": {}}, "services.storage.invalid_query_keyword"),
        (12, "api.assert.invalid_type"),
    ]:
        with pytest.raises(errors.KuzzleError) as caught:
            search.search("library", "books", {"sort": sort})
        assert caught.value.id == error_id, sort


def test_pages_and_search_after(books: None) -> None:
    sort = [{"genre": "asc"}, {"title": "asc"}]
    assert hit_ids({"sort": sort}, start=1, size=2) == ["b4", "b1"]
    assert hit_ids({"sort": sort, "search_after": ["novel", "Ulysses"]}, size=2) == ["b1", "b3"]
    assert hit_ids({"sort": [{"price": "desc"}], "search_after": [9.5]}, size=5) == ["b1", "b2", "b5"]
    assert hit_ids({"sort": ["price", "_id"], "search_after": [None, "b1"]}, size=5) == ["b2", "b5"]
    with pytest.raises(errors.KuzzleError) as caught:
        search.search("library", "books", {"sort": sort, "search_after": ["novel"]})
    assert caught.value.id == "api.assert.invalid_argument"
    with pytest.raises(errors.KuzzleError) as caught:
        search.search("library", "books", {"sort": "_kuzzle_info.createdAt", "search_after": ["yesterday"]})
    assert caught.value.id == "api.assert.invalid_argument"
    with pytest.raises(errors.KuzzleError) as caught:
        search.search("library", "books", {}, size=10_001)
    assert caught.value.id == "services.storage.get_limit_exceeded"


def test_a_result_in_kuzzles_shape(books: None) -> None:
    result = search.search("library", "books", {"query": {"term": {"_id": "b1"}}})
    assert set(result) == {"hits", "total"} and result["total"] == 1
    (hit,) = result["hits"]
    assert set(hit) == {"_id", "_score", "_source", "index", "collection"}
    assert (hit["index"], hit["collection"]) == ("library", "books")
    assert hit["_source"]["title"] == "Dune" and hit["_source"]["_kuzzle_info"]["author"] == "ada"
    assert search.count("library", "books", {"query": {"term": {"genre": "sf"}}}) == 3
    assert search.count("library", "books", {"query": {"equals": {"genre": "sf"}}}, "koncorde") == 3
    body = {"query": {}, "sort": {}, "search_timeout": "1s", "from": 0, "size": 1}
    assert search.search("library", "books", body)["total"] == 5
    for key, error_id in [("highlight", "invalid_query_keyword"), ("script_fields", "invalid_search_query")]:
        with pytest.raises(errors.KuzzleError) as caught:
            search.search("library", "books", {key: {}})
        assert caught.value.id == f"services.storage.{error_id}" and key in caught.value.message


def test_aggregations_in_elasticsearchs_shape(books: None) -> None:
    body = {
        "query": {"range": {"year": {"gt": 1000}}},
        "aggs": {
            "genres": {"terms": {"field": "genre"}, "aggs": {"newest": {"max": {"field": "year"}}}},
            "flags": {"terms": {"field": "flag"}},
            "first": {"min": {"field": "year"}},
            "last": {"max": {"field": "year"}},
            "mean": {"avg": {"field": "price"}},
            "spent": {"sum": {"field": "price"}},
            "priced": {"value_count": {"field": "price"}},
            "kinds": {"cardinality": {"field": "genre"}},
            "nothing": {"avg": {"field": "nope"}},
        },
    }
    result = search.search("library", "books", body, size=0)
    assert result["hits"] == [] and result["total"] == 4  # "1969" is a string
    aggs = result["aggregations"]
    assert aggs["genres"] == {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": 0,
        "buckets": [
            {"key": "novel", "doc_count": 2, "newest": {"value": 1922.0}},
            {"key": "sf", "doc_count": 2, "newest": {"value": 1989.0}},
        ],
    }
    assert aggs["flags"]["buckets"] == [{"key": 1, "key_as_string": "true", "doc_count": 1}]
    assert (aggs["first"], aggs["last"]) == ({"value": 1815.0}, {"value": 1989.0})
    assert aggs["mean"] == {"value": pytest.approx(10.75)} and aggs["spent"] == {"value": pytest.approx(21.5)}
    assert (aggs["priced"], aggs["kinds"], aggs["nothing"]) == ({"value": 2}, {"value": 2}, {"value": None})
    top = search.search("library", "books", {"aggs": {"g": {"terms": {"field": "genre", "size": 1}}}}, size=0)
    assert top["aggregations"]["g"]["buckets"] == [{"key": "sf", "doc_count": 3}]
    assert top["aggregations"]["g"]["sum_other_doc_count"] == 2
    by_key = {"g": {"terms": {"field": "genre", "order": {"_key": "desc"}}}}
    assert [b["key"] for b in search.search("library", "books", {"aggs": by_key})["aggregations"]["g"]["buckets"]] == [
        "sf",
        "novel",
    ]
    for aggs_body in [{"h": {"date_histogram": {"field": "year"}}}, {"t": {"terms": {"field": "g", "include": "x"}}}]:
        with pytest.raises(errors.KuzzleError) as caught:
            search.search("library", "books", {"aggs": aggs_body})
        assert caught.value.id == "services.storage.invalid_query_keyword"


def test_scroll_pages_through_every_document_once(books: None) -> None:
    storage.write("library", "books", [(f"x{n:02}", {"genre": "sf", "n": n % 3}) for n in range(20)], "create", "ada")
    first = search.search("library", "books", {"sort": [{"n": "desc"}]}, size=4, scroll_ttl="10s")
    assert first["total"] == 25 and first["remaining"] == 21 and len(first["hits"]) == 4
    seen = [h["_id"] for h in first["hits"]]
    scroll_id = first["scrollId"]
    assert not ScrollCursor.objects.filter(digest=scroll_id).exists()  # only its digest is stored
    while True:
        page = search.scroll(scroll_id, "10s")
        seen += [h["_id"] for h in page["hits"]]
        assert page["total"] == 25 and page["remaining"] == 25 - len(seen) and page["scrollId"] == scroll_id
        if page["remaining"] == 0:
            break
    assert len(seen) == len(set(seen)) == 25
    values = [Document.objects.get(key=k).source.get("n") for k in seen]
    assert values == sorted(values, key=lambda v: (v is None, -(v or 0)))
    with pytest.raises(errors.KuzzleError) as caught:
        search.scroll(scroll_id)
    assert (caught.value.status, caught.value.id) == (404, "services.storage.unknown_scroll_id")


def test_scroll_cursors_expire_and_durations_are_bounded(books: None) -> None:
    first = search.search("library", "books", {}, size=1, scroll_ttl="10s")
    ScrollCursor.objects.update(expires_at=0)
    with pytest.raises(errors.KuzzleError) as caught:
        search.scroll(first["scrollId"])
    assert caught.value.id == "services.storage.unknown_scroll_id"
    with pytest.raises(errors.KuzzleError) as caught:
        search.search("library", "books", {}, scroll_ttl="2m")
    assert caught.value.id == "services.storage.scroll_duration_too_great"
    search.search("library", "books", {}, size=1, scroll_ttl="1s")
    assert ScrollCursor.objects.count() == 1  # the expired one was deleted
    with pytest.raises(errors.KuzzleError) as caught:
        search.search("library", "books", {}, size=0, scroll_ttl="1s")
    assert caught.value.id == "api.assert.invalid_argument"


def test_translation_checks_before_any_database_access() -> None:
    # No collection exists: the query's error comes first.
    with pytest.raises(errors.KuzzleError) as caught:
        search.search("library", "books", {"query": {"nope": {}}})
    assert caught.value.id == "services.storage.unknown_query_keyword"
    assert Translator("sqlite").query({}) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's")
def test_an_equality_can_read_the_gin_index_on_postgresql(books: None) -> None:
    # On a table this small the planner prefers reading it whole, or the collection's rows
    # (bench/search.py shows the plan on 100k documents); without these choices, the equality is
    # answered by the GIN index.
    condition = Translator("postgresql").query({"term": {"genre": "sf"}})
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = Document.objects.filter(condition).order_by().explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "kuzzle_document_source_gin" in plan


def test_a_search_is_a_limited_select_and_a_count_only_when_the_page_is_full(books: None) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as short:
        assert search.search("library", "books", {"query": {"term": {"genre": "sf"}}})["total"] == 3
    selects = [q["sql"] for q in short.captured_queries if "kuzzle_events_document" in q["sql"]]
    assert len(selects) == 1 and "LIMIT" in selects[0] and "COUNT(" not in selects[0]
    with CaptureQueriesContext(connection) as full:
        assert search.search("library", "books", {"query": {"term": {"genre": "sf"}}}, size=2)["total"] == 3
    counted = [q["sql"] for q in full.captured_queries if "COUNT(" in q["sql"]]
    assert len(counted) == 1
