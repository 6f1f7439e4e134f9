"""Indexes on mapped fields (kuzzle_events.documents.field_indexes) and comparisons in the mapped
types (kuzzle_events.documents.query with a mapping), on SQLite, or PostgreSQL with DATABASE_URL."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connection, transaction

from kuzzle_events.documents import collections, field_indexes, search, storage

POSTGRES = connection.vendor == "postgresql"
MAPPING = {
    "properties": {
        "age": {"type": "integer"},
        "code": {"type": "keyword"},
        "born": {"type": "date"},
        "blurb": {"type": "text"},
        "alive": {"type": "boolean"},
        "place": {"properties": {"city": {"type": "keyword"}}},
        "it's": {"type": "long"},
    }
}


def field_index_names() -> set[str]:
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'i' AND relname LIKE 'kuzzle_doc_field_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'kuzzle_doc_field_%'")
        return {name for (name,) in cursor.fetchall()}


def expected(*paths: str) -> set[str]:
    return {field_indexes.index_name(p.split(".")) for p in paths}


@pytest.fixture
def people() -> None:
    collections.create_collection("town", "people", MAPPING)
    rows = [
        (f"p{n:03}", {"age": n % 90, "code": f"c{n}", "place": {"city": f"city{n % 7}"}, "it's": n})
        for n in range(300)
    ]
    rows += [("missing", {"code": "none"}), ("text-age", {"age": "young"})]
    storage.write("town", "people", rows, "create", "ada")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plan(query: dict[str, Any]) -> str:
    rows = search.select("town", "people", query).order_by()
    if not POSTGRES:
        return str(rows.explain())
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            return str(rows.explain())
        finally:
            cursor.execute("RESET enable_seqscan")


def keys(query: dict[str, Any], collection: str = "people") -> list[str]:
    return sorted(search.select("town", collection, query).values_list("key", flat=True))


def test_a_mapping_builds_one_index_per_ordered_field_and_only_once() -> None:
    collections.create_collection("town", "people", MAPPING)
    built = expected("age", "code", "born", "place.city", "it's")
    assert built <= field_index_names()
    # Text and booleans are not compared in order: no index for them.
    assert not expected("blurb", "alive") & field_index_names()
    assert field_indexes.ensure(MAPPING) == 0
    # Another collection declaring the same path shares the index.
    collections.create_collection("town", "pets", {"properties": {"age": {"type": "long"}}})
    assert field_indexes.ensure({"properties": {"age": {"type": "long"}}}) == 0


def test_update_mapping_builds_the_index_of_a_newly_declared_field() -> None:
    collections.create_collection("town", "people", {"properties": {"blurb": {"type": "text"}}})
    assert not expected("height") & field_index_names()
    collections.update_mapping("town", "people", {"properties": {"height": {"type": "float"}}})
    assert expected("height") <= field_index_names()


@pytest.mark.parametrize(
    ("query", "hits"),
    [
        ({"range": {"age": {"gte": 30, "lt": 31}}}, 3),
        ({"range": {"age": {"gt": 88}}}, 3),
        ({"range": {"place.city": {"gte": "city3", "lte": "city3"}}}, 43),
        ({"range": {"it's": {"gte": 10, "lte": 19}}}, 10),
    ],
)
def test_a_range_on_a_mapped_field_reads_its_index(people: None, query: dict[str, Any], hits: int) -> None:
    (name,) = query["range"]
    assert len(keys(query)) == hits
    assert field_indexes.index_name(name.split(".")) in plan(query)


def test_a_negated_range_keeps_the_documents_without_the_field(people: None) -> None:
    outside = keys({"bool": {"must_not": [{"range": {"age": {"lt": 89}}}]}})
    assert outside == ["missing", "p089", "p179", "p269", "text-age"]


def test_typed_values_compare_as_elasticsearch_compares_them(people: None) -> None:
    storage.write(
        "town", "people",
        [("n42", {"code": 42, "age": "42"}), ("t", {"code": "true", "alive": "true"}), ("ny", {"code": "New York"})],
        "create", "ada",
    )  # fmt: skip
    # A keyword holds the text of a number; a number field the number a text is.
    assert keys({"term": {"code": "42"}}) == ["n42"]
    assert keys({"term": {"code": 42}}) == ["n42"]
    assert keys({"terms": {"age": ["42", 1]}}) == ["n42", "p001", "p042", "p091", "p132", "p181", "p222", "p271"]
    assert keys({"range": {"age": {"gte": "88", "lte": "89"}}}) == ["p088", "p089", "p178", "p179", "p268", "p269"]
    assert keys({"term": {"alive": "true"}}) == ["t"]
    # A keyword is one term: match compares it whole, not word by word.
    assert keys({"match": {"code": "New York"}}) == ["ny"]
    assert keys({"match": {"code": "new"}}) == []
    assert keys({"match": {"age": "42"}}) == ["n42", "p042", "p132", "p222"]


def test_an_unmapped_field_is_still_searched_by_words() -> None:
    collections.create_collection("town", "notes")
    storage.write("town", "notes", [("a", {"code": "New York"})], "create", "ada")
    assert keys({"match": {"code": "new"}}, "notes") == ["a"]


def test_a_field_name_with_quotes_is_a_literal_not_sql(people: None) -> None:
    name = "x') IS NOT NULL OR 1=1 --"
    collections.update_mapping("town", "people", {"properties": {name: {"type": "long"}}})
    assert expected(name) <= field_index_names()
    storage.write("town", "people", [("q", {name: 5})], "create", "ada")
    assert keys({"range": {name: {"gte": 5}}}) == ["q"]


def test_an_index_that_cannot_be_built_is_logged_and_the_mapping_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(field_indexes, "_create_sql", lambda *args: "CREATE INDEX broken ON nowhere (nothing)")
    with caplog.at_level(logging.WARNING, "kuzzle_events.documents"):
        with transaction.atomic():
            collections.create_collection("town", "people", {"properties": {"shoe": {"type": "integer"}}})
            # The caller's transaction goes on after the failed build.
            storage.write("town", "people", [("a", {"shoe": 3})], "create", "ada")
    assert "index on the field 'shoe' not built" in caplog.text
    assert not expected("shoe") & field_index_names()
    assert collections.get_mapping("town", "people")["properties"]["shoe"] == {"type": "integer"}
    assert keys({"range": {"shoe": {"gte": 3}}}) == ["a"]


def test_the_migration_builds_the_indexes_of_existing_collections() -> None:
    import importlib

    from django.apps import apps

    collections.create_collection("town", "people", {"properties": {"age": {"type": "integer"}}})
    with connection.cursor() as cursor:
        for name in expected("age"):
            cursor.execute(f"DROP INDEX {name}")
    assert not expected("age") & field_index_names()
    migration = importlib.import_module("kuzzle_events.migrations.0012_field_indexes")
    with connection.schema_editor(atomic=POSTGRES) as editor:
        migration.build_field_indexes(apps, editor)
    assert expected("age") <= field_index_names()
    assert field_indexes.ensure({"properties": {"age": {"type": "integer"}}}) == 0
    # The migration's frozen copy writes the expressions the queries write: its index answers them.
    storage.write("town", "people", [(f"p{n}", {"age": n}) for n in range(300)], "create", "ada")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    assert field_indexes.index_name(["age"]) in plan({"range": {"age": {"gte": 3, "lte": 5}}})
