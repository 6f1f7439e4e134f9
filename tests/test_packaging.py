"""The distribution as a user gets it: the wheel installed into a new virtualenv, a new
``django-admin startproject`` following the README's "Add kuzzle_events to an existing project",
a real server; and ``pip install -e`` of the checkout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

import kuzzle_events
from tests.servers import free_port, get, wait_for_healthcheck

ROOT = Path(__file__).resolve().parent.parent
PIP = ["-m", "pip", "--disable-pip-version-check", "--no-input"]


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """Run ``command``; its output, or the test fails with it."""
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def git_status() -> str:
    return run("git", "status", "--porcelain", "--untracked-files=all", cwd=ROOT)


def new_venv(where: Path) -> Path:
    """A new virtualenv; its python."""
    run(sys.executable, "-m", "venv", where, cwd=where.parent)
    return where / "bin" / "python"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's process: nothing of this checkout's settings or paths."""
    own = ("DJANGO_", "PYTHON", "DATABASE_", "REDIS_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(own)}
    env.pop("VIRTUAL_ENV", None)
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the checkout, as ``pip wheel --no-deps <checkout>`` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    before = git_status()
    run(sys.executable, *PIP, "wheel", "--no-deps", "-q", "-w", out, ROOT, cwd=out)
    assert git_status() == before, "building the wheel wrote files that git does not ignore"
    (built,) = out.glob("kuzzle_events-*.whl")
    return built


def test_wheel_holds_the_package_and_its_data_only(wheel: Path) -> None:
    assert wheel.name == f"kuzzle_events-{kuzzle_events.__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "kuzzle_events",
        f"kuzzle_events-{kuzzle_events.__version__}.dist-info",
    }
    for expected in (
        "kuzzle_events/py.typed",
        "kuzzle_events/templates/admin/index.html",
        "kuzzle_events/migrations/0001_initial.py",
        "kuzzle_events/core/engine.py",
        "kuzzle_events/protocols/websocket/consumer.py",
    ):
        assert expected in names
    metadata = zipfile.ZipFile(wheel).read(f"kuzzle_events-{kuzzle_events.__version__}.dist-info/METADATA").decode()
    requires = re.findall(r"^Requires-Dist: (.+)$", metadata, re.MULTILINE)
    assert {re.split(r"[<>=\[; ]", line)[0].lower() for line in requires if "extra ==" not in line} == {
        "django",
        "channels",
        "djangorestframework",
        "pyjwt",
        "packaging",
        "asgiref",
        # The ms controller's Redis client, and its embedded Redis.
        "redis",
        "fakeredis",
    }
    assert 'Requires-Dist: daphne<5,>=4.1; extra == "server"' in metadata
    entry_points = zipfile.ZipFile(wheel).read(f"kuzzle_events-{kuzzle_events.__version__}.dist-info/entry_points.txt")
    assert b"[pytest11]\nkuzzle_events.testing.plugin = kuzzle_events.testing.plugin" in entry_points


SETTINGS_STEPS = (
    # README step 2: kuzzle_events first, daphne for runserver, ASGI_APPLICATION (startproject's
    # settings quote with ').
    ("INSTALLED_APPS = [\n", "INSTALLED_APPS = [\n    'kuzzle_events',\n    'daphne',\n"),
    ("WSGI_APPLICATION = ", "ASGI_APPLICATION = 'mysite.asgi.application'\nWSGI_APPLICATION = "),
    # README step 5: WhiteNoise.
    (
        "'django.middleware.security.SecurityMiddleware',\n",
        "'django.middleware.security.SecurityMiddleware',\n    'whitenoise.middleware.WhiteNoiseMiddleware',\n",
    ),
    ("STATIC_URL = ", "STATIC_ROOT = BASE_DIR / 'staticfiles'\nSTATIC_URL = "),
)

# README step 3, with a Channels route of the project's own.
ASGI = """
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

from django.core.asgi import get_asgi_application as get_django_application

django_application = get_django_application()  # sets Django up

from django.urls import path

from echo import EchoConsumer
from kuzzle_events.asgi import get_asgi_application

application = get_asgi_application([path("ws/echo/", EchoConsumer.as_asgi())], http=django_application)
"""

ECHO = """
from channels.generic.websocket import WebsocketConsumer


class EchoConsumer(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=f"echo: {text_data}")
"""

# README step 4.
URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/kuzzle/", include("kuzzle_events.admin_urls")),
    path("admin/", admin.site.urls),
    path("", include("kuzzle_events.urls")),
]
"""

# README step 8.
OPEN_TO_ANONYMOUS = """
from kuzzle_events.models import Role

