"""JSON text from clients, read the same way by every protocol.

Python's ``json`` accepts escaped unpaired surrogates (``"\\ud800"``), strings that no UTF-8 answer,
database or log line can carry. They are refused here, as invalid JSON, before they go anywhere.
"""

from __future__ import annotations

import json
import json.scanner
import re
from typing import Any

__all__ = ["loads"]

_decoder = json.JSONDecoder()
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


def loads(text: str | bytes) -> Any:
    """``json.loads``, raising ``ValueError`` for a string holding an unpaired surrogate and for
    nesting too deep to read (where ``json`` raises ``RecursionError``)."""
    try:
        # The substring test first: it is much cheaper than the pattern, and almost always false.
        if isinstance(text, str):
            data = _read(text)
            suspect = "\\u" in text and _SURROGATE_TEXT.search(text) is not None
        else:
            data = json.loads(text)
            suspect = b"\\u" in text and _SURROGATE_BYTES.search(text) is not None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if suspect:
        # Rare: an escaped surrogate, paired (an emoji) or not. Encoding tells which.
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("unpaired surrogate in a string") from None
    return data
