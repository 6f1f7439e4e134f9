"""The ms controller, as Kuzzle's: Redis commands over the SDK, HTTP and WebSocket.

They run on the embedded Redis, and on a real one when MEMORY_STORAGE_URL (or REDIS_URL, from
which the project's settings take a database of their own) is set: every key a test writes starts
with its own prefix and is deleted after it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application, errors
from kuzzle_events.asgi import KuzzleASGI
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer


class MS:
    """``await ms("get", _id=...)``: an ms action over the SDK, its result; keys under ``ms.p``."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.p = f"test:{uuid.uuid4().hex[:12]}:"

    async def __call__(self, action: str, **data: Any) -> Any:
        envelope = await self.app.sdk.query({"controller": "ms", "action": action, **data})
        return envelope["result"]

    async def error(self, action: str, **data: Any) -> errors.KuzzleError:
        with pytest.raises(errors.KuzzleError) as caught:
            await self(action, **data)
        return caught.value

    async def clean(self) -> None:
        cursor, keys = "0", []
        while True:
            cursor, found = await self("scan", cursor=cursor, match=f"{self.p}*", count=500)
            keys += found
            if cursor == "0":
                break
        if keys:
            await self("del", body={"keys": keys})


@pytest.fixture
async def ms(make_app: Callable[..., Application]) -> AsyncIterator[MS]:
    app = make_app()
    await app.start()
    storage = MS(app)
    yield storage
    await storage.clean()
    await app.shutdown()


async def test_strings_as_kuzzles_scalars_scenario(ms: MS) -> None:
    k = f"{ms.p}mykey"
    assert await ms("setnx", _id=k, body={"value": "999"}) == 1
    assert await ms("setnx", _id=k, body={"value": "999"}) == 0
    assert await ms("touch", body={"keys": [k]}) == 1
    assert await ms("incrbyfloat", _id=k, body={"value": -0.5}) == "998.5"
    assert await ms("getset", _id=k, body={"value": 2}) == "998.5"
    assert await ms("get", _id=k) == "2"
    assert [await ms("incr", _id=k), await ms("decr", _id=k)] == [3, 2]
    assert await ms("incrby", _id=k, body={"value": 5}) == 7
    assert await ms("decrby", _id=k, body={"value": 3}) == 4
    assert await ms("append", _id=k, body={"value": "bar"}) == 4
    assert await ms("getrange", _id=k, start=1, end=2) == "ba"
    assert await ms("getbit", _id=k, offset=3) == 1
    assert await ms("strlen", _id=k) == 4
    assert await ms("del", body={"keys": [k]}) == 1
    assert await ms("get", _id=k) is None
    # set and its options; mset / mget / msetnx.
    assert await ms("set", _id=k, body={"value": 10, "nx": True}) == "OK"
    assert await ms("set", _id=k, body={"value": 11, "nx": True}) is None
    assert await ms("set", _id=k, body={"value": 12.0, "xx": True}) == "OK"
    assert await ms("get", _id=k) == "12"
    entries = [{"key": f"{ms.p}foo", "value": "bar"}, {"key": f"{ms.p}k1", "value": "v1"}]
    assert await ms("mset", body={"entries": entries}) == "OK"
    assert await ms("mget", keys=[f"{ms.p}foo", f"{ms.p}k1", f"{ms.p}none"]) == ["bar", "v1", None]
    assert await ms("mget", keys=f"{ms.p}foo,{ms.p}k1") == ["bar", "v1"]  # a query string's list
    assert await ms("msetnx", body={"entries": [{"key": f"{ms.p}k1", "value": "v1bis"}]}) == 0
    assert await ms("exists", keys=[f"{ms.p}foo", f"{ms.p}k1", "i-do-not-exist"]) == 2
    assert await ms("ping") == "PONG"
    seconds, micro = await ms("time")
    assert seconds.isdigit() and micro.isdigit()


