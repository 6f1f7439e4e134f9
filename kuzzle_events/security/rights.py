"""Rights: what a role grants, and what a set of profiles may run. No Django here.

A role is ``{"<controller>": {"actions": {"<action>": bool}}}``; ``*`` stands for any controller or
any action. Within one role the most precise entry wins (``auth.login`` over ``auth.*`` over
``*.login`` over ``*.*``), so ``{"*": true, "delete": false}`` grants all but ``delete``. Across the
roles of a user's profiles, one grant is enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kuzzle_events import errors

__all__ = [
    "DEFAULT_ROLES",
    "PSEUDO_ACTIONS",
    "TRACE_RIGHT",
    "DEFAULT_PROFILES",
    "role_allows",
    "validate_role",
    "restrictions_of",
    "Rights",
    "LocalChanges",
]

RoleSpec = Mapping[str, Any]

# Kuzzle's base roles once a first administrator exists (until then anybody may do anything).
DEFAULT_ROLES: dict[str, dict[str, Any]] = {
    "admin": {"*": {"actions": {"*": True}}},
    "default": {
        "auth": {
            "actions": {
                "checkToken": True,
                "getCurrentUser": True,
                "getMyRights": True,
                "logout": True,
                "refreshToken": True,
                "createApiKey": True,
                "deleteApiKey": True,
                "searchApiKeys": True,
            }
        },
        "server": {"actions": {"info": True, "now": True, "publicApi": True}},
    },
    "anonymous": {
        "auth": {"actions": {"checkToken": True, "login": True}},
        "server": {"actions": {"info": True, "now": True, "publicApi": True}},
    },
}
DEFAULT_PROFILES: dict[str, list[str]] = {name: [name] for name in DEFAULT_ROLES}

# Rights that are not API actions, granted in roles as actions are (``{"server": {"actions":
# {"trace": true}}}``): seeing one's requests' traces (X-Kuzzle-Trace: 1, "trace": true).
TRACE_RIGHT = ("server", "trace")
PSEUDO_ACTIONS: dict[str, tuple[str, ...]] = {"server": ("trace",)}


def _lookup(actions: Any, action: str) -> bool | None:
    if not isinstance(actions, Mapping):
        return None
    for key in (action, "*"):
        value = actions.get(key)
        if isinstance(value, bool):
            return value
    return None


def role_allows(controllers: RoleSpec, controller: str, action: str) -> bool:
    """Whether one role grants ``controller:action``."""
    for key in (controller, "*"):
        entry = controllers.get(key)
        if isinstance(entry, Mapping):
            value = _lookup(entry.get("actions"), action)
            if value is not None:
                return value
    return False


def validate_role(name: str, controllers: Any, known: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
    """Check a role's shape (and, given ``known`` controllers and actions, its names); return it."""
    if not isinstance(controllers, dict):
        raise errors.get("api.assert.invalid_type", "body.controllers", "object")
    for controller, entry in controllers.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("actions"), dict):
            raise errors.get("api.assert.invalid_type", f"body.controllers.{controller}.actions", "object")
        for action, value in entry["actions"].items():
            if not isinstance(value, bool):
                raise errors.get(
                    "api.assert.invalid_type", f"body.controllers.{controller}.actions.{action}", "boolean"
                )
        if known is None or controller == "*":
            continue
        if controller not in known:
            raise errors.get("security.role.unknown_controller", name, controller, 'Use "force" to skip this check.')
        actions = set(known[controller])
        for action in entry["actions"]:
            if action != "*" and action not in actions:
                raise errors.get(
                    "security.role.unknown_action", name, action, controller, 'Use "force" to skip this check.'
                )
    return controllers


class LocalChanges:
    """Counts the changes of rights made by this process, so that its snapshots reload at once."""

    count = 0


Restrictions = Mapping[str, Mapping[str, Mapping[str, Sequence[str]]]]
"""profile -> role -> index -> collections (empty: all of them): the ``restrictedTo`` of policies."""


def restrictions_of(policies: Any) -> dict[str, dict[str, list[str]]]:
    """A profile's ``policies`` as role -> index -> collections, for the policies with ``restrictedTo``."""
    found: dict[str, dict[str, list[str]]] = {}
    for policy in policies if isinstance(policies, list) else ():
        restricted = policy.get("restrictedTo") if isinstance(policy, dict) else None
        if restricted:
            indexes = found.setdefault(policy["roleId"], {})
            for restriction in restricted:
                indexes.setdefault(restriction["index"], []).extend(restriction.get("collections") or [])
    return found


class Rights:
    """A snapshot of every role and profile, answering "may these profiles run this action?".

    A policy restricted to some indexes (``restrictedTo``) grants its role's actions only on them
    (and, when it names collections, only on those), as Kuzzle's; an action on no index ignores it.
    """

    __slots__ = ("roles", "profiles", "admin_exists", "version", "restrictions", "_memo")

    def __init__(
        self,
        roles: Mapping[str, RoleSpec],
        profiles: Mapping[str, Sequence[str]],
        *,
        admin_exists: bool,
        version: int = 0,
        restrictions: Restrictions | None = None,
    ) -> None:
        self.roles = dict(roles)
        self.profiles = {name: list(role_ids) for name, role_ids in profiles.items()}
        self.admin_exists = admin_exists
        self.version = version
        # Only the profiles with restricted policies: most snapshots have none.
        self.restrictions = {name: r for name, r in (restrictions or {}).items() if r}
        self._memo: dict[tuple[tuple[str, ...], str, str], bool] = {}

    def allows(
        self,
        profile_ids: Sequence[str],
        controller: str,
        action: str,
        index: Any = None,
        collection: Any = None,
    ) -> bool:
        """Whether a user with ``profile_ids`` may run ``controller:action`` (on ``index``, ``collection``)."""
        if not self.admin_exists:
            # Kuzzle's first-run rule: until an administrator exists, anybody may do anything.
            return True
        if index and self.restrictions and not self.restrictions.keys().isdisjoint(profile_ids):
            return self._allows_on(profile_ids, controller, action, index, collection)
        key = (tuple(profile_ids), controller, action)
        allowed = self._memo.get(key)
        if allowed is None:
            allowed = self._memo[key] = any(
                role_allows(self.roles.get(role_id, {}), controller, action)
                for profile_id in profile_ids
                for role_id in self.profiles.get(profile_id, ())
            )
        return allowed

    def _allows_on(self, profile_ids: Sequence[str], controller: str, action: str, index: Any, collection: Any) -> bool:
        for profile_id in profile_ids:
            restricted = self.restrictions.get(profile_id, {})
            for role_id in self.profiles.get(profile_id, ()):
                if not role_allows(self.roles.get(role_id, {}), controller, action):
                    continue
                indexes = restricted.get(role_id)
                if indexes is None:
                    return True
                if index in indexes and (not indexes[index] or collection in indexes[index]):
                    return True
        return False

    def granted(self, profile_ids: Sequence[str], actions: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """``auth:getMyRights``: each action with ``"allowed"`` or ``"denied"``."""
        return [
            {
                "controller": controller,
                "action": action,
                "index": "*",
                "collection": "*",
                "value": "allowed" if self.allows(profile_ids, controller, action) else "denied",
            }
            for controller, action in actions
        ]
