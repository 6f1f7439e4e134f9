"""JSON text from clients, read the same way by every protocol.

Python's ``json`` accepts escaped unpaired surrogates (``"\\ud800"``), strings that no UTF-8 answer,
database or log line can carry. They are refused here, as invalid JSON, before they go anywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["loads"]

_decode = json.JSONDecoder().decode
# The escape of a high or low surrogate: the only way JSON text can spell an unpaired one.
_SURROGATE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(text: str | bytes) -> Any:
    """``json.loads``, raising ``ValueError`` for a string holding an unpaired surrogate."""
    # The substring test first: it is much cheaper than the pattern, and almost always false.
    if isinstance(text, str):
        data = _decode(text)
        suspect = "\\u" in text and _SURROGATE_TEXT.search(text) is not None
    else:
        data = json.loads(text)
        suspect = b"\\u" in text and _SURROGATE_BYTES.search(text) is not None
    if suspect:
        # Rare: an escaped surrogate, paired (an emoji) or not. Encoding tells which.
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("unpaired surrogate in a string") from None
    return data