async def test_keys_and_expiry(ms: MS) -> None:
    k = f"{ms.p}foo"
    await ms("setex", _id=k, body={"seconds": 99, "value": "test"})
    assert 0 < await ms("ttl", _id=k) <= 99
    assert await ms("persist", _id=k) == 1
    assert await ms("ttl", _id=k) == -1
    assert await ms("pexpire", _id=k, body={"milliseconds": 50_000}) == 1
    assert 0 < await ms("pttl", _id=k) <= 50_000
    assert await ms("expire", _id=k, body={"seconds": 100}) == 1
    assert await ms("expireat", _id=k, body={"timestamp": 1}) == 1  # in the past: gone
    assert await ms("get", _id=k) is None
    before = time.time() * 1000
    await ms("psetex", _id=k, body={"milliseconds": 999, "value": "bar"})
    after = time.time() * 1000
    # Milliseconds, not rounded down to a second (the embedded Redis's own PSETEX would be).
    expires = await ms.app.memory_storage._client().execute_command("PEXPIRETIME", k)
    assert before + 998 <= int(expires) <= after + 1000
    await ms("psetex", _id=k, body={"milliseconds": 99_000, "value": "bar"})
    assert await ms("pexpireat", _id=k, body={"timestamp": 4_102_444_800_000}) == 1
    assert await ms("rename", _id=k, body={"newkey": f"{ms.p}bar"}) == "OK"
    await ms("set", _id=f"{ms.p}x", body={"value": "x"})
    assert await ms("renamenx", _id=f"{ms.p}bar", body={"newkey": f"{ms.p}x"}) == 0
    assert await ms("type", _id=f"{ms.p}bar") == "string"
    assert sorted(await ms("keys", pattern=f"{ms.p}*")) == [f"{ms.p}bar", f"{ms.p}x"]
    assert isinstance(await ms("randomkey"), str)
    assert await ms("dbsize") >= 2


async def test_lists_as_kuzzles_scenario(ms: MS) -> None:
    k = f"{ms.p}list"
    assert await ms("rpush", _id=k, body={"values": [1, "abcd", 5]}) == 3
    assert await ms("lindex", _id=k, idx=1) == "abcd"
    assert await ms("linsert", _id=k, body={"position": "BEFORE", "pivot": 5, "value": "inserted"}) == 4
    assert await ms("lrange", _id=k, start=2, stop=3) == ["inserted", "5"]
    assert await ms("lpop", _id=k) == "1"
    assert await ms("rpushx", _id=k, body={"value": "foobar"}) == 4
    assert await ms("rpushx", _id=f"{ms.p}none", body={"value": "foobar"}) == 0
    await ms("lpush", _id=k, body={"values": ["first"]})
    assert await ms("lpushx", _id=f"{ms.p}none", body={"value": "first"}) == 0
    await ms("rpush", _id=k, body={"values": ["hello", "hello", "foo", "hello"]})
    assert await ms("lrem", _id=k, body={"count": -2, "value": "hello"}) == 2
    expected = ["first", "abcd", "inserted", "5", "foobar", "hello", "foo"]
    assert await ms("lrange", _id=k, start=0, stop=-1) == expected
    assert await ms("lset", _id=k, body={"index": 1, "value": "replaced"}) == "OK"
    assert await ms("ltrim", _id=k, body={"start": 2, "stop": 3}) == "OK"
    assert await ms("lrange", _id=k, start=0, stop=-1) == ["inserted", "5"]
    assert await ms("rpop", _id=k) == "5"
    assert await ms("rpoplpush", body={"source": k, "destination": f"{ms.p}list2"}) == "inserted"
    assert await ms("llen", _id=f"{ms.p}list2") == 1


async def test_sort_as_kuzzles_scenario(ms: MS) -> None:
    k = f"{ms.p}list"
    await ms("rpush", _id=k, body={"values": [1, 2, 3]})
    entries = [{"key": f"{ms.p}o_{i}", "value": f"object{i}"} for i in (1, 2, 3)]
    entries += [{"key": f"{ms.p}w_{i}", "value": w} for i, w in ((1, 2), (2, 3), (3, 1))]
    await ms("mset", body={"entries": entries})
    body = {"by": f"{ms.p}w_*", "get": [f"{ms.p}o_*"], "direction": "DESC"}
    assert await ms("sort", _id=k, body=body) == ["object2", "object1", "object3"]
    assert await ms("sort", _id=k, body={"limit": [0, 2], "direction": "desc"}) == ["3", "2"]


