"""Which addresses of a connection are believed (kuzzle_events.protocols.addresses)."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import Application
from kuzzle_events.core.request import Connection
from kuzzle_events.protocols.addresses import forwarded_chain, parse_networks, trusted_chain, trusted_proxies
from kuzzle_events.protocols.session import Session


@pytest.mark.parametrize(
    ("trusted", "ips", "kept"),
    [
        ((), ["1.1.1.1", "10.0.0.1"], ["10.0.0.1"]),
        (("10.0.0.1",), ["1.1.1.1", "10.0.0.1"], ["1.1.1.1", "10.0.0.1"]),
        (("10.0.0.0/8",), ["6.6.6.6", "1.1.1.1", "10.0.0.2", "10.0.0.1"], ["1.1.1.1", "10.0.0.2", "10.0.0.1"]),
        (("10.0.0.1",), ["1.1.1.1", "2.2.2.2", "10.0.0.1"], ["2.2.2.2", "10.0.0.1"]),
        (("10.0.0.1",), ["not-an-ip", "10.0.0.1"], ["not-an-ip", "10.0.0.1"]),
        (("::1",), ["1.1.1.1", "::1"], ["1.1.1.1", "::1"]),
        (("10.0.0.1",), ["1.1.1.1", "::ffff:10.0.0.1"], ["1.1.1.1", "::ffff:10.0.0.1"]),
        (("10.0.0.1",), ["10.0.0.1"], ["10.0.0.1"]),
    ],
)
def test_trusted_chain(trusted: tuple[str, ...], ips: list[str], kept: list[str]) -> None:
    assert trusted_chain(ips, trusted_proxies(trusted)) == kept


def test_forwarded_chain() -> None:
    assert forwarded_chain({"x-forwarded-for": " 1.1.1.1, ,2.2.2.2"}, "10.0.0.1") == ["1.1.1.1", "2.2.2.2", "10.0.0.1"]
    assert forwarded_chain({}, None) == []


def test_bad_networks_are_named() -> None:
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_networks(["10.0.0.0/8", "10.0.0.300"])


def test_a_session_keeps_what_trusted_proxies_vouch_for(make_app) -> None:
    app: Application = make_app(TRUSTED_PROXIES=["10.0.0.1"])
    session = Session(app, Connection(protocol="http", ips=["9.9.9.9", "1.1.1.1", "10.0.0.1"]))
    assert session.connection.ips == ["1.1.1.1", "10.0.0.1"]
    untrusting = Session(make_app(), Connection(protocol="http", ips=["1.1.1.1", "10.0.0.1"]))
    assert untrusting.connection.ips == ["10.0.0.1"]


def test_trusted_proxies_setting_is_checked(make_app) -> None:
    from kuzzle_events.errors import PluginImplementationError

    with pytest.raises(PluginImplementationError, match="TRUSTED_PROXIES"):
        _ = make_app(TRUSTED_PROXIES=["nope"]).config


async def test_websocket_clients_behind_a_trusted_proxy(make_app) -> None:
    from channels.testing import WebsocketCommunicator

    from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer

    app: Application = make_app(TRUSTED_PROXIES=["127.0.0.0/8"])
    seen: list[list[str]] = []
    app.hook.register("connection:new", lambda connection: seen.append(connection["ips"]))
    await app.start()
    ws = WebsocketCommunicator(
        KuzzleConsumer.as_asgi(kuzzle_app=app), "/", headers=[(b"x-forwarded-for", b"6.6.6.6, 1.1.1.1")]
    )
    ws.scope["client"] = ("127.0.0.1", 5000)
    connected, _ = await ws.connect()
    assert connected
    await ws.disconnect()
    await app.events.drain_hooks()
    assert seen == [["1.1.1.1", "127.0.0.1"]]


@pytest.mark.parametrize("body", [b"", b"{}"])
async def test_http_clients_behind_a_trusted_proxy(make_app, body: bytes) -> None:
    # With and without a body: a request without one is read without a session of its own.
    import httpx

    from kuzzle_events.asgi import KuzzleASGI

    app: Application = make_app(TRUSTED_PROXIES=["127.0.0.0/8"])
    seen: list[list[str]] = []

    async def record(request: Any) -> Any:
        seen.append(request.context.connection.ips)
        return request

    app.pipe.register("server:beforeNow", record)
    await app.start()
    transport = httpx.ASGITransport(app=KuzzleASGI(app=app), client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = {"x-forwarded-for": "6.6.6.6, 1.1.1.1", "content-type": "application/json"}
        answer = await client.request("GET", "/_now", headers=headers, content=body)
    assert answer.status_code == 200
    assert seen == [["1.1.1.1", "127.0.0.1"]]
