"""Credentials changed through Kuzzle's API leave the user's tokens valid, as in Kuzzle."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from kuzzle_events import Application
from tests.api.test_auth import ada, call, login  # noqa: F401 (ada: the fixture)


async def test_own_credentials_crudl_keeps_the_token(ada: Application) -> None:  # noqa: F811
    jwt = (await login(ada))["result"]["jwt"]

    async def act(action: str, **args: Any) -> Any:
        answer = await call(ada, controller="auth", action=action, jwt=jwt, strategy="local", **args)
        assert answer["status"] == 200, answer["error"]
        return answer["result"]

    assert await act("deleteMyCredentials") == {"acknowledged": True}
    assert await act("credentialsExist") is False
    assert (await login(ada))["status"] == 401
    await act("createMyCredentials", body={"username": "ada", "password": "testpwd1"})
    assert await act("credentialsExist") is True
    await act("updateMyCredentials", body={"password": "testpwd2"})
    assert (await act("getCurrentUser"))["_id"] == "ada"
    assert (await login(ada, password="testpwd1"))["status"] == 401
    assert (await login(ada, password="testpwd2"))["status"] == 200
    # An administrator changing them (security:updateCredentials, deleteCredentials) keeps them too.
    for action, body in (("updateCredentials", {"password": "testpwd3"}), ("deleteCredentials", None)):
        done = await call(ada, controller="security", action=action, _id="ada", strategy="local", body=body)
        assert done["status"] == 200, done["error"]
        assert (await act("getCurrentUser"))["_id"] == "ada"
    assert await act("logout") == {"acknowledged": True}


async def test_a_password_changed_outside_kuzzles_api_still_revokes_tokens(ada: Application) -> None:  # noqa: F811
    jwt = (await login(ada))["result"]["jwt"]

    def change() -> None:
        user = get_user_model().objects.get(username="ada")
        user.set_password("changed-in-the-admin")
        user.save()

    await sync_to_async(change)()
    assert (await call(ada, controller="auth", action="getCurrentUser", jwt=jwt))["status"] == 401