async def test_hashes_as_kuzzles_scenario(ms: MS) -> None:
    k = f"{ms.p}hash"
    assert await ms("hset", _id=k, body={"field": "foo", "value": "bar"}) == 1
    entries = [{"field": "k1", "value": "v1"}, {"field": "k2", "value": "v2"}, {"field": "k4", "value": 10}]
    assert await ms("hmset", _id=k, body={"entries": entries}) == "OK"
    assert await ms("hexists", _id=k, field="k2") == 1
    assert await ms("hdel", _id=k, body={"fields": ["k2"]}) == 1
    assert await ms("hget", _id=k, field="foo") == "bar"
    # hgetall answers an object, as Kuzzle's client gives it.
    assert await ms("hgetall", _id=k) == {"foo": "bar", "k1": "v1", "k4": "10"}
    assert await ms("hsetnx", _id=k, body={"field": "foo", "value": "bar2"}) == 0
    assert await ms("hvals", _id=k) == ["bar", "v1", "10"]
    assert await ms("hkeys", _id=k) == ["foo", "k1", "k4"]
    assert await ms("hmget", _id=k, fields=["foo", "none"]) == ["bar", None]
    assert [await ms("hlen", _id=k), await ms("hstrlen", _id=k, field="foo")] == [3, 3]
    assert await ms("hincrby", _id=k, body={"field": "k4", "value": 5}) == 15
    assert await ms("hincrbyfloat", _id=k, body={"field": "k4", "value": 2.5}) == "17.5"


async def test_sets(ms: MS) -> None:
    s, s1, s2, s3 = (f"{ms.p}{name}" for name in ("set", "set1", "set2", "set3"))
    assert await ms("sadd", _id=s, body={"members": ["foobar", "v1", 5, 10, 10]}) == 4
    assert await ms("scard", _id=s) == 4
    await ms("sadd", _id=s1, body={"members": ["a", "b", "c"]})
    await ms("sadd", _id=s2, body={"members": ["c", "d", "e"]})
    assert sorted(await ms("sdiff", _id=s2, keys=[s1])) == ["d", "e"]
    assert await ms("sdiffstore", _id=s2, body={"destination": s3, "keys": [s1]}) == 2
    assert sorted(await ms("smembers", _id=s3)) == ["d", "e"]
    assert await ms("sinter", keys=[s1, s2]) == ["c"]
    assert await ms("sinterstore", body={"destination": s3, "keys": [s1, s2]}) == 1
    assert sorted(await ms("sunion", keys=[s1, s2])) == ["a", "b", "c", "d", "e"]
    assert await ms("sunionstore", body={"destination": s3, "keys": [s1, s2]}) == 5
    assert await ms("sismember", _id=s1, member="a") == 1
    assert await ms("smove", _id=s1, body={"destination": s2, "member": "a"}) == 1
    assert await ms("srem", _id=s2, body={"members": ["a", "z"]}) == 1
    assert await ms("srandmember", _id=s1) in ("b", "c")
    assert sorted(await ms("spop", _id=s1, body={"count": 2})) == ["b", "c"]


