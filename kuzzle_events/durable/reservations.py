"""Deliveries reserved in the transaction of a built-in document write.

The ``after`` events of a write (``document:after<Action>``, ``generic:document:after<Family>``,
``bulk:after<Action>``) fire once the write has committed. So that a committed write never loses
the durable hooks of those events (a process killed between the commit and the events), their
deliveries are *reserved* in the write's own transaction: pending rows held for ``DURABLE_LEASE``
seconds by the request, with the payload the events would carry before their pipes. When an event
fires, its recorder confirms the reservation instead of recording anew: the payload becomes the
one the pipes left, and the delivery is free to run (after the commit of the confirmation). A
reservation nobody confirms (its process died, or the request failed after its write) runs once its
hold ends, with the payload recorded at the write. A write rolled back takes its reservations with
it. Which hooks a write reserves is resolved once per action and change of listeners: without
durable hooks on its events, a write runs as it did, with no more queries.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from kuzzle_events.durable.payload import request_form, to_json
from kuzzle_events.orm import orm

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["Plan", "planned", "write", "reserve_in_transaction"]

Plan = tuple[tuple[str, tuple[str, ...]], ...]
"""``((event, (hook key, ...)), ...)``: the durable hooks each ``after`` event of a write records."""

# The actions on one document: the provisional result is that document.
_SINGLE = frozenset({"create", "createOrReplace", "replace", "update", "upsert", "delete", "deleteFields", "write"})
_hop = orm("kuzzle_events.durable.reservations", "reserve_in_transaction")


def planned(app: Application, request: KuzzleRequest) -> Plan:
    """The durable hooks the ``after`` events of ``request``'s action will record (empty: none)."""
    durable = app.durable
    if not durable.hooks:  # the application's fast path: no durable hook at all
        return ()
    events = app.events
    name = (request.input.controller, request.input.action)
    cached = durable.plans.get(name)
    if cached is not None and cached[0] == events.generation:
        return cached[1]
    act = app.funnel.controllers.find(*name)
    plan: Plan = ()
    if act is not None:
        names = [act.after] + ([act.generic.after_event] if act.generic is not None else [])
        # (Each recorder carries its hook's key: kuzzle_events.durable.hooks._recorder.)
        plan = tuple(
            (event, keys)
            for event in names
            if (keys := tuple(r.fn.durable_key for r in events.listeners(event).records))  # type: ignore[attr-defined]
        )
    durable.plans[name] = (events.generation, plan)
    return plan


async def write(app: Application, request: KuzzleRequest, plan: Plan, function: str, *args: Any, **kwargs: Any) -> Any:
    """``function(*args)`` (a write of :mod:`kuzzle_events.documents.writes`, by name) in one hop,
    with the reservations of ``plan`` in its transaction when it wrote something; its result."""
    holder = f"request:{uuid.uuid4().hex}"
    base = to_json((request_form(request),), plan[0][1][0], plan[0][0])[0]
    single = request.input.action in _SINGLE
    result, reserved = await _hop(plan, base, single, holder, app.config.DURABLE_LEASE, function, args, kwargs)
    if reserved:
        app.durable.reserved.setdefault(request, {}).update(
            {(key, event): (delivery_id, holder) for (key, event), delivery_id in reserved.items()}
        )
    return result


def reserve_in_transaction(
    plan: Plan,
    base: dict[str, Any],
    single: bool,
    holder: str,
    lease: float,
    function: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Any, dict[tuple[str, str], str]]:
    """The write, then its reservations, in one transaction (sync: the hop's side)."""
    from django.db import transaction

    from kuzzle_events.documents import writes
    from kuzzle_events.durable import store

    with transaction.atomic():
        result = getattr(writes, function)(*args, **kwargs)
        outcomes = result if isinstance(result, list) else []
        written = [_document(o) for o in outcomes if "error" not in o]
        if not written:
            return result, {}
        # apply's outcomes are in the order of its operations (args[2]), which name the failed ids.
        operations = args[2] if function == "apply" else [{}] * len(outcomes)
        failures = [
            {"_id": o.get("_id", op.get("_id")), "reason": o["error"].message, "status": o["error"].status}
            for op, o in zip(operations, outcomes, strict=True)
            if "error" in o
        ]
        provisional = dict(base, status=200, result=written[0] if single else {"successes": written, "errors": failures})
        payloads = {
            event: [written, provisional] if event.startswith("generic:document:") else [provisional]
            for event, _ in plan
        }
        reserved = store.reserve(
            [(key, event, payloads[event]) for event, keys in plan for key in keys], holder, lease
        )
    return result, reserved


def _document(outcome: dict[str, Any]) -> dict[str, Any]:
    return {k: outcome[k] for k in ("_id", "_source", "_version") if k in outcome}
