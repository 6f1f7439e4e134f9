"""The project: environment-driven settings, the services a run really uses, and its servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from tests.servers import DAPHNE, UVICORN, get, manage, project_env, serve

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_database_follows_database_url() -> None:
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


async def test_channel_layer_follows_redis_url() -> None:
    layer = get_channel_layer()
    expected = "RedisChannelLayer" if os.environ.get("REDIS_URL") else "InMemoryChannelLayer"
    assert type(layer).__name__ == expected
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "probe.message", "text": "hello"})
    assert (await layer.receive(channel))["text"] == "hello"


def test_engine_settings_come_from_the_environment() -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; django.setup();"
        "from kuzzle_events import app; c = app.config;"
        "print(c.PIPE_WARN_TIME, c.PIPE_TIMEOUT, c.MAX_CONCURRENT_PIPES, c.PIPES_BUFFER_SIZE, c.DEBUG)"
    )
    env = {
        **os.environ,
        "KUZZLE_PIPE_WARN_TIME": "123",
        "KUZZLE_PIPE_TIMEOUT": "456",
        "KUZZLE_MAX_CONCURRENT_PIPES": "7",
        "KUZZLE_PIPES_BUFFER_SIZE": "89",
        "KUZZLE_DEBUG": "kuzzle:events",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["123", "456", "7", "89", "kuzzle:events"]


def test_memory_storage_follows_redis_url_on_a_database_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from project.settings import memory_storage_url

    in_force = settings.KUZZLE_EVENTS["MEMORY_STORAGE_URL"]
    assert in_force == memory_storage_url(os.environ.get("REDIS_URL", ""))
    monkeypatch.delenv("MEMORY_STORAGE_URL", raising=False)
    assert memory_storage_url("") is None
    assert memory_storage_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/8"
    assert memory_storage_url("redis://:pw@cache:6380/12") == "redis://:pw@cache:6380/4"
    assert memory_storage_url("redis://cache") == "redis://cache/8"
    monkeypatch.setenv("MEMORY_STORAGE_URL", "redis://other:6379/3")
    assert memory_storage_url("redis://127.0.0.1:6379/0") == "redis://other:6379/3"


def test_defaults() -> None:
    assert settings.KUZZLE_EVENTS["PORT"] == 7512
    assert settings.ASGI_APPLICATION == "project.asgi.application"


def assert_admin_stylesheet(port: int) -> None:
    status, headers, body = get(port, "/static/admin/css/base.css")
    assert status == 200, body[:300]
    assert headers["content-type"].startswith("text/css")
    assert b"body" in body and b"{" in body


def test_admin_is_styled_under_uvicorn_in_development(tmp_path: Path) -> None:
    # DEBUG: WhiteNoise finds the apps' static files where they are, no collectstatic.
    for server in serve("uvicorn", UVICORN, tmp_path, {"DEBUG": "true", "STATIC_ROOT": str(tmp_path / "absent")}):
        assert_admin_stylesheet(server.port)


def test_admin_is_styled_under_uvicorn_after_collectstatic(tmp_path: Path) -> None:
    env = project_env(tmp_path, DEBUG="false", STATIC_ROOT=str(tmp_path / "static"))
    collected = manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    for server in serve("uvicorn", UVICORN, tmp_path, {"DEBUG": "false", "STATIC_ROOT": str(tmp_path / "static")}):
        assert_admin_stylesheet(server.port)
        # Not found outside STATIC_ROOT: the apps' own folders are not searched without DEBUG.
        assert get(server.port, "/static/admin/css/not-collected.css")[0] == 404


def now_over_websocket(port: int) -> dict[str, object]:
    with connect(f"ws://127.0.0.1:{port}/", open_timeout=10) as websocket:
        websocket.send(json.dumps({"controller": "server", "action": "now", "requestId": "x"}))
        answer: dict[str, object] = json.loads(websocket.recv(timeout=10))
    return answer


def settings_module(tmp_path: Path, body: str) -> dict[str, str]:
    """The environment of a project whose settings are ``project.settings`` changed by ``body``."""
    (tmp_path / "changed_settings.py").write_text("from project.settings import *  # noqa: F403\n" + body)
    path = os.pathsep.join(filter(None, [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return {"DJANGO_SETTINGS_MODULE": "changed_settings", "PYTHONPATH": path}


def test_runserver_without_asgi_application_serves_kuzzle_events(tmp_path: Path) -> None:
    env = settings_module(tmp_path, "del ASGI_APPLICATION\n")
    for server in serve("daphne", DAPHNE, tmp_path, env):
        status, _, body = get(server.port, "/_now")
        assert status == 200 and isinstance(json.loads(body)["result"]["now"], int)
        answer = now_over_websocket(server.port)
        assert answer["status"] == 200 and answer["requestId"] == "x", answer


def test_runserver_serves_asgi_application_when_set(tmp_path: Path) -> None:
    (tmp_path / "own_asgi.py").write_text(
        textwrap.dedent(
            """
            from project.asgi import application as kuzzle


            async def application(scope, receive, send):
                if scope["type"] == "http" and scope["path"] == "/own":
                    await send({"type": "http.response.start", "status": 200, "headers": []})
                    await send({"type": "http.response.body", "body": b"own application"})
                    return
                await kuzzle(scope, receive, send)
            """
        )
    )
    env = settings_module(tmp_path, 'ASGI_APPLICATION = "own_asgi.application"\n')
    for server in serve("daphne", DAPHNE, tmp_path, env):
        assert get(server.port, "/own")[2] == b"own application"
