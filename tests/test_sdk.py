"""Kuzzle's official JavaScript SDK (``kuzzle-sdk`` on npm) against a real server process.

``tests/sdk/scenario.mjs`` connects with ``new Kuzzle(new WebSocket(...))`` or
``new Kuzzle(new Http(...))``, runs the demo's calls and prints what the SDK got back as one JSON
object; these tests start the server (uvicorn, and Daphne through ``manage.py runserver``), run the
scenario over each protocol and check every field. ``scripts/test`` installs the SDK
(``npm ci`` in ``tests/sdk``); a missing Node.js or SDK fails these tests, it never skips them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.servers import DAPHNE, UVICORN, Server, get, query, serve

ROOT = Path(__file__).resolve().parent.parent
SDK_DIR = ROOT / "tests" / "sdk"
SDK_PIN = json.loads((SDK_DIR / "package.json").read_text())["dependencies"]["kuzzle-sdk"]
NODE_NAME = "knode-sdk"  # KUZZLE_NODE of the servers started here: envelopes must carry it
SERVER_ENV = {"DEMO_FORMAT_NOW": "1", "KUZZLE_NODE": NODE_NAME}
INSTALL_HINT = "run scripts/test, or install the SDK with: (cd tests/sdk && npm ci --no-audit --no-fund)"

ENVELOPE_KEYS = sorted(
    ["requestId", "status", "error", "controller", "action", "collection", "index", "volatile", "headers",
     "node", "result"]
)  # fmt: skip
RFC1123 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


@pytest.fixture(scope="module")
def uvicorn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("uvicorn")
    yield from serve("uvicorn", UVICORN, tmp, SERVER_ENV, ("Application shutdown complete.",))


@pytest.fixture(scope="module")
def daphne_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve("daphne", DAPHNE, tmp_path_factory.mktemp("daphne"), SERVER_ENV)


# -- the Node scenario -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail(f"node is not on PATH (the SDK tests need Node.js >= 20.10); {INSTALL_HINT}")
    installed = SDK_DIR / "node_modules" / "kuzzle-sdk" / "package.json"
    if not installed.is_file():
        pytest.fail(f"kuzzle-sdk is not installed in tests/sdk/node_modules: {INSTALL_HINT}")
    version = json.loads(installed.read_text())["version"]
    if version != SDK_PIN:
        pytest.fail(f"tests/sdk/node_modules has kuzzle-sdk {version}, package.json pins {SDK_PIN}: {INSTALL_HINT}")
    return path


def node_major(node: str) -> int:
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def run_scenario(
    node: str,
    server: Server,
    protocol: str,
    ws_client: str | None = None,
    auth: str | None = None,
    data: str | None = None,
    admin: str | None = None,
    ms: str | None = None,
) -> dict[str, Any]:
    command = [node, "scenario.mjs", "--host", "127.0.0.1", "--port", str(server.port), "--protocol", protocol]
    if auth is not None:
        command += ["--auth", auth]
    if admin is not None:
        command += ["--admin", admin]
    if data is not None:
        command += ["--data", data]
    if ms is not None:
        command += ["--ms", ms]
    if ws_client is not None:
        command += ["--ws-client", ws_client]
        if ws_client == "native" and node_major(node) < 22:
            command.insert(1, "--experimental-websocket")  # a global WebSocket, as in Node.js >= 22
    try:
        done = subprocess.run(command, cwd=SDK_DIR, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the {protocol} scenario ran over 30 s: {error.stdout!r} {error.stderr!r}\n{server.output()}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        results = json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail(f"no JSON from the {protocol} scenario (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    assert done.returncode == 0, (
        f"the {protocol} scenario failed: {results.get('failure')}\n{json.dumps(results, indent=2)}\n"
        f"{done.stderr}\n{server.output()}"
    )
    assert "failure" not in results
    return results


# -- expectations ------------------------------------------------------------------------------


def check_date(value: Any) -> None:
    """The demo's ``server:afterNow`` pipe: an RFC 1123 date of now instead of epoch milliseconds."""
    assert isinstance(value, str) and RFC1123.match(value), value
    assert abs(parsedate_to_datetime(value).timestamp() - time.time()) < 120


