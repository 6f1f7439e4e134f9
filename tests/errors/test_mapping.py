"""One translation of exceptions: what a client receives when a handler raises Django's own."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from django.http import Http404

from kuzzle_events import Application, KuzzleRequest, errors
from kuzzle_events.core.request import Connection

SQL = "SELECT secret FROM kuzzle_events_user WHERE password = 'hunter2'"


def duplicate_user() -> None:
    # A real IntegrityError, whose text names the table and column (and, on PostgreSQL, the value).
    User.objects.create(username="twice")
    User.objects.create(username="twice")


def raising(error: BaseException) -> Callable[[], None]:
    def raise_it() -> None:
        raise error

    return raise_it


CASES: dict[str, tuple[Callable[[], None], int, str]] = {
    "Http404": (raising(Http404("No Book matches the given query.")), 404, "app.errors.not_found"),
    "PermissionDenied": (raising(PermissionDenied("Only editors may do that.")), 403, "security.rights.forbidden"),
    "ValidationError": (raising(ValidationError({"price": ["Must be positive."]})), 400, "api.assert.invalid_argument"),
    "IntegrityError": (duplicate_user, 400, "services.storage.unexpected_bad_request"),
    "DataError": (raising(DataError(f"invalid input value in {SQL}")), 400, "services.storage.unexpected_bad_request"),
    "OperationalError": (raising(OperationalError(f"no such table: {SQL}")), 500, "core.fatal.service_unavailable"),
    "InterfaceError": (raising(InterfaceError(f"connection already closed: {SQL}")), 500, "core.fatal.service_unavailable"),
    "ProgrammingError": (raising(ProgrammingError(f"syntax error at {SQL}")), 500, "services.storage.unexpected_error"),
    "DatabaseError": (raising(DatabaseError(SQL)), 500, "services.storage.unexpected_error"),
    "KeyError": (raising(KeyError("price")), 500, "plugin.runtime.unexpected_error"),
}


async def envelope(app: Application, handler: Callable[[], None], *, listened: bool) -> dict[str, Any]:
    def action(request: KuzzleRequest) -> None:  # sync: run in Django's thread, as ORM code is
        handler()

    app.controller.register("shop", {"actions": {"buy": {"handler": action}}})
    if listened:  # the full life cycle, not the funnel's shortcut for requests nobody listens to

        async def pipe(request: KuzzleRequest) -> KuzzleRequest:
            return request

        app.pipe.register("shop:beforeBuy", pipe)
    await app.start()
    request = KuzzleRequest({"controller": "shop", "action": "buy"}, connection=Connection(protocol="internal"))
    response = await app.funnel.execute(request)
    await app.events.drain_hooks()
    return response.to_dict()


@pytest.mark.parametrize("listened", [False, True], ids=["quiet", "listened"])
@pytest.mark.parametrize("name", CASES)
async def test_a_handler_raising_it_gets_the_kuzzle_envelope(
    kapp: Application, name: str, listened: bool, caplog: pytest.LogCaptureFixture
) -> None:
    handler, status, error_id = CASES[name]
    caplog.set_level(logging.ERROR, logger="kuzzle_events")
    data = await envelope(kapp, handler, listened=listened)
    error = data["error"]
    assert (data["status"], error["status"], error["id"]) == (status, status, error_id)
    assert error["code"] == errors.get(error_id).code != 0
    for secret in ("SELECT", "hunter2", "kuzzle_events_user", "auth_user", "twice"):
        assert secret not in error["message"]


async def test_messages_say_what_went_wrong(kapp: Application) -> None:
    assert errors.from_exception(Http404("No Book matches.")).message == "No Book matches."
    assert errors.from_exception(PermissionDenied("Editors only.")).message == "Editors only."
    invalid = errors.from_exception(ValidationError({"price": ["Must be positive."], "name": ["Required."]}))
    assert invalid.message == 'Invalid argument "name, price". Expected: name: Required.; price: Must be positive.'
    assert invalid.props == ["name", "price"]
    assert errors.from_exception(ValidationError(["Too short.", "Too common."])).message == "Too short. Too common."
    unreachable = errors.from_exception(OperationalError(SQL))
    assert unreachable.message == "Service unavailable: database (OperationalError)."


def test_database_errors_are_logged_with_their_text_and_kept_as_the_cause(caplog: pytest.LogCaptureFixture) -> None:
    original = IntegrityError(SQL)
    with caplog.at_level(logging.ERROR, logger="kuzzle_events"):
        mapped = errors.from_exception(original)
    assert mapped.__cause__ is original
    assert SQL in caplog.text


def test_kuzzle_errors_are_kept_and_others_keep_their_cause() -> None:
    forbidden = errors.ForbiddenError("x")
    assert errors.from_exception(forbidden) is forbidden
    original = KeyError("k")
    wrapped = errors.from_exception(original)
    assert (wrapped.id, wrapped.status, wrapped.__cause__) == ("plugin.runtime.unexpected_error", 500, original)


WITHOUT_DJANGO = """
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "django":
            raise ImportError(f"{name} is not importable here")
        return None

sys.meta_path.insert(0, Refuse())
from kuzzle_events import errors
print(errors.from_exception(LookupError("x")).id, "django" in sys.modules)
"""


def test_it_works_without_django_and_does_not_import_it() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DJANGO], capture_output=True, text=True, cwd=root, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["plugin.runtime.unexpected_error", "False"]
