"""The security controller, rights in the funnel for every action, first-admin rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.management import call_command

from kuzzle_events import Application, KuzzleRequest, errors
from kuzzle_events.models import Collection, Index, KuzzleUser, Profile, Role
from kuzzle_events.plugin import Plugin
from tests.accounts import issue_token, make_user
from tests.api.test_auth import call, login


async def admin_jwt(app: Application) -> str:
    await sync_to_async(make_user)("root", superuser=True)
    return (await login(app, "root"))["result"]["jwt"]


async def test_first_admin_closes_anonymous_access(started: Application) -> None:
    # No administrator yet: anonymous may do anything, security included.
    role = await call(
        started,
        controller="security",
        action="createRole",
        _id="reader",
        body={"controllers": {"server": {"actions": {"now": True}}}},
    )
    assert role["status"] == 200, role["error"]
    admin = await call(
        started,
        controller="security",
        action="createFirstAdmin",
        _id="boss",
        body={"content": {"name": "Boss"}, "credentials": {"local": {"username": "boss", "password": "boss-secret"}}},
    )
    assert admin["result"] == {"_id": "boss", "_source": {"name": "Boss", "profileIds": ["admin"]}}
    superuser = await sync_to_async(lambda: get_user_model().objects.get(username="boss").is_superuser)()
    assert superuser  # the admin profile is a Django superuser, and the other way round
    refused = await call(started, controller="security", action="createRole", _id="other", body={"controllers": {}})
    assert (refused["status"], refused["error"]["id"]) == (401, "security.rights.unauthorized")
    for controller, action in [("server", "now"), ("server", "info"), ("server", "publicApi"), ("auth", "checkToken")]:
        assert (await call(started, controller=controller, action=action))["status"] == 200, action
    assert (await call(started, controller="server", action="capabilities"))["status"] == 401
    again = await call(
        started,
        controller="security",
        action="createFirstAdmin",
        body={"credentials": {"local": {"username": "x", "password": "long-enough"}}},
    )
    assert again["status"] == 401
    jwt = (await login(started, "boss", "boss-secret"))["result"]["jwt"]
    again = await call(
        started,
        controller="security",
        action="createFirstAdmin",
        jwt=jwt,
        body={"credentials": {"local": {"username": "x", "password": "long-enough"}}},
    )
    assert (again["status"], again["error"]["id"]) == (412, "api.process.admin_exists")


async def test_create_first_admin_with_reset_restores_base_roles(started: Application) -> None:
    await call(
        started,
        controller="security",
        action="updateRole",
        _id="anonymous",
        body={"controllers": {"server": {"actions": {"*": True}}}},
    )
    await call(
        started,
        controller="security",
        action="createFirstAdmin",
        reset=True,
        body={"credentials": {"local": {"username": "boss", "password": "boss-secret"}}},
    )
    anonymous = await sync_to_async(lambda: Role.objects.get(name="anonymous").controllers)()
    assert anonymous["server"] == {"actions": {"info": True, "now": True, "publicApi": True}}


async def test_createsuperuser_makes_an_administrator(started: Application) -> None:
    await sync_to_async(call_command)("createsuperuser", interactive=False, username="root", email="r@example.com")
    profiles = await sync_to_async(lambda: KuzzleUser.objects.get(kuid="root").profile_ids())()
    assert profiles == ["admin"]
    assert (await call(started, controller="server", action="capabilities"))["status"] == 401


async def test_users_profiles_and_roles(started: Application) -> None:
    jwt = await admin_jwt(started)

    async def sec(action: str, **data: Any) -> dict[str, Any]:
        return await call(started, controller="security", action=action, jwt=jwt, **data)

    role = await sec("createRole", _id="timer", body={"controllers": {"server": {"actions": {"now": True}}}})
    assert role["result"] == {"_id": "timer", "_source": {"controllers": {"server": {"actions": {"now": True}}}}}
    assert (await sec("createRole", _id="timer", body={"controllers": {}}))["error"][
        "id"
    ] == "security.role.already_exists"
    unknown = await sec("createRole", _id="bad", body={"controllers": {"nope": {"actions": {"*": True}}}})
    assert unknown["error"]["id"] == "security.role.unknown_controller"
    forced = await sec("createRole", _id="later", force=True, body={"controllers": {"nope": {"actions": {"*": True}}}})
    assert forced["status"] == 200
    updated = await sec(
        "updateRole", _id="timer", body={"controllers": {"auth": {"actions": {"getCurrentUser": True}}}}
    )
    # Kuzzle's update replaces the role's controllers.
    assert set(updated["result"]["_source"]["controllers"]) == {"auth"}
    timer = {"server": {"actions": {"now": True}}, "auth": {"actions": {"getCurrentUser": True}}}
    assert (await sec("updateRole", _id="timer", body={"controllers": timer}))["status"] == 200
    assert (await sec("getRole", _id="timer"))["result"]["_id"] == "timer"
    assert (await sec("getRole", _id="nope"))["error"]["id"] == "security.role.not_found"
    found = await sec("searchRoles", body={"controllers": ["auth"]})
    assert {h["_id"] for h in found["result"]["hits"]} >= {"timer", "admin", "anonymous", "default"}

    profile = await sec("createProfile", _id="timers", body={"policies": [{"roleId": "timer"}]})
    assert profile["result"] == {"_id": "timers", "_source": {"policies": [{"roleId": "timer"}], "rateLimit": 0}}
    missing_role = await sec("createProfile", _id="p2", body={"policies": [{"roleId": "nope"}]})
    assert missing_role["error"]["id"] == "security.role.not_found"
    assert (await sec("searchProfiles", body={"roles": ["timer"]}))["result"]["total"] == 1

    user = await sec(
        "createUser",
        _id="tim",
        body={
            "content": {"profileIds": ["timers"], "team": "clocks"},
            "credentials": {"local": {"username": "tim", "password": "tim-secret"}},
        },
    )
    assert user["result"] == {"_id": "tim", "_source": {"team": "clocks", "profileIds": ["timers"]}}
    dup = await sec("createUser", _id="tim", body={"content": {"profileIds": ["timers"]}})
    assert dup["error"]["id"] == "security.user.already_exists"
    taken = await sec(
        "createUser",
        body={
            "content": {"profileIds": ["timers"]},
            "credentials": {"local": {"username": "tim", "password": "tim-secret"}},
        },
    )
    assert taken["error"]["id"] == "security.credentials.rejected"
    short = await sec(
        "createUser",
        body={"content": {"profileIds": ["timers"]}, "credentials": {"local": {"username": "t2", "password": "x"}}},
    )
    assert short["error"]["id"] == "security.credentials.rejected"  # Django's password validators
    no_profile = await sec("createUser", body={"content": {"profileIds": ["nope"]}})
    assert no_profile["error"]["id"] == "security.profile.not_found"
    assert await sync_to_async(get_user_model().objects.filter(username="t2").exists)() is False

    tim = (await login(started, "tim", "tim-secret"))["result"]["jwt"]
    assert (await call(started, controller="server", action="now", jwt=tim))["status"] == 200
    forbidden = await call(started, controller="server", action="info", jwt=tim)
    assert (forbidden["status"], forbidden["error"]["id"]) == (403, "security.rights.forbidden")
    assert forbidden["error"]["message"] == 'Insufficient permissions to execute the action "server:info" (User "tim").'

    # Rights follow edits at once.
    await sec("updateProfile", _id="timers", body={"policies": [{"roleId": "timer"}, {"roleId": "default"}]})
    assert (await call(started, controller="server", action="info", jwt=tim))["status"] == 200
    await sec("updateUser", _id="tim", body={"profileIds": ["default"], "team": "ops"})
    assert (await sec("getUser", _id="tim"))["result"]["_source"] == {"team": "ops", "profileIds": ["default"]}
    searched = await sec("searchUsers", body={"query": {"terms": {"profileIds": ["default"]}}})
    assert [h["_id"] for h in searched["result"]["hits"]] == ["tim"]
    bad_query = await sec("searchUsers", body={"query": {"range": {"age": {"gt": 1}}}})
    assert bad_query["error"]["id"] == "api.assert.invalid_argument"

    assert (await sec("deleteRole", _id="timer"))["error"]["id"] == "security.role.in_use"
    assert (await sec("deleteRole", _id="admin"))["error"]["id"] == "security.role.cannot_delete"
    assert (await sec("deleteProfile", _id="default"))["error"]["id"] == "security.profile.cannot_delete"
    assert (await sec("deleteProfile", _id="timers"))["result"] == {"_id": "timers"}
    assert (await sec("deleteRole", _id="timer"))["result"] == {"_id": "timer"}

    assert (await sec("deleteUser", _id="tim"))["result"] == {"_id": "tim"}
    assert (await call(started, controller="server", action="now", jwt=tim))["error"]["id"] == "security.token.invalid"
    assert (await sec("getUser", _id="tim"))["error"]["id"] == "security.user.not_found"


async def test_anonymous_role_keeps_login(started: Application) -> None:
    jwt = await admin_jwt(started)
    answer = await call(
        started,
        controller="security",
        action="createOrReplaceRole",
        _id="anonymous",
        jwt=jwt,
        body={"controllers": {"server": {"actions": {"now": True}}}},
    )
    assert answer["error"]["id"] == "security.role.login_required"
    answer = await call(
        started,
        controller="security",
        action="updateProfile",
        _id="anonymous",
        jwt=jwt,
        body={"policies": [{"roleId": "default"}]},
    )
    assert answer["error"]["id"] == "security.profile.missing_anonymous_role"


async def test_restricted_users(make_app: Any) -> None:
    app = make_app(RESTRICTED_PROFILES=["default"])
    await app.start()
    await sync_to_async(make_user)("root", superuser=True)
    jwt = (await login(app, "root"))["result"]["jwt"]
    await call(
        app,
        controller="security",
        action="updateRole",
        _id="anonymous",
        jwt=jwt,
        body={
            "controllers": {
                "auth": {"actions": {"login": True}},
                "security": {"actions": {"createRestrictedUser": True}},
            }
        },
    )
    made = await call(
        app,
        controller="security",
        action="createRestrictedUser",
        body={"content": {"nick": "n"}, "credentials": {"local": {"username": "newbie", "password": "newbie-pw"}}},
    )
    assert made["status"] == 200, made["error"]
    assert made["result"]["_source"] == {"nick": "n", "profileIds": ["default"]}
    chosen = await call(
        app, controller="security", action="createRestrictedUser", body={"content": {"profileIds": ["admin"]}}
    )
    assert chosen["error"]["id"] == "api.assert.forbidden_argument"


async def test_security_actions_fire_their_events(kapp: Application) -> None:
    seen: list[str] = []

    @kapp.pipe.register("security:beforeCreateRestrictedUser")
    async def before(request: KuzzleRequest) -> KuzzleRequest:
        seen.append("before")
        return request

    @kapp.hook.register("security:afterCreateRestrictedUser")
    async def after(request: KuzzleRequest) -> None:
        seen.append(f"after {request.result['_id']}")

    await kapp.start()
    await call(
        kapp,
        controller="security",
        action="createRestrictedUser",
        _id="u1",
        body={"credentials": {"local": {"username": "u1", "password": "u1-secret"}}},
    )
    await kapp.events.drain_hooks()
    assert seen == ["before", "after u1"]


class Toolbox(Plugin):
    manifest = {"name": "toolbox", "kuzzle_events": ">=0.1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        super().init(config, context)
        self.controllers = {"tools": {"hammer": self.hammer, "saw": self.saw}}

    async def hammer(self, request: KuzzleRequest) -> str:
        return f"bang for {request.context.user.id}"

    async def saw(self, request: KuzzleRequest) -> str:
        return "zzz"


async def test_plugin_and_application_actions_obey_roles(kapp: Application) -> None:
    kapp.plugin.use(Toolbox())

    async def greet(request: KuzzleRequest) -> str:
        return "hi"

    kapp.controller.register("greeting", {"actions": {"hello": {"handler": greet}}})
    await kapp.start()
    jwt = await admin_jwt(kapp)
    await call(
        kapp,
        controller="security",
        action="createRole",
        _id="carpenter",
        jwt=jwt,
        body={"controllers": {"toolbox/tools": {"actions": {"hammer": True}}}},
    )
    await call(
        kapp,
        controller="security",
        action="createProfile",
        _id="carpenters",
        jwt=jwt,
        body={"policies": [{"roleId": "carpenter"}]},
    )
    token = await sync_to_async(issue_token)("joe", profiles=["carpenters"])
    hammer = await call(kapp, controller="toolbox/tools", action="hammer", jwt=token.jwt)
    assert hammer["result"] == "bang for joe"
    saw = await call(kapp, controller="toolbox/tools", action="saw", jwt=token.jwt)
    assert (saw["status"], saw["error"]["id"]) == (403, "security.rights.forbidden")
    hello = await call(kapp, controller="greeting", action="hello", jwt=token.jwt)
    assert hello["status"] == 403
    anonymous = await call(kapp, controller="toolbox/tools", action="hammer")
    assert (anonymous["status"], anonymous["error"]["id"]) == (401, "security.rights.unauthorized")
    assert (await call(kapp, controller="greeting", action="hello", jwt=jwt))["result"] == "hi"


async def test_authorization_events_and_the_user_in_pipes(kapp: Application) -> None:
    seen: list[tuple[str, str]] = []

    @kapp.pipe.register("request:onAuthorized")
    async def authorized(request: KuzzleRequest) -> KuzzleRequest:
        seen.append(("authorized", request.context.user.id))
        return request

    @kapp.pipe.register("request:onUnauthorized")
    async def unauthorized(request: KuzzleRequest) -> KuzzleRequest:
        seen.append(("unauthorized", request.context.user.id))
        return request

    @kapp.pipe.register("server:beforeNow")
    async def who(request: KuzzleRequest) -> KuzzleRequest:
        seen.append(("beforeNow", request.context.user.id))
        return request

    await kapp.start()
    jwt = await admin_jwt(kapp)
    seen.clear()
    await call(kapp, controller="server", action="now", jwt=jwt)
    await call(kapp, controller="server", action="capabilities")
    await call(kapp, controller="server", action="now", jwt="garbage")
    assert seen == [("authorized", "root"), ("beforeNow", "root"), ("unauthorized", "-1"), ("unauthorized", "-1")]


async def test_seed_example_pipe_refuses_documents_of_others(started: Application) -> None:
    # Kuzzle's example: a pipe on generic:document:afterGet refusing documents created by someone else.
    @sync_to_async
    def tokens() -> tuple[Any, Any]:
        return issue_token("ada"), issue_token("bob")

    ada, bob = await tokens()

    async def only_mine(documents: list[dict[str, Any]], request: KuzzleRequest) -> list[dict[str, Any]]:
        for document in documents:
            if document["_source"]["_kuzzle_info"]["author"] != request.context.user.id:
                raise errors.ForbiddenError("Unauthorized access to document")
        return documents

    started.pipe.register("generic:document:afterGet", only_mine)
    document = {"_id": "d1", "_source": {"_kuzzle_info": {"author": "ada"}}}

    async def read_as(jwt: str) -> Any:
        request = KuzzleRequest({"controller": "server", "action": "now", "jwt": jwt})
        await started.security.authorize(request, started.controller.get("server", "now"))
        return await started.trigger("generic:document:afterGet", [document], request)

    assert await read_as(ada.jwt) == [document]
    with pytest.raises(errors.ForbiddenError):
        await read_as(bob.jwt)


async def test_rights_changed_by_another_process_are_seen(make_app: Any) -> None:
    app = make_app(SECURITY_CACHE_TTL=0)
    await app.start()
    await sync_to_async(make_user)("root", superuser=True)
    assert (await call(app, controller="server", action="capabilities"))["status"] == 401

    # Another process writes to the database: no signal reaches this one, only the stored version.
    from django.db.models import F

    from kuzzle_events.models import SecurityState

    def elsewhere() -> None:
        Role.objects.filter(name="anonymous").update(
            controllers={"auth": {"actions": {"login": True}}, "server": {"actions": {"*": True}}}
        )
        SecurityState.objects.filter(pk=1).update(version=F("version") + 1)

    await sync_to_async(elsewhere)()
    # Once the copy is older than SECURITY_CACHE_TTL, a request triggers its reload and later ones
    # see the change.
    statuses = []
    for _ in range(20):
        statuses.append((await call(app, controller="server", action="capabilities"))["status"])
        if statuses[-1] == 200:
            break
        await asyncio.sleep(0.05)
    assert statuses[-1] == 200 and set(statuses[:-1]) <= {401}
    # With a TTL of 0 each request starts a reload; the last must end before the database is flushed.
    await app.shutdown()
    assert app.security._loading is None or app.security._loading.done()


async def test_shutdown_waits_for_a_background_rights_reload(started: Application) -> None:
    release = asyncio.Event()
    finished = []
    load_rights = started.security.orm("load_rights")

    async def slow_load(known: Any) -> Any:
        await release.wait()
        result = await load_rights(known)
        finished.append(True)
        return result

    started.security._orm["load_rights"] = slow_load
    started.security._fresh_until = 0.0
    assert (await call(started, controller="server", action="now"))["status"] == 200
    shutting = asyncio.ensure_future(started.shutdown())
    await asyncio.sleep(0.05)
    waited = not shutting.done()
    release.set()
    await shutting
    assert waited and finished == [True]


async def test_admin_edits_apply(started: Application, client: Any) -> None:
    await sync_to_async(make_user)("root", superuser=True)
    assert (await call(started, controller="server", action="capabilities"))["status"] == 401

    @sync_to_async
    def edit_in_admin() -> tuple[int, list[str]]:
        client.login(username="root", password="secret-pw")
        response = client.post(
            "/admin/kuzzle_events/profile/anonymous/change/",
            {"name": "anonymous", "roles": ["anonymous", "admin"], "rate_limit": 0},
        )
        return response.status_code, sorted(Profile.objects.get(name="anonymous").roles.values_list("name", flat=True))

    assert await edit_in_admin() == (302, ["admin", "anonymous"])
    assert (await call(started, controller="server", action="capabilities"))["status"] == 200


async def test_admin_refuses_an_invalid_role(client: Any) -> None:
    @sync_to_async
    def post() -> Any:
        make_user("root", superuser=True)
        client.login(username="root", password="secret-pw")
        return client.post("/admin/kuzzle_events/role/add/", {"name": "r", "controllers": '{"server": true}'})

    response = await post()
    assert response.status_code == 200 and b"Wrong type for argument" in response.content
    assert not await sync_to_async(Role.objects.filter(name="r").exists)()


async def test_start_log_says_when_anonymous_may_do_everything(make_app: Any, warnings_log: Any) -> None:
    await make_app().start()
    assert "no administrator exists yet, so anonymous users may run every action" in warnings_log.text
    warnings_log.clear()
    await sync_to_async(make_user)("root", superuser=True)
    await make_app().start()
    assert "no administrator" not in warnings_log.text


# Kuzzle 2.56's other security actions -----------------------------------------------------------


@pytest.fixture
async def admin(started: Application) -> Any:
    """``sec(action, **args)``: a security action run by an administrator."""
    jwt = await admin_jwt(started)

    async def sec(action: str, **args: Any) -> dict[str, Any]:
        return await call(started, controller="security", action=action, jwt=jwt, **args)

    return sec


def make_default_user(kuid: str) -> None:
    model = get_user_model()
    user = model(username=kuid)
    user.set_password("secret-pw")
    user._kuzzle_kuid = kuid
    user.save()


async def test_api_keys_of_any_user(started: Application, admin: Any) -> None:
    await sync_to_async(make_default_user)("My")
    made = await admin("createApiKey", userId="My", expiresIn=-1, body={"description": "Le Huong"})
    assert made["status"] == 200, made["error"]
    source = made["result"]["_source"]
    assert (source["userId"], source["expiresAt"], source["ttl"], source["description"]) == ("My", -1, -1, "Le Huong")
    me = await call(started, controller="auth", action="getCurrentUser", jwt=source["token"])
    assert me["result"]["_id"] == "My"
    found = await admin("searchApiKeys", userId="My")
    assert [h["_source"]["fingerprint"] for h in found["result"]["hits"]] == [made["result"]["_id"]]
    other = await admin("deleteApiKey", userId="root", _id=made["result"]["_id"])
    assert other["error"]["id"] == "services.storage.not_found"
    assert (await admin("deleteApiKey", userId="My", _id=made["result"]["_id"]))["result"] == {
        "_id": made["result"]["_id"]
    }
    assert (await call(started, controller="auth", action="getCurrentUser", jwt=source["token"]))["status"] == 401
    missing = await admin("createApiKey", userId="nobody", body={"description": "x"})
    assert missing["error"]["id"] == "security.user.not_found"


async def test_api_keys_for_others_bypass_the_longest_token_life(make_app: Any) -> None:
    app = make_app(TOKEN_MAX_TTL="1h")
    await app.start()
    jwt = await admin_jwt(app)
    endless = await call(
        app, controller="security", action="createApiKey", jwt=jwt, userId="root", body={"description": "d"}
    )
    assert endless["status"] == 200, endless["error"]
    own = await call(app, controller="auth", action="createApiKey", jwt=jwt, body={"description": "d"})
    assert own["error"]["id"] == "security.token.ttl_exceeded"


async def test_rights_of_users_and_profiles(started: Application, admin: Any) -> None:
    await sync_to_async(make_default_user)("default-user")
    rights = {"auth": {"actions": {"login": True}}, "document": {"actions": {"create": False, "update": True}}}
    assert (await admin("updateRole", _id="default", body={"controllers": rights}))["status"] == 200

    async def allowed(action: str) -> Any:
        body = {"controller": "document", "action": action}
        return (await admin("checkRights", userId="default-user", body=body))["result"]

    assert await allowed("create") == {"allowed": False}
    assert await allowed("update") == {"allowed": True}
    assert (await admin("checkRights", userId="nobody", body={"controller": "a", "action": "b"}))["status"] == 404
    user_rights = (await admin("getUserRights", _id="default-user"))["result"]
    values = {(h["controller"], h["action"]): h["value"] for h in user_rights["hits"]}
    assert values[("document", "update")] == "allowed" and values[("document", "create")] == "denied"
    assert user_rights["total"] == len(user_rights["hits"])
    profile_rights = (await admin("getProfileRights", _id="admin"))["result"]["hits"]
    assert {h["value"] for h in profile_rights} == {"allowed"}
    assert (await admin("getProfileRights", _id="nope"))["error"]["id"] == "security.profile.not_found"
    strategies = (await admin("getUserStrategies", _id="default-user"))["result"]
    assert strategies == {"strategies": ["local"], "total": 1}
    assert (await admin("getUserStrategies", _id="-1"))["result"] == {"strategies": [], "total": 0}
    assert (await admin("getUserStrategies", _id="fake"))["error"]["id"] == "security.user.not_found"


async def test_multiple_gets_and_deletes(started: Application, admin: Any) -> None:
    for kuid in ("u1", "u2", "u3"):
        await sync_to_async(make_default_user)(kuid)
    by_args = await admin("mGetUsers", ids="u1,u2,missing")
    assert [h["_id"] for h in by_args["result"]["hits"]] == ["u1", "u2"]
    by_body = await admin("mGetUsers", body={"ids": ["u3", "u1"]})
    assert [h["_id"] for h in by_body["result"]["hits"]] == ["u3", "u1"]
    for name in ("r1", "r2"):
        await admin("createRole", _id=name, body={"controllers": {"server": {"actions": {"now": True}}}})
        await admin("createProfile", _id=f"p-{name}", body={"policies": [{"roleId": name}]})
    roles = await admin("mGetRoles", body={"ids": ["r1", "r2", "nope"]})
    assert [h["_id"] for h in roles["result"]["hits"]] == ["r1", "r2"]
    profiles = await admin("mGetProfiles", body={"ids": ["p-r2"]})
    assert profiles["result"]["hits"][0]["_source"]["policies"] == [{"roleId": "r2"}]
    assert (await admin("mDeleteUsers", body={"ids": ["u1", "u2"]}))["result"] == ["u1", "u2"]
    partial = await admin("mDeleteProfiles", body={"ids": ["p-r1", "nope"]})
    assert (partial["status"], partial["error"]["id"]) == (206, "services.storage.incomplete_delete")
    assert [e["id"] for e in partial["error"]["errors"]] == ["security.profile.not_found"]
    assert (await admin("getProfile", _id="p-r1"))["status"] == 404
    in_use = await admin("mDeleteRoles", body={"ids": ["r1", "r2"]})
    assert [e["id"] for e in in_use["error"]["errors"]] == ["security.role.in_use"]
    assert (await admin("getRole", _id="r1"))["status"] == 404
    assert (await admin("mDeleteRoles", body={}))["error"]["id"] == "api.assert.missing_argument"


async def test_upsert_and_replace_user(started: Application, admin: Any) -> None:
    credentials = {"local": {"username": "user-test", "password": "user-test"}}
    body = {"content": {"profileIds": ["default"]}, "default": {"name": "default-name"}, "credentials": credentials}
    made = await admin("upsertUser", _id="user-test", body=body)
    assert made["result"] == {"_id": "user-test", "_source": {"name": "default-name", "profileIds": ["default"]}}
    body = {**body, "content": {"profileIds": ["default"], "name": "new-name"}}
    updated = await admin("upsertUser", _id="user-test", body=body)
    assert updated["result"]["_source"] == {"name": "new-name", "profileIds": ["default"]}
    assert (await login(started, "user-test", "user-test"))["status"] == 200
    replaced = await admin("replaceUser", _id="user-test", body={"profileIds": ["admin"], "team": "t"})
    assert replaced["result"] == {"_id": "user-test", "_source": {"team": "t", "profileIds": ["admin"]}}
    assert (await admin("replaceUser", _id="nobody", body={"profileIds": ["admin"]}))["status"] == 404
    assert (await admin("replaceUser", _id="user-test", body={}))["error"]["id"] == "api.assert.invalid_type"


async def test_revoke_tokens(started: Application, admin: Any) -> None:
    await sync_to_async(make_default_user)("ada")
    session = (await login(started, "ada"))["result"]["jwt"]
    key = (await admin("createApiKey", userId="ada", body={"description": "k"}))["result"]["_source"]["token"]
    assert (await admin("revokeTokens", _id="ada"))["result"] is None
    for jwt in (session, key):
        assert (await call(started, controller="auth", action="getCurrentUser", jwt=jwt))["status"] == 401


async def test_strict_profiles_check_their_restrictions(started: Application, admin: Any) -> None:
    def example() -> None:
        Collection.objects.create(index=Index.objects.create(name="example"), name="one")

    await sync_to_async(example)()

    async def create(name: str, restricted: list[dict[str, Any]], **args: Any) -> dict[str, Any]:
        policies = [{"roleId": "default", "restrictedTo": restricted}]
        return await admin("createProfile", _id=name, body={"policies": policies}, **args)

    two = await create("p", [{"index": "example", "collections": ["one", "two"]}], strict=True)
    assert two["error"]["id"] == "services.storage.unknown_collection"
    other = await create("p", [{"index": "example2"}], strict=True)
    assert other["error"]["id"] == "services.storage.unknown_index"
    assert (await admin("getProfile", _id="p"))["status"] == 404
    one = await create("p", [{"index": "example", "collections": ["one"]}], strict=True)
    assert one["result"]["_source"]["policies"] == [
        {"roleId": "default", "restrictedTo": [{"index": "example", "collections": ["one"]}]}
    ]
    assert (await create("p2", [{"index": "example2", "collections": ["one"]}]))["status"] == 200
    bad = await create("p3", [{"collections": ["one"]}])
    assert bad["error"]["id"] == "api.assert.missing_argument"
    odd = await admin("createProfile", _id="p4", body={"policies": [{"roleId": "default", "x": 1}]})
    assert odd["error"]["id"] == "api.assert.unexpected_argument"


async def test_delete_profile_and_remove_it_from_its_users(started: Application, admin: Any) -> None:
    await admin("createRole", _id="test-role", body={"controllers": {"document": {"actions": {"*": True}}}})
    for name in ("base-profile", "to-be-removed"):
        await admin("createProfile", _id=name, body={"policies": [{"roleId": "test-role"}]})
    await admin("createUser", _id="test-user", body={"content": {"profileIds": ["base-profile", "to-be-removed"]}})
    await admin("createUser", _id="test-user-two", body={"content": {"profileIds": ["to-be-removed"]}})
    refused = await admin("deleteProfile", _id="to-be-removed")
    assert refused["error"]["id"] == "security.profile.in_use"
    assert (await admin("deleteProfile", _id="to-be-removed", onAssignedUsers="remove"))["status"] == 200
    assert (await admin("getUser", _id="test-user"))["result"]["_source"]["profileIds"] == ["base-profile"]
    assert (await admin("getUser", _id="test-user-two"))["result"]["_source"]["profileIds"] == ["anonymous"]
    wrong = await admin("deleteProfile", _id="base-profile", onAssignedUsers="keep")
    assert wrong["error"]["id"] == "api.assert.invalid_argument"


async def test_roles_and_profiles_keep_their_other_fields(started: Application, admin: Any) -> None:
    body = {"tags": ["kite-surf"], "controllers": {"*": {"actions": {"*": True}}}}
    made = await admin("createRole", _id="kite", body=body)
    assert made["result"]["_source"] == body
    profile = await admin("createProfile", _id="kite", body={"tags": ["kite-surf"], "policies": [{"roleId": "kite"}]})
    assert profile["result"]["_source"]["tags"] == ["kite-surf"]
    updated = await admin("updateProfile", _id="kite", body={"rateLimit": 5})
    assert updated["result"]["_source"] == {"tags": ["kite-surf"], "policies": [{"roleId": "kite"}], "rateLimit": 5}


async def test_mappings_and_refresh(started: Application, admin: Any) -> None:
    assert (await admin("getUserMapping"))["result"] == {"mapping": {"profileIds": {"type": "keyword"}}}
    assert "policies" in (await admin("getProfileMapping"))["result"]["mapping"]
    assert "controllers" in (await admin("getRoleMapping"))["result"]["mapping"]
    added = await admin("updateUserMapping", body={"properties": {"name": {"type": "keyword"}}})
    assert added["result"]["properties"] == {"profileIds": {"type": "keyword"}, "name": {"type": "keyword"}}
    mapping = (await admin("getUserMapping"))["result"]["mapping"]
    assert mapping == {"profileIds": {"type": "keyword"}, "name": {"type": "keyword"}}
    assert (await admin("refresh", collection="users"))["status"] == 200
    unknown = await admin("refresh", collection="frontend-security")
    assert unknown["error"]["id"] == "api.assert.unexpected_argument"


async def test_restrict_default_rights(started: Application, admin: Any) -> None:
    wide = {"auth": {"actions": {"login": True}}, "*": {"actions": {"*": True}}}
    await admin("updateRole", _id="anonymous", body={"controllers": wide})
    assert (await admin("restrictDefaultRights"))["status"] == 200
    role = (await admin("getRole", _id="anonymous"))["result"]["_source"]["controllers"]
    assert "*" not in role and role["auth"]["actions"]["login"] is True


async def test_kuzzles_routes(started: Application) -> None:
    routes = {
        name: {(r.verb, r.path) for r in act.routes}
        for name, act in started.controller.controllers["security"].actions.items()
    }
    assert ("post", "/_createFirstAdmin/:_id") in routes["createFirstAdmin"]
    assert ("post", "/users/:userId/api-keys/_create") in routes["createApiKey"]
    assert ("get", "/users/_scroll/:scrollId") in routes["scrollUsers"]
    assert ("delete", "/users/:_id/tokens") in routes["revokeTokens"]
    assert ("post", "/_security/:collection/_refresh") in routes["refresh"]
    assert ("get", "/credentials/:strategy/:_id/_byId") in routes["getCredentialsById"]
    assert ("put", "/users/_mapping") in routes["updateUserMapping"]


async def test_restricted_profiles_apply_to_requests(started: Application, admin: Any) -> None:
    controllers = {"document": {"actions": {"get": True, "exists": True}}, "auth": {"actions": {"checkRights": True}}}
    await admin("createRole", _id="reader", body={"controllers": controllers})
    policies = [{"roleId": "reader", "restrictedTo": [{"index": "shop", "collections": ["pens"]}]}]
    assert (await admin("createProfile", _id="shop-readers", body={"policies": policies}))["status"] == 200
    await admin(
        "createUser",
        _id="reader",
        body={
            "content": {"profileIds": ["shop-readers"]},
            "credentials": {"local": {"username": "reader", "password": "reader-pw"}},
        },
    )
    jwt = (await login(started, "reader", "reader-pw"))["result"]["jwt"]

    async def exists(index: str, collection: str) -> int:
        answer = await call(
            started, controller="document", action="exists", index=index, collection=collection, _id="x", jwt=jwt
        )
        return answer["status"]

    assert await exists("shop", "cups") == 403
    assert await exists("blog", "pens") == 403
    assert await exists("shop", "pens") != 403
    body = {"controller": "document", "action": "get", "index": "shop", "collection": "cups"}
    checked = await call(started, controller="auth", action="checkRights", jwt=jwt, body=body)
    assert checked["result"] == {"allowed": False}
    checked = await call(started, controller="auth", action="checkRights", jwt=jwt, body={**body, "collection": "pens"})
    assert checked["result"] == {"allowed": True}


async def test_a_multi_target_search_needs_every_target_allowed(started: Application, admin: Any) -> None:
    await admin("createRole", _id="searcher", body={"controllers": {"document": {"actions": {"search": True}}}})
    policies = [{"roleId": "searcher", "restrictedTo": [{"index": "shop", "collections": ["pens", "cups"]}]}]
    assert (await admin("createProfile", _id="shop-searchers", body={"policies": policies}))["status"] == 200
    await admin("createUser", _id="sam", body={"content": {"profileIds": ["shop-searchers"]},
                "credentials": {"local": {"username": "sam", "password": "sam-secret-pw"}}})  # fmt: skip
    root = (await login(started, "root"))["result"]["jwt"]
    for index, collection in (("shop", "pens"), ("shop", "cups"), ("blog", "posts")):
        await call(started, controller="collection", action="create", index=index, collection=collection, jwt=root)
    jwt = (await login(started, "sam", "sam-secret-pw"))["result"]["jwt"]

    async def search(*targets: tuple[str, list[str]]) -> int:
        listed = [{"index": i, "collections": c} for i, c in targets]
        answer = await call(started, controller="document", action="search", targets=listed, body={}, jwt=jwt)
        return answer["status"]

    assert await search(("shop", ["pens", "cups"])) == 200
    assert await search(("shop", ["pens"]), ("blog", ["posts"])) == 403
    assert await search(("shop", ["pens", "secret"])) == 403
