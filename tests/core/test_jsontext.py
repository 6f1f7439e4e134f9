"""Client JSON text: what ``json`` reads, without unpaired surrogates."""

from __future__ import annotations

import pytest

from kuzzle_events.core import jsontext


@pytest.mark.parametrize("text", ['{"a": "\\ud800"}', '["\\udfff"]', b'{"k": {"\\udbff": 1}}', '"x\\ud83dy"'])
def test_unpaired_surrogates_are_refused(text: str | bytes) -> None:
    with pytest.raises(ValueError, match="unpaired surrogate"):
        jsontext.loads(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"e": "\\ud83d\\ude00"}', {"e": "\U0001f600"}),
        ('{"escaped": "\\\\ud800"}', {"escaped": "\\ud800"}),
        (b'{"b": "\\u00e9"}', {"b": "\u00e9"}),
        ("[1, 2.5, null]", [1, 2.5, None]),
    ],
)
def test_everything_else_is_read_as_json_reads_it(text: str | bytes, value: object) -> None:
    assert jsontext.loads(text) == value


def test_invalid_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        jsontext.loads("{")


@pytest.mark.parametrize("text", ['  {"a": 1}', '{"a": 1}\n ', "\t[1]\r\n", "1", '"s"', "NaN"])
def test_whitespace_around_a_value(text: str) -> None:
    import json

    assert repr(jsontext.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", ['{"a": 1} x', "", "   ", '{"a": 1}{}', "[1,]", '"\x01"'])
def test_what_json_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        jsontext.loads(text)


@pytest.mark.parametrize("text", ["[" * 100_000, b"[" * 100_000, '{"a":' * 100_000])
def test_nesting_too_deep_is_a_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        jsontext.loads(text)
