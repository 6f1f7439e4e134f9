"""The WebSocket consumer, driven with Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import contextvars
import json
from typing import Any
from unittest import mock

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application, KuzzleRequest, inline
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer


@pytest.fixture
def ws_app(kapp: Application) -> Application:
    async def wait(request: KuzzleRequest) -> str:
        await asyncio.sleep(request.get_number("seconds"))
        return request.get_string("tag")

    async def raw(request: KuzzleRequest) -> str:
        request.response.raw = True
        return "raw text"

    def count_users(request: KuzzleRequest) -> int:
        from django.contrib.auth.models import User

        return User.objects.count()

    kapp.controller.register(
        "probe",
        {"actions": {"wait": {"handler": wait}, "raw": {"handler": raw}, "countUsers": {"handler": count_users}}},
    )
    return kapp


async def connect(app: Application, path: str = "/") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=app), path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_ping_and_request_with_room(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_to(text_data='{"p":1}')
    assert await ws.receive_from() == '{"p":2}'
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "r1", "volatile": {"v": 1}})
    envelope = await ws.receive_json_from()
    assert envelope["room"] == envelope["requestId"] == "r1"
    assert envelope["status"] == 200 and envelope["volatile"] == {"v": 1}
    assert "now" in envelope["result"]
    await ws.disconnect()


async def test_requests_in_flight_answered_when_done(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "probe", "action": "wait", "seconds": 0.2, "tag": "slow", "requestId": "a"})
    await ws.send_json_to({"controller": "probe", "action": "wait", "seconds": 0, "tag": "fast", "requestId": "b"})
    first = await ws.receive_json_from(timeout=2)
    second = await ws.receive_json_from(timeout=2)
    assert [first["room"], second["room"]] == ["b", "a"]
    assert [first["result"], second["result"]] == ["fast", "slow"]
    await ws.disconnect()


UNPAIRED = [
    '{"controller":"server","action":"now","requestId":"\\ud800"}',
    '{"controller":"server","action":"now","deep":{"k":["x\\udc00y"]}}',
]


@pytest.mark.parametrize("frame", ["not json", "[1, 2]", '"text"', "{", *UNPAIRED, '{"a":' + "[" * 100_000])
async def test_bad_frames_get_an_error_and_the_connection_stays(ws_app: Application, frame: str) -> None:
    ws = await connect(ws_app)
    await ws.send_to(text_data=frame)
    envelope = await ws.receive_json_from()
    assert envelope["status"] == 400
    assert envelope["error"]["id"] == "network.websocket.unexpected_error"
    assert envelope["room"] == envelope["requestId"]
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "after"})
    assert (await ws.receive_json_from())["room"] == "after"
    await ws.disconnect()


async def test_escaped_surrogate_pairs_are_text(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_to(text_data='{"controller":"server","action":"now","requestId":"\\ud83d\\ude00"}')
    assert (await ws.receive_json_from())["room"] == "\U0001f600"
    await ws.disconnect()


async def test_errors_and_raw_results_are_enveloped(ws_app: Application) -> None:
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "nope", "action": "x", "requestId": "e"})
    envelope = await ws.receive_json_from()
    assert (envelope["status"], envelope["error"]["id"], envelope["room"]) == (
        404,
        "api.process.controller_not_found",
        "e",
    )
    await ws.send_json_to({"controller": "probe", "action": "raw", "requestId": "r"})
    envelope = await ws.receive_json_from()
    assert (envelope["result"], envelope["room"]) == ("raw text", "r")
    await ws.disconnect()


async def test_connection_events(kapp: Application) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    kapp.hook.register("connection:new", inline(lambda c: seen.append(("new", c))))
    kapp.hook.register("connection:remove", inline(lambda c: seen.append(("remove", c))))
    ws = await connect(kapp)
    await ws.disconnect()
    await kapp.events.drain_hooks()
    assert [kind for kind, _ in seen] == ["new", "remove"]
    new = seen[0][1]
    assert new["protocol"] == "websocket" and new["id"] == seen[1][1]["id"]
    assert set(new) == {"id", "protocol", "ips", "headers"}


async def test_parsing_pipes(kapp: Application) -> None:
    async def before(payload: dict[str, Any]) -> dict[str, Any]:
        payload["payload"] = payload["payload"].replace("nwo", "now")
        return payload

    async def after(payload: dict[str, Any]) -> dict[str, Any]:
        payload["payload"]["requestId"] = "rewritten"
        return payload

    ws = await connect(kapp)
    await ws.send_to(text_data=json.dumps({"controller": "server", "action": "nwo", "requestId": "first"}))
    envelope = await ws.receive_json_from()
    assert (envelope["room"], envelope["status"]) == ("first", 404)
    # Registered while the connection is open: they apply from its next frame on.
    ids = [
        kapp.pipe.register("protocol:websocket:beforeParsingPayload", before),
        kapp.pipe.register("protocol:websocket:afterParsingPayload", after),
    ]
    await ws.send_to(text_data=json.dumps({"controller": "server", "action": "nwo"}))
    envelope = await ws.receive_json_from()
    assert (envelope["action"], envelope["room"], envelope["status"]) == ("now", "rewritten", 200)
    for pipe_id in ids:
        kapp.pipe.unregister(pipe_id)
    await ws.send_to(text_data=json.dumps({"controller": "server", "action": "now", "requestId": "last"}))
    assert (await ws.receive_json_from())["room"] == "last"
    await ws.disconnect()


async def test_no_database_hop_per_message(ws_app: Application) -> None:
    with (
        mock.patch("channels.consumer.aclose_old_connections") as per_message,
        mock.patch("channels.generic.websocket.aclose_old_connections") as on_close,
    ):
        ws = await connect(ws_app)
        for i in range(5):
            await ws.send_json_to({"controller": "server", "action": "now", "requestId": str(i)})
            await ws.receive_json_from()
        await ws.disconnect()
    assert per_message.call_count == 0 and on_close.call_count == 0


@pytest.mark.django_db(transaction=True)
async def test_orm_action_over_websocket(ws_app: Application) -> None:
    from django.contrib.auth.models import User

    await User.objects.acreate(username="someone")
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "probe", "action": "countUsers", "requestId": "db"})
    assert (await ws.receive_json_from(timeout=3))["result"] == 1
    await ws.disconnect()


async def test_other_paths_are_refused(ws_app: Application) -> None:
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ws_app), "/elsewhere")
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(("asked", "answered"), [(None, None), (["null"], "null"), (["kuzzle", "other"], "kuzzle")])
async def test_first_subprotocol_asked_for_is_accepted(ws_app: Application, asked: Any, answered: Any) -> None:
    # The SDK with a global WebSocket (browsers, Node.js >= 22) asks for the subprotocol "null" and
    # fails the handshake unless it is answered, as Kuzzle's server (`ws`) does.
    communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ws_app), "/", subprotocols=asked)
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == answered
    await communicator.send_to(text_data='{"p":1}')
    assert await communicator.receive_from() == '{"p":2}'
    await communicator.disconnect()


# The consumer's own loop: one task per waiting request, none for the others --------------------

TASKS: list[asyncio.Task[Any]] = []
VAR: contextvars.ContextVar[str] = contextvars.ContextVar("websocket_probe", default="unset")


@pytest.fixture
def loop_app(kapp: Application) -> Application:
    TASKS.clear()
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def task(request: KuzzleRequest) -> int:
        TASKS.append(asyncio.current_task())  # type: ignore[arg-type]
        await asyncio.sleep(request.get_number("seconds", 0))
        TASKS.append(asyncio.current_task())  # type: ignore[arg-type]
        return len(TASKS)

    async def never_waits(request: KuzzleRequest) -> int:
        TASKS.append(asyncio.current_task())  # type: ignore[arg-type]
        return len(TASKS)

    async def timed_out(request: KuzzleRequest) -> str:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(5)
        return "not reached"

    async def context(request: KuzzleRequest) -> str:
        before = VAR.get()
        VAR.set(request.get_string("value"))
        return before

    async def hang(request: KuzzleRequest) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    kapp.controller.register(
        "loop",
        {
            "actions": {
                name: {"handler": fn}
                for name, fn in [
                    ("task", task),
                    ("neverWaits", never_waits),
                    ("timedOut", timed_out),
                    ("context", context),
                    ("hang", hang),
                ]
            }
        },
    )
    kapp.hang_started, kapp.hang_cancelled = started, cancelled  # type: ignore[attr-defined]
    return kapp


async def test_requests_that_never_wait_run_in_the_reader_without_a_task_of_their_own(loop_app: Application) -> None:
    ws = await connect(loop_app)
    for request_id in ("a", "b"):
        await ws.send_json_to({"controller": "loop", "action": "neverWaits", "requestId": request_id})
        assert (await ws.receive_json_from())["room"] == request_id
    assert TASKS[0] is TASKS[1]
    await ws.disconnect()


async def test_a_request_that_waits_keeps_its_task_and_a_new_reader_takes_over(loop_app: Application) -> None:
    ws = await connect(loop_app)
    await ws.send_json_to({"controller": "loop", "action": "neverWaits", "requestId": "first"})
    await ws.receive_json_from()
    await ws.send_json_to({"controller": "loop", "action": "task", "seconds": 0.2, "requestId": "slow"})
    await ws.send_json_to({"controller": "loop", "action": "neverWaits", "requestId": "fast"})
    answers = [await ws.receive_json_from(timeout=2) for _ in range(2)]
    assert [a["room"] for a in answers] == ["fast", "slow"]
    reader, slow_before, fast, slow_after = TASKS
    # The waiting request started in the reader and finished in the same task; the next request
    # ran meanwhile in the new reader.
    assert slow_before is reader and slow_after is reader and fast is not reader
    await ws.disconnect()


async def test_a_timeout_inside_a_request_fails_that_request_only(loop_app: Application) -> None:
    ws = await connect(loop_app)
    await ws.send_json_to({"controller": "loop", "action": "timedOut", "requestId": "late"})
    envelope = await ws.receive_json_from(timeout=2)
    assert (envelope["room"], envelope["status"]) == ("late", 500)
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "after"})
    assert (await ws.receive_json_from())["status"] == 200
    await ws.disconnect()


async def test_each_request_has_its_own_context(loop_app: Application) -> None:
    ws = await connect(loop_app)
    for value in ("one", "two"):
        await ws.send_json_to({"controller": "loop", "action": "context", "value": value, "requestId": value})
        assert (await ws.receive_json_from())["result"] == "unset"
    await ws.disconnect()


async def test_requests_in_flight_are_cancelled_on_disconnect(loop_app: Application) -> None:
    ws = await connect(loop_app)
    await ws.send_json_to({"controller": "loop", "action": "hang", "requestId": "h"})
    await asyncio.wait_for(loop_app.hang_started.wait(), 2)  # type: ignore[attr-defined]
    await ws.disconnect()
    assert loop_app.hang_cancelled.is_set()  # type: ignore[attr-defined]


class Notified(KuzzleConsumer):
    groups = ["kuzzle-events-test-notifications"]

    async def notify_client(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event["payload"]))

    async def fail_please(self, event: dict[str, Any]) -> None:
        raise RuntimeError("handler failed")

    async def forward_request(self, event: dict[str, Any]) -> None:
        await self.receive(text_data=json.dumps(event["request"]))


async def test_channel_layer_messages_reach_the_consumers_handlers(ws_app: Application, settings: Any) -> None:
    # The in-memory layer, whatever the run uses, to see its groups afterwards.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    ws = WebsocketCommunicator(Notified.as_asgi(kuzzle_app=ws_app), "/")
    assert (await ws.connect())[0]
    layer = get_channel_layer()
    await layer.group_send(Notified.groups[0], {"type": "notify.client", "payload": {"hello": "group"}})
    assert await ws.receive_json_from() == {"hello": "group"}
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "still"})
    assert (await ws.receive_json_from())["room"] == "still"
    await ws.disconnect()
    # Left the group on disconnect.
    assert not layer.groups.get(Notified.groups[0])


async def test_a_request_received_outside_the_reader_is_awaited_there(loop_app: Application) -> None:
    ws = WebsocketCommunicator(Notified.as_asgi(kuzzle_app=loop_app), "/")
    assert (await ws.connect())[0]
    never_waits = {"controller": "loop", "action": "neverWaits"}
    await ws.send_json_to({**never_waits, "requestId": "before"})
    await ws.receive_json_from()
    waiting = {"controller": "loop", "action": "task", "seconds": 0.01, "requestId": "forwarded"}
    await get_channel_layer().group_send(Notified.groups[0], {"type": "forward.request", "request": waiting})
    assert (await ws.receive_json_from(timeout=2))["room"] == "forwarded"
    for request_id in ("after-1", "after-2"):
        await ws.send_json_to({**never_waits, "requestId": request_id})
        await ws.receive_json_from()
    reader, forwarded, forwarded_after, after_1, after_2 = TASKS
    # The layer's task ran the forwarded request to its end; the client's reader stayed the same.
    assert forwarded is forwarded_after is not reader
    assert after_1 is reader and after_2 is reader
    await ws.disconnect()


async def test_a_failing_channel_layer_handler_ends_the_consumer(ws_app: Application) -> None:
    ws = WebsocketCommunicator(Notified.as_asgi(kuzzle_app=ws_app), "/")
    assert (await ws.connect())[0]
    await get_channel_layer().group_send(Notified.groups[0], {"type": "fail.please"})
    with pytest.raises(RuntimeError, match="handler failed"):
        await ws.wait(2)


class WithoutLayer(KuzzleConsumer):
    channel_layer_alias = "no-such-layer"


async def test_without_a_channel_layer(ws_app: Application) -> None:
    consumers: list[KuzzleConsumer] = []

    class Probe(WithoutLayer):
        async def connect(self) -> None:
            consumers.append(self)
            await super().connect()

    ws = WebsocketCommunicator(Probe.as_asgi(kuzzle_app=ws_app), "/")
    assert (await ws.connect())[0]
    await ws.send_json_to({"controller": "server", "action": "now", "requestId": "r"})
    assert (await ws.receive_json_from())["status"] == 200
    assert consumers[0].channel_layer is None and not hasattr(consumers[0], "channel_name")
    await ws.disconnect()


class StalledClient:
    """A client driving the consumer through ASGI whose reading can stop: while ``reading`` is
    clear, the consumer's writes wait, as a server's do for a peer that reads nothing."""

    def __init__(self, app: Application, consumer_class: type[KuzzleConsumer] = KuzzleConsumer) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.inbox.put_nowait({"type": "websocket.connect"})
        consumer = consumer_class.as_asgi(kuzzle_app=app)
        scope = {"type": "websocket", "path": "/", "headers": [], "client": ("127.0.0.1", 1), "subprotocols": []}
        self.task = asyncio.get_running_loop().create_task(consumer(scope, self.inbox.get, self.send))

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] != "websocket.accept":
            await self.reading.wait()
        self.sent.append(message)

    def texts(self) -> list[dict[str, Any]]:
        return [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]

    async def request(self, request: dict[str, Any]) -> dict[str, Any]:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(request)})
        async with asyncio.timeout(5):
            while not any(text.get("requestId") == request["requestId"] for text in self.texts()):
                await asyncio.sleep(0.001)
        return next(text for text in self.texts() if text.get("requestId") == request["requestId"])


@pytest.mark.parametrize("value", [0, -1, "50", 2.5, True, None])
def test_the_backpressure_bound_is_a_positive_integer(make_app: Any, value: Any) -> None:
    from kuzzle_events.errors import KuzzleError

    with pytest.raises(KuzzleError, match="WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH must be a positive integer"):
        _ = make_app(WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH=value).config
    assert make_app().config.WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH == 50  # Kuzzle's


SUBSCRIBE = {"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": {}}


def publish(n: int) -> dict[str, Any]:
    return {"controller": "realtime", "action": "publish", "index": "i", "collection": "c", "body": {"n": n}}


async def test_a_publisher_never_waits_for_a_subscriber_that_reads_nothing(ws_app: Application) -> None:
    stalled = StalledClient(ws_app)
    assert (await stalled.request({**SUBSCRIBE, "requestId": "s"}))["status"] == 200
    stalled.reading.clear()
    publisher = await connect(ws_app)
    for n in range(10):  # fewer than the bound: the subscriber stays connected
        await publisher.send_json_to({**publish(n), "requestId": f"p{n}"})
        assert (await publisher.receive_json_from(timeout=2))["status"] == 200
    stalled.reading.set()  # it reads again: every notification, in order
    async with asyncio.timeout(5):
        while len(stalled.texts()) < 11:
            await asyncio.sleep(0.001)
    assert [text["result"]["_source"]["n"] for text in stalled.texts()[1:]] == list(range(10))
    assert not stalled.task.done()
    await publisher.disconnect()
    stalled.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(stalled.task, 5)


async def test_a_subscriber_past_the_bound_is_closed_with_1011_and_a_log_line(
    make_app: Any, warnings_log: pytest.LogCaptureFixture
) -> None:
    app = make_app(WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH=3)
    removed: list[str] = []
    app.hook.register("connection:remove", inline(lambda c: removed.append(c["id"])))
    stalled = StalledClient(app)
    assert (await stalled.request({**SUBSCRIBE, "requestId": "s"}))["status"] == 200
    stalled.reading.clear()
    publisher = await connect(app)
    for n in range(5):  # one written (and waiting), three waiting behind it, one too many
        await publisher.send_json_to({**publish(n), "requestId": f"p{n}"})
        assert (await publisher.receive_json_from(timeout=2))["status"] == 200
    async with asyncio.timeout(5):  # its session is closed at once: it is no longer a subscriber
        while not removed:
            await asyncio.sleep(0.001)
            await app.events.drain_hooks()
    [line] = [r.getMessage() for r in warnings_log.records if "too much backpressure" in r.getMessage()]
    assert f"WebSocket connection {removed[0]} closed (1011)" in line and "more than 3 messages" in line
    stalled.reading.set()  # once it reads again, it gets the close frame, and nothing more
    await asyncio.wait_for(stalled.task, 5)
    assert stalled.sent[-1] == {
        "type": "websocket.close",
        "code": 1011,
        "reason": "too much backpressure: client is too slow",
    }
    assert len(stalled.texts()) == 1  # the subscription's answer; the notifications were dropped
    await publisher.send_json_to({**publish(99), "requestId": "after"})
    assert (await publisher.receive_json_from(timeout=2))["status"] == 200
    await publisher.disconnect()
    assert len(stalled.texts()) == 1


async def test_texts_sent_by_a_handler_of_the_consumer_go_through_its_outbox(make_app: Any, settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    app = make_app(WEBSOCKET_BACKPRESSURE_BUFFER_MAX_LENGTH=3)
    stalled = StalledClient(app, Notified)
    assert (await stalled.request({"controller": "server", "action": "now", "requestId": "r"}))["status"] == 200
    stalled.reading.clear()
    for n in range(5):  # the handler's sends never wait; past the bound, the connection is closed
        await get_channel_layer().group_send(Notified.groups[0], {"type": "notify.client", "payload": {"n": n}})
    stalled.reading.set()
    await asyncio.wait_for(stalled.task, 5)
    assert stalled.sent[-1]["type"] == "websocket.close" and stalled.sent[-1]["code"] == 1011


async def test_envelope_carries_the_headers_an_action_set(ws_app: Application) -> None:
    async def with_headers(request: KuzzleRequest) -> str:
        request.response.set_header("foo", "bar")
        request.response.set_header("Alpha", "beta")
        request.response.set_header("Set-Cookie", "foo=bar")
        return "done"

    ws_app.controller.register("headers", {"actions": {"send": {"handler": with_headers}}})
    ws = await connect(ws_app)
    await ws.send_json_to({"controller": "headers", "action": "send"})
    envelope = await ws.receive_json_from()
    # Lower-cased, as Kuzzle's; a cookie is for HTTP answers only.
    assert envelope["headers"] == {"foo": "bar", "alpha": "beta"} and envelope["result"] == "done"
    await ws.disconnect()


async def test_request_without_controller_or_action(ws_app: Application) -> None:
    ws = await connect(ws_app)
    for frame, missing in (({}, "controller"), ({"controller": "server"}, "action"), ({"controller": ""}, "controller")):
        await ws.send_json_to(frame)
        error = (await ws.receive_json_from())["error"]
        assert (error["id"], error["message"]) == ("api.assert.missing_argument", f'Missing argument "{missing}".')
    await ws.send_json_to({"controller": "nope", "action": "x"})
    error = (await ws.receive_json_from())["error"]
    assert error["message"] == 'API controller "nope" not found.'
    await ws.disconnect()
