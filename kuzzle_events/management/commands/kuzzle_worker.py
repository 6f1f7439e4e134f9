"""``manage.py kuzzle_worker``: run the durable hooks' deliveries in a process of their own.

For deployments that separate the work from the servers: set ``DURABLE_RUNNER`` to False in the
servers' settings and run one or more workers (they share the deliveries safely: each delivery is
taken by one process at a time). The worker starts the application as a server does (plugins
included, so that their durable hooks are known), runs deliveries until SIGTERM or SIGINT, then
waits for the hooks it runs and stops. ``--once``: run what is due now, then exit.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kuzzle_events import errors

if TYPE_CHECKING:
    from kuzzle_events.application import Application


class Command(BaseCommand):
    help = "Run the deliveries of the durable hooks (until SIGTERM/SIGINT, or --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run the deliveries due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        from kuzzle_events import app

        try:
            asyncio.run(self.work(app, once=options["once"]))
        except errors.KuzzleError as error:
            raise CommandError(f"The application could not start: {error.message}") from None

    async def work(self, app: Application, *, once: bool) -> None:
        """Start ``app``, run its deliveries (what is due, or until a stop signal), stop it."""
        await app.start()
        try:
            hooks = sorted(app.durable.hooks)
            if not hooks:
                self.stdout.write("kuzzle_worker: the application has no durable hook")
                return
            if once:
                runner = app.durable.new_runner()
                tries = 0
                while taken := await runner.run_due():
                    tries += taken
                self.stdout.write(f"kuzzle_worker: {tries} tries of {len(hooks)} durable hooks")
                return
            await self.serve(app, len(hooks))
        finally:
            await app.shutdown()

    async def serve(self, app: Application, count: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # The application's own runner when DURABLE_RUNNER is on, else one for this worker.
        runner = app.durable.runner
        own = runner is None
        if runner is None:
            runner = app.durable.new_runner()
            runner.start()
        self.stdout.write(f"kuzzle_worker: running the deliveries of {count} durable hooks as {runner.worker}")
        self.stdout.flush()
        await stop.wait()
        if own:
            await runner.stop()
        self.stdout.write("kuzzle_worker: stopped")
