"""The logic of the benchmark scripts that does not depend on timing: target verdicts, memory per
connection, /proc readings, and that every peer answers the same envelope. No time is asserted."""

from __future__ import annotations

import os
import socket
import uuid

import httpx
import pytest

from bench import peers
from bench.common import cpu_us_per_request
from bench.envelope import now_envelope
from bench.idle import complete, per_connection
from bench.idleclient import good_answer
from bench.procfs import process_memory, socket_count
from kuzzle_events import Application

pytestmark = pytest.mark.django_db(transaction=False)


def test_cpu_per_request_is_the_inverse_of_requests_per_cpu_second() -> None:
    assert cpu_us_per_request({"per_cpu": 20_000.0}) == 50.0
    assert cpu_us_per_request({"per_cpu": None}) is None


def _us(ours: float, piped: float, starlette: float = 100.0, feathers: float = 80.0) -> dict[str, float | None]:
    return {peers.OURS: ours, peers.piped_name(10): piped, peers.STARLETTE: starlette, peers.FEATHERS_NAME: feathers}


def test_http_targets_on_cpu_per_request() -> None:
    met = peers.http_targets(_us(ours=79.0, piped=140.0), pipes=10)
    assert [t.met for t in met] == [True, True, True]  # 0.79x, below 80, 1.4x exactly
    missed = peers.http_targets(_us(ours=126.0, piped=141.0, feathers=200.0), pipes=10)
    assert [t.met for t in missed] == [False, True, False]  # 1.26x, below 200, 1.41x


def test_below_feathers_is_strict_and_an_unmeasured_value_is_not_met() -> None:
    equal = peers.http_targets(_us(ours=80.0, piped=100.0), pipes=10)
    assert equal[1].met is False
    unmeasured = peers.http_targets({peers.OURS: None, peers.STARLETTE: 100.0}, pipes=10)
    assert [t.met for t in unmeasured] == [False, False, False]


def test_the_pipes_target_applies_to_ten_pipes_only() -> None:
    targets = peers.http_targets({**_us(ours=50.0, piped=500.0), peers.piped_name(3): 500.0}, pipes=3)
    assert [t.text for t in targets] == [
        f"{peers.OURS} CPU/request vs {peers.STARLETTE}",
        f"{peers.OURS} CPU/request vs {peers.FEATHERS_NAME} (below)",
    ]


def test_memory_per_connection_and_completeness() -> None:
    kib = per_connection({"rss": 1000, "pss": 900}, {"rss": 3000, "pss": 2400}, 100)
    assert kib == {"rss": 20.0, "pss": 15.0}
    assert per_connection({"rss": 1}, {"rss": 2}, 0) == {}
    result = {"opened": {"opened": 100}, "sockets": 100, "checked": {"answered": 100}}
    assert complete(result, 100)
    assert not complete({**result, "sockets": 99}, 100)  # the server does not hold them all
    assert not complete({**result, "checked": {"answered": 99}}, 100)


def test_idle_client_accepts_only_the_answer_to_its_request() -> None:
    answer = now_envelope("idle-7", room=True)
    assert good_answer(answer, "idle-7")
    assert not good_answer(answer, "idle-8")
    assert not good_answer({**answer, "status": 500}, "idle-7")
    assert not good_answer("ConnectionClosed()", "idle-7")


def test_proc_readings_of_this_process() -> None:
    memory = process_memory(os.getpid())
    assert memory["rss"] > 0 and memory["pss"] > 0
    before = socket_count(os.getpid())
    with socket.socket(), socket.socket():
        assert socket_count(os.getpid()) == before + 2


@pytest.mark.parametrize(
    "target",
    [
        "bench.peer_apps:raw_asgi",
        "bench.peer_apps:raw_asgi_kuzzle_headers",
        "bench.fastapi_app:app",
        "bench.bare_starlette:app",
    ],
)
async def test_every_peer_answers_the_envelope_of_server_now(target: str) -> None:
    module, name = target.split(":")
    app = getattr(__import__(module, fromlist=[name]), name)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://peer") as client:
        response = await client.get("/_now")
        missing = await client.get("/other")
    body = response.json()
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert list(body) == list(now_envelope("x")) and isinstance(body["result"]["now"], int)
    assert uuid.UUID(body["requestId"]).version == 4
    assert missing.status_code == 404