async def test_sorted_sets_and_their_options(ms: MS) -> None:
    z = f"{ms.p}zset"
    elements = [{"score": 1, "member": "one"}, {"score": 2, "member": "two"}, {"score": 3, "member": "three"}]
    assert await ms("zadd", _id=z, body={"elements": elements}) == 3
    assert await ms("zadd", _id=z, body={"elements": [{"score": 1, "member": "one"}], "incr": True}) == "2"
    assert await ms("zcard", _id=z) == 3
    assert await ms("zrange", _id=z, start=0, stop=-1) == ["one", "two", "three"]
    # withscores: members and scores alternate, as Redis answers (Kuzzle's SDKs pair them).
    assert await ms("zrange", _id=z, start=0, stop=0, options=["withscores"]) == ["one", "2"]
    assert await ms("zrevrange", _id=z, start=0, stop=0, options="withscores") == ["three", "3"]
    assert await ms("zrangebyscore", _id=z, min=2, max="+inf", limit=[1, 5]) == ["two", "three"]
    assert await ms("zrevrangebyscore", _id=z, max=3, min="(2", options=["withscores"]) == ["three", "3"]
    assert [await ms("zcount", _id=z, min=2, max=2), await ms("zscore", _id=z, member="three")] == [2, "3"]
    assert [await ms("zrank", _id=z, member="three"), await ms("zrevrank", _id=z, member="three")] == [2, 0]
    assert await ms("zincrby", _id=z, body={"member": "three", "value": 2}) == "5"
    lex = f"{ms.p}lex"
    await ms("zadd", _id=lex, body={"elements": [{"score": 0, "member": m} for m in "abcde"]})
    assert await ms("zrangebylex", _id=lex, min="[b", max="(d") == ["b", "c"]
    assert await ms("zrevrangebylex", _id=lex, max="+", min="-", limit="0,2") == ["e", "d"]
    assert await ms("zlexcount", _id=lex, min="-", max="+") == 5
    assert await ms("zremrangebylex", _id=lex, body={"min": "[a", "max": "[b"}) == 2
    assert await ms("zremrangebyrank", _id=lex, body={"start": 0, "stop": 0}) == 1
    assert await ms("zrem", _id=lex, body={"members": ["d"]}) == 1
    assert await ms("zremrangebyscore", _id=z, body={"min": "-inf", "max": 2}) == 2
    other, dest = f"{ms.p}other", f"{ms.p}dest"
    await ms("zadd", _id=other, body={"elements": [{"score": 10, "member": "three"}]})
    body = {"keys": [z, other], "weights": [1, 2], "aggregate": "max"}
    assert await ms("zinterstore", _id=dest, body=body) == 1
    assert await ms("zrange", _id=dest, start=0, stop=-1, options=["withscores"]) == ["three", "20"]
    assert await ms("zunionstore", _id=dest, body={"keys": [z, other]}) == 1


async def test_geo(ms: MS) -> None:
    g = f"{ms.p}sicily"
    points = [
        {"lon": 13.361389, "lat": 38.115556, "name": "Palermo"},
        {"lon": 15.087269, "lat": 37.502669, "name": "Catania"},
    ]
    assert await ms("geoadd", _id=g, body={"points": points}) == 2
    assert float(await ms("geodist", _id=g, member1="Palermo", member2="Catania", unit="km")) == pytest.approx(
        166.27, 0.01
    )
    assert [len(h) for h in await ms("geohash", _id=g, members=["Palermo", "Catania"])] == [11, 11]
    (lon, lat), missing = await ms("geopos", _id=g, members="Palermo,nowhere")
    assert (float(lon), float(lat), missing) == (pytest.approx(13.3614, 1e-4), pytest.approx(38.1156, 1e-4), None)
    near = await ms("georadius", _id=g, lon=15, lat=37, distance=200, unit="km", options=["withdist", "asc"])
    assert [name for name, _ in near] == ["Catania", "Palermo"]
    assert await ms("georadiusbymember", _id=g, member="Palermo", distance=100, unit="km") == ["Palermo"]


async def test_scan_family_until_the_cursor_is_back_to_zero(ms: MS) -> None:
    for i in range(25):
        await ms("set", _id=f"{ms.p}key{i}", body={"value": i})
    found, cursor = [], "0"
    while True:
        cursor, keys = await ms("scan", cursor=cursor, match=f"{ms.p}key*", count=5)
        found += keys
        if cursor == "0":
            break
    assert sorted(set(found)) == sorted(f"{ms.p}key{i}" for i in range(25))
    await ms("hmset", _id=f"{ms.p}h", body={"entries": [{"field": "a", "value": 1}, {"field": "b", "value": 2}]})
    assert await ms("hscan", _id=f"{ms.p}h", cursor=0) == ["0", ["a", "1", "b", "2"]]
    await ms("sadd", _id=f"{ms.p}s", body={"members": ["x", "y"]})
    assert sorted((await ms("sscan", _id=f"{ms.p}s", cursor=0, match="x*"))[1]) == ["x"]
    # A small sorted set is paged in score order, as Kuzzle's scenario reads it.
    elements = [{"score": 1, "member": "one"}, {"score": 1, "member": "uno"}]
    elements += [{"score": 3, "member": "three"}, {"score": 2, "member": "two"}]
    await ms("zadd", _id=f"{ms.p}z", body={"elements": elements})
    assert await ms("zscan", _id=f"{ms.p}z", cursor=0) == ["0", ["one", "1", "uno", "1", "two", "2", "three", "3"]]


