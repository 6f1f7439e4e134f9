"""Request and connection ids: UUID-shaped, unique, different in a forked child."""

from __future__ import annotations

import os
import uuid

import pytest

from kuzzle_events.core import identifiers
from kuzzle_events.core.identifiers import new_id
from kuzzle_events.core.request import Connection, KuzzleRequest


def test_ids_are_version_4_uuids() -> None:
    for _ in range(1000):
        text = new_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_ids_are_unique() -> None:
    ids = [new_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)


def test_the_counter_wraps_inside_its_48_bits() -> None:
    identifiers._next_ids = identifiers._ids(first_block=(1 << 36) - 1)
    try:
        texts = [new_id() for _ in range(4097)]
    finally:
        identifiers._reseed()
    assert texts[0].endswith("-fffffffff000")
    assert texts[4095].endswith("-ffffffffffff")
    assert texts[4096].endswith("-000000000000")
    assert all(uuid.UUID(text).version == 4 for text in texts)


def test_ids_count_up_across_blocks() -> None:
    identifiers._next_ids = identifiers._ids(first_block=7)
    try:
        numbers = [int(new_id()[24:], 16) for _ in range(3 * 4096 + 2)]
    finally:
        identifiers._reseed()
    assert numbers == list(range(7 * 4096, 10 * 4096 + 2))


def test_requests_and_connections_get_such_ids() -> None:
    request = KuzzleRequest({"controller": "server", "action": "now"})
    assert uuid.UUID(request.id).version == 4
    assert uuid.UUID(request.context.connection.id).version == 4
    assert request.id != request.context.connection.id
    assert KuzzleRequest({"requestId": "mine"}).id == "mine"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_draws_its_own_prefix() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write one id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent = new_id()
    assert uuid.UUID(child).version == 4
    assert child[:24] != parent[:24]
    assert Connection().id[:24] == parent[:24]