async def test_the_plain_starlette_peer_answers_now_alone() -> None:
    from bench.peer_apps import starlette_plain

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=starlette_plain), base_url="http://peer") as client:
        body = (await client.get("/_now")).json()
    assert list(body) == ["now"] and isinstance(body["now"], int)


async def test_the_raw_peer_with_kuzzles_headers_sends_the_lines_kuzzle_events_sends(kapp) -> None:
    from bench.peer_apps import raw_asgi_kuzzle_headers
    from kuzzle_events.asgi import KuzzleASGI

    names = []
    for app in (raw_asgi_kuzzle_headers, KuzzleASGI(app=kapp)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://peer") as client:
            names.append([name for name, _ in (await client.get("/_now")).headers.raw])
    assert names[0] == names[1]


async def test_the_fanout_baseline_notifies_every_subscriber_with_our_notification_keys() -> None:
    import asyncio
    import json

    from bench import bare_fanout
    from kuzzle_events.realtime.rooms import document_notification

    async def connect(frames: list[dict[str, object]]) -> list[dict[str, object]]:
        inbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        inbox.put_nowait({"type": "websocket.connect"})
        for frame in frames:
            inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})
        sent: list[dict[str, object]] = []

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        task = asyncio.ensure_future(bare_fanout.asgi_app({"type": "websocket"}, inbox.get, send))
        await asyncio.sleep(0)
        connections.append((task, inbox))
        return sent

    connections: list[tuple[asyncio.Future[None], asyncio.Queue[dict[str, object]]]] = []
    subscribe = {"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "requestId": "s"}
    seen = [await connect([subscribe]) for _ in range(3)]
    publisher = await connect([{"controller": "realtime", "action": "publish", "index": "i", "collection": "c",
                                "body": {"price": 1}, "requestId": "p"}])  # fmt: skip
    for _, inbox in connections:
        inbox.put_nowait({"type": "websocket.disconnect"})
    await asyncio.gather(*(task for task, _ in connections))
    ours = json.loads(document_notification(
        channel="r", index="i", collection="c", controller="realtime", action="publish", event="publish", scope="in",
        document={"_id": None, "_source": {"price": 1}}, volatile={}, request_id="p", node="knode-1",
    ))  # fmt: skip
    for sent in seen:
        texts = [json.loads(m["text"]) for m in sent if m["type"] == "websocket.send"]  # type: ignore[arg-type]
        assert texts[0]["status"] == 200 and texts[0]["result"]["channel"] == bare_fanout.CHANNEL
        assert texts[1].keys() == ours.keys() and texts[1]["result"] == ours["result"]
    assert [json.loads(m["text"])["result"] for m in publisher if m["type"] == "websocket.send"] == [{"published": True}]  # type: ignore[arg-type]
    assert not bare_fanout._subscribers  # each left the set when it disconnected


async def test_bench_pipes_are_spread_over_the_life_cycle_and_run(kapp: Application) -> None:
    from bench.pipes.apps import DEFAULT_EVENTS, register_pipes

    placed = register_pipes(kapp, 10, DEFAULT_EVENTS)
    assert sum(placed.values()) == 10 and list(placed) == list(DEFAULT_EVENTS)
    await kapp.start()
    fired: list[str] = []
    kapp.events.observe(lambda event, payload: fired.append(event))
    assert "now" in (await kapp.sdk.query({"controller": "server", "action": "now"}))["result"]
    assert set(DEFAULT_EVENTS) <= set(fired)


@pytest.mark.django_db(transaction=True)
async def test_instruction_counts_run_the_loop_they_name() -> None:
    from bench.sdk_instructions import run

    now = {"controller": "server", "action": "now"}
    # 200 warm-up calls, then the counted ones: every pipe runs once per call of the measured loop.
    assert await run(5, False, now, pipes=2, trigger="custom:counted") == {"custom:counted": 2 * 205}
    assert await run(5, True, now, pipes=2, trigger="custom:counted") == {"custom:counted": 2 * 200}  # baseline: no call
    # Without --trigger, one pipe on each event of server:now's life cycle, each run once a query.
    events = ["request:beforeExecution", "request:onAuthorized", "request:onExecution", "server:beforeNow",
              "server:afterNow", "request:onSuccess", "request:afterExecution"]  # fmt: skip
    assert await run(5, False, now, pipes=7) == dict.fromkeys(events, 205)