async def test_bit_operations_as_kuzzles_scenario(ms: MS) -> None:
    x, y, dest = f"{ms.p}x", f"{ms.p}y", f"{ms.p}dest"
    await ms("set", _id=x, body={"value": "foobar"})
    await ms("set", _id=y, body={"value": "abcdef"})
    assert await ms("bitop", _id=dest, body={"operation": "AND", "keys": [x, y]}) == 6
    assert await ms("get", _id=dest) == "`bc`ab"
    await ms("bitop", _id=dest, body={"operation": "OR", "keys": [x, y]})
    assert await ms("get", _id=dest) == "goofev"
    assert [await ms("bitcount", _id=x), await ms("bitcount", _id=x, start=0, end=3)] == [26, 19]
    assert await ms("bitpos", _id=x, bit=1) == 1
    # Bytes that are no UTF-8 text come back replaced, not as a failure.
    await ms("bitop", _id=dest, body={"operation": "NOT", "keys": [x]})
    assert "\ufffd" in await ms("get", _id=dest)


async def test_hyperloglog(ms: MS) -> None:
    a, b, both = f"{ms.p}hll1", f"{ms.p}hll2", f"{ms.p}hll"
    assert await ms("pfadd", _id=a, body={"elements": ["a", "b", "c"]}) == 1
    await ms("pfadd", _id=b, body={"elements": ["c", "d"]})
    assert await ms("pfcount", keys=[a]) == 3
    assert await ms("pfmerge", _id=both, body={"sources": [a, b]}) == "OK"
    assert await ms("pfcount", keys=both) == 4


async def test_mexecute_runs_actions_in_one_transaction(ms: MS) -> None:
    k, h = f"{ms.p}k", f"{ms.p}h"
    actions = [
        {"action": "set", "args": {"_id": k, "body": {"value": 1}}},
        {"action": "incrby", "args": {"_id": k, "body": {"value": 4}}},
        {"action": "hset", "args": {"_id": h, "body": {"field": "f", "value": "v"}}},
        {"action": "lpush", "args": {"_id": k, "body": {"values": ["x"]}}},
        {"action": "hgetall", "args": {"_id": h}},
    ]
    result = await ms("mexecute", body={"actions": actions})
    assert result[:3] == [[None, "OK"], [None, 5], [None, 1]]
    assert result[3] == ["WRONGTYPE Operation against a key holding the wrong kind of value", None]
    assert result[4] == [None, {"f": "v"}]
    assert await ms("mexecute", body={"actions": []}) == []
    for action, error in (("mexecute", "mexecute"), ("nope", "nope")):
        caught = await ms.error("mexecute", body={"actions": [{"action": action, "args": {}}]})
        assert (caught.id, caught.message) == (
            "api.assert.forbidden_argument",
            f'The argument "{error}" is not allowed by this API action.',
        )
    assert (await ms.error("mexecute", body={"actions": [{"args": {}}]})).message == 'Missing argument "action".'
    assert (await ms.error("mexecute", body={"actions": [{"action": "get"}]})).message == 'Missing argument "args".'
    assert (
        await ms.error("mexecute", body={"actions": [{"action": "get", "args": []}]})
    ).id == "api.assert.invalid_type"
    # A sub-request's own checks.
    assert (
        await ms.error("mexecute", body={"actions": [{"action": "get", "args": {}}]})
    ).message == 'Missing argument "key".'