def check_uuid(value: Any) -> None:
    assert isinstance(value, str)
    uuid.UUID(value)


def check_envelope(
    got: dict[str, Any],
    protocol: str,
    controller: str,
    action: str,
    *,
    volatile: Any,
    headers: dict[str, str],
    request_id: str | None = None,
) -> None:
    """An envelope as the SDK resolves ``kuzzle.query``: every key, ``room`` only over WebSocket."""
    assert got["keys"] == sorted(ENVELOPE_KEYS + (["room"] if protocol == "websocket" else []))
    if request_id is None:
        check_uuid(got["requestId"])  # the SDK's own, or (over HTTP) the server's
    else:
        assert got["requestId"] == request_id
    assert got["status"] == 200
    assert got["error"] is None
    assert got["controller"] == controller
    assert got["action"] == action
    assert got["index"] is None
    assert got["collection"] is None
    assert got["volatile"] == volatile
    assert got["headers"] == headers
    assert got["node"] == NODE_NAME


def check_sdk_volatile(volatile: Any) -> None:
    """What the SDK adds to every request's volatile data, echoed back in the envelope."""
    assert sorted(volatile) == ["sdkInstanceId", "sdkName"]
    check_uuid(volatile["sdkInstanceId"])
    # The SDK names itself from its own out/package.json, which may carry a pre-release suffix.
    assert volatile["sdkName"].startswith(f"js@{SDK_PIN}")


def kuzzle_error(status: int, error_id: str, code: int, message: str, controller: str, action: str) -> dict[str, Any]:
    return {
        "kuzzleError": True,
        "name": "KuzzleError",
        "status": status,
        "id": error_id,
        "code": code,
        "message": message,
        "controller": controller,
        "action": action,
    }


def sdk_error(message: str) -> dict[str, Any]:
    """A plain ``Error`` the SDK raises itself, without asking the server."""
    return {
        "kuzzleError": False,
        "name": "Error",
        "status": None,
        "id": None,
        "code": None,
        "message": message,
        "controller": None,
        "action": None,
    }


ACTION_NOT_FOUND = (404, "api.process.action_not_found", 33685509, 'API action "server":"nope" not found')
CONTROLLER_NOT_FOUND = (404, "api.process.controller_not_found", 33685508, 'API controller "nope" not found.')
URL_NOT_FOUND = (404, "network.http.url_not_found", 50397191, "API URL not found: GET /_nope.")
# The demo raises ForbiddenError with its own id, not registered in the error table: code 0.
STRANGER = (403, "demo.greeting.stranger", 0, "The demo does not greet strangers")
HELLO_BODY = {"from": "kuzzle-sdk", "lang": "en"}
# The raw action's headers, as a WebSocket envelope lists them: names lower-cased, as Kuzzle's.
CARD_HEADERS = {"content-type": "text/plain; charset=utf-8", "x-greeting-card": "1"}


