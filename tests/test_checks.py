"""System checks (``manage.py check``) and the mistakes refused when they are registered."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.apps import AppConfig
from django.core import checks as django_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

import kuzzle_events
from kuzzle_events import Application, Controller, KuzzleRequest, action, conf
from kuzzle_events.checks import check_app_order, check_event_names, check_plugins, check_settings
from kuzzle_events.core.catalog import EVENTS, HOOK_ONLY
from kuzzle_events.errors import KuzzleError
from kuzzle_events.plugin import Plugin, hook, pipe

ROOT = Path(__file__).resolve().parent.parent


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


async def keep(request: KuzzleRequest) -> KuzzleRequest:
    return request


def test_the_project_is_clean_and_the_checks_carry_the_tag() -> None:
    assert "kuzzle_events" in django_checks.registry.registry.tags_available()
    assert django_checks.run_checks(tags=["kuzzle_events"]) == []
    command = [sys.executable, "manage.py", "check", "--fail-level", "WARNING"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "System check identified no issues" in out.stdout


# INSTALLED_APPS order ------------------------------------------------------------------------


def configs(*names: str) -> list[AppConfig]:
    return [AppConfig.create(name) for name in names]


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("django.contrib.staticfiles", ["kuzzle_events.W001"]),
        ("daphne", ["kuzzle_events.W001"]),
        ("django.contrib.admin", ["kuzzle_events.W002"]),
        ("django.contrib.auth", []),
    ],
)
def test_apps_whose_runserver_or_admin_index_would_win(before: str, expected: list[str]) -> None:
    found = check_app_order(installed=configs(before, "kuzzle_events"))
    assert ids(found) == expected
    assert all(m.obj == before and before in m.msg and f'above "{before}"' in m.hint for m in found)
    assert check_app_order(installed=configs("kuzzle_events", before)) == []


def test_app_order_is_computed_from_what_each_app_ships(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "rival"
    (app / "management" / "commands").mkdir(parents=True)
    (app / "templates" / "admin").mkdir(parents=True)
    for path in ("__init__.py", "management/__init__.py", "management/commands/__init__.py"):
        (app / path).write_text("")
    (app / "management" / "commands" / "runserver.py").write_text("")
    (app / "templates" / "admin" / "index.html").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = check_app_order(installed=configs("django.contrib.auth", "rival", "kuzzle_events"))
    assert ids(found) == ["kuzzle_events.W001", "kuzzle_events.W002"]
    assert check_app_order(installed=configs("kuzzle_events", "rival")) == []


# KUZZLE_EVENTS -------------------------------------------------------------------------------


def test_every_setting_has_a_type_its_default_passes() -> None:
    assert set(conf.TYPES) == set(conf.DEFAULTS)
    assert conf.wrong_types(conf.DEFAULTS) == {}


@pytest.mark.parametrize(
    ("key", "hint"),
    [("PIPE_WARN_TIM", "'PIPE_WARN_TIME'"), ("pipe_timeout", "'PIPE_TIMEOUT'"), ("COLOUR", "The settings: PIPE_WARN_TIME")],
)
def test_unknown_setting(settings: Any, key: str, hint: str) -> None:
    settings.KUZZLE_EVENTS = {key: 1, "PORT": 7512}
    [found] = check_settings()
    assert found.id == "kuzzle_events.E002" and repr(key) in found.msg and hint in found.hint
    assert "kuzzle_events.E002" in ids(django_checks.run_checks(tags=["kuzzle_events"]))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("PORT", "7512", "an integer"),
        ("PIPE_WARN_TIME", True, "a number of milliseconds"),
        ("TOKEN_TTL", ["1h"], "a duration"),
        ("PLUGINS", ["myproject.plugins.Audit"], "a dict"),
        ("DISABLED_PLUGINS", "greeter", "a list"),
        ("ERROR_STACK", "yes", "True, False or None"),
    ],
)
def test_setting_of_the_wrong_type(settings: Any, key: str, value: Any, expected: str) -> None:
    settings.KUZZLE_EVENTS = {key: value}
    [found] = check_settings()
    assert found.id == "kuzzle_events.E003" and repr(key) in found.msg and expected in found.msg
    assert repr(conf.DEFAULTS[key]) in found.hint


def test_kuzzle_events_that_is_not_a_dict(settings: Any) -> None:
    settings.KUZZLE_EVENTS = [("PORT", 7512)]
    assert ids(check_settings()) == ["kuzzle_events.E003"]


def test_the_application_refuses_what_the_check_reports(make_app: Any) -> None:
    with pytest.raises(KuzzleError, match="did you mean 'PIPE_WARN_TIME'"):
        _ = make_app(PIPE_WARN_TIM=1).config
    with pytest.raises(KuzzleError, match="PORT must be an integer"):
        _ = make_app(PORT="7512").config


# Event names ---------------------------------------------------------------------------------


class GreetingController(Controller):
    @action
    async def say_hello(self, request: KuzzleRequest) -> str:
        return "hello"


def test_listeners_on_events_something_fires(kapp: Application) -> None:
    class Named(Plugin):
        manifest = {"name": "named", "kuzzle_events": ">=0.1"}

    kapp.controller.use(GreetingController())
    kapp.plugin.use(Named())
    for event in ("server:afterNow", "greeting:beforeSayHello", "request:onError", "generic:document:beforeWrite",
                  "generic:document:injectMetadata",
                  "server:*", "greeting:before*", "myapp/file-available", "named/ctl:afterAct", "plugin-named:done"):
        kapp.pipe.register(event, keep)
    kapp.hook.register("connection:new", keep)
    assert check_event_names(application=kapp) == []


def test_missing_action_of_an_existing_controller(kapp: Application) -> None:
    kapp.controller.use(GreetingController())
    kapp.pipe.register("greeting:beforeSayHelo", keep)
    kapp.hook.register("server:now", keep)
    found = check_event_names(application=kapp)
    assert ids(found) == ["kuzzle_events.W003", "kuzzle_events.W003"]
    by_event = {m.obj: m for m in found}
    typo = by_event["greeting:beforeSayHelo"]
    assert "keep" in typo.msg and 'controller "greeting"' in typo.msg and "'greeting:beforeSayHello'" in typo.hint
    assert "'server:afterNow'" in by_event["server:now"].hint


def test_unknown_event(kapp: Application) -> None:
    kapp.pipe.register("sever:afterNow", keep)
    kapp.hook.register("plugin-nobody:done", keep)
    kapp.hook.register("file-available", keep)
    found = check_event_names(application=kapp)
    assert ids(found) == ["kuzzle_events.W004"] * 3
    by_event = {m.obj: m for m in found}
    assert "'server:afterNow'" in by_event["sever:afterNow"].hint
    assert '"app-name/event"' in by_event["file-available"].hint


class PendingPlugin(Plugin):
    manifest = {"name": "pending", "kuzzle_events": ">=0.1"}

    def __init__(self) -> None:
        super().__init__()
        self.controllers = {"ctl": {"act": "act"}}

    async def act(self, request: KuzzleRequest) -> None:
        return None

    @pipe("pending/ctl:beforeAtc")
    async def typo(self, request: KuzzleRequest) -> KuzzleRequest:
        return request

    @hook("sever:afterNow")
    async def unknown(self, request: KuzzleRequest) -> None:
        return None


def test_a_pending_plugins_declarations_are_checked_without_its_init(kapp: Application) -> None:
    kapp.plugin.use(PendingPlugin())
    found = {m.obj: m for m in check_event_names(application=kapp)}
    assert found["pending/ctl:beforeAtc"].id == "kuzzle_events.W003"
    assert "'pending/ctl:beforeAct'" in found["pending/ctl:beforeAtc"].hint
    assert found["sever:afterNow"].id == "kuzzle_events.W004" and "(of pending)" in found["sever:afterNow"].msg


class LatePlugin(Plugin):
    """Adds its controller in init: its events are known once the application started."""

    manifest = {"name": "late", "kuzzle_events": ">=0.1"}

    def init(self, config: dict[str, Any], context: Any) -> None:
        self.controllers = {"ctl": {"act": "act"}}

    async def act(self, request: KuzzleRequest) -> None:
        return None


async def test_plugin_controllers_are_checked_once_wired(kapp: Application) -> None:
    kapp.plugin.use(LatePlugin())
    kapp.pipe.register("late/ctl:beforeAtc", keep)
    assert check_event_names(application=kapp) == []  # before init: a name with a slash may be custom
    await kapp.start()
    [found] = check_event_names(application=kapp)
    assert found.id == "kuzzle_events.W003" and "'late/ctl:beforeAct'" in found.hint


# Refused at registration ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pipe", "hook"])
def test_register_used_without_parentheses(kapp: Application, kind: str) -> None:
    registry = getattr(kapp, kind)
    with pytest.raises(KuzzleError) as caught:

        @registry.register
        async def on_now(request: KuzzleRequest) -> KuzzleRequest:
            return request

    assert caught.value.id == f"plugin.assert.invalid_{kind}"
    assert "on_now" in caught.value.message and f'@app.{kind}.register("<event>")' in caught.value.message
    with pytest.raises(KuzzleError, match="non-empty string"):
        registry.register(42, keep)


def test_plugin_marks_used_without_parentheses() -> None:
    with pytest.raises(KuzzleError, match=r'@hook\("<event>"\)'):

        class Broken(Plugin):
            @hook  # type: ignore[arg-type]
            async def audit(self, request: KuzzleRequest) -> None:
                return None


def test_hook_only_events_are_the_catalogs_hooks() -> None:
    assert HOOK_ONLY == {event.name for event in EVENTS if event.kind == "hook"}
    # Kuzzle's docs: "Pipes cannot listen to that event, only hooks can."
    assert {"connection:new", "connection:remove", "core:kuzzleStart", "hook:onError"} <= HOOK_ONLY


@pytest.mark.parametrize("event", sorted(HOOK_ONLY))
def test_pipe_on_a_hook_only_event(kapp: Application, event: str) -> None:
    with pytest.raises(KuzzleError) as caught:
        kapp.pipe.register(event, keep)
    assert caught.value.id == "plugin.assert.invalid_pipe"
    assert event in caught.value.message and "keep" in caught.value.message
    assert not kapp.events.has_listeners(event)
    kapp.hook.register(event, keep)
    assert kapp.events.has_listeners(event)
    with pytest.raises(KuzzleError, match="hook-only"):
        pipe(event)


def test_controller_without_actions(kapp: Application) -> None:
    class Forgotten(Controller):
        async def say_hello(self, request: KuzzleRequest) -> str:
            return "hello"

    with pytest.raises(KuzzleError) as caught:
        kapp.controller.use(Forgotten())
    assert caught.value.id == "plugin.assert.invalid_controller_definition"
    assert "Forgotten" in caught.value.message and "@action" in caught.value.message
    assert "forgotten" not in kapp.controller.controllers


# Plugins -------------------------------------------------------------------------------------


class CountingPlugin(Plugin):
    manifest = {"name": "counting", "kuzzle_events": ">=0.1"}
    inits = 0

    def init(self, config: dict[str, Any], context: Any) -> None:
        type(self).inits += 1


async def test_the_plugin_check_runs_no_init_and_leaves_no_thread(kapp: Application) -> None:
    kapp.plugin.use(CountingPlugin())
    threads = threading.active_count()
    for _ in range(5):
        assert check_plugins(application=kapp) == []
        assert django_checks.run_checks(tags=["kuzzle_events"]) == []
    assert threading.active_count() == threads
    assert CountingPlugin.inits == 0
    await kapp.start()
    assert CountingPlugin.inits == 1


class TooNew(Plugin):
    manifest = {"name": "too-new", "kuzzle_events": ">=99"}


class EarlyMistake(Plugin):
    manifest = {"name": "early", "kuzzle_events": ">=0.1"}

    def __init__(self) -> None:
        super().__init__()
        self.pipes = {"server:afterNow": "missing"}


def test_the_plugin_check_reports_what_would_stop_the_start(settings: Any, make_app: Any) -> None:
    settings.KUZZLE_EVENTS = {
        "PLUGINS": {"tests.test_checks.TooNew": {}, "tests.nowhere.Plugin": {}, "tests.test_checks.EarlyMistake": {}}
    }
    app = make_app()
    app.plugin.use_settings(app.config.PLUGINS, ["greeter"])
    found = check_plugins(application=app)
    assert ids(found) == ["kuzzle_events.E001"] * 3
    text = "\n".join(m.msg for m in found)
    assert "tests.nowhere.Plugin" in text and "too-new" in text and 'Plugin "early"' in text
    assert all("PLUGINS" in m.hint for m in found)


def test_manage_py_check_reports_a_bad_plugin(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    app.plugin.use(TooNew())
    monkeypatch.setattr(kuzzle_events, "app", app)
    with pytest.raises(SystemCheckError) as caught:
        call_command("check")
    assert "kuzzle_events.E001" in str(caught.value) and "too-new" in str(caught.value)


def test_readme_lists_every_check() -> None:
    readme = (ROOT / "README.md").read_text()
    source = (Path(kuzzle_events.__file__).parent / "checks.py").read_text()
    table = readme.partition("### System checks")[2].partition("\n## ")[0]
    assert set(re.findall(r"kuzzle_events\.[EW]\d{3}", source)) == set(re.findall(r"kuzzle_events\.[EW]\d{3}", table))
