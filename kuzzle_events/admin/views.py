"""Admin pages: what the application registered (controllers, events, plugins), its figures, and
the deliveries of its durable hooks (pending and failed, to retry or discard).

Modelled on ``django.contrib.admindocs``: no model and no ``AdminSite`` subclass, only staff-only
``TemplateView`` pages rendered inside the admin with ``admin.site.each_context()``. The admin is an
entry point like the others: a page starts the application if nothing has yet (which initialises
the plugins), so that what it shows is what requests run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView

from kuzzle_events.core.catalog import EVENTS
from kuzzle_events.core.controllers import ControllerDef
from kuzzle_events.orm import orm
from kuzzle_events.switches import KINDS, PERMISSION, UnknownListener

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.listeners import Listener

__all__ = ["KuzzleAdminView", "ControllersView", "DeliveriesView", "EventsView", "PluginsView", "SwitchView"]

# Built-in controllers first, then the application's, then each plugin's.
_OWNER_RANK = {"core": 0, "application": 1}


class KuzzleAdminView(TemplateView):
    """Base of the pages: staff only, admin context, the application started.

    ``kuzzle_app`` defaults to ``kuzzle_events.app`` (``as_view(kuzzle_app=...)`` to show another).
    """

    kuzzle_app: Application | None = None
    title = ""

    @method_decorator(staff_member_required)
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().dispatch(request, *args, **kwargs)

    def get_app(self) -> Application:
        return _app_of(self.kuzzle_app)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        app = self.get_app()
        if not app.started:
            app.start_sync()
        # Figures are folded and chains resolved on the application's own loop, never beside it
        # from this thread: the loop updates the very counters that are read here.
        data = app.run_sync(self.collect, app)
        return super().get_context_data(
            **{**kwargs, **admin.site.each_context(self.request), "title": self.title, **data}
        )

    async def collect(self, app: Application) -> dict[str, Any]:
        """The page's data, gathered on the application's loop."""
        return {}


class ControllersView(KuzzleAdminView):
    """Every controller and action: owner, HTTP routes, the three events, figures."""

    template_name = "kuzzle_events/admin/controllers.html"
    title = "Controllers"

    async def collect(self, app: Application) -> dict[str, Any]:
        figures = app.stats()["actions"]
        controllers = sorted(app.controller.controllers.values(), key=_controller_order)
        return {
            "controllers": [
                {
                    "name": controller.name,
                    "owner": controller.owner,
                    "actions": [
                        {
                            "name": act.name,
                            "routes": [(route.verb.upper(), route.path) for route in act.routes],
                            "events": [_listened(app, name) for name in (act.before, act.after, act.error)],
                            "figures": figures[f"{controller.name}:{act.name}"],
                        }
                        for act in controller.actions.values()
                    ],
                }
                for controller in controllers
            ]
        }


class EventsView(KuzzleAdminView):
    """Every event with listeners (pipes and hooks in execution order, figures) and the catalog."""

    template_name = "kuzzle_events/admin/events.html"
    title = "Events"

    async def collect(self, app: Application) -> dict[str, Any]:
        stats = app.stats()["events"]
        figures = {row["id"]: row for lists in stats.values() for rows in lists.values() for row in rows}
        documented = {event.name for event in EVENTS if not event.is_pattern}
        of_actions = {
            name
            for controller in app.controller.controllers.values()
            for act in controller.actions.values()
            for name in (act.before, act.after, act.error)
        }
        listened = []
        for name, (own_pipes, own_hooks) in app.events.registered().items():
            if name.endswith("*"):
                pipes, hooks = own_pipes, own_hooks
            else:
                # A concrete name also runs its wildcard variants' listeners, after its own (those
                # switched off are shown in their place, marked).
                planned = app.events.planned(name)
                pipes, hooks = list(planned[0]), list(planned[1])
            listened.append(
                {
                    "name": name,
                    "origin": _origin(name, documented, of_actions),
                    "pipes": [_listener_row(app, p, figures) for p in pipes],
                    "hooks": [_listener_row(app, h, figures) for h in hooks],
                }
            )
        catalog = []
        for event in EVENTS:
            listening = None if event.is_pattern else app.events.listeners(event.name)
            catalog.append(
                {
                    "event": event,
                    "payload": ", ".join(event.payload),
                    "pipes": None if listening is None else len(listening.pipes),
                    "hooks": None if listening is None else len(listening.hooks) + len(listening.records),
                }
            )
        return {"listened": listened, "catalog": catalog}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Whether the switches are buttons or only a state (the permission of its own).
        return {**super().get_context_data(**kwargs), "can_switch": self.request.user.has_perm(PERMISSION)}


class SwitchView(View):
    """``POST``: switch one pipe or hook off (``enabled=0``) or back on (``enabled=1``), for every
    server process; staff with the ``kuzzle_events.switch_listener`` permission only (CSRF checked
    by Django's middleware). Back to the Events page, with a message."""

    kuzzle_app: Application | None = None
    http_method_names = ["post"]

    @method_decorator(staff_member_required)
    @method_decorator(permission_required(PERMISSION, raise_exception=True))
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest) -> HttpResponseBase:
        app = _app_of(self.kuzzle_app)
        if not app.started:
            app.start_sync()
        kind = request.POST.get("kind", "")
        event = request.POST.get("event", "")
        name = request.POST.get("listener", "")
        enabled = request.POST.get("enabled") == "1"
        back = reverse("kuzzle_events_admin:events")
        if kind not in KINDS:
            messages.error(request, f"Unknown kind {kind!r}: choose pipe or hook.")
            return HttpResponseRedirect(back)
        try:
            app.run_sync(app.switches.set, kind, event, name, enabled=enabled, changed_by=request.user.get_username())
        except UnknownListener as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(back)
        messages.success(request, f"{kind} {name} on {event} switched {'on' if enabled else 'off'}.")
        return HttpResponseRedirect(f"{back}#event-{event}")