def check_results(results: dict[str, Any], protocol: str, ws_client: str | None = None) -> None:
    websocket = protocol == "websocket"
    common = ["now", "nowEnvelope", "checkToken", "adminExists", "sayHello", "sayHelloPost", "stranger", "unknownAction",
              "unknownController", "card"]  # fmt: skip
    expected_steps = (
        common + ["afterPings"] if websocket else ["routes", *common, "unknownUrl", "queryUnknownAction", "queryNow"]
    )
    expected_keys = {"sdkVersion", "protocol", "wsClient", "steps", "connected", "sdkProtocol", "events"}
    assert set(results) == expected_keys | set(expected_steps) | ({"sdkClient"} if websocket else set())
    assert results["steps"] == expected_steps
    assert results["sdkVersion"] == SDK_PIN
    assert results["protocol"] == protocol
    assert results["wsClient"] == ws_client
    assert results["connected"] is True
    assert results["sdkProtocol"] == ("ws" if websocket else "http")
    if websocket:
        # The client the SDK took: the `ws` package (protocol ping frames) or a global WebSocket
        # like a browser's (text pings {"p":1}, subprotocol "null" asked for at the handshake).
        assert results["sdkClient"] == ws_client
    # No dropped connection: over WebSocket, every ping (one per 500 ms) was answered in time.
    assert results["events"] == {"networkError": 0, "disconnected": 0, "reconnected": 0}

    if not websocket:
        # HttpProtocol's routes, built from GET /_publicApi: of sayHello's two routes of the same
        # length it keeps the GET one.
        assert results["routes"] == {
            "serverNow": {"verb": "GET", "url": "/_now", "path": "/_now"},
            "greetingSayHello": {"verb": "GET", "url": "/greeting/:name", "path": "/greeting/:name"},
            "greetingCard": {"verb": "GET", "url": "/greeting-card/:name", "path": "/greeting-card/:name"},
            "authCheckToken": {"verb": "POST", "url": "/_checkToken", "path": "/_checkToken"},
        }

    # server.now() returns result.now: the pipe's formatted date.
    assert results["now"]["type"] == "string"
    check_date(results["now"]["value"])

    now = results["nowEnvelope"]
    volatile = now["volatile"]
    check_sdk_volatile(volatile)  # over HTTP, sent in the x-kuzzle-volatile header
    assert now["sentRequestId"] == f"sdk-now-{protocol}"
    # Over HTTP, HttpProtocol keeps the request id to itself (no header): the server makes its own.
    request_id = now["sentRequestId"] if websocket else None
    check_envelope(now, protocol, "server", "now", volatile=volatile, headers={}, request_id=request_id)
    assert sorted(now["result"]) == ["now"]
    check_date(now["result"]["now"])

    assert results["checkToken"] == {"valid": True, "kuid": "-1", "expiresAt": -1}
    assert results["adminExists"] == {"exists": False}

    hello = results["sayHello"]
    check_envelope(hello, protocol, "greeting", "sayHello", volatile=volatile, headers={})
    # Over HTTP the SDK calls GET /greeting/Ada and moves the body's fields to the query string.
    assert hello["result"] == {"greeting": "Hello, Ada?", "body": HELLO_BODY if websocket else {}}
    hello_post = results["sayHelloPost"]
    check_envelope(hello_post, protocol, "greeting", "sayHello", volatile=volatile, headers={})
    assert hello_post["result"] == {"greeting": "Hello, Ada?", "body": HELLO_BODY}

    assert results["stranger"] == kuzzle_error(*STRANGER, "greeting", "sayHello")

    if websocket:
        assert results["unknownAction"] == kuzzle_error(*ACTION_NOT_FOUND, "server", "nope")
        assert results["unknownController"] == kuzzle_error(*CONTROLLER_NOT_FOUND, "nope", "nope")
    else:
        # HttpProtocol refuses actions /_publicApi does not list, before sending anything...
        assert results["unknownAction"] == sdk_error('No URL found for "server:nope".')
        assert results["unknownController"] == sdk_error('No URL found for "nope:nope".')
        # ...its customRoutes reach the server: an unknown URL, and POST /_query with a whole request.
        assert results["unknownUrl"] == kuzzle_error(*URL_NOT_FOUND, "server", "nope")
        assert results["queryUnknownAction"] == kuzzle_error(*ACTION_NOT_FOUND, "query", "nope")
        query_now = results["queryNow"]
        # /_query reads the request from its body, and the SDK's volatile header like any route
        # (sent here by a second SDK instance, with an instance id of its own).
        check_sdk_volatile(query_now["volatile"])
        check_envelope(query_now, protocol, "server", "now", volatile=query_now["volatile"], headers={})
        check_date(query_now["result"]["now"])
        assert sorted(query_now["result"]) == ["now"]

    card = results["card"]
    if websocket:
        # A raw result still comes in an envelope over WebSocket, with the handler's headers.
        assert card["type"] == "object"
        check_envelope(card, protocol, "greeting", "card", volatile=volatile, headers=CARD_HEADERS)
        assert card["result"] == "Dear Ada, hello."
    else:
        # No JSON Content-Type: HttpProtocol resolves with the body text itself.
        assert card == {"type": "string", "value": "Dear Ada, hello."}

    if websocket:
        after = results["afterPings"]
        assert sorted(after) == ["connected", "now", "pingsSent"]
        assert after["connected"] is True
        assert after["pingsSent"] >= 3
        check_date(after["now"])


