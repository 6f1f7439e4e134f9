"""The outbox of one WebSocket: its texts in order, at most a bounded backlog, no sender waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kuzzle_events.protocols.websocket import outbox as outbox_module
from kuzzle_events.protocols.websocket.outbox import Outbox

Message = dict[str, Any]


class Peer:
    """A fake ASGI ``send``: records what it is sent; while ``gate`` is shut a write waits (as a
    server's does when its buffer to a peer that does not read is full)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.failing = False
        self.refuse_next = False
        self.abandoned = 0  # writes cancelled or closed while waiting

    async def send(self, message: Message) -> None:
        if self.failing:
            raise RuntimeError("the peer left")
        try:
            await self.gate.wait()
        except (asyncio.CancelledError, GeneratorExit):
            self.abandoned += 1
            raise
        if self.refuse_next:
            self.refuse_next = False
            raise RuntimeError("gone while waiting")
        self.sent.append(message)

    @property
    def texts(self) -> list[str]:
        return [message["text"] for message in self.sent if message["type"] == "websocket.send"]


@pytest.fixture
def peer() -> Peer:
    return Peer()


class Probe(Outbox):
    """An outbox that keeps what it is told of refused writes, and its writer's task."""

    failures: list[BaseException]
    writer: asyncio.Task[None]


@pytest.fixture
async def outbox(peer: Peer) -> AsyncIterator[Probe]:
    """An outbox of limit 3 with its writer running."""
    failures: list[BaseException] = []
    box = Probe(peer.send, 3, failed=failures.append)
    box.failures = failures
    box.writer = writer = asyncio.get_running_loop().create_task(box.run())
    yield box
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)


async def settle(until: Any) -> None:
    """Let the loop run until ``until()`` is true (a bounded wait)."""
    async with asyncio.timeout(5):
        while not until():
            await asyncio.sleep(0)


async def test_texts_are_written_at_once_and_in_order_when_the_server_takes_them(peer: Peer, outbox: Probe) -> None:
    for n in range(5):
        outbox.put(f"t{n}")
        assert peer.texts[-1] == f"t{n}"  # written there and then: no task, no turn of the loop
    await outbox.send("t5")
    assert peer.texts == [f"t{n}" for n in range(6)]


async def test_a_write_that_waits_goes_on_in_the_writer_and_later_texts_wait_behind_it(
    peer: Peer, outbox: Probe
) -> None:
    outbox.put("a")
    peer.gate.clear()
    for text in ("b", "c", "d"):
        outbox.put(text)  # returns at once though "b" cannot be written yet
    await asyncio.sleep(0.01)
    assert peer.texts == ["a"]
    peer.gate.set()
    await settle(lambda: len(peer.texts) == 4)
    assert peer.texts == ["a", "b", "c", "d"]
    outbox.put("e")  # nothing waits any more: written at once again
    assert peer.texts[-1] == "e"
    assert not outbox.overflowed and not outbox.failures


async def test_a_sender_never_waits_for_a_peer_that_never_reads(peer: Peer) -> None:
    box = Outbox(peer.send, 1_000, failed=lambda error: None)
    peer.gate.clear()  # this peer's writes never complete
    async with asyncio.timeout(5):
        for n in range(500):
            await box.send(f"notification {n}")
    assert peer.texts == [] and not box.overflowed


async def test_one_text_past_the_bound_closes_the_outbox_and_ends_the_writer(peer: Peer, outbox: Probe) -> None:
    peer.gate.clear()
    outbox.put("waits")  # the write in progress
    for n in range(3):
        outbox.put(f"queued {n}")  # the backlog, full
    await asyncio.sleep(0.01)
    assert not outbox.overflowed and not outbox.writer.done()
    outbox.put("one too many")
    assert outbox.overflowed and outbox.closed
    async with asyncio.timeout(5):
        await outbox.writer  # returns: the connection is to be closed
    assert peer.abandoned == 1  # the write in progress was abandoned
    peer.gate.set()
    outbox.put("after")
    await asyncio.sleep(0.01)
    assert peer.texts == []  # nothing of the backlog nor after it is written


async def test_the_bound_counts_the_texts_waiting_not_those_written(peer: Peer, outbox: Probe) -> None:
    for n in range(50):  # far more than the limit, each written at once
        outbox.put(f"t{n}")
    assert not outbox.overflowed and len(peer.texts) == 50


async def test_close_sends_the_close_frame_after_dropping_what_waits(peer: Peer, outbox: Probe) -> None:
    outbox.put("written")
    await outbox.close(1011, "too slow")
    assert peer.sent[-1] == {"type": "websocket.close", "code": 1011, "reason": "too slow"}
    outbox.put("after")
    assert peer.texts == ["written"]


