"""kuzzle_events.protocols.http.parsing: query strings and urlencoded bodies, as Kuzzle reads them."""

from __future__ import annotations

import json

from kuzzle_events import Application
from kuzzle_events.protocols.http.parsing import parse_body, parse_query
from kuzzle_events.testing import KuzzleClient


def test_a_repeated_key_is_the_list_of_its_values() -> None:
    # Node's querystring, which Kuzzle parses URLs with, does the same.
    assert parse_query("keys=a&keys=b&keys=c&one=1&flag") == {"keys": ["a", "b", "c"], "one": "1", "flag": ""}
    assert parse_query("keys=a") == {"keys": "a"}
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert parse_body(form, b"tag=x&tag=y&name=z") == {"tag": ["x", "y"], "name": "z"}


async def test_a_list_in_the_query_string_reaches_the_action(started: Application) -> None:
    client = KuzzleClient(started)
    for key, value in (("parsing-qa", "1"), ("parsing-qb", "2")):
        status, _, _ = await client.http("POST", f"/ms/_set/{key}", {"value": value})
        assert status == 200
    status, _, body = await client.http("GET", "/ms/_mget?keys=parsing-qa&keys=parsing-qb")
    assert (status, json.loads(body)["result"]) == (200, ["1", "2"])
    await started.sdk.query({"controller": "ms", "action": "del", "body": {"keys": ["parsing-qa", "parsing-qb"]}})
