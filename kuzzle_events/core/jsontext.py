"""JSON text from clients, read the same way by every protocol.

Python's ``json`` accepts more than JSON: unpaired surrogates (escaped, ``"\\ud800"``, or raw), strings
that no UTF-8 answer, database or log line can carry; and ``NaN``, ``Infinity``, ``-Infinity`` (or a
number too large for a float, read as infinity), which no JSON answer can carry. They are refused
here, as invalid JSON, before they go anywhere.
"""

from __future__ import annotations

import json
import json.scanner
import math
import re
from typing import Any

__all__ = ["loads"]



def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


# Called only for numbers with a fraction or an exponent, and for the NaN and Infinity words.
_decoder = json.JSONDecoder(parse_float=_float, parse_constant=_constant)
_decode = _decoder.decode
# The C scanner under the decoder: JSONDecoder.decode wraps it in two calls and two pattern matches
# for surrounding whitespace, which cost more than scanning a small request.
_scan = json.scanner.make_scanner(_decoder)  # type: ignore[arg-type]  # typeshed types the C class only
# The escape of a high or low surrogate: the only way JSON text can spell an unpaired one.
_SURROGATE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def _read(text: str) -> Any:
    """``json.loads(text)``: the scanner alone when the text is one value, without whitespace before it."""
    try:
        data, end = _scan(text, 0)
    except StopIteration:  # whitespace first, or no JSON value: the decoder reads it or says why
        return _decode(text)
    if end != len(text) and not text[end:].isspace():
        return _decode(text)  # raises: extra data after the value
    return data


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a raw surrogate: the only character UTF-8 cannot encode
        raise ValueError("unpaired surrogate in a string") from None


def loads(text: str | bytes) -> Any:
    """``json.loads``, raising ``ValueError`` for a string holding an unpaired surrogate, for
    ``NaN``, ``Infinity``, ``-Infinity`` and numbers out of a float's range, and for nesting too
    deep to read (where ``json`` raises ``RecursionError``)."""
    try:
        # The substring test first: it is much cheaper than the pattern, and almost always false.
        if isinstance(text, str):
            if not text.isascii():
                _encodable(text)
            data = _read(text)
            suspect = "\\u" in text and _SURROGATE_TEXT.search(text) is not None
        else:
            suspect = b"\\u" in text and _SURROGATE_BYTES.search(text) is not None
            # What json.loads does with bytes, but strict: it lets raw surrogates through.
            data = _decode(text.decode(json.detect_encoding(text)))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if suspect:
        # Rare: an escaped surrogate, paired (an emoji) or not. Encoding tells which.
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("unpaired surrogate in a string") from None
    return data
