"""Bad tokens on every protocol: each gets its 401, and nothing else happens.

Protocols: the lean ASGI entry (Authorization header), the DRF views (DRF authentication), the
``/_query`` route (token in the body) and WebSocket (token in the frame).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt as pyjwt
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.models import Role, Token
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from kuzzle_events.security import store
from tests.accounts import issue_token, make_user
from tests.protocols.test_http import asgi_client, drf_client

BAD_TOKENS = ["none", "garbage", "other-key", "expired", "revoked", "deleted-user", "alg-none"]
EXPECTED = {
    "none": "security.rights.unauthorized",
    "expired": "security.token.expired",
}


def make_bad_token(kind: str) -> str | None:
    """A token of each refused kind, with what it takes in the database (sync: ORM)."""
    secret = str(settings.SECRET_KEY)
    now = int(time.time())
    if kind == "none":
        return None
    if kind == "garbage":
        return "this-is-not-a-token"
    if kind == "other-key":
        return pyjwt.encode({"_id": "ada", "iat": now, "exp": now + 600}, "another-key-" * 6, algorithm="HS256")
    if kind == "expired":
        return pyjwt.encode({"_id": "ada", "iat": now - 600, "exp": now - 60}, secret, algorithm="HS256")
    if kind == "alg-none":
        return pyjwt.encode({"_id": "ada", "iat": now, "exp": now + 600}, None, algorithm="none")
    if kind == "revoked":
        token = issue_token("ada")
        store.revoke(token.jwt)
        return token.jwt
    if kind == "deleted-user":
        token = issue_token("gone")
        get_user_model().objects.filter(username="gone").delete()
        return token.jwt
    raise AssertionError(kind)


def snapshot() -> tuple[list[str], int, int]:
    return sorted(Role.objects.values_list("name", flat=True)), Token.objects.count(), get_user_model().objects.count()


@pytest.fixture
async def guarded(kapp: Application) -> Application:
    """An application with an administrator (so anonymous is restricted) and a probe on every step."""
    kapp.seen = []  # type: ignore[attr-defined]

    @kapp.pipe.register("request:onUnauthorized")
    async def unauthorized(request: KuzzleRequest) -> KuzzleRequest:
        kapp.seen.append("onUnauthorized")  # type: ignore[attr-defined]
        return request

    @kapp.pipe.register("security:beforeCreateRole")
    async def before(request: KuzzleRequest) -> KuzzleRequest:
        kapp.seen.append("beforeCreateRole")  # type: ignore[attr-defined]
        return request

    await kapp.start()
    await sync_to_async(make_user)("root", superuser=True)
    await sync_to_async(make_user)("ada")
    return kapp


CREATE_ROLE = {"controller": "security", "action": "createRole", "_id": "intruder", "body": {"controllers": {}}}

Send = Callable[[Application, Any, str | None], Awaitable[dict[str, Any]]]


async def over_http(app: Application, settings_fixture: Any, jwt: str | None, adapter: str) -> dict[str, Any]:
    client = asgi_client(app) if adapter == "asgi" else drf_client(app, settings_fixture)
    headers = {"content-type": "application/json"}
    if jwt is not None:
        headers["authorization"] = f"Bearer {jwt}"
    answer = await client("POST", "/roles/intruder/_create", headers=headers, content=b'{"controllers": {}}')
    envelope = answer.json()
    assert answer.status == envelope["status"]
    return envelope


async def over_query(app: Application, settings_fixture: Any, jwt: str | None) -> dict[str, Any]:
    client = asgi_client(app)
    request = dict(CREATE_ROLE, jwt=jwt)
    answer = await client(
        "POST", "/_query", headers={"content-type": "application/json"}, content=json.dumps(request).encode()
    )
    return answer.json()


async def over_websocket(app: Application, settings_fixture: Any, jwt: str | None) -> dict[str, Any]:
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=app), "/")
    connected, _ = await communicator.connect()
    assert connected
    try:
        await communicator.send_to(text_data=json.dumps(dict(CREATE_ROLE, jwt=jwt, requestId="r1")))
        envelope = json.loads(await communicator.receive_from(timeout=5))
        assert envelope["room"] == "r1"
        # The connection stays open.
        await communicator.send_to(text_data='{"p":1}')
        assert await communicator.receive_from(timeout=5) == '{"p":2}'
        return envelope
    finally:
        await communicator.disconnect()


PROTOCOLS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "http": lambda app, s, jwt: over_http(app, s, jwt, "asgi"),
    "drf": lambda app, s, jwt: over_http(app, s, jwt, "drf"),
    "query": over_query,
    "websocket": over_websocket,
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
async def test_bad_token_is_a_401_and_changes_nothing(
    guarded: Application, settings: Any, protocol: str, kind: str
) -> None:
    jwt = await sync_to_async(make_bad_token)(kind)
    before = await sync_to_async(snapshot)()
    guarded.seen.clear()  # type: ignore[attr-defined]
    envelope = await PROTOCOLS[protocol](guarded, settings, jwt)
    assert envelope["status"] == 401
    assert envelope["error"]["id"] == EXPECTED.get(kind, "security.token.invalid")
    assert envelope["result"] is None
    assert guarded.seen == ["onUnauthorized"]  # type: ignore[attr-defined]
    assert await sync_to_async(snapshot)() == before


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
async def test_a_good_token_works_on_every_protocol(guarded: Application, settings: Any, protocol: str) -> None:
    token = await sync_to_async(issue_token)("root")
    envelope = await PROTOCOLS[protocol](guarded, settings, token.jwt)
    assert envelope["status"] == 200, envelope["error"]
    assert envelope["result"]["_id"] == "intruder"
    assert guarded.seen == ["beforeCreateRole"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
async def test_a_user_without_the_right_gets_a_403(guarded: Application, settings: Any, protocol: str) -> None:
    token = await sync_to_async(issue_token)("ada")
    envelope = await PROTOCOLS[protocol](guarded, settings, token.jwt)
    assert (envelope["status"], envelope["error"]["id"]) == (403, "security.rights.forbidden")
    assert not await sync_to_async(Role.objects.filter(name="intruder").exists)()


async def test_websocket_is_told_when_its_token_expires(guarded: Application) -> None:
    token = await sync_to_async(issue_token)("ada", ttl_ms=1000)
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=guarded), "/")
    await communicator.connect()
    try:
        request = {"controller": "auth", "action": "getCurrentUser", "jwt": token.jwt, "requestId": "me"}
        await communicator.send_to(text_data=json.dumps(request))
        assert json.loads(await communicator.receive_from(timeout=5))["result"]["_id"] == "ada"
        notification = json.loads(await communicator.receive_from(timeout=5))
        assert notification == {
            "status": 200,
            "info": "This is an automated server notification",
            "message": "Authentication Token Expired",
            "type": "TokenExpired",
            "room": "kuzzle:notification:server",
        }
        assert time.time() * 1000 >= token.expires_at
        # Still connected; the token is now refused.
        await communicator.send_to(text_data=json.dumps(request))
        assert json.loads(await communicator.receive_from(timeout=5))["error"]["id"] == "security.token.expired"
    finally:
        await communicator.disconnect()


async def test_websocket_logout_stops_the_expiry_notice(guarded: Application) -> None:
    token = await sync_to_async(issue_token)("ada", ttl_ms=1000)
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=guarded), "/")
    await communicator.connect()
    try:
        for action in ("getCurrentUser", "logout"):
            await communicator.send_to(text_data=json.dumps({"controller": "auth", "action": action, "jwt": token.jwt}))
            assert json.loads(await communicator.receive_from(timeout=5))["status"] == 200
        assert await communicator.receive_nothing(timeout=2.5)
    finally:
        await communicator.disconnect()


def test_drf_authentication_for_any_drf_view(rf: Any) -> None:
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from kuzzle_events.authentication import KuzzleTokenAuthentication

    class Whoami(APIView):
        authentication_classes = [KuzzleTokenAuthentication]

        def get(self, request: Any) -> Response:
            return Response({"user": request.user.get_username(), "kuid": request.auth.user_id})

    token = issue_token("ada")
    answer = Whoami.as_view()(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {token.jwt}"))
    assert answer.status_code == 200 and answer.data == {"user": "ada", "kuid": "ada"}
    refused = Whoami.as_view()(rf.get("/", HTTP_AUTHORIZATION="Bearer garbage"))
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == 'Bearer realm="kuzzle"'
    assert refused.data["detail"].code == "security.token.invalid"
