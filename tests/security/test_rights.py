"""Rights of roles and profiles (kuzzle_events.security.rights): pure rules, no database."""

from __future__ import annotations

import pytest

from kuzzle_events import errors
from kuzzle_events.security.rights import (
    BOOTSTRAP_ROLES,
    DEFAULT_ROLES,
    Rights,
    restrictions_of,
    role_allows,
    validate_role,
)

READER = {"document": {"actions": {"get": True, "search": True}}}
ALL_BUT_DELETE = {"document": {"actions": {"*": True, "delete": False}}}


@pytest.mark.parametrize(
    ("role", "controller", "action", "allowed"),
    [
        (READER, "document", "get", True),
        (READER, "document", "delete", False),
        (READER, "server", "now", False),
        (ALL_BUT_DELETE, "document", "create", True),
        (ALL_BUT_DELETE, "document", "delete", False),
        ({"*": {"actions": {"*": True}}}, "my-plugin/greeting", "sayHello", True),
        ({"*": {"actions": {"now": True}}}, "server", "now", True),
        ({"*": {"actions": {"now": True}}}, "server", "info", False),
        # The most precise entry wins: the controller's own over the "*" controller's.
        ({"server": {"actions": {"now": False}}, "*": {"actions": {"*": True}}}, "server", "now", False),
        ({"server": {"actions": {"info": True}}, "*": {"actions": {"*": True}}}, "server", "now", True),
        ({}, "server", "now", False),
    ],
)
def test_role_allows(role: dict, controller: str, action: str, allowed: bool) -> None:
    assert role_allows(role, controller, action) is allowed


def test_default_anonymous_role_is_kuzzles() -> None:
    anonymous = DEFAULT_ROLES["anonymous"]
    granted = {
        (c, a)
        for c in ("auth", "server", "security", "document")
        for a in ("login", "checkToken", "getCurrentUser", "now", "info", "publicApi", "openapi", "createUser", "get")
        if role_allows(anonymous, c, a)
    }
    assert granted == {
        ("auth", "login"),
        ("auth", "checkToken"),
        ("auth", "getCurrentUser"),
        ("server", "publicApi"),
        ("server", "openapi"),
    }


def test_profiles_combine_their_roles() -> None:
    rights = Rights(
        {"reader": READER, "timer": {"server": {"actions": {"now": True}}}},
        {"both": ["reader", "timer"], "reader": ["reader"]},
        admin_exists=True,
    )
    assert rights.allows(["both"], "server", "now")
    assert rights.allows(["both"], "document", "get")
    assert not rights.allows(["reader"], "server", "now")
    assert rights.allows(["reader", "both"], "server", "now")
    assert not rights.allows(["unknown-profile"], "server", "now")


def test_rights_are_the_roles_whether_an_admin_exists_or_not() -> None:
    # No first-run exception: the bootstrap roles are what grant everything before restriction.
    for admin_exists in (False, True):
        opened = Rights(
            {"anonymous": BOOTSTRAP_ROLES["anonymous"]}, {"anonymous": ["anonymous"]}, admin_exists=admin_exists
        )
        assert opened.allows(["anonymous"], "security", "createUser")
        closed = Rights(
            {"anonymous": DEFAULT_ROLES["anonymous"]}, {"anonymous": ["anonymous"]}, admin_exists=admin_exists
        )
        assert not closed.allows(["anonymous"], "security", "createUser")


def hit(controller: str, action: str, value: str, index: str = "*", collection: str = "*") -> dict[str, str]:
    return {"action": action, "collection": collection, "controller": controller, "index": index, "value": value}


def test_listed_names_the_roles_entries_as_kuzzle() -> None:
    rights = Rights(
        {"reader": READER, "all-but-delete": ALL_BUT_DELETE, "any": {"*": {"actions": {"*": True}}}},
        {"reader": ["reader"], "both": ["reader", "all-but-delete"], "admin": ["any"]},
        admin_exists=True,
    )
    assert rights.listed(["reader"]) == [hit("document", "get", "allowed"), hit("document", "search", "allowed")]
    # "*" stays "*"; an entry with another value is listed again, an identical one once.
    assert rights.listed(["admin"]) == [hit("*", "*", "allowed")]
    assert rights.listed(["reader", "both"]) == [
        hit("document", "get", "allowed"),
        hit("document", "search", "allowed"),
        hit("document", "*", "allowed"),
        hit("document", "delete", "denied"),
    ]
    assert rights.listed(["unknown"]) == []


def test_listed_repeats_entries_per_restricted_index_and_collection() -> None:
    policies = [{"roleId": "reader", "restrictedTo": [{"index": "shop", "collections": ["b", "a", "b"]}, {"index": "blog"}]}]
    rights = Rights(
        {"reader": {"document": {"actions": {"get": True}}}},
        {"clerk": ["reader"]},
        admin_exists=True,
        restrictions={"clerk": restrictions_of(policies)},
    )
    assert rights.listed(["clerk"]) == [
        hit("document", "get", "allowed", "shop", "a"),
        hit("document", "get", "allowed", "shop", "b"),
        hit("document", "get", "allowed", "blog", "*"),
    ]


@pytest.mark.parametrize(
    ("controllers", "error_id"),
    [
        ([], "api.assert.invalid_type"),
        ({"server": True}, "api.assert.invalid_type"),
        ({"server": {"actions": {"now": "yes"}}}, "api.assert.invalid_type"),
        ({"nope": {"actions": {"now": True}}}, "security.role.unknown_controller"),
        ({"server": {"actions": {"nope": True}}}, "security.role.unknown_action"),
    ],
)
def test_invalid_roles_are_refused(controllers: object, error_id: str) -> None:
    with pytest.raises(errors.KuzzleError) as caught:
        validate_role("r", controllers, {"server": ["now", "info"]})
    assert caught.value.id == error_id and caught.value.status == 400


def test_names_are_not_checked_without_known_controllers() -> None:
    assert validate_role("r", {"nope": {"actions": {"*": True}}}) == {"nope": {"actions": {"*": True}}}


def test_restricted_policies_grant_only_on_their_indexes() -> None:
    reader = {"document": {"actions": {"get": True}}, "server": {"actions": {"now": True}}}
    policies = [{"roleId": "reader", "restrictedTo": [{"index": "shop", "collections": ["pens"]}, {"index": "blog"}]}]
    rights = Rights(
        {"reader": reader, "writer": {"document": {"actions": {"create": True}}}},
        {"readers": ["reader"], "writers": ["writer"]},
        admin_exists=True,
        restrictions={"readers": restrictions_of(policies), "writers": restrictions_of([{"roleId": "writer"}])},
    )
    assert rights.restrictions == {"readers": {"reader": {"shop": ["pens"], "blog": []}}}
    assert rights.allows(["readers"], "document", "get", "shop", "pens")
    assert not rights.allows(["readers"], "document", "get", "shop", "cups")
    assert rights.allows(["readers"], "document", "get", "blog", "posts")  # no collections: all of them
    assert not rights.allows(["readers"], "document", "get", "other", "pens")
    assert rights.allows(["readers"], "server", "now")  # an action on no index ignores restrictions
    assert not rights.allows(["readers"], "document", "create", "shop", "pens")
    # Another profile's unrestricted grant is enough.
    assert rights.allows(["readers", "writers"], "document", "create", "other", "x")
