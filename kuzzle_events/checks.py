"""``manage.py check``: mistakes in the settings, ``INSTALLED_APPS``, plugins and event names.

Registered by ``AppConfig.ready()`` under the tag ``kuzzle_events`` (``manage.py check --tag
kuzzle_events``); ``runserver`` and ``migrate`` run them too. What a name alone proves wrong is
refused earlier, when it is registered (see :func:`kuzzle_events.core.catalog.check_listener` and
``app.controller.use``); what needs the whole project (the order of the apps, the settings, the
controllers every listener may refer to) is checked here:

======================  ========================================================================
``kuzzle_events.E001``  a plugin would stop the start (checked without running its ``init``)
``kuzzle_events.E002``  an unknown key in ``settings.KUZZLE_EVENTS``
``kuzzle_events.E003``  a setting of the wrong type (or ``KUZZLE_EVENTS`` not a dict)
``kuzzle_events.W001``  an app before ``kuzzle_events`` brings its own ``runserver``
``kuzzle_events.W002``  an app before ``kuzzle_events`` brings its own ``admin/index.html``
``kuzzle_events.W003``  a pipe or hook on ``<controller>:<step><Action>`` of a missing action
``kuzzle_events.W004``  a pipe or hook on an event nothing fires
======================  ========================================================================
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.management import find_commands

import kuzzle_events
from kuzzle_events import conf, errors
from kuzzle_events.core.catalog import EVENTS, action_events

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.plugins.loader import Declared

__all__ = ["TAG", "register", "check_app_order", "check_settings", "check_plugins", "check_event_names"]

TAG = "kuzzle_events"
_THIS_APP = "kuzzle_events"
# Documented events with a fixed name; "<controller>:before<Action>" and the like are checked
# against the registered controllers instead.
_DOCUMENTED = frozenset(event.name for event in EVENTS if not event.is_pattern)


def register() -> None:
    """Register every check of this module with Django (called from ``AppConfig.ready()``)."""
    for check in (check_app_order, check_settings, check_plugins, check_event_names):
        checks.register(check, TAG)


def check_app_order(
    app_configs: Any = None, *, installed: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """W001/W002: an app listed before ``kuzzle_events`` whose ``runserver`` or admin index wins.

    Django takes a management command from the first app in ``INSTALLED_APPS`` that has one, and
    the app template loaders search the apps in that order too: every app before ours that ships
    ``management/commands/runserver.py`` (``django.contrib.staticfiles``, ``daphne``...) or
    ``templates/admin/index.html`` (``django.contrib.admin``) is reported. ``installed`` stands for
    the installed apps, in order (tests).
    """
    configs = list(apps.get_app_configs() if installed is None else installed)
    names = [config.name for config in configs]
    if _THIS_APP not in names:
        return []
    messages: list[checks.CheckMessage] = []
    for config in configs[: names.index(_THIS_APP)]:
        hint = f'Put "{_THIS_APP}" above "{config.name}" in INSTALLED_APPS.'
        if "runserver" in find_commands(os.path.join(config.path, "management")):
            messages.append(
                checks.Warning(
                    f'"{config.name}" comes before "{_THIS_APP}" in INSTALLED_APPS, so its runserver command '
                    f"replaces kuzzle_events' one: manage.py runserver would not serve kuzzle_events' "
                    'WebSocket and HTTP API on KUZZLE_EVENTS["PORT"].',
                    hint=hint,
                    obj=config.name,
                    id="kuzzle_events.W001",
                )
            )
        if os.path.isfile(os.path.join(config.path, "templates", "admin", "index.html")):
            messages.append(
                checks.Warning(
                    f'"{config.name}" comes before "{_THIS_APP}" in INSTALLED_APPS, so its admin/index.html '
                    'template is used instead of kuzzle_events\' one: the admin index loses its "Kuzzle '
                    'events" module.',
                    hint=hint,
                    obj=config.name,
                    id="kuzzle_events.W002",
                )
            )
    return messages


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E002/E003: unknown keys and values of the wrong type in ``settings.KUZZLE_EVENTS``."""
    values = getattr(settings, "KUZZLE_EVENTS", None)
    if values is None:
        return []
    if not isinstance(values, Mapping):
        return [
            checks.Error(
                f"settings.KUZZLE_EVENTS must be a dict, not {type(values).__name__}.",
                hint='Write KUZZLE_EVENTS = {"PIPE_WARN_TIME": 500, ...} (every key is optional).',
                obj="settings.KUZZLE_EVENTS",
                id="kuzzle_events.E003",
            )
        ]
    messages: list[checks.CheckMessage] = []
    for key, close in conf.unknown_settings(values).items():
        messages.append(
            checks.Error(
                f"settings.KUZZLE_EVENTS has an unknown key {key!r}; the application will not start with it.",
                hint=f"Did you mean {close!r}?" if close else f"Remove it. The settings: {', '.join(conf.DEFAULTS)}.",
                obj="settings.KUZZLE_EVENTS",
                id="kuzzle_events.E002",
            )
        )
    for key, expected in conf.wrong_types(values).items():
        messages.append(
            checks.Error(
                f"settings.KUZZLE_EVENTS[{key!r}] is {values[key]!r} ({type(values[key]).__name__}): "
                f"it must be {expected}.",
                hint=f"Set {key} to {expected} (default: {conf.DEFAULTS[key]!r}).",
                obj="settings.KUZZLE_EVENTS",
                id="kuzzle_events.E003",
            )
        )
    return messages