@pytest.mark.parametrize(
    ("action", "data", "error", "props"),
    [
        ("get", {}, "api.assert.missing_argument", ["key"]),
        ("append", {"_id": "k"}, "api.assert.missing_argument", ["value"]),
        ("lindex", {"_id": "k"}, "api.assert.missing_argument", ["index"]),
        ("zremrangebyrank", {"_id": "k", "body": {"stop": 1}}, "api.assert.missing_argument", ["min"]),
        ("set", {"body": {"value": 1}}, "api.assert.missing_argument", ["_id"]),
        ("set", {"_id": "k"}, "api.assert.body_required", []),
        ("set", {"_id": "k", "body": {"value": True}}, "api.assert.invalid_type", ["value", "string, number"]),
        (
            "set",
            {"_id": "k", "body": {"value": 1, "nx": True, "xx": True}},
            "api.assert.mutually_exclusive",
            ["nx", "xx"],
        ),
        ("set", {"_id": "k", "body": {"value": 1, "ex": 1, "px": 1}}, "api.assert.mutually_exclusive", ["ex", "px"]),
        ("scan", {"cursor": 0, "match": 3}, "api.assert.invalid_type", ["match", "<string>"]),
        ("scan", {"cursor": 0, "count": "many"}, "api.assert.invalid_type", ["count", "integer"]),
        (
            "zrangebylex",
            {"_id": "k", "min": "-", "max": "+", "limit": [1]},
            "api.assert.invalid_argument",
            ["limit", "<offset, count>"],
        ),
        ("geoadd", {"_id": "k", "body": {}}, "api.assert.missing_argument", ["points"]),
        ("geoadd", {"_id": "k", "body": {"points": {}}}, "api.assert.invalid_type", ["body.points", "array"]),
        ("geoadd", {"_id": "k", "body": {"points": []}}, "api.assert.empty_argument", ["points"]),
        (
            "geoadd",
            {"_id": "k", "body": {"points": [{"lon": 1, "lat": 2}]}},
            "api.assert.invalid_argument",
            ["points", "<array of geopoints>"],
        ),
        (
            "geoadd",
            {"_id": "k", "body": {"points": [{"lon": "east", "lat": 2, "name": "n"}]}},
            "api.assert.invalid_type",
            ["lon", "number"],
        ),
        (
            "hmset",
            {"_id": "k", "body": {"entries": [{"field": "f"}]}},
            "api.assert.invalid_argument",
            ["entries", "<array of objects>"],
        ),
        (
            "mset",
            {"body": {"entries": [{"key": "k", "value": False}]}},
            "api.assert.invalid_argument",
            ["entries", "<array of objects>"],
        ),
        ("zadd", {"_id": "k", "body": {"elements": []}}, "api.assert.empty_argument", ["elements"]),
        (
            "zadd",
            {"_id": "k", "body": {"elements": [{"score": 1}]}},
            "api.assert.missing_argument",
            ["elements[0].member"],
        ),
        (
            "zadd",
            {"_id": "k", "body": {"elements": [{"score": "x", "member": "m"}]}},
            "api.assert.invalid_type",
            ["score", "number"],
        ),
        (
            "zadd",
            {"_id": "k", "body": {"elements": [1]}},
            "api.assert.invalid_argument",
            ["elements", "<array of objects>"],
        ),
        (
            "zadd",
            {"_id": "k", "body": {"elements": [{"score": 1, "member": "a"}] * 2, "incr": True}},
            "api.assert.too_many_arguments",
            ["elements"],
        ),
        (
            "zadd",
            {"_id": "k", "body": {"elements": [{"score": 1, "member": "a"}], "nx": 1, "xx": 1}},
            "api.assert.mutually_exclusive",
            ["nx", "xx"],
        ),
        ("zinterstore", {"_id": "k", "body": {"keys": []}}, "api.assert.empty_argument", ["keys"]),
        (
            "zunionstore",
            {"_id": "k", "body": {"keys": ["a"], "aggregate": "avg"}},
            "api.assert.invalid_argument",
            ["aggregate", '"SUM", "MIN" or "MAX"'],
        ),
        (
            "zunionstore",
            {"_id": "k", "body": {"keys": ["a"], "weights": 3}},
            "api.assert.invalid_type",
            ["body.weights", "array"],
        ),
        (
            "sort",
            {"_id": "k", "body": {"direction": "up"}},
            "api.assert.invalid_argument",
            ["direction", '"ASC", "DESC"'],
        ),
        ("sort", {"_id": "k", "body": {"limit": [0, "x"]}}, "api.assert.invalid_type", ["limit.count", "integer"]),
        ("mexecute", {"body": {}}, "api.assert.missing_argument", ["body.actions"]),
    ],
)
async def test_bad_arguments_get_kuzzles_errors(
    ms: MS, action: str, data: dict[str, Any], error: str, props: list[str]
) -> None:
    caught = await ms.error(action, **data)
    assert (caught.status, caught.id) == (400, error)
    assert all(f'"{props[0]}"' in caught.message for _ in props[:1])
    assert all(prop in caught.message for prop in props)


