"""The envelope every baseline answers ``server:now`` with: the same keys, order and JSON text
(compact separators, ``ensure_ascii=False``) as kuzzle_events' ``KuzzleResponse``."""

from __future__ import annotations

import json
import time
from typing import Any

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def now_envelope(request_id: str, *, room: bool = False) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "requestId": request_id,
        "status": 200,
        "error": None,
        "controller": "server",
        "action": "now",
        "collection": None,
        "index": None,
        "volatile": None,
        "headers": {},
        "node": "knode-1",
    }
    if room:
        envelope["room"] = request_id
    envelope["result"] = {"now": int(time.time() * 1000)}
    return envelope
