"""Fixtures: each test gets its own application object."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kuzzle_events import Application


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every application reads its rights from the database when it starts, and the core reaches
    # the database from Django's sync thread: tests get a real, committed database, emptied after.
    for item in items:
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(autouse=True)
def fresh_security(settings: Any) -> Any:
    """Each test starts with no cached rights nor login counts, and cheap password hashing."""
    from kuzzle_events import app

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    app.security.invalidate()
    yield
    app.security.invalidate()


@pytest.fixture(autouse=True)
def fresh_switches() -> Any:
    """Each test starts with every listener of the process's application switched on."""
    from kuzzle_events import app

    yield
    app.switches.version, app.switches.records = None, {}
    app.events.switch_off(())


@pytest.fixture
def make_app() -> Callable[..., Application]:
    """Build a fresh, isolated application with settings overrides."""

    def make(**config: Any) -> Application:
        return Application(config=config)

    return make


@pytest.fixture
def kapp(make_app: Callable[..., Application]) -> Application:
    """A fresh application, not started: register on it, then ``await kapp.start()``."""
    return make_app()


@pytest.fixture
async def started(kapp: Application) -> AsyncIterator[Application]:
    """The fresh application, started; its hooks and rights reload are awaited at the end of the test."""
    await kapp.start()
    yield kapp
    await kapp.events.drain_hooks()
    # A background reload of the rights still reading the database would lock it for the flush.
    await kapp.security.settle()


@pytest.fixture
def warnings_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="kuzzle_events")
    return caplog
