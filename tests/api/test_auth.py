"""The auth controller: login, tokens, API keys, revocation, login rate limit."""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.models import Token
from tests.accounts import make_user


async def call(app: Application, ips: list[str] | None = None, **data: Any) -> dict[str, Any]:
    """One request as a client sends it (rights checked), its envelope back."""
    request = KuzzleRequest(data, connection=Connection(protocol="websocket", ips=ips or ["10.0.0.1"]))
    return (await app.funnel.execute(request)).to_dict()


async def login(app: Application, username: str = "ada", password: str = "secret-pw", **args: Any) -> dict[str, Any]:
    return await call(
        app,
        controller="auth",
        action="login",
        strategy="local",
        body={"username": username, "password": password},
        **args,
    )


@pytest.fixture
async def ada(started: Application) -> Application:
    await sync_to_async(make_user)("ada")
    return started


async def test_login_returns_kuzzles_shape(ada: Application) -> None:
    before = int(time.time() * 1000)
    answer = await login(ada)
    assert answer["status"] == 200, answer["error"]
    result = answer["result"]
    assert set(result) == {"_id", "jwt", "expiresAt", "ttl"}
    assert result["_id"] == "ada" and result["ttl"] == 3_600_000
    assert before + 3_600_000 <= result["expiresAt"] <= before + 3_602_000
    payload = pyjwt.decode(result["jwt"], settings.SECRET_KEY, algorithms=["HS256"])
    assert payload["_id"] == "ada" and payload["exp"] * 1000 == result["expiresAt"]
    # Only a digest of the token is stored.
    stored = await sync_to_async(lambda: list(Token.objects.values_list("digest", flat=True)))()
    assert len(stored) == 1 and result["jwt"] not in stored[0]


@pytest.mark.parametrize(
    ("args", "body", "error_id", "status"),
    [
        ({"strategy": "local"}, {"username": "ada", "password": "wrong"}, "security.credentials.rejected", 401),
        ({"strategy": "local"}, {"username": "nobody", "password": "x"}, "security.credentials.rejected", 401),
        # (on PostgreSQL, a NUL in a compared value is a database error)
        ({"strategy": "local"}, {"username": "ada\x00", "password": "x"}, "security.credentials.rejected", 401),
        (
            {"strategy": "oauth"},
            {"username": "ada", "password": "secret-pw"},
            "security.credentials.unknown_strategy",
            400,
        ),
        ({}, {"username": "ada", "password": "secret-pw"}, "api.assert.missing_argument", 400),
        ({"strategy": "local"}, {"username": "ada"}, "api.assert.missing_argument", 400),
        ({"strategy": "local"}, {"username": 3, "password": "x"}, "api.assert.invalid_type", 400),
        (
            {"strategy": "local", "expiresIn": "soon"},
            {"username": "ada", "password": "secret-pw"},
            "api.assert.invalid_argument",
            400,
        ),
    ],
)
async def test_bad_logins(ada: Application, args: dict, body: dict, error_id: str, status: int) -> None:
    answer = await call(ada, controller="auth", action="login", body=body, **args)
    assert (answer["status"], answer["error"]["id"]) == (status, error_id)
    assert await sync_to_async(Token.objects.count)() == 0


async def test_expires_in_and_its_maximum(make_app: Any) -> None:
    app = make_app(TOKEN_MAX_TTL="2h")
    await app.start()
    await sync_to_async(make_user)("ada")
    assert (await login(app, expiresIn="90m"))["result"]["ttl"] == 5_400_000
    assert (await login(app, expiresIn=60_000))["result"]["ttl"] == 60_000
    too_long = await login(app, expiresIn="3h")
    assert too_long["error"]["id"] == "security.token.ttl_exceeded"


async def test_a_token_identifies_the_caller(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    me = await call(ada, controller="auth", action="getCurrentUser", jwt=jwt)
    assert me["result"] == {"_id": "ada", "_source": {"profileIds": ["default"]}, "strategies": ["local"]}
    anonymous = await call(ada, controller="auth", action="getCurrentUser")
    assert anonymous["result"]["_id"] == "-1"
    check = await call(ada, controller="auth", action="checkToken", body={"token": jwt})
    assert check["result"]["valid"] is True and check["result"]["kuid"] == "ada"
    assert (await call(ada, controller="auth", action="checkToken", body={}))["result"] == {
        "valid": True,
        "kuid": "-1",
        "expiresAt": -1,
    }
    bad = await call(ada, controller="auth", action="checkToken", body={"token": "garbage"})
    assert bad["result"] == {"valid": False, "state": "Invalid token."}


async def test_logout_revokes_the_token(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    other = (await login(ada))["result"]["jwt"]
    assert (await call(ada, controller="auth", action="logout", jwt=jwt))["status"] == 200
    refused = await call(ada, controller="auth", action="getCurrentUser", jwt=jwt)
    assert (refused["status"], refused["error"]["id"]) == (401, "security.token.invalid")
    assert (await call(ada, controller="auth", action="checkToken", body={"token": jwt}))["result"]["valid"] is False
    # Other sessions of the same user go on, unless logged out globally.
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=other))["status"] == 200
    third = (await login(ada))["result"]["jwt"]
    assert (await call(ada, controller="auth", action="logout", jwt=third, **{"global": True}))["status"] == 200
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=other))["status"] == 401


