"""Management commands: ``kuzzle <controller>:<action>`` (in-process and remote) and ``kuzzle_events list``.

In-process calls run on an application built as the project builds ``kuzzle_events.app`` (plugins
from settings, the demo registered), put in its place for this module, so that the commands
starting it leave the process's own application alone. The command lines run as processes on the
real ``kuzzle_events.app``, in-process and against a real uvicorn server over HTTP and WebSocket.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

import kuzzle_events
from kuzzle_events import Application
from kuzzle_events.management.commands.kuzzle import build_request, parse_value
from kuzzle_events.management.commands.kuzzle_events import render_table
from tests.servers import UVICORN, Server, free_port, manage, project_env, serve

ROOT = Path(__file__).resolve().parents[2]
ENVELOPE_KEYS = {
    "requestId", "status", "error", "controller", "action", "collection", "index", "volatile", "headers",
    "node", "result",
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def cli_app() -> Iterator[Application]:
    """``kuzzle_events.app`` as the project builds it, fresh, in place of the process's one."""
    from django.conf import settings

    from project.demo import events as demo

    app = Application()
    app.plugin.use_settings(app.config.PLUGINS, app.config.DISABLED_PLUGINS)
    demo.register(app, format_now=settings.DEMO_FORMAT_NOW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kuzzle_events, "app", app)
        yield app
    if app.started:
        app.run_sync(app.shutdown)


def kuzzle(*args: str) -> tuple[str, str]:
    """``manage.py kuzzle *args`` in this process: (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("kuzzle", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# -- building the request ----------------------------------------------------------------------


def test_argument_values_are_json_when_they_parse() -> None:
    assert parse_value("3") == 3
    assert parse_value("true") is True
    assert parse_value("null") is None
    assert parse_value('{"a": [1]}') == {"a": [1]}
    assert parse_value("wait_for") == "wait_for"
    assert parse_value("007") == "007"
    assert parse_value("") == ""


def test_build_request_like_kourou() -> None:
    options: dict[str, Any] = {
        "target": "document:get",
        "arguments": ["refresh=wait_for", "n=3", "flag=true", "expr=a=b"],
        "index": "idx",
        "collection": "col",
        "document_id": "x",
        "body": '{"query": {}}',
        "jwt": "token",
    }
    assert build_request(options) == {
        "controller": "document",
        "action": "get",
        "refresh": "wait_for",
        "n": 3,
        "flag": True,
        "expr": "a=b",
        "index": "idx",
        "collection": "col",
        "_id": "x",
        "body": {"query": {}},
        "jwt": "token",
    }
    # Plugin controllers hold a slash; the action is what follows the last colon.
    assert build_request({"target": "greeter/greeting:sayHello"})["controller"] == "greeter/greeting"


@pytest.mark.parametrize("target", ["server", "server:", ":now"])
def test_a_target_without_controller_and_action_is_refused(target: str) -> None:
    with pytest.raises(CommandError, match="<controller>:<action>"):
        kuzzle(target)


def test_an_argument_without_equals_is_refused() -> None:
    with pytest.raises(CommandError, match="KEY=VALUE"):
        kuzzle("server:now", "-a", "oops")


@pytest.mark.parametrize(("body", "message"), [("{bad", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_a_bad_body_is_a_clean_error(body: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        kuzzle("greeting:sayHello", "-a", "name=Ada", "--body", body)


# -- in-process --------------------------------------------------------------------------------


def test_server_now_in_process(cli_app: Application) -> None:
    out, err = kuzzle("server:now")
    assert cli_app.started
    result = json.loads(out)
    assert isinstance(result["now"], int) and abs(result["now"] / 1000 - time.time()) < 60
    assert out.startswith("{\n  ")  # pretty JSON
    assert err == ""


def test_custom_action_with_arguments_and_body() -> None:
    out, _ = kuzzle("greeting:sayHello", "-a", "name=Ada", "--body", '{"x":1}')
    assert json.loads(out) == {"greeting": "Hello, Ada!", "body": {"x": 1}}
    out, _ = kuzzle("greeting:sayHello", "--arg", "name=Ada", "-a", "punctuation=?")
    assert json.loads(out)["greeting"] == "Hello, Ada?"


def test_display_prints_the_whole_envelope() -> None:
    out, _ = kuzzle("greeting:sayHello", "-a", "name=Ada", "-i", "idx", "-c", "col", "--display")
    envelope = json.loads(out)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["status"] == 200 and envelope["error"] is None
    assert (envelope["controller"], envelope["action"]) == ("greeting", "sayHello")
    assert (envelope["index"], envelope["collection"]) == ("idx", "col")
    assert envelope["result"]["greeting"] == "Hello, Ada!"


def test_a_pipe_refusing_the_request_fails_the_command() -> None:
    with pytest.raises(CommandError) as caught:
        kuzzle("greeting:sayHello", "-a", "name=stranger")
    assert str(caught.value) == "[403] demo.greeting.stranger: The demo does not greet strangers"
    assert caught.value.returncode == 1


def test_display_prints_the_error_envelope_before_failing() -> None:
    out = StringIO()
    with pytest.raises(CommandError, match=r"^\[403\] demo\.greeting\.stranger"):
        call_command("kuzzle", "greeting:sayHello", "-a", "name=stranger", "--display", stdout=out)
    envelope = json.loads(out.getvalue())
    assert envelope["status"] == 403 and envelope["error"]["id"] == "demo.greeting.stranger"
    assert envelope["result"] is None


@pytest.mark.parametrize(
    ("target", "error_id"),
    [("greeting:nope", "api.process.action_not_found"), ("nope:now", "api.process.controller_not_found")],
)
def test_unknown_action_is_a_404(target: str, error_id: str) -> None:
    with pytest.raises(CommandError, match=rf"^\[404\] {error_id}: ") as caught:
        kuzzle(target)
    assert caught.value.returncode == 1


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a project with a fresh, migrated SQLite database."""
    env = project_env(tmp_path_factory.mktemp("kuzzle-cli"))
    done = manage("migrate", "--noinput", env=env)
    assert done.returncode == 0, done.stderr
    return env