# -- tests -------------------------------------------------------------------------------------


# WebSocket through the `ws` package (the SDK in Node.js without a global WebSocket) and through a
# global WebSocket (the SDK in browsers and in Node.js >= 22); then HTTP.
CLIENTS = pytest.mark.parametrize(
    ("protocol", "ws_client"),
    [("websocket", "ws"), ("websocket", "native"), ("http", None)],
    ids=["websocket-ws", "websocket-native", "http"],
)


@CLIENTS
def test_sdk_against_uvicorn(node: str, uvicorn_server: Server, protocol: str, ws_client: str | None) -> None:
    check_results(run_scenario(node, uvicorn_server, protocol, ws_client), protocol, ws_client)


@CLIENTS
def test_sdk_against_daphne(node: str, daphne_server: Server, protocol: str, ws_client: str | None) -> None:
    check_results(run_scenario(node, daphne_server, protocol, ws_client), protocol, ws_client)


@pytest.mark.parametrize("server_fixture", ["uvicorn_server", "daphne_server"])
def test_raw_card_over_http(server_fixture: str, request: pytest.FixtureRequest) -> None:
    """What the SDK cannot show of the raw answer it resolved with: status and headers."""
    server: Server = request.getfixturevalue(server_fixture)
    status, headers, body = get(server.port, "/greeting-card/Ada")
    assert status == 200
    assert body == b"Dear Ada, hello."
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["x-greeting-card"] == "1"
    check_uuid(headers["x-kuzzle-request-id"])