class PluginsView(KuzzleAdminView):
    """Every loaded plugin: name, version, manifest, and what it registered."""

    template_name = "kuzzle_events/admin/plugins.html"
    title = "Plugins"

    async def collect(self, app: Application) -> dict[str, Any]:
        plugins = app.plugin.describe().values()
        return {
            "plugins": [
                {**plugin, "manifest_json": json.dumps(plugin["manifest"], indent=2, sort_keys=True, default=str)}
                for plugin in plugins
            ]
        }


_listing = orm("kuzzle_events.durable.store", "listing")
_ACTIONS = {"retry": "retry", "discard": "discard"}


class DeliveriesView(KuzzleAdminView):
    """The durable hooks' deliveries waiting to run (or running) and those that failed for good,
    each with its last error; a POST (``action`` = ``retry`` or ``discard``, ``delivery`` = its
    id) retries one (pending again, due now, all its tries) or discards it (deleted)."""

    template_name = "kuzzle_events/admin/deliveries.html"
    title = "Deliveries"

    async def collect(self, app: Application) -> dict[str, Any]:
        known = set(app.durable.hooks)
        data: dict[str, Any] = {"known": sorted(known)}
        for status in ("pending", "failed"):
            rows, count = await _listing(status)
            for row in rows:
                row["known"] = row["hook"] in known
            data.setdefault("sections", []).append((status, rows, count))
        return data

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from kuzzle_events.durable import store

        action, delivery = request.POST.get("action", ""), request.POST.get("delivery", "")
        if action not in _ACTIONS or not delivery:
            return HttpResponseBadRequest("action must be retry or discard, with the delivery's id")
        if getattr(store, _ACTIONS[action])(delivery):
            if action == "retry":
                self.get_app().durable.wake()
            messages.success(request, f"Delivery {delivery}: {'pending again' if action == 'retry' else 'discarded'}.")
        else:
            messages.warning(request, f"Delivery {delivery}: not found, or being run right now; nothing was done.")
        return HttpResponseRedirect(reverse("kuzzle_events_admin:deliveries"))


def _controller_order(controller: ControllerDef) -> tuple[int, str, str]:
    return (_OWNER_RANK.get(controller.owner, 2), controller.owner, controller.name)


def _listened(app: Application, event: str) -> dict[str, Any]:
    """An event's name and how many pipes and hooks run for it (wildcard variants included)."""
    chain = app.events.listeners(event)
    return {"name": event, "pipes": len(chain.pipes), "hooks": len(chain.hooks) + len(chain.records)}


def _origin(name: str, documented: set[str], of_actions: set[str]) -> str:
    if name in documented:
        return "documented"
    if name in of_actions:
        return "action"
    return "wildcard" if name.endswith("*") else "custom"


def _app_of(given: Application | None) -> Application:
    if given is None:
        from kuzzle_events import app

        return app
    return given


def _listener_row(app: Application, listener: Listener, figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kind = "hook" if listener.kind == "durable" else listener.kind  # a durable hook is switched as a hook
    return {
        "id": listener.id,
        "kind": kind,
        "name": listener.name,
        "owner": listener.owner,
        "priority": listener.priority,
        "event": listener.event,
        "durable": listener.id.startswith("durable-"),
        "figures": figures[listener.id],
        "off": app.events.is_off(listener),
        "switch": app.switches.record(kind, listener.event, listener.name),
    }

