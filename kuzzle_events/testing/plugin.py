"""The pytest plugin of :mod:`kuzzle_events.testing`: fixtures for tests of extensions.

- ``kuzzle_settings``: the settings of ``kuzzle_app`` (override it: ``{"PIPE_WARN_TIME": 50}``);
- ``kuzzle_setup``: a function ``setup(app)`` run before ``kuzzle_app`` starts (override it to
  register your controllers, pipes and hooks; by default it does nothing);
- ``kuzzle_app``: an isolated, started application; its hooks awaited and it shut down after;
- ``captured_events``: an :class:`~kuzzle_events.testing.EventLog` of every event ``kuzzle_app``
  fires during the test;
- ``kuzzle_client``: a :class:`~kuzzle_events.testing.KuzzleClient` of ``kuzzle_app``.

Actions that use the database need it as pytest-django gives it to async code:
``@pytest.mark.django_db(transaction=True)``. The fixtures are async: run them with
pytest-asyncio (``asyncio_mode = auto``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.testing.client import KuzzleClient
    from kuzzle_events.testing.events import EventLog

try:
    import pytest_asyncio

    _async_fixture: Callable[..., Any] = pytest_asyncio.fixture
except ImportError:  # the fixtures need pytest-asyncio; without it, they are plain fixtures
    _async_fixture = pytest.fixture


@pytest.fixture
def kuzzle_settings() -> dict[str, Any]:
    """The settings of ``kuzzle_app`` over ``KUZZLE_EVENTS`` (none: override this fixture)."""
    return {}


@pytest.fixture
def kuzzle_setup() -> Callable[[Application], Any] | None:
    """What registers controllers, pipes and hooks on ``kuzzle_app`` before it starts."""
    return None


@_async_fixture
async def kuzzle_app(
    kuzzle_settings: dict[str, Any], kuzzle_setup: Callable[[Application], Any] | None
) -> AsyncIterator[Application]:
    """An isolated application, started; hooks awaited and shut down after the test."""
    from kuzzle_events.testing.apps import started_app

    async with started_app(kuzzle_setup, **kuzzle_settings) as app:
        yield app


@pytest.fixture
def captured_events(kuzzle_app: Application) -> Iterator[EventLog]:
    """Every event ``kuzzle_app`` fires during the test."""
    from kuzzle_events.testing.events import capture_events

    with capture_events(kuzzle_app) as log:
        yield log


@pytest.fixture
def kuzzle_client(kuzzle_app: Application) -> KuzzleClient:
    """Requests to ``kuzzle_app`` over HTTP or WebSocket, through the real adapters."""
    from kuzzle_events.testing.client import KuzzleClient

    return KuzzleClient(kuzzle_app)
