"""KUZZLE_DEBUG namespaces."""

from __future__ import annotations

import logging

from kuzzle_events.core.engine import EventEngine
from kuzzle_events.core.tracing import enabled_namespaces


def test_namespace_matching() -> None:
    assert enabled_namespaces("kuzzle:events", "kuzzle:events")
    assert enabled_namespaces("kuzzle:*", "kuzzle:http")
    assert enabled_namespaces("kuzzle:http,kuzzle:events", "kuzzle:events")
    assert not enabled_namespaces("kuzzle:http", "kuzzle:events")
    assert not enabled_namespaces("kuzzle:*,-kuzzle:http", "kuzzle:http")
    assert not enabled_namespaces("", "kuzzle:events")


async def test_trigger_traced_when_on(make_app, caplog) -> None:
    app = make_app(DEBUG="kuzzle:events")
    await app.start()
    with caplog.at_level(logging.DEBUG, logger="kuzzle_events.debug"):
        await app.sdk.query({"controller": "server", "action": "now"})
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("kuzzle_events.debug")]
    before = [m for m in messages if 'Triggering pipe "server:beforeNow"' in m]
    assert len(before) == 1
    assert before[0].startswith('kuzzle:events Triggering pipe "server:beforeNow" with payload: [KuzzleRequest(')
    assert before[0].endswith("ms")
    assert any('Triggering pipe "server:afterNow"' in m for m in messages)


async def test_tracing_costs_nothing_when_off(make_app, caplog) -> None:
    app = make_app()
    assert app.events.trigger.__func__ is EventEngine.trigger
    await app.start()
    with caplog.at_level(logging.DEBUG, logger="kuzzle_events.debug"):
        await app.sdk.query({"controller": "server", "action": "now"})
    assert not [r for r in caplog.records if r.name.startswith("kuzzle_events.debug")]
