"""Kuzzle's memory storage (the ``ms`` controller's Redis): the actions' arguments and the backend.

:mod:`~kuzzle_events.memory_storage.mapping` says where each command's arguments come from,
:mod:`~kuzzle_events.memory_storage.arguments` reads them (Kuzzle's checks and errors), and
:mod:`~kuzzle_events.memory_storage.backend` runs the commands on Redis, real or embedded.
"""

from __future__ import annotations

from kuzzle_events.memory_storage.backend import MemoryStorage
from kuzzle_events.memory_storage.mapping import MAPPING

__all__ = ["MAPPING", "MemoryStorage"]
