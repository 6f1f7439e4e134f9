"""The greeter plugin's own tests, written with kuzzle_events' test kit (kuzzle_events.testing)."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events.testing import EventLog, KuzzleClient, wait_for_hooks

# The fixtures (kuzzle_app, kuzzle_client, captured_events...) come from kuzzle_events' pytest
# plugin, which pytest loads by itself where kuzzle-events is installed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kuzzle_settings() -> dict[str, Any]:
    return {"PLUGINS": {"greeter": {"greeting": "Hi"}}}  # its config, by its entry-point name


async def test_say_hello_over_http_and_websocket(kuzzle_client: KuzzleClient) -> None:
    status, _, body = await kuzzle_client.http("GET", "/_plugin/greeter/hello/Bo")
    assert status == 200 and b'"message":"Hi, Bo"' in body
    request = {"controller": "greeter/farewell", "action": "sayGoodbye", "name": "Cy"}
    envelope = await kuzzle_client.query(request, via="websocket")
    assert envelope["result"] == {"message": "Goodbye, Cy"}


async def test_a_greeting_fires_the_plugins_event(kuzzle_client: KuzzleClient, captured_events: EventLog) -> None:
    envelope = await kuzzle_client.query({"controller": "greeter/greeting", "action": "sayHello", "name": "Ada"})
    assert envelope["result"] == {"message": "Hi, Ada", "plugin": "greeter"}
    assert captured_events.payloads("plugin-greeter:*") == ["Ada"]
    assert captured_events.names("greeter/greeting:*") == ["greeter/greeting:beforeSayHello", "greeter/greeting:afterSayHello"]
    plugin = kuzzle_client.app.plugin.loaded["greeter"].instance
    await wait_for_hooks(kuzzle_client.app)
    assert plugin.greeted == ["Ada"]
