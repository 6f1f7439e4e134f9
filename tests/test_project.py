"""The project: environment-driven settings, and the services a run really uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

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


def test_defaults() -> None:
    assert settings.KUZZLE_EVENTS["PORT"] == 7512
    assert settings.ASGI_APPLICATION == "project.asgi.application"
