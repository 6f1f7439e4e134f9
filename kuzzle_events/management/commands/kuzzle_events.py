"""``manage.py kuzzle_events list``: what the application serves and what listens to it, as tables.

    manage.py kuzzle_events list               # controllers, documented events, listeners
    manage.py kuzzle_events list controllers   # controllers and actions, owner, HTTP routes
    manage.py kuzzle_events list routes        # HTTP routes by path
    manage.py kuzzle_events list events        # the documented events
    manage.py kuzzle_events list listeners     # every event with pipes or hooks, in execution order
    manage.py kuzzle_events list switches      # the pipes and hooks switched off or back on: who, when

    manage.py kuzzle_events disable pipe server:afterNow myapp.pipes.format_now [--by alice]
    manage.py kuzzle_events enable pipe server:afterNow myapp.pipes.format_now

``disable``/``enable`` switch one listener, named by its kind, the event it is registered on and its
qualified name (as ``list listeners`` shows them), off or back on for every server process (stored
in the database; served processes apply it within ``SWITCHES_POLL_INTERVAL`` seconds).

Plugins wire their controllers, pipes and hooks when the application starts, so the command starts
it first (as ``manage.py kuzzle`` does); ``--no-start`` lists only what ``ready()`` registered.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kuzzle_events.core.catalog import EVENTS
from kuzzle_events.errors import KuzzleError

if TYPE_CHECKING:
    from kuzzle_events import Application

SECTIONS = ("controllers", "routes", "events", "listeners", "switches")
_ALL = ("controllers", "events", "listeners")  # routes are in the controllers table already


class Command(BaseCommand):
    help = (
        "Inspect the kuzzle_events application: `list` its controllers, routes, events and listeners; "
        "`disable` or `enable` one pipe or hook."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="subcommand", required=True)
        listing = subcommands.add_parser("list", help="print controllers, routes, events and listeners as tables")
        listing.add_argument(
            "sections", nargs="*", metavar="{" + ",".join(SECTIONS) + "}",
            help="what to list (default: controllers, events and listeners)",
        )  # fmt: skip
        listing.add_argument(
            "--no-start", action="store_false", dest="start", help="do not start the application (plugins not wired)"
        )
        for name, verb in (("disable", "off"), ("enable", "back on")):
            switch = subcommands.add_parser(name, help=f"switch one pipe or hook {verb}, for every server process")
            switch.add_argument("kind", choices=("pipe", "hook"))
            switch.add_argument("event", help="the event it is registered on (as `list listeners` shows it)")
            switch.add_argument("listener", help="its qualified name (module.function)")
            switch.add_argument("--by", default="", help="who switches it, as recorded (default: the system user)")
            switch.add_argument(
                "--no-start", action="store_false", dest="start",
                help="do not start the application (only listeners registered by ready() are known)",
            )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        from kuzzle_events import app  # the application is built on first use, after every ready()

        if options["subcommand"] in ("disable", "enable"):
            self.switch(app, options)
            return
        unknown = [s for s in options["sections"] if s not in SECTIONS]
        if unknown:
            raise CommandError(f"Unknown section(s) {', '.join(unknown)}: choose among {', '.join(SECTIONS)}.")
        if options["start"]:
            try:
                app.start_sync()
            except KuzzleError as error:
                raise CommandError(f"The application could not start: [{error.status}] {error.id}: {error}") from None
        builders: dict[str, Callable[[Application], Table]] = {
            "controllers": controllers_table,
            "routes": routes_table,
            "events": documented_events_table,
            "listeners": listeners_table,
            "switches": switches_table,
        }
        sections = list(dict.fromkeys(options["sections"] or _ALL))
        for index, section in enumerate(sections):
            title, headers, rows, note = builders[section](app)
            if index:
                self.stdout.write("")
            self.stdout.write(self.style.MIGRATE_HEADING(f"{title} ({len(rows)})"))
            self.stdout.write(render_table(headers, rows))
            if note:
                self.stdout.write(note)

    def switch(self, app: Application, options: dict[str, Any]) -> None:
        """``disable`` / ``enable``: store the switch; served processes pick it up."""
        from kuzzle_events.switches import UnknownListener, check_listener_exists, store

        if options["start"]:
            try:
                app.start_sync()
            except KuzzleError as error:
                raise CommandError(f"The application could not start: [{error.status}] {error.id}: {error}") from None
        kind, event, name = options["kind"], options["event"], options["listener"]
        try:
            check_listener_exists(app, kind, event, name)
        except UnknownListener as error:
            raise CommandError(str(error)) from None
        enabled = options["subcommand"] == "enable"
        by = options["by"] or f"{getpass.getuser()} (manage.py)"
        record = store.save(kind, event, name, enabled, by)
        state = "on" if enabled else "off"
        self.stdout.write(
            f"{kind} {name} on {event}: switched {state} by {by} at {record['changed_at']:%Y-%m-%d %H:%M:%S %Z}"
        )


# Tables: (title, headers, rows, note) ---------------------------------------------------------

Table = tuple[str, Sequence[str], Sequence[Sequence[str]], str]


def controllers_table(app: Application) -> Table:
    rows = []
    for name, controller in sorted(app.controller.controllers.items()):
        for action_name, act in sorted(controller.actions.items()):
            routes = ", ".join(f"{r.verb.upper()} {r.path}" for r in act.routes) or "(WebSocket and /_query only)"
            rows.append((name, action_name, act.owner, routes))
    return "Controllers", ("CONTROLLER", "ACTION", "OWNER", "HTTP ROUTES"), rows, ""


def routes_table(app: Application) -> Table:
    rows = []
    for controller in app.controller.controllers.values():
        for act in controller.actions.values():
            for route in act.routes:
                rows.append((route.verb.upper(), route.path, f"{act.controller}:{act.name}", act.owner))
    rows.sort(key=lambda row: (row[1], row[0]))
    return "HTTP routes", ("VERB", "PATH", "ACTION", "OWNER"), rows, ""


def documented_events_table(app: Application) -> Table:
    rows = [(e.name, e.kind, ", ".join(e.payload) or "-", e.when) for e in EVENTS]
    return "Documented events", ("EVENT", "FOR", "PAYLOAD", "WHEN"), rows, ""


def listeners_table(app: Application) -> Table:
    events = app.events
    rows = []
    for event in events.registered():
        # Wildcard variants merged: the real execution order (switched-off listeners shown, marked).
        pipes, hooks = events.planned(event)
        for kind, listeners in (("pipe", pipes), ("hook", hooks)):
            for position, listener in enumerate(listeners, 1):
                label = "durable hook" if listener.kind == "durable" else kind
                via = "" if listener.event == event else listener.event
                off = "OFF" if events.is_off(listener) else ""
                rows.append(
                    (event, label, str(position), listener.name, listener.owner, str(listener.priority), via, off)
                )
    note = (
        "Pipes run one after another in the order shown; hooks start in that order and are not awaited;\n"
        "durable hooks are recorded (awaited) and run later from their delivery.\n"
        "A wildcard (scope:before*, scope:*) also runs, after the exact name's listeners, for every matching event.\n"
        "OFF: switched off (`manage.py kuzzle_events enable` switches it back on)."
    )
    headers = ("EVENT", "KIND", "#", "LISTENER", "OWNER", "PRIORITY", "VIA", "SWITCH")
    return "Listeners", headers, rows, note if rows else ""


def switches_table(app: Application) -> Table:
    from kuzzle_events.switches import store

    _, records = store.load() or (0, {})
    rows = [
        (event, kind, name, "on" if r["enabled"] else "OFF", r["changed_by"], f"{r['changed_at']:%Y-%m-%d %H:%M:%S %Z}")
        for (kind, event, name), r in sorted(records.items(), key=lambda item: (item[0][1], item[0][0], item[0][2]))
    ]
    return "Switches", ("EVENT", "KIND", "LISTENER", "STATE", "BY", "AT"), rows, ""


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain-text columns, each as wide as its widest cell, two spaces apart, no trailing blanks."""
    if not rows:
        return "(none)"
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
    rule = ["-" * w for w in widths]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (headers, rule, *rows)
    )