def test_node_fetch_reads_options_and_compressed_answers(node: str, uvicorn_server: Server) -> None:
    """Node's fetch (undici) refuses an answer with two Content-Length lines, and decompresses what
    it accepts (gzip, deflate, br): both as browsers' preflights and SDK calls meet them."""
    script = """
const base = process.argv[1];
const options = await fetch(base + "/_now", { method: "OPTIONS", headers: { Origin: "http://front.example" } });
const now = await fetch(base + "/_now");
console.log(JSON.stringify({
  options: [options.status, options.headers.get("access-control-allow-origin"), await options.text()],
  now: [now.headers.get("content-encoding"), now.headers.get("x-kuzzle-node"), (await now.json()).node],
}));
"""
    base = f"http://127.0.0.1:{uvicorn_server.port}"
    done = subprocess.run([node, "--input-type=module", "-e", script, base], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    status, origin, body = result["options"]
    # Kuzzle's answer to OPTIONS: an envelope of no action whose result is {}.
    assert (status, origin, json.loads(body)["result"]) == (200, "http://front.example", {})
    assert result["now"] == ["gzip", NODE_NAME, NODE_NAME]


# -- users, tokens and rights ------------------------------------------------------------------

ADA = {"username": "ada", "password": "ada-secret-pw"}


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn with a first administrator, and Ada, whose role grants greeting:sayHello."""
    for server in serve("secured", UVICORN, tmp_path_factory.mktemp("secured"), SERVER_ENV):
        boss = {"username": "boss", "password": "boss-secret-pw"}
        steps = [
            {
                "controller": "security",
                "action": "createFirstAdmin",
                "reset": True,
                "body": {"credentials": {"local": boss}},
            },
            {"controller": "auth", "action": "login", "strategy": "local", "body": boss},
        ]
        for request in steps:
            answer = query(server.port, request)
            assert answer["status"] == 200, answer
        jwt = answer["result"]["jwt"]  # type: ignore[index]
        for request in [
            {"action": "createRole", "_id": "greeter", "body": {"controllers": {"greeting": {"actions": {"sayHello": True}}}}},
            {"action": "createProfile", "_id": "greeters", "body": {"policies": [{"roleId": "greeter"}, {"roleId": "default"}]}},
            {"action": "createUser", "_id": "ada", "body": {"content": {"profileIds": ["greeters"], "name": "Ada"},
                                                            "credentials": {"local": ADA}}},
        ]:  # fmt: skip
            answer = query(server.port, {"controller": "security", "jwt": jwt, **request})
            assert answer["status"] == 200, answer
        yield server


@CLIENTS
def test_sdk_login_rights_and_logout(node: str, secured_server: Server, protocol: str, ws_client: str | None) -> None:
    results = run_scenario(node, secured_server, protocol, ws_client, auth=f"{ADA['username']}:{ADA['password']}")
    assert results["steps"] == [
        "anonymousBefore", "login", "allowed", "forbidden", "currentUser", "checkToken", "logout", "anonymousAfter"
    ]  # fmt: skip
    unauthorized = kuzzle_error(
        401, "security.rights.unauthorized", 117637121,
        'Unauthorized: authentication required to execute the action "greeting:sayHello".', "greeting", "sayHello",
    )  # fmt: skip
    assert results["anonymousBefore"] == unauthorized
    login = results["login"]
    assert login["jwt"] == login["sdkJwt"] and login["jwt"].count(".") == 2
    assert login["authenticated"] is True
    assert results["allowed"] == {"greeting": "Hello, Ada!", "body": {}}
    assert results["forbidden"] == kuzzle_error(
        403, "security.rights.forbidden", 117637122,
        'Insufficient permissions to execute the action "security:getRole" (User "ada").', "security", "getRole",
    )  # fmt: skip
    assert results["currentUser"] == {"_id": "ada", "content": {"name": "Ada", "profileIds": ["greeters"]},
                                      "profileIds": ["greeters"]}  # fmt: skip
    check = results["checkToken"]
    assert check["valid"] is True and check["kuid"] == "ada" and check["expiresAt"] > time.time() * 1000
    assert results["logout"] == {"sdkJwt": None}
    assert results["anonymousAfter"] == unauthorized
    assert results["events"] == {"networkError": 0, "disconnected": 0, "reconnected": 0}


@CLIENTS
def test_sdk_api_keys_and_check_rights(node: str, secured_server: Server, protocol: str, ws_client: str | None) -> None:
    results = run_scenario(node, secured_server, protocol, ws_client, admin="boss:boss-secret-pw")
    assert results["steps"] == [
        "adminLogin", "restrictedUser", "createApiKey", "searchApiKeys", "adminCheckRights", "asApiKey", "exportUsers",
        "deleteApiKey",
    ]  # fmt: skip
    exported = results["exportUsers"]
    assert {"ada", "cleo"} <= set(exported["ids"]) and exported["batches"] == len(exported["ids"])
    assert results["restrictedUser"] == {"_id": "cleo", "_source": {"profileIds": ["checkers"]}}
    key_id = f"sdk-key-{protocol}-{ws_client or 'ws'}"
    assert results["createApiKey"] == {
        "_id": key_id, "userId": "cleo", "description": "sdk key", "expiresAt": -1, "ttl": -1, "fingerprintLength": 64,
    }  # fmt: skip
    assert key_id in results["searchApiKeys"]["ids"] and results["searchApiKeys"]["tokens"] == 0
    assert results["adminCheckRights"] == {"hello": True, "getRole": False}
    assert results["asApiKey"] == {"_id": "cleo", "hello": True, "getRole": False}
    assert key_id not in str(results["deleteApiKey"]) and results["deleteApiKey"]["valid"] is False


# -- documents and realtime --------------------------------------------------------------------


@CLIENTS
def test_sdk_documents_and_realtime(node: str, uvicorn_server: Server, protocol: str, ws_client: str | None) -> None:
    query(uvicorn_server.port, {"controller": "index", "action": "create", "index": "sdk-shop"})
    results = run_scenario(node, uvicorn_server, protocol, ws_client, data="sdk-shop")
    websocket = protocol == "websocket"
    steps = ["collectionCreate", "create", "get", "update", "search", "delete"]
    assert results["steps"] == (["collectionCreate", "subscribe", *steps[1:], "unsubscribe"] if websocket else steps)
    assert results["collectionList"]["type"] == "all"
    assert f"stored:items-{protocol}-{ws_client or 'sdk'}" in results["collectionList"]["names"]
    assert results["create"] == {"_id": "pen", "name": "pen", "author": "-1"}
    assert results["get"] == {"_id": "pen", "_source": {"name": "pen", "price": 2}}
    # As Kuzzle answers document:update without `source`: the changes, not the whole document.
    assert results["update"] == {"_id": "pen", "price": 3}
    assert results["search"] == {"total": 1, "ids": ["pen"]}
    assert results["delete"] == "pen"
    assert results["esSearch"] == {"total": 6, "ids": ["n10", "n08", "n06"]}
    assert results["scroll"] == {"total": 12, "pages": 3, "ids": [f"n{n:02}" for n in range(12)]}
    assert results["mPartial"] == {
        "successes": [["m1", 1, 201, "created"]],
        # Bad items first, then the documents that could not be written, as Kuzzle lists them.
        "errors": [["m2", 400, "document body must be an object"], ["n00", 400, "document already exists"]],
        "get": {"successes": ["m1"], "errors": ["m2"]},
        "delete": {"successes": ["m1"], "errors": [["m2", 404]]},
    }
    if not websocket:
        return
    notes = results["notifications"]
    # The cheap publish (not the car), the pen's creation, its update and its deletion; nothing
    # after unsubscribing, and the yacht never matched.
    assert [(n["action"], n["event"], n["scope"]) for n in notes] == [
        ("publish", "publish", "in"),
        ("create", "write", "in"),
        ("update", "write", "in"),
        ("delete", "delete", "out"),
    ]
    assert notes[0]["result"]["_source"] == {"name": "gum", "price": 1}
    assert notes[1]["result"]["_id"] == "pen"
    assert results["unsubscribe"] == {"afterUnsubscribe": 4}


# -- memory storage ----------------------------------------------------------------------------


@CLIENTS
def test_sdk_memory_storage(node: str, uvicorn_server: Server, protocol: str, ws_client: str | None) -> None:
    prefix = f"sdk:{uuid.uuid4().hex[:8]}:"
    results = run_scenario(node, uvicorn_server, protocol, ws_client, ms=prefix)
    assert "set" not in results  # the SDK answers set with nothing (undefined)
    assert results["get"] == "10"
    assert results["incrbyfloat"] == 10.5  # the SDK parses the float Redis answers as text
    assert results["mget"] == ["10.5", None]
    assert results["zadd"] == 2
    assert results["zrange"] == [{"member": "a", "score": 1}, {"member": "b", "score": 2}]
    assert results["zrangebyscore"] == [{"member": "b", "score": 2}]
    assert results["hset"] is True and results["hgetall"] == {"f": "v"}
    assert results["sadd"] == 2
    assert results["scan"] == {"cursorType": "string", "values": sorted(f"{prefix}{k}" for k in ("h", "s", "set", "z"))}
    assert results["geoadd"] == 1
    assert results["georadius"] == [{"name": "Palermo", "distanceType": "number"}]
    assert results["exists"] == 2
    wrong = results["wrongType"]
    assert (wrong["status"], wrong["id"]) == (500, "services.cache.write_failed")
    assert wrong["message"] == "Cache write fail: WRONGTYPE Operation against a key holding the wrong kind of value"
    assert (results["missing"]["status"], results["missing"]["id"]) == (400, "api.assert.missing_argument")
    assert results["del"] == 5
