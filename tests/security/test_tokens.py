"""JWTs (kuzzle_events.security.tokens)."""

from __future__ import annotations

import base64
import json
import time

import jwt as pyjwt
import pytest

from kuzzle_events import errors
from kuzzle_events.security.tokens import decode, digest_of, issue, parse_duration

SECRET = "s" * 64


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (86_400_000, 86_400_000),
        ("1h", 3_600_000),
        ("30s", 30_000),
        ("15m", 900_000),
        ("2d", 172_800_000),
        ("500", 500),
        ("250ms", 250),
        (-1, -1),
        ("-1", -1),
    ],
)
def test_durations(value: object, ms: int) -> None:
    assert parse_duration(value) == ms


@pytest.mark.parametrize("value", ["soon", "1x", 0, -5, True, None, [], "nan"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(errors.KuzzleError) as caught:
        parse_duration(value)
    assert caught.value.id == "api.assert.invalid_argument"


def test_issued_token_has_kuzzles_payload() -> None:
    token, expires_at = issue(SECRET, "kuid-1", 60_000)
    payload = decode(SECRET, token)
    assert payload["_id"] == "kuid-1"
    assert payload["exp"] * 1000 == expires_at
    assert 60 <= payload["exp"] - payload["iat"] <= 61
    assert pyjwt.get_unverified_header(token)["alg"] == "HS256"
    # Two tokens issued together still differ.
    assert issue(SECRET, "kuid-1", 60_000)[0] != token


def test_a_token_without_expiry() -> None:
    token, expires_at = issue(SECRET, "kuid-1", -1)
    assert expires_at == -1 and "exp" not in decode(SECRET, token)


def _unsigned(payload: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.mark.parametrize(
    ("make", "error_id"),
    [
        (lambda: "garbage", "security.token.invalid"),
        (lambda: "", "security.token.invalid"),
        (lambda: 42, "security.token.invalid"),
        (lambda: issue("another-key" * 4, "kuid-1", 60_000)[0], "security.token.invalid"),
        (lambda: _unsigned({"_id": "kuid-1", "iat": int(time.time())}), "security.token.invalid"),
        (
            lambda: pyjwt.encode({"_id": "kuid-1", "iat": 1, "exp": 2}, SECRET, algorithm="HS256"),
            "security.token.expired",
        ),
        (lambda: pyjwt.encode({"iat": int(time.time())}, SECRET, algorithm="HS256"), "security.token.invalid"),
        (
            lambda: pyjwt.encode({"_id": 7, "iat": int(time.time())}, SECRET, algorithm="HS256"),
            "security.token.invalid",
        ),
        (
            lambda: pyjwt.encode({"_id": "k", "iat": int(time.time())}, SECRET, algorithm="HS512"),
            "security.token.invalid",
        ),
    ],
    ids=["garbage", "empty", "number", "other-key", "alg-none", "expired", "no-id", "id-not-text", "other-alg"],
)
def test_bad_tokens(make: object, error_id: str) -> None:
    with pytest.raises(errors.KuzzleError) as caught:
        decode(SECRET, make())  # type: ignore[operator]
    assert caught.value.id == error_id and caught.value.status == 401


def test_digest_hides_the_token() -> None:
    token, _ = issue(SECRET, "kuid-1", 60_000)
    assert len(digest_of(token)) == 64 and token not in digest_of(token)
