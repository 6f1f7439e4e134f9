"""Values put in their mapped field types, as Elasticsearch converts them."""

from __future__ import annotations

from kuzzle_events.documents import coercion

MAPPING = {
    "properties": {
        "ttl": {"type": "keyword"},
        "n": {"type": "long"},
        "ratio": {"type": "double"},
        "on": {"type": "boolean"},
        "meta": {"properties": {"count": {"type": "integer"}, "label": {"type": "text"}}},
    }
}


def test_types_reads_every_field_of_a_mapping() -> None:
    assert coercion.types(MAPPING) == {
        "ttl": "keyword", "n": "long", "ratio": "double", "on": "boolean", "meta.count": "integer", "meta.label": "text",
    }  # fmt: skip


def test_values_in_their_types() -> None:
    assert [coercion.value("keyword", v) for v in (42, -1, 1.5, True, "x", None)] == [
        "42",
        "-1",
        "1.5",
        "true",
        "x",
        None,
    ]
    assert [coercion.value("long", v) for v in ("42", " -7 ", 3.0, "4.9", "abc", True)] == [42, -7, 3, 4, "abc", True]
    assert coercion.value("double", "2.5") == 2.5 and coercion.value("double", ["1", 2]) == [1.0, 2.0]
    assert coercion.value("boolean", "true") is True and coercion.value("boolean", "yes") == "yes"
    assert coercion.value("text", 42) == 42
    assert coercion.value("long", "nan") == "nan" and coercion.value("long", "1e400") == "1e400"


def test_documents_and_queries_in_their_types() -> None:
    kinds = coercion.types(MAPPING)
    source = {"ttl": 42, "n": "5", "meta": {"count": "2", "label": 3}, "other": "6", "list": [{"n": "1"}]}
    assert coercion.document(source, kinds) == {
        "ttl": "42", "n": 5, "meta": {"count": 2, "label": 3}, "other": "6", "list": [{"n": "1"}],
    }  # fmt: skip
    assert source["ttl"] == 42  # a copy
    koncorde = {"and": [{"equals": {"ttl": 42}}, {"not": {"in": {"n": ["1", "2"]}}}, {"range": {"ratio": {"gt": "1"}}}]}
    assert coercion.koncorde(koncorde, kinds) == {
        "and": [{"equals": {"ttl": "42"}}, {"not": {"in": {"n": [1, 2]}}}, {"range": {"ratio": {"gt": 1.0}}}]
    }
    es = {"bool": {"filter": [{"term": {"n": {"value": "3"}}}, {"terms": {"ttl": [1]}}], "must": {"match": {"n": "3"}}}}
    assert coercion.elasticsearch(es, kinds) == {
        "bool": {"filter": [{"term": {"n": {"value": 3}}}, {"terms": {"ttl": ["1"]}}], "must": {"match": {"n": "3"}}}
    }
