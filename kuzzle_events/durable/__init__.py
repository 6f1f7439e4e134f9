"""Durable hooks: hook calls recorded in the database with the writes that caused them, run
after commit, retried with exponential backoff, kept as failed after their last try.

- :mod:`~kuzzle_events.durable.hooks`: registration (``app.hook.register(..., durable=True)``)
  and the recorder the engine awaits when the event fires;
- :mod:`~kuzzle_events.durable.store`: deliveries in the database (record, claim, complete, fail);
- :mod:`~kuzzle_events.durable.reservations`: deliveries reserved in a built-in document write's
  own transaction, confirmed when its ``after`` events fire;
- :mod:`~kuzzle_events.durable.runner`: the runner, in the server processes and in
  ``manage.py kuzzle_worker``.
"""

from __future__ import annotations

from kuzzle_events.durable.hooks import DEFAULT_BACKOFF, DEFAULT_RETRIES, Backoff, DurableHook, DurableHooks
from kuzzle_events.durable.runner import DurableRunner

__all__ = ["Backoff", "DEFAULT_BACKOFF", "DEFAULT_RETRIES", "DurableHook", "DurableHooks", "DurableRunner"]
