"""The plugin of ``bench/load.py``'s server: a pipe that makes ``server:info`` fail, so that the
load mixes answers of actions refused by a pipe with the others."""

from __future__ import annotations

from typing import Any

from kuzzle_events import KuzzleRequest
from kuzzle_events.errors import ForbiddenError
from kuzzle_events.plugin import Plugin

__all__ = ["LoadBenchPlugin", "REFUSED"]

REFUSED = "refused by the load bench's pipe"


class LoadBenchPlugin(Plugin):
    manifest = {"name": "load-bench", "version": "1.0.0", "kuzzle_events": ">=0.1,<1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        super().init(config, context)
        self.pipes = {"server:beforeInfo": "refuse"}

    async def refuse(self, request: KuzzleRequest) -> KuzzleRequest:
        raise ForbiddenError(REFUSED)
