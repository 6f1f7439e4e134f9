"""Client JSON text: what ``json`` reads, without unpaired surrogates."""

from __future__ import annotations

import pytest

from kuzzle_events.core import jsontext


@pytest.mark.parametrize(
    "text", ['{"a": "\\ud800"}', '["\\udfff"]', b'{"k": {"\\udbff": 1}}', '"x\\ud83dy"', '["\ud800"]', '{"\udc00": 1}']
)
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


@pytest.mark.parametrize("text", ['  {"a": 1}', '{"a": 1}\n ', "\t[1]\r\n", "1", '"s"', "-0.5e2"])
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


@pytest.mark.parametrize(
    "text",
    ["NaN", '{"a": Infinity}', "[-Infinity]", b'{"a": NaN}', "1e400", '{"n": -1E999}', b"[2e308]"],
)
def test_nan_infinity_and_numbers_out_of_range_are_refused(text: str | bytes) -> None:
    with pytest.raises(ValueError, match="not a JSON value|out of range"):
        jsontext.loads(text)


@pytest.mark.parametrize("text", [b'"\xed\xa0\x80"', b'{"k": "a\xed\xbf\xbfb"}', b"\xef\xbb\xbf[\"\xed\xa0\x80\"]"])
def test_raw_surrogate_bytes_are_refused(text: bytes) -> None:
    with pytest.raises(ValueError):
        jsontext.loads(text)


def test_bytes_with_a_byte_order_mark_and_non_ascii_text_are_read() -> None:
    assert jsontext.loads(b'\xef\xbb\xbf{"e": "\xc3\xa9"}') == {"e": "\u00e9"}
    assert jsontext.loads('{"e": "\u00e9", "f": 1.5}') == {"e": "\u00e9", "f": 1.5}