def test_the_command_line_writes_the_error_to_stderr_and_exits_1(project: dict[str, str]) -> None:
    done = manage("kuzzle", "greeting:sayHello", "-a", "name=stranger", env=project)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "[403] demo.greeting.stranger: The demo does not greet strangers" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unmigrated_database_is_a_clean_error(tmp_path: Path) -> None:
    done = manage("kuzzle", "server:now", env=project_env(tmp_path))
    assert done.returncode == 1
    assert "The application could not start" in done.stderr and "manage.py migrate" in done.stderr
    assert "Traceback" not in done.stderr


def test_in_process_commands_are_trusted_but_a_jwt_is_checked(project: dict[str, str]) -> None:
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.create_superuser('root', '', 'pw')",
        env=project,
    )
    # An administrator exists, so anonymous callers are restricted, but not the operator's shell.
    done = manage("kuzzle", "security:getRole", "--id", "anonymous", env=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["_id"] == "anonymous"
    done = manage("kuzzle", "security:getRole", "--id", "anonymous", "--jwt", "not-a-token", env=project)
    assert done.returncode == 1
    assert "[401] security.token.invalid" in done.stderr


def test_the_command_line_refuses_bad_json_without_traceback() -> None:
    done = manage("kuzzle", "greeting:sayHello", "--body", "{bad")
    assert done.returncode == 1
    assert "CommandError: --body is not valid JSON" in done.stderr and "Traceback" not in done.stderr


# -- against a running server ------------------------------------------------------------------


def remote(server: Server, protocol: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py kuzzle *args`` against ``server``."""
    return manage(
        "kuzzle", *args, "--host", "127.0.0.1", "--port", str(server.port), "--protocol", protocol, env=server.env
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn serving the project on a free port, with a fresh SQLite database."""
    yield from serve("uvicorn", UVICORN, tmp_path_factory.mktemp("kuzzle-server"))


PROTOCOLS = ["http", "websocket"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_remote_server_now(server: Server, protocol: str) -> None:
    done = remote(server, protocol, "server:now")
    assert done.returncode == 0, done.stderr
    now = json.loads(done.stdout)["now"]
    assert isinstance(now, int) and abs(now / 1000 - time.time()) < 60


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_remote_custom_action_with_display(server: Server, protocol: str) -> None:
    done = remote(server, protocol, "greeting:sayHello", "-a", "name=Ada", "--body", '{"x": 1}', "--display")
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert ENVELOPE_KEYS <= set(envelope)
    assert envelope["status"] == 200
    assert envelope["result"] == {"greeting": "Hello, Ada!", "body": {"x": 1}}
    if protocol == "websocket":
        assert envelope["room"] == envelope["requestId"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_remote_error_goes_to_stderr_with_exit_code_1(server: Server, protocol: str) -> None:
    done = remote(server, protocol, "greeting:sayHello", "-a", "name=stranger")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "[403] demo.greeting.stranger: The demo does not greet strangers" in done.stderr
    assert "Traceback" not in done.stderr
    done = remote(server, protocol, "greeting:nope")
    assert done.returncode == 1 and "[404] api.process.action_not_found" in done.stderr


def test_remote_raw_response_over_http_is_printed_as_sent(server: Server) -> None:
    done = remote(server, "http", "greeting:card", "-a", "name=Bo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Dear Bo, hello."


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_connection_refused_is_a_clean_error(protocol: str) -> None:
    port = str(free_port())  # nothing listens there once the probe socket is closed
    with pytest.raises(CommandError, match="Cannot reach .*127.0.0.1:" + port):
        kuzzle("server:now", "--host", "127.0.0.1", "--port", port, "--protocol", protocol)


# -- kuzzle_events list ------------------------------------------------------------------------


def listing(*sections: str) -> str:
    out = StringIO()
    call_command("kuzzle_events", "list", *sections, stdout=out)
    return out.getvalue()


def _line(text: str, *parts: str) -> str:
    found = [line for line in text.splitlines() if all(part in line.split() for part in parts)]
    assert found, f"no line with {parts} in:\n{text}"
    return found[0]


def test_list_shows_controllers_events_and_listeners() -> None:
    text = listing()
    assert "Controllers (" in text and "Documented events (" in text and "Listeners (" in text
    say_hello = _line(text, "greeting", "sayHello")
    assert "application" in say_hello.split()
    assert "POST /greeting/:name" in say_hello and "GET /greeting/:name" in say_hello
    assert "GET /_now" in _line(text, "server", "now", "core")
    _line(text, "request:beforeExecution", "pipe+hook")
    # The demo's pipe, with its owner and priority, in its place in the chain.
    pipe = _line(text, "greeting:beforeSayHello", "pipe")
    assert pipe.split()[2:6] == ["1", "project.demo.events.refuse_strangers", "application", "0"]
    _line(text, "greeting:afterSayHello", "hook", "project.demo.events.log_greeting")


def test_list_sections() -> None:
    routes = listing("routes")
    assert "HTTP routes (" in routes and "Controllers" not in routes
    assert _line(routes, "POST", "/greeting/:name").split()[2] == "greeting:sayHello"
    events = listing("events")
    assert "Documented events" in events and "Listeners" not in events
    assert "kuzzle:state:start" in events
    listeners = listing("listeners")
    assert "greeting:beforeSayHello" in listeners and "Documented events" not in listeners
    controllers = listing("controllers")
    assert "sayHello" in controllers and "Listeners" not in controllers
    with pytest.raises(CommandError, match="Unknown section"):
        listing("bogus")


def test_list_shows_wildcards_in_execution_order(make_app) -> None:
    # The engine's view the command prints: exact name first, then the wildcards it merges.
    from kuzzle_events.management.commands.kuzzle_events import listeners_table

    app = make_app()

    async def first(request: Any) -> Any:
        return request

    async def wildcard(request: Any) -> Any:
        return request

    app.pipe.register("server:before*", wildcard, priority=50, owner="audit")
    app.pipe.register("server:beforeNow", first, owner="demo")
    _, _, rows, note = listeners_table(app)
    now_rows = [row for row in rows if row[0] == "server:beforeNow"]
    assert [(r[2], r[4], r[5], r[6]) for r in now_rows] == [
        ("1", "demo", "0", ""),
        ("2", "audit", "50", "server:before*"),
    ]
    assert "wildcard" in note


def test_list_shows_durable_hooks(make_app) -> None:
    from kuzzle_events.management.commands.kuzzle_events import listeners_table

    app = make_app()

    async def plain(payload: Any) -> None: ...

    async def durable(payload: Any, *, delivery_id: str) -> None: ...

    app.hook.register("shop:ordered", plain)
    app.hook.register("shop:*", durable, durable=True)
    _, _, rows, note = listeners_table(app)
    ordered = [(r[1], r[3].rpartition(".")[2], r[6]) for r in rows if r[0] == "shop:ordered"]
    assert ordered == [("hook", "plain", ""), ("durable hook", "durable", "shop:*")]
    assert "durable hooks are recorded" in note


def test_render_table_aligns_columns() -> None:
    table = render_table(("A", "LONGER"), [("wide cell", "x"), ("b", "")])
    assert table.splitlines() == [
        "A          LONGER",
        "---------  ------",
        "wide cell  x",
        "b",
    ]
    assert render_table(("A",), []) == "(none)"


# -- disable / enable ----------------------------------------------------------------------------


def switch(*args: str) -> str:
    out = StringIO()
    call_command("kuzzle_events", *args, stdout=out)
    return out.getvalue()


def test_disable_and_enable_a_pipe_store_who_and_when_and_the_application_applies_them(
    cli_app: Application,
) -> None:
    from kuzzle_events.models import ListenerSwitch

    pipe = ("pipe", "greeting:beforeSayHello", "project.demo.events.refuse_strangers")
    said = switch("disable", *pipe, "--by", "alice")
    assert "switched off by alice" in said
    row = ListenerSwitch.objects.get(kind="pipe", event=pipe[1], listener=pipe[2])
    assert (row.enabled, row.changed_by) == (False, "alice") and row.changed_at is not None
    assert _line(listing("switches"), *pipe[1:], "OFF", "alice")

    # The running application reads it (as its watcher does) and the pipe no longer refuses.
    assert cli_app.run_sync(cli_app.switches.load) is True
    assert _line(listing("listeners"), pipe[1], "pipe", pipe[2]).split()[-1] == "OFF"
    out, _ = kuzzle("greeting:sayHello", "-a", "name=stranger")
    assert json.loads(out)["greeting"] == "Hello, stranger!"

    switch("enable", *pipe)
    row.refresh_from_db()
    assert row.enabled and "(manage.py)" in row.changed_by
    cli_app.run_sync(cli_app.switches.load)
    with pytest.raises(CommandError):
        kuzzle("greeting:sayHello", "-a", "name=stranger")


def test_disable_names_what_is_registered_when_the_listener_is_unknown() -> None:
    from kuzzle_events.models import ListenerSwitch

    with pytest.raises(CommandError, match=r"No pipe 'nope' .*refuse_strangers"):
        switch("disable", "pipe", "greeting:beforeSayHello", "nope")
    with pytest.raises(CommandError, match="No hook"):
        switch("disable", "hook", "greeting:beforeSayHello", "project.demo.events.refuse_strangers")
    assert not ListenerSwitch.objects.exists()
