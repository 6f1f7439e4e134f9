"""server:getLastStats, getStats and getAllStats: frames of this process's request counters."""

from __future__ import annotations

from typing import Any
from unittest import mock

from kuzzle_events import Application
from kuzzle_events.api import statistics
from tests.api.test_auth import call


async def stats(app: Application, action: str, **args: Any) -> dict[str, Any]:
    answer = await call(app, controller="server", action=action, **args)
    assert answer["status"] == 200, answer["error"]
    return answer["result"]


async def test_frames_count_the_requests_between_them(started: Application) -> None:
    clock = [1_000_000_000_000]
    with mock.patch.object(statistics, "_now", lambda: clock[0]):
        first = await stats(started, "getLastStats")  # the first frame starts now
        assert set(first) == {"completedRequests", "connections", "failedRequests", "ongoingRequests", "timestamp"}
        assert first["ongoingRequests"] == {"all": 1}  # this very request
        for _ in range(3):
            await call(started, controller="server", action="now")
        await call(started, controller="document", action="get", index="nope", collection="nope", _id="x")
        clock[0] += statistics.INTERVAL_MS
        frame = await stats(started, "getLastStats")
        # Since the first: its own getLastStats, 3 server:now, then this one is running.
        assert frame["completedRequests"] == {"all": 4} and frame["failedRequests"] == {"all": 1}
        assert frame["timestamp"] == clock[0]
        everything = await stats(started, "getAllStats")
        assert everything["total"] == 1 and everything["hits"][0]["completedRequests"] == {"all": 4}
        clock[0] += statistics.INTERVAL_MS
        later = await stats(started, "getStats", startTime=clock[0] - 1)
        assert [h["timestamp"] for h in later["hits"]] == [clock[0]]
        assert later["hits"][0]["completedRequests"] == {"all": 2}  # getLastStats and getAllStats
        assert (await stats(started, "getStats", startTime=clock[0] + 1)) == {"hits": [], "total": 0}
        assert (await stats(started, "getStats", stopTime="2001-09-09T01:46:40Z"))["total"] == 0
        refused = await call(started, controller="server", action="getStats", startTime="soon")
        assert refused["error"]["id"] == "api.assert.invalid_argument"
        clock[0] += statistics.TTL_MS + statistics.INTERVAL_MS
        assert [h["timestamp"] for h in (await stats(started, "getAllStats"))["hits"]] == [clock[0]]