async def test_a_redis_error_is_a_cache_error_with_redis_message(ms: MS) -> None:
    k = f"{ms.p}list"
    await ms("rpush", _id=k, body={"values": ["a"]})
    wrong = "WRONGTYPE Operation against a key holding the wrong kind of value"
    read = await ms.error("get", _id=k)
    assert (read.status, read.id, read.message) == (500, "services.cache.read_failed", f"Cache read fail: {wrong}")
    write = await ms.error("incr", _id=k)
    assert (write.id, write.message) == ("services.cache.write_failed", f"Cache write fail: {wrong}")
    envelope = (await ms.app.funnel.execute(_request("incrby", _id=f"{ms.p}n", body={"value": "x"}))).to_dict()
    assert envelope["status"] == 500 and envelope["error"]["id"] == "services.cache.write_failed"
    # Redis's reply as Redis wrote it, its error code included.
    assert envelope["error"]["message"] == "Cache write fail: ERR value is not an integer or out of range"
    assert "stack" not in envelope["error"]
    # A command Redis refuses to queue discards the whole transaction: nothing of it is written.
    actions = [
        {"action": "set", "args": {"_id": f"{ms.p}t", "body": {"value": 1}}},
        {"action": "del", "args": {"body": {"keys": []}}},
    ]
    discarded = await ms.error("mexecute", body={"actions": actions})
    assert (discarded.id, discarded.message) == (
        "services.cache.write_failed",
        "Cache write fail: EXECABORT Transaction discarded because of previous errors: "
        "action 2 (del): ERR wrong number of arguments for 'del' command",
    )
    assert await ms("get", _id=f"{ms.p}t") is None


async def test_an_unreachable_redis_is_service_unavailable(make_app: Callable[..., Application]) -> None:
    app = make_app(MEMORY_STORAGE_URL="redis://127.0.0.1:1/0")
    await app.start()
    caught = await MS(app).error("get", _id="k")
    assert (caught.status, caught.id, caught.message) == (
        503,
        "services.cache.not_connected",
        "Unable to connect to the cache server.",
    )
    health = (await app.funnel.execute(_request("healthCheck", controller="server"))).to_dict()
    assert health["status"] == 500 and health["result"]["services"]["memoryStorage"] == "red"
    info = await app.sdk.query({"controller": "server", "action": "info"})
    assert info["result"]["serverInfo"]["services"]["memoryStorage"]["status"] == "red"
    await app.shutdown()


async def test_health_check_and_server_info_name_the_memory_storage(ms: MS) -> None:
    health = await ms.app.sdk.query({"controller": "server", "action": "healthCheck"})
    assert health["result"]["services"]["memoryStorage"] == "green"
    query = {"controller": "server", "action": "healthCheck", "services": "storageEngine,memoryStorage"}
    only = await ms.app.sdk.query(query)
    assert only["result"] == {"services": {"memoryStorage": "green", "storageEngine": "green"}, "status": "green"}
    info = (await ms.app.sdk.query({"controller": "server", "action": "info"}))["result"]["serverInfo"]
    described = info["services"]["memoryStorage"]
    assert described["type"] == "redis"
    assert described["mode"] == ("embedded" if ms.app.memory_storage.embedded else "standalone")
    routes = info["kuzzle"]["api"]["routes"]["ms"]
    assert routes["get"]["http"] == [{"verb": "GET", "url": "/ms/:_id"}]
    public = (await ms.app.sdk.query({"controller": "server", "action": "publicApi"}))["result"]
    assert [route["path"] for route in public["ms"]["zadd"]["http"]] == ["/ms/_zadd/:_id"]
    # As Kuzzle's: the memoryStorage alias is listed with the routes of ms.
    assert public["memoryStorage"]["zadd"]["http"] == public["ms"]["zadd"]["http"]
    assert all("http" in action for action in public["memoryStorage"].values())


