"""The runner of durable hooks: takes due deliveries and runs their hooks, in a server process
(started and stopped with the application) or in ``manage.py kuzzle_worker``.

It wakes when a delivery commits in this process, and every ``DURABLE_POLL_INTERVAL`` seconds
for the others (recorded by other processes, retries coming due, leases of killed processes
ending). A delivery is run at least once: it is deleted only after its hook returned, so a process
killed in between leaves it to be taken again once its lease ends; the hook gets the delivery's id
to recognise a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

from kuzzle_events.orm import orm

if TYPE_CHECKING:
    from kuzzle_events.durable.hooks import DurableHooks
    from kuzzle_events.durable.store import Claimed

__all__ = ["DurableRunner"]

_STORE = "kuzzle_events.durable.store"
_claim = orm(_STORE, "claim")
_complete = orm(_STORE, "complete")
_fail = orm(_STORE, "fail")
_renew = orm(_STORE, "renew")


class DurableRunner:
    """Runs the deliveries of ``durable``'s hooks; :meth:`start` on a running loop, :meth:`stop` after."""

    def __init__(
        self,
        durable: DurableHooks,
        *,
        poll_interval: float = 1.0,
        lease: float = 60.0,
        batch: int = 10,
        log: logging.Logger | None = None,
    ) -> None:
        self.durable = durable
        self.poll_interval = poll_interval
        self.lease = lease
        self.batch = batch
        self.log = log or logging.getLogger("kuzzle_events")
        # Unique per runner: a delivery's holder, so that a process only settles what it holds.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.running: set[str] = set()  # ids of the deliveries taken and not settled yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._delivering: set[asyncio.Task[None]] = set()
        self._claiming = False
        self._stopping = False

    def start(self) -> None:
        """Serve on the running loop until :meth:`stop`."""
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self._stopping = False
        self._tasks = [self._loop.create_task(self._serve()), self._loop.create_task(self._hold())]

    async def stop(self) -> None:
        """Stop taking deliveries and wait for the hooks running (at most one lease, after which
        what still runs is cancelled and left for another process to run again)."""
        self._stopping = True
        self.wake()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        serve, hold = tasks
        try:
            await asyncio.wait_for(asyncio.shield(serve), self.lease)
        except TimeoutError:
            serve.cancel()
            for task in list(self._delivering):
                task.cancel()
            await asyncio.gather(serve, *self._delivering, return_exceptions=True)
        hold.cancel()
        await asyncio.gather(hold, return_exceptions=True)

    def wake(self) -> None:
        """Look for deliveries now (callable from any thread: on commit, from Django's sync thread)."""
        loop, woken = self._loop, self._woken
        if loop is None or woken is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(woken.set)
        except RuntimeError:  # the loop closed meanwhile: nothing left to wake
            pass

    async def run_due(self, *, ignore_due: bool = False) -> int:
        """Take up to ``batch`` due deliveries and run their hooks (at once, each on its own);
        how many were taken. ``ignore_due``: take the ones waiting for a retry as well."""
        claimed: list[Claimed] = await _claim(
            list(self.durable.hooks), self.worker, self.lease, self.batch, ignore_due=ignore_due
        )
        self.running.update(delivery.id for delivery in claimed)
        if claimed:
            await asyncio.gather(*(self._deliver(delivery) for delivery in claimed))
        return len(claimed)

    @property
    def busy(self) -> bool:
        """Whether this runner is taking deliveries or running hooks right now."""
        return self._claiming or bool(self.running)

    async def _deliver(self, delivery: Claimed) -> None:
        try:
            hook = self.durable.hooks[delivery.hook]  # known: only known hooks' deliveries are taken
            try:
                await hook.call(*delivery.payload, delivery_id=delivery.id)
            except Exception as error:
                retry_in = hook.retry_in(delivery.attempt)
                text = f"{type(error).__name__}: {error}"
                if retry_in is None:
                    self.log.error(
                        'Durable hook "%s" of %s on "%s" failed for good after %d tries (delivery %s): %s',
                        hook.name, hook.owner, delivery.event, delivery.attempt, delivery.id, text,
                    )
                else:
                    self.log.warning(
                        'Durable hook "%s" of %s on "%s" failed (try %d, delivery %s), next try in %.3g s: %s',
                        hook.name, hook.owner, delivery.event, delivery.attempt, delivery.id, retry_in, text,
                    )
                await _fail(delivery.id, self.worker, text, retry_in)
            else:
                await _complete(delivery.id, self.worker)
        except Exception:
            # The outcome could not be written: the delivery stays held until its lease ends, then
            # runs again (at least once).
            self.log.exception("Durable hook delivery %s: its outcome could not be stored", delivery.id)
        finally:
            self.running.discard(delivery.id)

    async def _serve(self) -> None:
        # Up to `batch` deliveries run at once, each a task of its own: a slow hook holds one
        # place, not the others; a place that frees up is filled at once.
        woken = self._woken
        assert woken is not None
        loop = asyncio.get_running_loop()

        def finished(task: asyncio.Task[None]) -> None:
            self._delivering.discard(task)
            woken.set()

        while not self._stopping:
            woken.clear()  # before looking: a commit from now on wakes the wait below
            free = self.batch - len(self._delivering)
            taken: list[Claimed] = []
            if free > 0:
                self._claiming = True
                try:
                    taken = await _claim(list(self.durable.hooks), self.worker, self.lease, free)
                except Exception:
                    self.log.exception("Durable hooks: deliveries could not be taken")
                finally:
                    self._claiming = False
                for delivery in taken:
                    self.running.add(delivery.id)
                    task = loop.create_task(self._deliver(delivery))
                    self._delivering.add(task)
                    task.add_done_callback(finished)
            if taken and len(taken) == free:
                continue  # maybe more are due; look again once a place is free
            if not self._stopping:
                try:
                    await asyncio.wait_for(woken.wait(), self.poll_interval)
                except TimeoutError:
                    pass
        await asyncio.gather(*self._delivering, return_exceptions=True)

    async def _hold(self) -> None:
        # Renew the lease of what runs, well before it ends.
        while True:
            await asyncio.sleep(self.lease / 3)
            if self.running:
                try:
                    await _renew(list(self.running), self.worker, self.lease)
                except Exception:
                    self.log.exception("Durable hooks: leases could not be renewed")
