"""``run_sync`` from plain sync code (WSGI views, commands): a task of the application's own loop,
its first step run in the calling thread while that loop is idle, the rest on the loop's thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import os
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.urls import kuzzle_urlpatterns

ROOT = Path(__file__).resolve().parents[2]
VAR: contextvars.ContextVar[str] = contextvars.ContextVar("run_sync_probe", default="unset")


@pytest.fixture
def running(kapp: Application) -> Iterator[Application]:
    kapp.start_sync()
    yield kapp
    kapp.run_sync(kapp.events.drain_hooks)


def test_a_coroutine_that_never_waits_runs_in_the_calling_thread_as_a_task(running: Application) -> None:
    async def probe() -> tuple[int, bool, bool]:
        loop = asyncio.get_running_loop()
        return threading.get_ident(), asyncio.current_task() is not None, loop is running._background_loop()

    assert running.run_sync(probe) == (threading.get_ident(), True, True)


def test_a_coroutine_that_waits_goes_on_in_the_same_task_on_the_loops_thread(running: Application) -> None:
    async def probe() -> tuple[int, int, bool]:
        before, task = threading.get_ident(), asyncio.current_task()
        await asyncio.sleep(0.01)
        return before, threading.get_ident(), asyncio.current_task() is task

    before, after, same_task = running.run_sync(probe)
    assert before == threading.get_ident() != after
    assert same_task


def test_timeouts_and_task_groups_work_as_in_any_task(running: Application) -> None:
    async def late() -> str:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(5)
        return "not reached"

    async def grouped() -> list[int]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(asyncio.sleep(0.01, result=n)) for n in range(3)]
        return [task.result() for task in tasks]

    with pytest.raises(TimeoutError):
        running.run_sync(late)
    assert running.run_sync(grouped) == [0, 1, 2]


def test_failures_are_raised_to_the_caller(running: Application) -> None:
    async def at_once() -> None:
        raise ValueError("at once")

    async def after_waiting() -> None:
        await asyncio.sleep(0)
        raise ValueError("after waiting")

    with pytest.raises(ValueError, match="at once"):
        running.run_sync(at_once)
    with pytest.raises(ValueError, match="after waiting"):
        running.run_sync(after_waiting)


def test_what_the_coroutine_sets_in_its_context_stays_there(running: Application) -> None:
    async def setter() -> str:
        VAR.set("set by the coroutine")
        return VAR.get()

    assert running.run_sync(setter) == "set by the coroutine"
    assert VAR.get() == "unset"


def test_tasks_and_timers_it_starts_run_once_it_returns(running: Application) -> None:
    done = threading.Event()
    later = threading.Event()

    async def background() -> None:
        done.set()

    async def starter() -> None:
        loop = asyncio.get_running_loop()
        loop.create_task(background())
        loop.call_later(0.01, later.set)

    running.run_sync(starter)
    # Nothing else would wake the loop's thread, which waits for I/O with no timer due.
    assert done.wait(5) and later.wait(5)


def test_a_busy_loop_gets_the_coroutine_queued_behind_its_work(running: Application) -> None:
    loop = running._background_loop()
    started = threading.Event()

    async def busy() -> None:
        started.set()
        time.sleep(0.2)  # holds the loop's thread

    async def probe() -> int:
        return threading.get_ident()

    blocker = asyncio.run_coroutine_threadsafe(busy(), loop)
    assert started.wait(5)
    loop_thread = running.run_sync(probe)
    blocker.result()
    assert loop_thread != threading.get_ident()


def test_many_threads_at_once(running: Application) -> None:
    async def probe(n: int) -> int:
        await asyncio.sleep(0 if n % 2 else 0.001)
        return n

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(lambda n: running.run_sync(probe, n), range(200))) == list(range(200))


def test_debug_mode_accepts_what_the_borrowing_thread_schedules(running: Application) -> None:
    ran = threading.Event()

    async def background() -> None:
        ran.set()

    async def starter() -> None:
        asyncio.get_running_loop().create_task(background())

    loop = running._background_loop()
    loop.set_debug(True)
    try:
        running.run_sync(starter)
    finally:
        loop.set_debug(False)
    assert ran.wait(5)


def test_drf_view_under_wsgi_runs_the_hooks_of_its_request(kapp: Application, settings: Any) -> None:
    seen = threading.Event()

    async def hook(request: KuzzleRequest) -> None:
        seen.set()

    kapp.hook.register("server:afterNow", hook)
    urlconf = types.ModuleType("kuzzle_run_sync_urls")
    urlconf.urlpatterns = kuzzle_urlpatterns(kapp)  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urlconf
    response = APIClient().get("/_now")
    assert response.status_code == 200 and response.json()["status"] == 200
    assert seen.wait(5)
    kapp.run_sync(kapp.events.drain_hooks)


UNDER_ASYNCIO_DEBUG = """
import asyncio, concurrent.futures, json, logging, threading

import django

django.setup()
from kuzzle_events import Application

logging.basicConfig(level=logging.WARNING)  # whatever asyncio or the package logs lands on stderr
app = Application()
loop = app._background_loop()
loop.slow_callback_duration = 3600  # debug mode also warns of slow steps: a matter of time, not of threads
started = threading.Semaphore(0)


async def background() -> None:
    started.release()


async def at_once(n: int) -> tuple[str, int]:
    here = asyncio.get_running_loop()
    here.create_task(background())  # debug mode checks the thread of each of these calls
    here.call_soon(started.release)
    here.call_later(0.001, started.release)
    return "at once", n


async def waiting(n: int) -> tuple[str, int]:
    await asyncio.sleep(0.001)
    return "waiting", n


def call(n: int) -> list:
    return list(app.run_sync(at_once if n % 2 else waiting, n))


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    results = list(pool.map(call, range(200)))
scheduled = all(started.acquire(timeout=30) for _ in range(3 * 100))
print(json.dumps({"debug": loop.get_debug(), "results": results, "scheduled": scheduled}))
"""


def test_under_asyncio_debug_mode_from_many_threads_nothing_is_reported() -> None:
    """The loop a thread borrows (which uses private asyncio APIs) is what asyncio's debug mode
    expects: every call is answered, and asyncio logs no error or warning."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # no database is used
    env.update(PYTHONASYNCIODEBUG="1", DJANGO_SETTINGS_MODULE="project.settings")
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", UNDER_ASYNCIO_DEBUG],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    report = json.loads(result.stdout)
    assert report["debug"] and report["scheduled"]
    expected = [["at once" if n % 2 else "waiting", n] for n in range(200)]
    assert report["results"] == expected


def test_a_loop_left_behind_by_asgiref_in_this_thread_is_not_taken_for_a_servers(running: Application) -> None:
    from asgiref.sync import SyncToAsync, async_to_sync, sync_to_async

    # A thread-sensitive sync function run in this very thread (under its async_to_sync) leaves
    # asgiref's threadlocal pointing at async_to_sync's loop, closed once the call returned.
    async def hop() -> None:
        await sync_to_async(lambda: None, thread_sensitive=True)()

    async def probe() -> bool:
        return asyncio.get_running_loop() is running._background_loop()

    async_to_sync(hop)()
    try:
        left = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
        assert left is not None and not left.is_running()
        assert running.run_sync(probe) is True
    finally:
        del SyncToAsync.threadlocal.main_event_loop
