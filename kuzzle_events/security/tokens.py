"""JWTs as Kuzzle issues them: HS256, payload ``{"_id": <kuid>, "iat", "exp"}`` in seconds.

Only signing and checking live here (no Django, no storage): whether a well-signed token is still
honoured is the token store's answer (see :mod:`kuzzle_events.security.store`).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt

from kuzzle_events import errors
from kuzzle_events.core.request import User

__all__ = ["AuthToken", "parse_duration", "issue", "decode", "digest_of", "now_ms"]

ALGORITHM = "HS256"
_UNITS_MS = {
    "ms": 1,
    "s": 1000,
    "sec": 1000,
    "m": 60_000,
    "min": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "y": 31_557_600_000,
}
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class AuthToken:
    """A verified token: ``request.context.token`` (``None`` for anonymous callers)."""

    jwt: str = field(repr=False)
    user_id: str
    expires_at: int  # epoch ms, -1 = never
    ttl: int  # ms, -1 = never
    api_key: str | None = None
    user: User | None = field(default=None, compare=False)

    @property
    def type(self) -> str:
        return "apiKey" if self.api_key else "authToken"


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_duration(value: Any, name: str = "expiresIn") -> int:
    """Milliseconds from Kuzzle's ``expiresIn``: a number of ms, or text like ``"1h"`` / ``"30s"``.

    ``-1`` (number or text) means "never expires".
    """
    if isinstance(value, bool):
        raise errors.get("api.assert.invalid_argument", name, 'a number of milliseconds or a duration such as "1h"')
    if isinstance(value, (int, float)):
        ms = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        amount, unit = float(match.group(1)), match.group(2).lower()
        if unit not in _UNITS_MS and unit != "":
            raise errors.get("api.assert.invalid_argument", name, 'a duration such as "30s", "15m", "1h" or "2d"')
        ms = amount * _UNITS_MS.get(unit, 1)
    else:
        raise errors.get("api.assert.invalid_argument", name, 'a number of milliseconds or a duration such as "1h"')
    if ms == -1:
        return -1
    if ms <= 0 or not math.isfinite(ms):
        raise errors.get("api.assert.invalid_argument", name, "a positive duration, or -1 for no expiration")
    return int(ms)


def issue(secret: str, kuid: str, ttl_ms: int) -> tuple[str, int]:
    """A signed JWT for ``kuid`` valid ``ttl_ms`` (-1: forever), and its expiry in epoch ms."""
    issued_ms = time.time() * 1000
    # jti: two tokens issued in the same second for the same user must still differ.
    payload: dict[str, Any] = {"_id": kuid, "iat": int(issued_ms // 1000), "jti": uuid.uuid4().hex}
    expires_at = -1
    if ttl_ms != -1:
        # `exp` is in whole seconds: round up, so that the token lives at least ttl_ms.
        payload["exp"] = math.ceil((issued_ms + ttl_ms) / 1000)
        expires_at = payload["exp"] * 1000
    return jwt.encode(payload, secret, algorithm=ALGORITHM), expires_at


def decode(secret: str, token: Any) -> dict[str, Any]:
    """The payload of a token signed with ``secret``; ``security.token.invalid`` / ``.expired`` else."""
    if not isinstance(token, str):
        raise errors.get("security.token.invalid")
    try:
        # One algorithm only: "none" and every other one are refused.
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["_id", "iat"]})
    except jwt.ExpiredSignatureError:
        raise errors.get("security.token.expired") from None
    except jwt.InvalidTokenError:
        raise errors.get("security.token.invalid") from None
    if not isinstance(payload.get("_id"), str):
        raise errors.get("security.token.invalid")
    return payload


def digest_of(token: str) -> str:
    """What the store keeps of a token: its SHA-256, so a database leak yields no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
