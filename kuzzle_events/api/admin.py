"""The ``admin`` controller: load and reset data and security, flush caches, stop the server.

Only the ``admin`` role grants it (the ``default`` and ``anonymous`` roles name none of its
actions). Kuzzle's functional suites call these actions to set up every scenario, so their
arguments and results are Kuzzle's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import weakref
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async

from kuzzle_events import errors
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route
from kuzzle_events.security.tokens import now_ms

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions", "stop_process", "SHUTDOWN_DELAY"]

ACKNOWLEDGE = {"acknowledge": True}
# Seconds between answering admin:shutdown and stopping the process, so that the answer is sent.
SHUTDOWN_DELAY = 0.2


def actions() -> Table:
    """The ``admin`` controller: action -> (handler, HTTP routes)."""
    return {
        "loadFixtures": (load_fixtures, [route("post", "/admin/_loadFixtures")]),
        "loadMappings": (load_mappings, [route("post", "/admin/_loadMappings")]),
        "loadSecurities": (load_securities, [route("post", "/admin/_loadSecurities")]),
        "resetCache": (reset_cache, [route("post", "/admin/_resetCache")]),
        "resetDatabase": (reset_database, [route("post", "/admin/_resetDatabase")]),
        "resetSecurity": (reset_security, [route("post", "/admin/_resetSecurity")]),
        # Kuzzle writes it "/admin/_shutdown/"; a trailing slash is ignored.
        "shutdown": (shutdown, [route("post", "/admin/_shutdown")]),
    }


_db = Service("kuzzle_events.documents.storage")
_collections = Service("kuzzle_events.documents.collections")
_writes = Service("kuzzle_events.documents.writes")
_accounts = Service("kuzzle_events.security.accounts")
_roles = Service("kuzzle_events.security.roles")
_reset = Service("kuzzle_events.security.reset")


class _Locks:
    """Actions of one application that refuse to run twice at once (``api.process.action_locked``)."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.shutting_down = False


_locks: weakref.WeakKeyDictionary[Application, _Locks] = weakref.WeakKeyDictionary()


def _locks_of(app: Application) -> _Locks:
    locks = _locks.get(app)
    if locks is None:
        locks = _locks[app] = _Locks()
    return locks


class _exclusive:
    """``async with _exclusive(app, "resetDatabase", "...")``: one run at a time per application."""

    def __init__(self, app: Application, name: str, message: str) -> None:
        self._running = _locks_of(app).running
        self._name, self._message = name, message

    async def __aenter__(self) -> None:
        if self._name in self._running:
            raise errors.get("api.process.action_locked", self._message)
        self._running.add(self._name)

    async def __aexit__(self, *exc: object) -> None:
        self._running.discard(self._name)


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.get("api.assert.invalid_argument", name, "object")
    return value


# Data -------------------------------------------------------------------------------------------


