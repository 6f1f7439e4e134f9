"""``KuzzleResponse.check``: what ``seal`` decides, for a response read as a dict."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kuzzle_events.core.request import KuzzleRequest
from kuzzle_events.core.response import KuzzleResponse, _plain, dumps, encodable

VALUES: list[Any] = [
    None, {}, {"now": 1}, {"a": "b", "t": True, "f": False, "n": None}, {"n": (1 << 64) - 1}, {"n": -(1 << 64) + 1},
    {"n": 1 << 64}, {"n": 10**5000}, {"s": "\ud800"}, {"s": "é"}, {"é": 1}, {"x": math.nan}, {"x": 1.5},
    {1: 2}, {True: 1}, {"s": {1}}, {f"k{n}": n for n in range(8)}, {f"k{n}": n for n in range(9)}, [1], "text", 3,
    {"d": {}}, {"o": object()},
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES)
def test_a_plain_value_is_one_dumps_encodes(value: Any) -> None:
    if _plain(value):
        assert encodable(dumps(value))


@pytest.mark.parametrize("value", VALUES)
def test_check_fails_a_response_as_seal_does(value: Any) -> None:
    outcomes = []
    for method in (KuzzleResponse.seal, KuzzleResponse.check):
        request = KuzzleRequest({"controller": "probe", "action": "echo"})
        request.set_result(value)
        method(KuzzleResponse(request))
        outcomes.append((request.status, request.error and request.error.to_dict()))
    assert outcomes[0] == outcomes[1]