async def test_close_gives_up_on_a_peer_that_reads_nothing(
    peer: Peer, outbox: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "CLOSE_TIMEOUT", 0.05)
    peer.gate.clear()
    async with asyncio.timeout(5):
        await outbox.close(1011, "too slow")
    assert peer.sent == [] and isinstance(outbox.failures[-1], TimeoutError)


async def test_a_refused_write_is_reported_and_the_next_texts_still_go(peer: Peer, outbox: Probe) -> None:
    peer.failing = True
    outbox.put("lost")
    assert [str(error) for error in outbox.failures] == ["the peer left"]
    peer.failing = False
    outbox.put("next")
    assert peer.texts == ["next"]


async def test_a_write_refused_after_waiting_is_reported_and_the_backlog_goes_on(peer: Peer, outbox: Probe) -> None:
    peer.gate.clear()
    outbox.put("refused")
    outbox.put("next")
    await asyncio.sleep(0.01)
    peer.refuse_next = True  # the write that waits is refused once it can go on
    peer.gate.set()
    await settle(lambda: peer.texts)
    assert peer.texts == ["next"]
    assert [str(error) for error in outbox.failures] == ["gone while waiting"]


async def test_the_write_in_progress_is_abandoned_when_the_connection_ends(peer: Peer, outbox: Probe) -> None:
    peer.gate.clear()
    outbox.put("waits")
    outbox.put("behind")
    await asyncio.sleep(0.01)
    outbox.writer.cancel()  # (the connection's tasks are cancelled at its end)
    await asyncio.gather(outbox.writer, return_exceptions=True)
    assert peer.abandoned == 1 and outbox.closed
    peer.gate.set()
    await asyncio.sleep(0.01)
    assert peer.texts == []


async def test_a_write_that_waits_before_the_writer_runs_is_finished_by_it(peer: Peer) -> None:
    box = Outbox(peer.send, 3, failed=lambda error: None)
    peer.gate.clear()
    box.put("waits")  # no writer has run yet
    box.put("behind")
    writer = asyncio.get_running_loop().create_task(box.run())
    await asyncio.sleep(0.01)
    peer.gate.set()
    await settle(lambda: len(peer.texts) == 2)
    assert peer.texts == ["waits", "behind"]
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)


class Transport:
    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


async def test_a_peer_that_reads_not_even_the_close_frame_has_its_connection_dropped(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As under uvicorn: the server's send is a method of the connection's protocol, holding its transport.
    peer.transport = Transport()  # type: ignore[attr-defined]
    box = Outbox(peer.send, 3, failed=lambda error: None)
    monkeypatch.setattr(outbox_module, "CLOSE_TIMEOUT", 0.05)
    peer.gate.clear()
    async with asyncio.timeout(5):
        await box.close(1011, "too slow")
    assert peer.transport.aborted  # type: ignore[attr-defined]


async def test_a_peer_that_takes_the_close_frame_keeps_its_connection_to_the_closing_handshake(peer: Peer) -> None:
    peer.transport = Transport()  # type: ignore[attr-defined]
    box = Outbox(peer.send, 3, failed=lambda error: None)
    await box.close(1011, "too slow")
    assert peer.sent and not peer.transport.aborted  # type: ignore[attr-defined]


async def test_a_peer_whose_connection_ends_while_its_close_frame_waits_has_it_dropped(peer: Peer) -> None:
    peer.transport = Transport()  # type: ignore[attr-defined]
    box = Outbox(peer.send, 3, failed=lambda error: None)
    peer.gate.clear()
    closing = asyncio.get_running_loop().create_task(box.close(1011, "too slow"))
    await asyncio.sleep(0.01)
    closing.cancel()  # (the connection's tasks are cancelled at its end)
    await asyncio.gather(closing, return_exceptions=True)
    assert peer.transport.aborted  # type: ignore[attr-defined]


async def test_the_writer_is_asked_for_at_the_first_write_that_waits_only(peer: Peer) -> None:
    asked: list[str] = []
    box = Outbox(peer.send, 3, failed=lambda error: None, stalled=lambda: asked.append("writer"))
    box.put("at once")
    assert asked == [] and peer.texts == ["at once"]
    peer.gate.clear()
    box.put("waits")
    box.put("behind")
    assert asked == ["writer"]
    writer = asyncio.get_running_loop().create_task(box.run())  # what stalled() starts
    peer.gate.set()
    await settle(lambda: len(peer.texts) == 3)
    peer.gate.clear()
    box.put("waits again")
    assert asked == ["writer"]  # once: that writer runs until the connection ends
    peer.gate.set()
    await settle(lambda: len(peer.texts) == 4)
    assert peer.texts == ["at once", "waits", "behind", "waits again"]
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)
