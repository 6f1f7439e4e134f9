"""Fixtures: each test gets its own application object."""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Callable

import pytest

from kuzzle_events import Application


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
    """The fresh application, started; its hooks are drained at the end of the test."""
    await kapp.start()
    yield kapp
    await kapp.events.drain_hooks()


@pytest.fixture
def warnings_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="kuzzle_events")
    return caplog
