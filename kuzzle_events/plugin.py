"""``from kuzzle_events.plugin import Plugin, pipe, hook``: the public names of :mod:`kuzzle_events.plugins`."""

from __future__ import annotations

from kuzzle_events.plugins import PLUGIN_NAME, Plugin, hook, pipe

__all__ = ["Plugin", "pipe", "hook", "PLUGIN_NAME"]
