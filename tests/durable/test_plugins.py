"""Durable hooks of plugins: the decorator form and Kuzzle's ``hooks`` dict with options."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import Application
from kuzzle_events.errors import PluginImplementationError
from kuzzle_events.plugin import Plugin, hook
from kuzzle_events.testing import run_durable_hooks, started_app


class Mailer(Plugin):
    manifest = {"name": "mailer", "kuzzle_events": ">=0.1"}

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, str]] = []
        self.hooks = {
            "shop:ordered": {"handler": "receipt", "durable": True, "retries": 1, "backoff": 0},
            "shop:viewed": [{"handler": "count", "durable": False}],
        }

    @hook("shop:ordered", durable=True, retries=0)
    async def notify(self, order: dict[str, Any], *, delivery_id: str) -> None:
        self.sent.append(("notify", order["id"], delivery_id))

    async def receipt(self, order: dict[str, Any], *, delivery_id: str) -> None:
        self.sent.append(("receipt", order["id"], delivery_id))

    async def count(self, page: str) -> None:
        self.sent.append(("viewed", page, ""))


async def test_a_plugins_durable_hooks_in_both_forms_are_recorded_then_run() -> None:
    mailer = Mailer()

    def setup(app: Application) -> None:
        app.plugin.use(mailer)

    async with started_app(setup, plugins=False, DURABLE_RUNNER=False) as app:
        hooks = {hook.name.rpartition(".")[2]: hook for hook in app.durable.hooks.values()}
        assert sorted(hooks) == ["notify", "receipt"]
        assert {h.owner for h in hooks.values()} == {"mailer"}
        assert (hooks["notify"].retries, hooks["receipt"].retries, hooks["receipt"].backoff) == (0, 1, 0)
        await app.trigger("shop:ordered", {"id": "o1"})
        await app.trigger("shop:viewed", "home")
        await app.events.drain_hooks()
        assert mailer.sent == [("viewed", "home", "")]  # the ordinary hook only, so far
        assert await run_durable_hooks(app) == 2
    done = sorted(mailer.sent[1:])
    assert [(kind, order) for kind, order, _ in done] == [("notify", "o1"), ("receipt", "o1")]
    assert done[0][2] != done[1][2]  # one delivery per hook


class Sloppy(Plugin):
    manifest = {"name": "sloppy", "kuzzle_events": ">=0.1"}

    def __init__(self) -> None:
        super().__init__()
        self.hooks = {"shop:ordered": {"handler": "receipt", "durable": True, "retry": 3}}

    async def receipt(self, order: Any, *, delivery_id: str) -> None: ...


class NoDeliveryId(Plugin):
    manifest = {"name": "no-delivery-id", "kuzzle_events": ">=0.1"}

    @hook("shop:ordered", durable=True)
    async def receipt(self, order: Any) -> None: ...


@pytest.mark.parametrize(("plugin", "fragment"), [(Sloppy, '"handler" and "durable"'), (NoDeliveryId, "delivery_id")])
async def test_a_plugins_wrong_durable_hook_stops_the_start(kapp: Application, plugin: type, fragment: str) -> None:
    kapp.plugin.use(plugin())
    with pytest.raises(PluginImplementationError, match=fragment) as refused:
        await kapp.start()
    assert refused.value.id == "plugin.assert.invalid_hook"
