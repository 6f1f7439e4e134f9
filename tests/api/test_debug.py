"""The debug controller, as Kuzzle's: nodeVersion, and the native debug protocol refused unless enabled."""

from __future__ import annotations

import platform
from typing import Any

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from tests.api.test_auth import call


async def test_node_version_is_the_runtimes(started: Application) -> None:
    answer = await call(started, controller="debug", action="nodeVersion")
    assert (answer["status"], answer["result"]) == (200, f"v{platform.python_version()}")


async def test_the_native_debug_protocol_is_refused_unless_enabled(make_app: Any) -> None:
    app = make_app()
    await app.start()
    for action in ("enable", "disable", "post", "addListener", "removeListener"):
        answer = await call(app, controller="debug", action=action, body={"method": "Debugger.enable", "event": "e"})
        assert (answer["status"], answer["error"]["id"]) == (412, "core.debugger.native_debug_protocol_usage_denied")
        assert answer["error"]["message"] == "Usage of the native debug protocol is not allowed"


async def test_with_the_protocol_enabled_there_is_no_debugger_to_drive(make_app: Any) -> None:
    app = make_app(DEBUG_NATIVE_PROTOCOL=True)
    await app.start()
    answer = await call(app, controller="debug", action="enable")
    assert (answer["status"], answer["error"]["id"]) == (412, "core.debugger.not_enabled")
    missing = await call(app, controller="debug", action="post", body={})
    assert missing["error"]["id"] == "api.assert.missing_argument"
    answer = await call(app, controller="debug", action="addListener", body={"event": "Debugger.paused"})
    assert answer["error"]["id"] == "core.debugger.not_enabled"
    data = {"controller": "debug", "action": "removeListener", "body": {"event": "e"}}
    over_http = (await app.funnel.execute(KuzzleRequest(data, connection=Connection(protocol="http")))).to_dict()
    assert over_http["error"]["id"] == "api.assert.unsupported_protocol"