async def test_flushdb_and_reset_cache_empty_the_memory_storage(make_app: Callable[..., Application]) -> None:
    # Its own embedded Redis, whatever the settings: flushdb empties a whole database.
    app = make_app(MEMORY_STORAGE_URL=None)
    await app.start()
    ms = MS(app)
    await ms("set", _id="a", body={"value": 1})
    assert await ms("flushdb") == "OK"
    assert await ms("dbsize") == 0
    await ms("set", _id="a", body={"value": 1})
    await app.sdk.query({"controller": "admin", "action": "resetCache", "database": "memoryStorage"})
    assert await ms("dbsize") == 0
    await app.shutdown()


async def test_the_memory_storage_alias_fires_ms_events(make_app: Callable[..., Application]) -> None:
    app = make_app()
    seen: list[str] = []
    app.hook.register("ms:afterSet", lambda request: seen.append(request.input.controller))
    await app.start()
    ms = MS(app)
    await app.sdk.query({"controller": "memoryStorage", "action": "set", "_id": f"{ms.p}a", "body": {"value": 1}})
    await app.events.drain_hooks()
    assert seen == ["memoryStorage"]
    assert await ms("get", _id=f"{ms.p}a") == "1"
    await ms.clean()
    await app.shutdown()


async def test_ms_actions_go_through_rights(ms: MS) -> None:
    from asgiref.sync import sync_to_async

    from tests.accounts import make_user, open_to_anonymous

    await sync_to_async(make_user)("root", superuser=True)  # from now on, anonymous callers are restricted
    ms.app.security.invalidate()
    query = {"controller": "ms", "action": "get", "_id": f"{ms.p}a"}
    with pytest.raises(errors.KuzzleError) as refused:
        await ms.app.sdk.query(query, check_rights=True)
    assert refused.value.status == 401
    await sync_to_async(open_to_anonymous)("ms:get")
    ms.app.security.invalidate()
    assert (await ms.app.sdk.query(query, check_rights=True))["result"] is None


async def test_over_http_routes(ms: MS) -> None:
    transport = httpx.ASGITransport(app=KuzzleASGI(app=ms.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        k = f"{ms.p}http"
        answer = await client.post(f"/ms/_set/{k}", json={"value": "v"})
        assert (answer.status_code, answer.json()["result"]) == (200, "OK")
        assert (await client.get(f"/ms/{k}")).json()["result"] == "v"
        await client.post(f"/ms/_zadd/{k}z", json={"elements": [{"score": 1, "member": "a"}]})
        ranged = await client.get(f"/ms/_zrange/{k}z", params={"start": 0, "stop": -1, "options": "withscores"})
        assert ranged.json()["result"] == ["a", "1"]
        assert (await client.get("/ms/_ping")).json()["result"] == "PONG"
        assert (await client.get(f"/ms/_hget/{k}h/f")).json()["result"] is None
        deleted = await client.request("DELETE", "/ms", json={"keys": [k, f"{k}z"]})
        assert deleted.json()["result"] == 2
        missing = await client.post("/ms/_append/x", json={})
        assert (missing.status_code, missing.json()["error"]["id"]) == (400, "api.assert.missing_argument")


async def test_over_websocket(ms: MS) -> None:
    ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=ms.app), "/")
    assert (await ws.connect())[0]
    k = f"{ms.p}ws"
    await ws.send_to(text_data=json.dumps({"controller": "ms", "action": "sadd", "_id": k, "body": {"members": ["a"]}}))
    assert (await ws.receive_json_from())["result"] == 1
    await ws.send_json_to({"controller": "ms", "action": "smembers", "_id": k, "requestId": "r"})
    envelope = await ws.receive_json_from()
    assert (envelope["requestId"], envelope["result"]) == ("r", ["a"])
    await ws.send_json_to({"controller": "ms", "action": "get", "_id": k})
    failed = await ws.receive_json_from()
    assert (failed["status"], failed["error"]["id"]) == (500, "services.cache.read_failed")
    await ws.disconnect()


def _request(action: str, controller: str = "ms", **data: Any) -> Any:
    from kuzzle_events.core.request import KuzzleRequest

    return KuzzleRequest({"controller": controller, "action": action, **data})
