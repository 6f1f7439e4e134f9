"""``app.switches``: read at start, set for every process, watched while the process is served."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.models import ListenerSwitch
from kuzzle_events.protocols.http.asgi import KuzzleASGI
from kuzzle_events.switches import UnknownListener, store


async def stamp(request: Any) -> Any:
    request.result["stamped"] = True
    return request


STAMP = ("pipe", "server:afterNow", f"{__name__}.stamp")


async def now(app: Application) -> dict[str, Any]:
    return (await app.sdk.query({"controller": "server", "action": "now"}))["result"]


async def test_a_switch_stored_before_start_is_applied_at_start(kapp: Application) -> None:
    kapp.pipe.register("server:afterNow", stamp)
    await sync_to_async(store.save)(*STAMP, False, "someone")
    await kapp.start()
    assert "stamped" not in await now(kapp)
    assert kapp.switches.record(*STAMP)["changed_by"] == "someone"  # type: ignore[index]


async def test_set_switches_off_and_on_and_records_who(started: Application) -> None:
    started_app = started
    # (Registered after start: dynamic pipes are allowed; the switch names it all the same.)
    started_app.pipe.register("server:afterNow", stamp)
    assert (await now(started_app))["stamped"] is True
    record = await started_app.switches.set(*STAMP, enabled=False, changed_by="alice")
    assert record["changed_by"] == "alice" and record["enabled"] is False
    assert "stamped" not in await now(started_app)
    await started_app.switches.set(*STAMP, enabled=True, changed_by="bob")
    assert (await now(started_app))["stamped"] is True
    assert started_app.switches.record(*STAMP)["changed_by"] == "bob"  # type: ignore[index]


async def test_set_refuses_a_listener_that_is_not_registered(started: Application) -> None:
    with pytest.raises(UnknownListener, match="No pipe"):
        await started.switches.set(*STAMP, enabled=False, changed_by="alice")
    assert not await sync_to_async(ListenerSwitch.objects.exists)()


async def lifespan(app: Application, stopped: asyncio.Event, during: Any) -> None:
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await messages.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            await during()
            await messages.put({"type": "lifespan.shutdown"})
        elif message["type"] == "lifespan.shutdown.complete":
            stopped.set()

    await KuzzleASGI(app=app)({"type": "lifespan"}, messages.get, send)


async def test_a_served_process_follows_switches_stored_by_another(make_app: Any) -> None:
    app = make_app(SWITCHES_POLL_INTERVAL=0.05)
    app.pipe.register("server:afterNow", stamp)
    stopped = asyncio.Event()

    async def during() -> None:
        assert (await now(app))["stamped"] is True
        # Another process's write: straight to the database, this application not told.
        await sync_to_async(store.save)(*STAMP, False, "elsewhere")
        for _ in range(400):
            if "stamped" not in await now(app):
                break
            await asyncio.sleep(0.05)
        assert "stamped" not in await now(app)

    await lifespan(app, stopped, during)
    assert stopped.is_set() and app.switches._watcher is None


async def test_no_watcher_when_the_interval_is_zero(make_app: Any) -> None:
    app = make_app(SWITCHES_POLL_INTERVAL=0)
    stopped = asyncio.Event()

    async def during() -> None:
        assert app.started and app.switches._watcher is None

    await lifespan(app, stopped, during)
    assert stopped.is_set()


async def test_a_process_with_traffic_follows_switches_without_a_watcher(make_app: Any) -> None:
    # No lifespan (WSGI, daphne): the periodic check of the rights reads the switches too.
    app = make_app(SECURITY_CACHE_TTL=0.05)
    app.pipe.register("server:afterNow", stamp)
    await app.start()
    assert app.switches._watcher is None

    async def client_now() -> dict[str, Any]:
        request = KuzzleRequest({"controller": "server", "action": "now"}, connection=Connection(protocol="websocket"))
        return (await app.funnel.execute(request)).to_dict()["result"]

    assert (await client_now())["stamped"] is True
    await sync_to_async(store.save)(*STAMP, False, "elsewhere")
    for _ in range(400):
        if "stamped" not in await client_now():
            break
        await asyncio.sleep(0.05)
    assert "stamped" not in await client_now()
    await app.shutdown()
