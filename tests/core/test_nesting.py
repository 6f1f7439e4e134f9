"""MAX_TRIGGER_DEPTH: nested triggers counted along each chain of causes."""

from __future__ import annotations

import asyncio

import pytest

from kuzzle_events.core.nesting import Nesting
from kuzzle_events.errors import KuzzleError


def test_the_chain_grows_and_shrinks_with_each_trigger() -> None:
    nesting = Nesting(limit=3)
    outer = nesting.enter("a:one")
    inner = nesting.enter("b:two")
    assert nesting.chain() == ("a:one", "b:two")
    nesting.leave(inner)
    assert nesting.chain() == ("a:one",)
    nesting.leave(outer)
    assert nesting.chain() == ()


def test_past_the_limit_the_next_trigger_fails_naming_the_chain() -> None:
    nesting = Nesting(limit=2)
    tokens = [nesting.enter("x:loop"), nesting.enter("x:loop")]
    with pytest.raises(KuzzleError) as raised:
        nesting.enter("x:loop")
    error = raised.value
    assert (error.id, error.status) == ("plugin.runtime.unexpected_error", 500)
    assert "MAX_TRIGGER_DEPTH (2)" in error.message and "x:loop -> x:loop -> x:loop" in error.message
    assert nesting.chain() == ("x:loop", "x:loop")  # the refused one was not counted
    for token in reversed(tokens):
        nesting.leave(token)


async def test_a_task_inherits_the_chain_and_concurrent_chains_are_apart() -> None:
    nesting = Nesting(limit=5)
    seen: dict[str, tuple[str, ...]] = {}

    async def branch(name: str) -> None:
        token = nesting.enter(name)
        await asyncio.sleep(0)  # the other branch runs meanwhile
        seen[name] = nesting.chain()
        child = asyncio.get_running_loop().create_task(asyncio.sleep(0, nesting.chain()))
        seen[name + " child"] = await child
        nesting.leave(token)

    await asyncio.gather(branch("left"), branch("right"))
    assert seen == {
        "left": ("left",),
        "right": ("right",),
        "left child": ("left",),
        "right child": ("right",),
    }