def check_plugins(
    app_configs: Any = None, *, application: Application | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """E001: what would stop the plugins from loading, found without running any ``init``.

    ``application`` defaults to ``kuzzle_events.app`` (whose plugins ``ready()`` collected). See
    :meth:`~kuzzle_events.plugins.loader.PluginManager.validate` for what is checked: what a plugin
    does in ``init`` is only known when the application starts, which then fails naming it.
    """
    found = (application or kuzzle_events.app).plugin.validate()
    return [
        checks.Error(
            f"Plugin error: {error.message}",
            hint=f"{error.id}: fix the plugin, or remove it from KUZZLE_EVENTS[\"PLUGINS\"] (an installed "
            'plugin: add its entry-point name to KUZZLE_EVENTS["DISABLED_PLUGINS"]).',
            id="kuzzle_events.E001",
        )
        for error in found
    ]


def check_event_names(
    app_configs: Any = None, *, application: Application | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """W003/W004: pipes and hooks registered on events that nothing will fire.

    Every listener of ``application`` (``kuzzle_events.app`` by default), and of the plugins it will
    load as far as they declare them before ``init``, is compared with the documented events, the
    events of every registered controller's actions (plugins' as ``<plugin-name>/<controller>``,
    once wired: a started application knows them all), custom events (a ``/`` in the name, as in
    ``app-name/file-available``), a plugin's own ``plugin-<name>:...`` events, and wildcards.
    """
    application = application or kuzzle_events.app
    try:
        registered = application.events.registered()
    except errors.KuzzleError:  # invalid settings: check_settings says why
        return []
    declared = application.plugin.declared()
    controllers = {name: _events_of(name, c.actions) for name, c in application.controller.controllers.items()}
    for plugin in declared.values():
        controllers.update({name: _events_of(name, d["actions"]) for name, d in plugin.controllers.items()})
    plugins = set(application.plugin.loaded) | set(declared)
    known = sorted(_DOCUMENTED.union(*controllers.values()))

    messages: list[checks.CheckMessage] = []
    for kind, event, culprit in _listeners(registered, declared):
        if _is_fired(event, controllers, plugins):
            continue
        scope = event.rpartition(":")[0]
        if scope in controllers:
            close = difflib.get_close_matches(event, sorted(controllers[scope]), n=3)
            message = f'{culprit} is a {kind} on "{event}", but controller "{scope}" has no such action.'
            check_id = "kuzzle_events.W003"
        else:
            close = difflib.get_close_matches(event, known, n=3)
            message = (
                f'{culprit} is a {kind} on "{event}", which is neither a documented event, an event of '
                "a registered action, nor a custom event: nothing fires it."
            )
            check_id = "kuzzle_events.W004"
        suggestion = f"Did you mean {', '.join(repr(name) for name in close)}? " if close else ""
        messages.append(
            checks.Warning(
                message,
                hint=f'{suggestion}Custom events are named "app-name/event" (with a slash).',
                obj=event,
                id=check_id,
            )
        )
    return messages


def _events_of(controller: str, actions: Mapping[str, Any]) -> set[str]:
    return {event for action in actions for event in action_events(controller, action)}


def _listeners(
    registered: Mapping[str, tuple[Sequence[Any], Sequence[Any]]], declared: Mapping[str, Declared]
) -> Iterator[tuple[str, str, str]]:
    """``(kind, event, who)`` of every registered listener, then of the pending plugins' ones."""
    for event, (pipes, hooks) in registered.items():
        for kind, listeners in (("pipe", pipes), ("hook", hooks)):
            for listener in listeners:
                yield kind, event, f"{listener.name} (of {listener.owner})"
    for plugin, what in declared.items():
        for kind, event, _priority, fn, _options in what.listeners:
            yield kind, event, f"{getattr(fn, '__qualname__', repr(fn))} (of {plugin})"


def _is_fired(event: str, controllers: Mapping[str, set[str]], plugins: set[str]) -> bool:
    """Whether ``event`` is one that something fires (or may fire: wildcards, custom events)."""
    if event in _DOCUMENTED or "*" in event:
        return True
    scope = event.rpartition(":")[0]
    if scope in controllers:
        return event in controllers[scope]
    if "/" in event:
        # A custom event ("app-name/file-available"), or an event of a plugin's controller that
        # the plugin adds in its init, unknown until the application starts.
        return True
    # What a plugin fires with context.accessors.trigger(): "plugin-<name>:<event>".
    return scope.startswith("plugin-") and scope[len("plugin-") :] in plugins