role = Role.objects.get(name="anonymous")
role.controllers.setdefault("server", {"actions": {}})["actions"]["now"] = True
role.controllers["document"] = {"actions": {"get": True, "search": True}}
role.save()
"""


def start_project(python: Path, where: Path) -> Path:
    """``django-admin startproject mysite`` with the README's steps applied; the project folder."""
    where.mkdir()
    run(python.parent / "django-admin", "startproject", "mysite", where, cwd=where.parent, env=clean_env())
    settings = where / "mysite" / "settings.py"
    text = settings.read_text()
    for old, new in SETTINGS_STEPS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    settings.write_text(text)
    (where / "mysite" / "asgi.py").write_text(ASGI.lstrip())
    (where / "mysite" / "urls.py").write_text(URLS.lstrip())
    (where / "echo.py").write_text(ECHO.lstrip())
    return where


@pytest.fixture(scope="module")
def project(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    base = tmp_path_factory.mktemp("project")
    python = new_venv(base / "venv")
    # README step 1.
    run(python, *PIP, "install", "-q", f"{wheel}[server]", "whitenoise", cwd=base, timeout=600)
    where = start_project(python, base / "mysite")
    env = clean_env(DJANGO_SUPERUSER_PASSWORD="a-long-enough-password")
    # README step 6, then step 8.
    run(python, "manage.py", "migrate", "--noinput", cwd=where, env=env)
    admin = ("--username", "admin", "--email", "a@example.com")
    run(python, "manage.py", "createsuperuser", "--noinput", *admin, cwd=where, env=env)
    run(python, "manage.py", "shell", "-c", OPEN_TO_ANONYMOUS, cwd=where, env=env)
    yield python, where


def test_the_readme_steps_pass_manage_py_check(project: tuple[Path, Path]) -> None:
    python, where = project
    out = run(python, "manage.py", "check", cwd=where, env=clean_env())
    assert out.strip() == "System check identified no issues (0 silenced)."


@pytest.fixture(scope="module")
def server(project: tuple[Path, Path]) -> Iterator[int]:
    """README step 7: the new project under uvicorn; its port."""
    python, where = project
    port = free_port()
    log = where / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [python, "-m", "uvicorn", "mysite.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            cwd=where,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_healthcheck("new project's uvicorn", process, port, log.read_text, timeout=60)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def query(port: int, request: dict[str, object]) -> tuple[int, dict[str, object]]:
    http = urllib.request.Request(
        f"http://127.0.0.1:{port}/_query",
        data=json.dumps(request).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(http, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_server_now_over_http_and_websocket(server: int) -> None:
    status, _, body = get(server, "/_now")
    assert status == 200 and isinstance(json.loads(body)["result"]["now"], int)
    with connect(f"ws://127.0.0.1:{server}/", open_timeout=10) as websocket:
        websocket.send(json.dumps({"controller": "server", "action": "now", "requestId": "x"}))
        answer = json.loads(websocket.recv(timeout=10))
    assert answer["status"] == 200 and answer["requestId"] == "x" and isinstance(answer["result"]["now"], int)


def test_the_projects_own_channels_route_beside_kuzzle(server: int) -> None:
    with connect(f"ws://127.0.0.1:{server}/ws/echo/", open_timeout=10) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=10) == "echo: hello"


def test_anonymous_gets_what_the_role_opens(server: int) -> None:
    # The superuser restricted the base roles; the anonymous role was widened (server:now).
    assert query(server, {"controller": "server", "action": "openapi"})[0] == 200
    status, answer = query(server, {"controller": "server", "action": "healthCheck"})
    assert status == 401, answer


def test_static_files_and_admin_pages(server: int) -> None:
    status, headers, _ = get(server, "/static/admin/css/base.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    # Mounted, staff only: an anonymous visitor ends on the admin's login form.
    status, _, body = get(server, "/admin/kuzzle/controllers/")
    assert status == 200 and b'id="login-form"' in body


def test_editable_install_imports_the_checkout(tmp_path: Path) -> None:
    python = new_venv(tmp_path / "venv")
    before = git_status()
    run(python, *PIP, "install", "-q", "--no-deps", "-e", ROOT, cwd=tmp_path, timeout=300)
    assert git_status() == before, "pip install -e wrote files that git does not ignore"
    code = "import importlib.metadata as m, kuzzle_events; print(kuzzle_events.__file__, m.version('kuzzle-events'))"
    location, version = run(python, "-c", code, cwd=tmp_path, env=clean_env()).split()
    assert Path(location) == ROOT / "kuzzle_events" / "__init__.py"
    assert version == kuzzle_events.__version__
