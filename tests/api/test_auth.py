"""The auth controller: login, tokens, API keys, revocation, login rate limit."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

from kuzzle_events import Application, KuzzleRequest, errors
from kuzzle_events.asgi import KuzzleASGI
from kuzzle_events.core.request import Connection
from kuzzle_events.models import KuzzleUser, Role, Token
from kuzzle_events.security import store
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
    assert again["error"]["id"] == "services.storage.document_already_exists"
    deleted = await call(ada, controller="auth", action="deleteApiKey", jwt=api_token, _id="ci-key")
    assert deleted["result"] == {"_id": "ci-key"}
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=api_token))["status"] == 401
    missing = await call(ada, controller="auth", action="deleteApiKey", jwt=api_token, _id="ci-key")
    assert missing["status"] == 401  # the key was the token of this request


async def test_deleting_an_unknown_api_key_is_a_404(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    missing = await call(ada, controller="auth", action="deleteApiKey", jwt=jwt, _id="nope")
    assert (missing["status"], missing["error"]["id"]) == (404, "services.storage.not_found")
    assert missing["error"]["message"] == 'ApiKey "nope" not found for user "ada".'


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


async def test_failed_logins_lock_the_username_and_the_address(make_app: Any) -> None:
    app = make_app(LOGIN_ATTEMPTS=3, LOGIN_WINDOW=60)
    await app.start()
    await sync_to_async(make_user)("ada")
    await sync_to_async(make_user)("bob")
    for _ in range(3):
        assert (await login(app, password="wrong", ips=["10.0.0.1"]))["status"] == 401
    limited = await login(app, ips=["10.0.0.9"])  # right password, but too many failures for ada
    assert (limited["status"], limited["error"]["id"]) == (429, "api.process.too_many_logins_requests")
    assert (await login(app, "bob", ips=["10.0.0.9"]))["status"] == 200
    for _ in range(2):
        await login(app, "bob", password="wrong", ips=["10.0.0.2"])
    assert (await login(app, "carol", ips=["10.0.0.2"]))["status"] == 401  # third failure from .2
    from_address = await login(app, "bob", ips=["10.0.0.2"])
    assert from_address["status"] == 429
    assert await sync_to_async(Token.objects.count)() == 1


async def test_successful_logins_never_count(make_app: Any) -> None:
    app = make_app(LOGIN_ATTEMPTS=2, LOGIN_WINDOW=60)
    await app.start()
    await sync_to_async(make_user)("ada")
    for _ in range(5):
        assert (await login(app))["status"] == 200
    # A success also clears the username's failures.
    assert (await login(app, password="wrong", ips=["10.0.0.3"]))["status"] == 401
    assert (await login(app, ips=["10.0.0.4"]))["status"] == 200
    assert (await login(app, password="wrong", ips=["10.0.0.5"]))["status"] == 401
    assert (await login(app, ips=["10.0.0.6"]))["status"] == 200


async def test_failures_are_shared_by_applications_on_one_cache(make_app: Any, settings: Any) -> None:
    locmem = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {"default": {"BACKEND": locmem}, "isolated": {"BACKEND": locmem, "LOCATION": "isolated"}}
    first, second = make_app(LOGIN_ATTEMPTS=2), make_app(LOGIN_ATTEMPTS=2)
    await first.start()
    await second.start()
    await sync_to_async(make_user)("ada")
    for _ in range(2):
        await login(first, password="wrong")
    assert (await login(second))["status"] == 429
    # Another cache has counts of its own.
    third = make_app(LOGIN_ATTEMPTS=2, LOGIN_CACHE="isolated")
    await third.start()
    assert (await login(third))["status"] == 200
    first.security.invalidate()


async def test_logins_per_second_per_connection(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kuzzle_events.security.ratelimit.time.monotonic", lambda: 5000.5)
    app = make_app(LOGINS_PER_SECOND=2)
    await app.start()
    await sync_to_async(make_user)("ada")
    connection = Connection(protocol="websocket", ips=["10.0.0.1"])

    async def again() -> dict[str, Any]:
        data = {"controller": "auth", "action": "login", "strategy": "local"}
        data["body"] = {"username": "ada", "password": "secret-pw"}
        return (await app.funnel.execute(KuzzleRequest(data, connection=connection))).to_dict()

    assert [(await again())["status"] for _ in range(3)] == [200, 200, 429]
    assert (await again())["error"]["id"] == "api.process.too_many_logins_requests"
    assert (await login(app))["status"] == 200  # another connection
    app = make_app(LOGINS_PER_SECOND=0)
    await app.start()
    assert [(await again())["status"] for _ in range(4)] == [200] * 4


@pytest.mark.parametrize(
    ("trusted", "forwarded", "locked_from_elsewhere"),
    [
        ([], "10.9.9.1", True),  # the header is ignored: every try comes from the peer
        (["127.0.0.1"], "10.9.9.1", False),  # through a trusted proxy, the client is 10.9.9.1
        (["127.0.0.0/8"], "10.9.9.1, 127.0.0.2", False),
        (["127.0.0.1"], "10.9.9.1, 10.7.7.7", False),  # 10.7.7.7 is not a proxy: it is the client
    ],
)
async def test_client_address_behind_trusted_proxies(
    make_app: Any, trusted: list[str], forwarded: str, locked_from_elsewhere: bool
) -> None:
    app = make_app(LOGIN_ATTEMPTS=2, TRUSTED_PROXIES=trusted)
    await app.start()
    await sync_to_async(make_user)("ada")
    transport = httpx.ASGITransport(app=KuzzleASGI(app=app), client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def attempt(name: str, password: str, forwarded_for: str) -> int:
            body = {"username": name, "password": password}
            headers = {"X-Forwarded-For": forwarded_for}
            response = await client.post("/_login/local", json=body, headers=headers)
            return response.status_code

        for name in ("x1", "x2"):
            assert await attempt(name, "wrong", forwarded) == 401
        # Two failures from that client address: is another client, by the same proxy, locked out?
        status = await attempt("ada", "secret-pw", "10.1.1.1")
        assert status == (429 if locked_from_elsewhere else 200)
        assert await attempt("ada", "secret-pw", forwarded) == 429


async def test_get_my_rights(ada: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)
    jwt = (await login(ada))["result"]["jwt"]
    rights = (await call(ada, controller="auth", action="getMyRights", jwt=jwt))["result"]
    # Kuzzle's: the entries of the default role (restricted by the first superuser), not every action.
    # (In no particular order: Kuzzle's follows a hash of each entry, PostgreSQL's jsonb its own.)
    entry = {"collection": "*", "index": "*", "value": "allowed"}
    assert rights["total"] == 6
    assert sorted(rights["hits"], key=lambda h: (h["controller"], h["action"])) == [
        {"action": action, "controller": controller, **entry}
        for controller, action in [
            ("auth", "checkToken"),
            ("auth", "getCurrentUser"),
            ("auth", "getMyRights"),
            ("auth", "logout"),
            ("auth", "updateSelf"),
            ("server", "publicApi"),
        ]
    ]
    anonymous = (await call(ada, controller="auth", action="getMyRights"))["result"]
    assert {(h["controller"], h["action"]) for h in anonymous["hits"]} == {
        ("auth", "checkToken"),
        ("auth", "getCurrentUser"),
        ("auth", "getMyRights"),
        ("auth", "login"),
        ("server", "publicApi"),
        ("server", "openapi"),
    }


# Kuzzle 2.56's other auth actions ---------------------------------------------------------------


async def test_create_token_single_use(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    made = await call(ada, controller="auth", action="createToken", jwt=jwt, singleUse=True)
    assert made["status"] == 200, made["error"]
    assert set(made["result"]) == {"token", "ttl", "expiresAt", "singleUse"}
    assert made["result"]["singleUse"] is True and made["result"]["ttl"] == 3_600_000
    once = made["result"]["token"]
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=once))["result"]["_id"] == "ada"
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=once))["status"] == 401
    lasting = (await call(ada, controller="auth", action="createToken", jwt=jwt))["result"]["token"]
    for _ in range(2):
        assert (await call(ada, controller="auth", action="getCurrentUser", jwt=lasting))["status"] == 200
    endless = await call(ada, controller="auth", action="createToken", jwt=jwt, singleUse=True, expiresIn=-1)
    assert (endless["status"], endless["error"]["id"]) == (400, "security.token.invalid_expiration")


def token_of(kuid: str) -> Any:
    return store.store_token(KuzzleUser.objects.select_related("user").get(kuid=kuid), settings.SECRET_KEY, 60_000)


def grant_default(controllers: dict[str, Any]) -> None:
    role = Role.objects.get(name="default")
    role.controllers = controllers
    role.save()


async def test_check_rights_of_the_caller(ada: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)
    rights = {"auth": {"actions": {"checkRights": True}}, "document": {"actions": {"create": False, "update": True}}}
    await sync_to_async(grant_default)(rights)
    jwt = (await login(ada))["result"]["jwt"]

    async def allowed(**body: str) -> Any:
        return await call(ada, controller="auth", action="checkRights", jwt=jwt, body=body)

    assert (await allowed(controller="document", action="create"))["result"] == {"allowed": False}
    assert (await allowed(controller="document", action="update"))["result"] == {"allowed": True}
    missing = await allowed(controller="document")
    assert (missing["status"], missing["error"]["id"]) == (400, "api.assert.missing_argument")


async def test_update_self(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    updated = await call(ada, controller="auth", action="updateSelf", jwt=jwt, body={"name": "Ada"})
    assert updated["result"] == {"_id": "ada", "_source": {"name": "Ada", "profileIds": ["default"]}}
    for forbidden in ({"profileIds": ["admin"]}, {"_id": "other"}):
        refused = await call(ada, controller="auth", action="updateSelf", jwt=jwt, body=forbidden)
        assert (refused["status"], refused["error"]["id"]) == (400, "api.assert.forbidden_argument")
    anonymous = await call(ada, controller="auth", action="updateSelf", body={"name": "x"})
    assert anonymous["error"]["id"] == "security.rights.unauthorized"


async def test_own_credentials(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]

    async def act(action: str, **args: Any) -> Any:
        return await call(ada, controller="auth", action=action, jwt=jwt, strategy="local", **args)

    assert (await call(ada, controller="auth", action="getStrategies"))["result"] == ["local"]
    assert (await act("credentialsExist"))["result"] is True
    assert (await act("getMyCredentials"))["result"] == {"username": "ada", "kuid": "ada"}
    assert (await act("validateMyCredentials", body={"username": "ada2", "password": "other-pw"}))["result"] is True
    rejected = await act("validateMyCredentials", body={"username": "ada2"})
    assert (rejected["status"], rejected["error"]["id"]) == (400, "security.credentials.rejected")
    unknown = await call(ada, controller="auth", action="credentialsExist", jwt=jwt, strategy="oauth")
    assert unknown["error"]["id"] == "security.credentials.unknown_strategy"
    changed = await act("updateMyCredentials", body={"username": "ada2"})
    assert changed["result"] == {"username": "ada2", "kuid": "ada"}
    assert (await login(ada, "ada2"))["status"] == 200
    jwt = (await login(ada, "ada2"))["result"]["jwt"]
    assert (await act("deleteMyCredentials"))["result"] == {"acknowledged": True}
    assert (await login(ada, "ada2"))["status"] == 401
    # Without credentials, a token given by the server itself still works.
    jwt = (await sync_to_async(token_of)("ada")).jwt
    assert (await act("credentialsExist"))["result"] is False
    created = await act("createMyCredentials", body={"username": "ada3", "password": "third-pw"})
    assert created["result"] == {"username": "ada3", "kuid": "ada"}
    assert (await login(ada, "ada3", "third-pw"))["status"] == 200


async def test_api_keys_carry_their_fingerprint_and_are_searched(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    for description in ("Sigfox API key", "Lora API key", "Lora API key 2"):
        made = await call(ada, controller="auth", action="createApiKey", jwt=jwt, body={"description": description})
        assert made["status"] == 200, made["error"]
    key = made["result"]
    fingerprint = hashlib.sha256(key["_source"]["token"].encode()).hexdigest()
    # Without an _id, a key is named by its fingerprint, as Kuzzle's.
    assert key["_id"] == key["_source"]["fingerprint"] == fingerprint
    found = await call(ada, controller="auth", action="searchApiKeys", jwt=jwt, body={"match": {"description": "lora"}})
    hits = found["result"]["hits"]
    assert [h["_source"]["description"] for h in hits] == ["Lora API key", "Lora API key 2"]
    assert all(set(h["_source"]) == {"userId", "description", "expiresAt", "ttl", "fingerprint"} for h in hits)
    koncorde = {"equals": {"description": "Sigfox API key"}}
    found = await call(ada, controller="auth", action="searchApiKeys", jwt=jwt, lang="koncorde", body=koncorde)
    assert [h["_source"]["description"] for h in found["result"]["hits"]] == ["Sigfox API key"]


async def test_an_anonymous_caller_allowed_to_search_api_keys_finds_none(ada: Application) -> None:
    jwt = (await login(ada))["result"]["jwt"]
    await call(ada, controller="auth", action="createApiKey", jwt=jwt, body={"description": "ada's"})
    # The base roles grant every action until restricted: anonymous may search, and has no key.
    found = await call(ada, controller="auth", action="searchApiKeys")
    assert (found["status"], found["result"]) == (200, {"hits": [], "total": 0})


async def test_kuzzles_routes(ada: Application) -> None:
    routes = {
        name: {(r.verb, r.path) for r in act.routes} for name, act in ada.controller.controllers["auth"].actions.items()
    }
    assert ("post", "/api-keys/_create") in routes["createApiKey"]
    assert ("delete", "/api-keys/:_id") in routes["deleteApiKey"]
    assert ("post", "/api-keys/_search") in routes["searchApiKeys"]
    assert ("get", "/_me/_rights") in routes["getMyRights"]
    assert ("post", "/_createToken") in routes["createToken"]
    assert ("post", "/_checkRights") in routes["checkRights"]
    assert ("put", "/_me") in routes["updateSelf"]
    assert ("get", "/strategies") in routes["getStrategies"]
    assert ("get", "/_me/credentials/:strategy/_exists") in routes["credentialsExist"]


async def test_cookie_authentication_over_http(ada: Application) -> None:
    transport = httpx.ASGITransport(app=KuzzleASGI(app=ada))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        credentials = {"username": "ada", "password": "secret-pw"}
        logged = await client.post("/_login/local?cookieAuth", json=credentials)
        assert logged.status_code == 200
        assert set(logged.json()["result"]) == {"_id", "expiresAt", "ttl"}  # no jwt: it is in the cookie
        cookie = logged.headers["set-cookie"]
        assert cookie.startswith("authToken=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jwt = cookie.split(";")[0].split("=", 1)[1]
        assert (await ada.security.verify(jwt)).user_id == "ada"
        headers = {"Cookie": f"authToken={jwt}"}
        me = await client.get("/_me", headers=headers)
        assert me.json()["result"]["_id"] == "ada"
        checked = await client.post("/_checkToken?cookieAuth", headers=headers)
        assert checked.json()["result"]["valid"] is True and checked.json()["result"]["kuid"] == "ada"
        wrong = await client.post("/_checkToken?cookieAuth", headers={"Cookie": "authToken=wrongtoken"})
        assert wrong.json()["result"]["valid"] is False
        both = await client.get("/_me", headers={**headers, "Authorization": f"Bearer {jwt}"})
        assert both.json()["error"]["id"] == "security.token.verification_error"
        refreshed = await client.post("/_refreshToken?cookieAuth", headers=headers)
        assert refreshed.status_code == 200 and "jwt" not in refreshed.json()["result"]
        jwt = refreshed.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        headers = {"Cookie": f"authToken={jwt}"}
        out = await client.post("/_logout?cookieAuth", headers=headers)
        assert out.status_code == 200 and out.headers["set-cookie"].startswith("authToken=null;")
        assert (await client.get("/_me", headers=headers)).json()["error"]["id"] == "security.token.invalid"
        # A stale cookie can still be cleared.
        again = await client.post("/_logout?cookieAuth", headers=headers)
        assert again.status_code == 200 and again.headers["set-cookie"].startswith("authToken=null;")
        # A cleared cookie stands for nobody.
        cleared = await client.get("/_me", headers={"Cookie": "authToken=null"})
        assert cleared.json()["result"]["_id"] == "-1"


async def test_cookie_authentication_switched_off(make_app: Any) -> None:
    # Kuzzle's http.cookieAuthentication false: cookieAuth and the authToken cookie are refused.
    app = make_app(COOKIE_AUTHENTICATION=False)
    await app.start()
    await sync_to_async(make_user)("ada")
    transport = httpx.ASGITransport(app=KuzzleASGI(app=app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        credentials = {"username": "ada", "password": "secret-pw"}
        refused = await client.post("/_login/local?cookieAuth", json=credentials)
        assert (refused.status_code, refused.json()["error"]["id"]) == (500, "security.cookie.unsupported")
        assert "set-cookie" not in refused.headers
        jwt = (await client.post("/_login/local", json=credentials)).json()["result"]["jwt"]
        with_cookie = await client.get("/_me", headers={"Cookie": f"authToken={jwt}"})
        assert with_cookie.json()["error"]["id"] == "security.cookie.unsupported"
        # Without cookie authentication, browsers are not told to send credentials.
        me = await client.get("/_me", headers={"Authorization": f"Bearer {jwt}", "Origin": "http://front.example"})
        assert me.json()["result"]["_id"] == "ada"
        assert "access-control-allow-credentials" not in me.headers
        # A cleared cookie is no token: nothing to refuse.
        assert (await client.get("/_me", headers={"Cookie": "authToken=null"})).json()["result"]["_id"] == "-1"


async def test_login_over_get_with_the_credentials_in_the_query(ada: Application) -> None:
    transport = httpx.ASGITransport(app=KuzzleASGI(app=ada))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        logged = await client.get("/_login/local", params={"username": "ada", "password": "secret-pw"})
        assert logged.status_code == 200 and logged.json()["result"]["_id"] == "ada"
        missing = await client.get("/_login/local", params={"username": "ada"})
        assert missing.json()["error"]["id"] == "api.assert.missing_argument"


async def test_an_unknown_login_cache_stops_the_start(make_app: Any) -> None:
    app = make_app(LOGIN_CACHE="nowhere")
    with pytest.raises(errors.PluginImplementationError, match="'nowhere' is not one of Django's CACHES"):
        await app.start()
    uncounted = make_app(LOGIN_CACHE="nowhere", LOGIN_ATTEMPTS=0)  # no counting, no cache needed
    await uncounted.start()
    assert uncounted.started