async def reset_database(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Delete every index (with its collections and documents); security data is kept."""
    async with _exclusive(app, "resetDatabase", "Kuzzle is already reseting all indexes."):
        for index in await _collections.list_indexes():
            try:
                await _collections.delete_index(index)
            except errors.KuzzleError as error:
                if error.id != "services.storage.unknown_index":  # deleted meanwhile
                    raise
    return ACKNOWLEDGE


async def load_mappings(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Create the indexes and collections of ``{index: {collection: mappings}}`` where missing.

    Collections keep no mappings yet: documents are stored whatever their fields.
    """
    mappings = _object(request.get_body(), "body")
    for index, collections in mappings.items():
        for collection in _object(collections, f"body.{index}"):
            try:
                await _collections.create_index(index)
            except errors.KuzzleError as error:
                if error.id != "services.storage.index_already_exists":
                    raise
            await _collections.create_collection(index, collection)
    return ACKNOWLEDGE


# Bulk actions of a fixture and what storage.write calls them; "delete" has no body line.
_WRITES = {"create": "create", "index": "createOrReplace"}


async def load_fixtures(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Import ``{index: {collection: [bulk lines]}}`` into existing collections.

    The lines are Elasticsearch's bulk format: ``{"create": {"_id": ...}}`` or ``{"index": ...}``
    followed by the document, ``{"update": ...}`` followed by ``{"doc": {...}}``, ``{"delete": ...}``.
    """
    fixtures = _object(request.get_body(), "body")
    kuid = request.context.user.id
    for index, collections in fixtures.items():
        for collection, lines in _object(collections, f"body.{index}").items():
            if not await _collections.collection_exists(index, collection):
                if not await _collections.index_exists(index):
                    raise errors.get("services.storage.unknown_index", index)
                raise errors.get("services.storage.unknown_collection", index, collection)
            items = _bulk(lines, f"body.{index}.{collection}")
            try:
                await _import(index, collection, items, kuid)
            except errors.KuzzleError as error:
                failed = errors.get("services.storage.import_failed")
                failed.errors = [error.to_dict()]  # type: ignore[attr-defined]
                raise failed from error
    return ACKNOWLEDGE


def _bulk(lines: Any, name: str) -> list[tuple[str, str | None, dict[str, Any] | None]]:
    """``(action, _id, body)`` of each bulk item."""
    if not isinstance(lines, list):
        raise errors.get("api.assert.invalid_argument", name, "array")
    items: list[tuple[str, str | None, dict[str, Any] | None]] = []
    position = 0
    while position < len(lines):
        header = lines[position]
        if not isinstance(header, dict) or len(header) != 1:
            raise errors.get("api.assert.invalid_argument", f"{name}[{position}]", "a bulk action")
        action, meta = next(iter(header.items()))
        if action not in ("create", "index", "update", "delete") or not isinstance(meta, dict):
            raise errors.get("api.assert.invalid_argument", f"{name}[{position}]", "a bulk action")
        _id = meta.get("_id")
        if _id is not None and not isinstance(_id, str):
            raise errors.get("api.assert.invalid_type", f"{name}[{position}]._id", "string")
        body = None
        if action != "delete":
            position += 1
            if position >= len(lines) or not isinstance(lines[position], dict):
                raise errors.get("api.assert.invalid_argument", f"{name}[{position}]", "a document")
            body = lines[position]
            if action == "update":
                body = _object(body.get("doc"), f"{name}[{position}].doc")
                if _id is None:
                    raise errors.get("api.assert.missing_argument", f"{name}[{position - 1}]._id")
        elif _id is None:
            raise errors.get("api.assert.missing_argument", f"{name}[{position}]._id")
        items.append((action, _id, body))
        position += 1
    return items


async def _import(
    index: str, collection: str, items: list[tuple[str, str | None, dict[str, Any] | None]], kuid: str
) -> None:
    # Consecutive items of one action are written together, in order.
    start = 0
    while start < len(items):
        action = items[start][0]
        end = start
        while end < len(items) and items[end][0] == action:
            end += 1
        group = items[start:end]
        if action in _WRITES:
            await _db.write(index, collection, [(i, b or {}) for _, i, b in group], _WRITES[action], kuid)
        else:  # "update" or "delete": each document on its own, any failure fails the fixture
            info = {"updater": kuid, "updatedAt": now_ms()} if action == "update" else None
            operations = [{"kind": action, "_id": str(i), "body": b or {}, "info": info} for _, i, b in group]
            for answer in await _writes.apply(index, collection, operations):
                if "error" in answer or answer.get("status", 200) >= 400:
                    raise errors.get("services.storage.import_failed")
        start = end


# Security ---------------------------------------------------------------------------------------


async def reset_security(app: Application, request: KuzzleRequest) -> dict[str, int]:
    """Delete every user, profile and role, and create the base roles and profiles again."""
    async with _exclusive(app, "resetSecurity", "Kuzzle is already reseting roles, profiles and users."):
        return await _reset.reset_security()


_ON_EXISTING_USERS = ("skip", "overwrite", "fail")


async def load_securities(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Create or replace ``roles`` and ``profiles``, then create ``users`` (``onExistingUsers``)."""
    permissions = _object(request.get_body(), "body")
    on_existing = request.get_string("onExistingUsers", "fail")
    if on_existing not in _ON_EXISTING_USERS:
        raise errors.get("api.assert.unexpected_argument", "onExistingUsers", list(_ON_EXISTING_USERS))
    known = (
        None if request.get_boolean("force") else {n: list(c.actions) for n, c in app.controller.controllers.items()}
    )
    roles = _object(permissions.get("roles", {}), "body.roles")
    profiles = _object(permissions.get("profiles", {}), "body.profiles")
    users = _object(permissions.get("users", {}), "body.users")
    for name, role in roles.items():
        await _roles.create_or_replace_role(name, _object(role, f"body.roles.{name}"), known)
    for name, profile in profiles.items():
        await _roles.create_or_replace_profile(name, _object(profile, f"body.profiles.{name}"))
    existing = [kuid for kuid in users if await _user_exists(kuid)]
    if existing:
        if on_existing == "fail":
            raise errors.get("security.user.prevent_overwrite")
        if on_existing == "skip":
            users = {kuid: user for kuid, user in users.items() if kuid not in existing}
        else:
            for kuid in existing:
                await _accounts.delete_user(kuid)
    for kuid, user in users.items():
        await _accounts.create_user(kuid, _user_body(_object(user, f"body.users.{kuid}")))
    return ACKNOWLEDGE


async def _user_exists(kuid: str) -> bool:
    try:
        await _accounts.get_user(kuid)
    except errors.KuzzleError as error:
        if error.id == "security.user.not_found":
            return False
        raise
    return True


def _user_body(user: dict[str, Any]) -> dict[str, Any]:
    # Kuzzle's fixtures give users without credentials an empty "credentials" object.
    if user.get("credentials") == {}:
        return {k: v for k, v in user.items() if k != "credentials"}
    return user


# Caches and process -----------------------------------------------------------------------------


async def reset_cache(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Flush ``internalCache`` (Django's default cache) or ``memoryStorage`` (the ``ms`` controller's Redis)."""
    database = request.get_string("database")
    if database == "internalCache":
        from django.core.cache import cache

        await sync_to_async(cache.clear, thread_sensitive=False)()
    elif database == "memoryStorage":
        await app.memory_storage.flush()
    else:
        raise errors.get("services.cache.database_not_found", database)
    return ACKNOWLEDGE


def stop_process() -> None:
    """Stop this server process as a ``SIGTERM`` does: the server finishes what runs, then exits."""
    os.kill(os.getpid(), signal.SIGTERM)


async def shutdown(app: Application, request: KuzzleRequest) -> dict[str, bool]:
    """Answer, then stop the server process (its lifespan shutdown fires ``kuzzle:shutdown``)."""
    locks = _locks_of(app)
    if locks.shutting_down:
        raise errors.get("api.process.action_locked", "Kuzzle is already shutting down.")
    locks.shutting_down = True
    app.log.info("kuzzle_events: admin:shutdown called, stopping the server process")
    # Looked up at call time, so that tests can replace it.
    asyncio.get_running_loop().call_later(SHUTDOWN_DELAY, lambda: globals()["stop_process"]())
    return ACKNOWLEDGE