async def test_refresh_token_swaps_tokens(ada: Application) -> None:
    jwt = (await login(ada, expiresIn="10m"))["result"]["jwt"]
    fresh = await call(ada, controller="auth", action="refreshToken", jwt=jwt, expiresIn="2h")
    assert fresh["status"] == 200 and fresh["result"]["ttl"] == 7_200_000 and fresh["result"]["_id"] == "ada"
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=jwt))["status"] == 401
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=fresh["result"]["jwt"]))["status"] == 200
    anonymous = await call(ada, controller="auth", action="refreshToken")
    assert anonymous["error"]["id"] == "security.rights.unauthorized"


async def test_api_keys(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    created = await call(
        ada, controller="auth", action="createApiKey", jwt=jwt, _id="ci-key", body={"description": "CI"}
    )
    assert created["status"] == 200, created["error"]
    key = created["result"]
    assert key["_id"] == "ci-key" and key["_source"]["expiresAt"] == -1 and key["_source"]["userId"] == "ada"
    api_token = key["_source"]["token"]
    me = await call(ada, controller="auth", action="getCurrentUser", jwt=api_token)
    assert me["result"]["_id"] == "ada"
    # An API key survives the logout of sessions and cannot be refreshed.
    await call(ada, controller="auth", action="logout", jwt=jwt, **{"global": True})
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=api_token))["status"] == 200
    refresh = await call(ada, controller="auth", action="refreshToken", jwt=api_token)
    assert refresh["error"]["id"] == "security.token.refresh_forbidden"
    listed = await call(ada, controller="auth", action="searchApiKeys", jwt=api_token)
    assert listed["result"]["total"] == 1 and "token" not in listed["result"]["hits"][0]["_source"]
    again = await call(
        ada, controller="auth", action="createApiKey", jwt=api_token, _id="ci-key", body={"description": "x"}
    )
    assert again["error"]["id"] == "security.api_key.already_exists"
    deleted = await call(ada, controller="auth", action="deleteApiKey", jwt=api_token, _id="ci-key")
    assert deleted["result"] == {"_id": "ci-key"}
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=api_token))["status"] == 401
    missing = await call(ada, controller="auth", action="deleteApiKey", jwt=api_token, _id="ci-key")
    assert missing["status"] == 401  # the key was the token of this request


async def test_deleting_an_unknown_api_key_is_a_404(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    missing = await call(ada, controller="auth", action="deleteApiKey", jwt=jwt, _id="nope")
    assert (missing["status"], missing["error"]["id"]) == (404, "security.api_key.not_found")


async def test_password_change_user_deletion_and_deactivation_revoke_tokens(ada: Application) -> None:
    def change(**fields: Any) -> None:
        user = get_user_model().objects.get(username="ada")
        if "password" in fields:
            user.set_password(fields.pop("password"))
        for name, value in fields.items():
            setattr(user, name, value)
        user.save()

    jwt = (await login(ada))["result"]["jwt"]
    await sync_to_async(change)(password="new-secret-pw")
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=jwt))["status"] == 401
    jwt = (await login(ada, password="new-secret-pw"))["result"]["jwt"]
    await sync_to_async(change)(is_active=False)
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=jwt))["status"] == 401
    assert (await login(ada, password="new-secret-pw"))["status"] == 401
    await sync_to_async(change)(is_active=True)
    jwt = (await login(ada, password="new-secret-pw"))["result"]["jwt"]
    await sync_to_async(lambda: get_user_model().objects.filter(username="ada").delete())()
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=jwt))["status"] == 401


async def test_login_is_rate_limited_per_user_and_per_address(make_app: Any) -> None:
    app = make_app(LOGIN_ATTEMPTS=3, LOGIN_WINDOW=60)
    await app.start()
    await sync_to_async(make_user)("ada")
    await sync_to_async(make_user)("bob")
    for _ in range(3):
        await login(app, password="wrong", ips=["10.0.0.1"])
    limited = await login(app, ips=["10.0.0.9"])  # right password, but too many tries for ada
    assert (limited["status"], limited["error"]["id"]) == (429, "api.process.too_many_logins_requests")
    assert (await login(app, "bob", ips=["10.0.0.9"]))["status"] == 200
    for _ in range(2):
        await login(app, "bob", password="wrong", ips=["10.0.0.2"])
    assert (await login(app, "carol", ips=["10.0.0.2"]))["status"] == 401  # third try from .2: counted, refused
    from_address = await login(app, "bob", ips=["10.0.0.2"])
    assert from_address["status"] == 429
    assert await sync_to_async(Token.objects.count)() == 1


async def test_get_my_rights(ada: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)
    jwt = (await login(ada))["result"]["jwt"]
    rights = (await call(ada, controller="auth", action="getMyRights", jwt=jwt))["result"]
    values = {(h["controller"], h["action"]): h["value"] for h in rights["hits"]}
    assert values[("auth", "getCurrentUser")] == "allowed"
    assert values[("security", "createUser")] == "denied"
    assert rights["total"] == len(rights["hits"])
