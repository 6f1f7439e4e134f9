"""``app.plugin``: plugins from settings, entry points and ``use()``; validated, initialised, wired.

Plugins are collected before start and initialised when the application starts, before
``kuzzle:state:start``: manifest checks, ``init(config, context)``, then their controllers (as
``<plugin-name>/<controller>``, routes under ``/_plugin/<plugin-name>``), pipes and hooks.
Any problem stops the start with a ``PluginImplementationError`` naming the plugin.

What can be known without running ``init`` (the plugin imports, its manifest, its name, and what
it declares on the class or in ``__init__``) is checked by :meth:`PluginManager.validate`, which
``manage.py check`` reports (``kuzzle_events.E001``) without starting anything.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module, metadata
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from kuzzle_events import __version__, errors
from kuzzle_events.core.catalog import check_listener
from kuzzle_events.core.controllers import Controller
from kuzzle_events.core.request import KuzzleRequest
from kuzzle_events.durable.hooks import DEFAULT_BACKOFF, DEFAULT_RETRIES
from kuzzle_events.plugins import PLUGIN_NAME, Listener, Plugin
from kuzzle_events.plugins.subscriptions import Subscriptions

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["PluginManager", "PluginContext", "LoadedPlugin", "Declared", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "kuzzle_events.plugins"


class _Accessors:
    def __init__(self, app: Application, name: str) -> None:
        self._app = app
        self._name = name
        self.sdk = app.sdk
        self.subscription = Subscriptions(app)

    async def execute(self, request: KuzzleRequest) -> Any:
        """Run a request built with ``context.constructors.Request`` through the funnel; its
        envelope. A failed request raises its error, as Kuzzle's ``execute`` rejects."""
        response = await self._app.sdk.execute(request)
        if request.error is not None:
            raise request.error
        return response.to_dict()

    async def trigger(self, event: str, *payload: Any) -> Any:
        """Fire the custom event ``plugin-<plugin-name>:<event>``."""
        return await self._app.trigger(f"plugin-{self._name}:{event}", *payload)


class _Constructors:
    Request = KuzzleRequest


class PluginContext:
    """What a plugin gets in ``init``: its logger, the error classes, constructors, accessors."""

    def __init__(self, app: Application, name: str) -> None:
        self.log = logging.LoggerAdapter(logging.getLogger(f"kuzzle_events.plugins.{name}"), {})
        self.log.process = lambda msg, kwargs: (f"[{name}] {msg}", kwargs)  # type: ignore[method-assign]
        self.errors = app.errors
        self.constructors = _Constructors()
        self.accessors = _Accessors(app, name)


@dataclass
class LoadedPlugin:
    """A plugin as the admin and ``server:info`` show it."""

    name: str
    instance: Plugin
    source: str
    config: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    controllers: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    pipes: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.manifest.get("version"),
            "manifest": self.manifest,
            "source": self.source,
            "controllers": self.controllers,
            "routes": self.routes,
            "pipes": self.pipes,
            "hooks": self.hooks,
        }


@dataclass
class Declared:
    """What a plugin brings, resolved and checked but not registered."""

    controllers: dict[str, dict[str, Any]]  # "<plugin-name>/<controller>" -> definition
    listeners: list[Listener]  # (kind, event, priority, function, options)


class PluginManager:
    """``app.plugin``: ``use(plugin, config=...)`` before start; ``loaded`` after."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self._pending: list[tuple[Plugin, dict[str, Any], str]] = []
        self.loaded: dict[str, LoadedPlugin] = {}
        # Plugins of the settings that could not be imported or built: reported by validate(),
        # raised by initialise(), so that a bad entry neither breaks django.setup() nor is ignored.
        self.failures: list[errors.KuzzleError] = []

    def use(self, plugin: Plugin, *, config: dict[str, Any] | None = None, source: str = "app.plugin.use") -> None:
        """Add a plugin instance, initialised when the application starts."""
        self._app._require_not_started("plugin.use")
        self._pending.append((plugin, dict(config or {}), source))

    def use_settings(self, entries: dict[str, dict[str, Any]], disabled: list[str] | None = None) -> None:
        """``KUZZLE_EVENTS["PLUGINS"]`` (dotted path -> config) and the ``kuzzle_events.plugins``
        entry points (installed packages), except names listed in ``disabled``.

        A plugin that cannot be imported or built is recorded in :attr:`failures`, not raised.
        """
        disabled_names = set(disabled or ())
        installed = {entry.name: entry for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)}
        for path, config in entries.items():
            if path in installed:  # the config of an installed plugin, by its entry-point name
                continue
            self._collect(functools.partial(_import, path), path, dict(config or {}), f"settings: {path}")
        for name, entry in installed.items():
            # Listed in PLUGINS by its dotted path ("pkg.Class" for "pkg:Class"): loaded from there.
            listed = any(p in (entry.value, entry.value.replace(":", ".")) for p in entries)
            if name in disabled_names or listed:
                continue
            config = dict(entries.get(name, {}) or {})
            self._collect(entry.load, entry.value, config, f"entry point: {name}")

    def _collect(self, load: Callable[[], Any], where: str, config: dict[str, Any], source: str) -> None:
        try:
            target = load()
        except errors.KuzzleError as error:
            self.failures.append(error)
            return
        except Exception as error:
            self.failures.append(errors.get("plugin.assert.cannot_load", where, error))
            return
        try:
            plugin = _instantiate(target, where)
        except errors.KuzzleError as error:
            self.failures.append(error)
            return
        self.use(plugin, config=config, source=source)

    def validate(self) -> list[errors.KuzzleError]:
        """What would stop the start, found without running any plugin's ``init``.

        The recorded :attr:`failures`, then for each pending plugin: its manifest (name, kebab
        case, supported versions), a duplicate name, a missing ``init``, and what it declares
        before ``init`` (``@pipe``/``@hook`` methods; controllers, routes, pipes and hooks set in
        ``__init__``). Nothing is registered and no plugin code but its constructor has run.
        """
        found = list(self.failures)
        names = set(self.loaded)
        for plugin, _config, _source in self._pending:
            try:
                name = _check_plugin(plugin, names)
                names.add(name)
                _declared(plugin, name)
            except errors.KuzzleError as error:
                found.append(error)
        return found

    def declared(self) -> dict[str, Declared]:
        """Pending plugins (by name) and what they declare before ``init``; the ones
        :meth:`validate` reports are left out."""
        found: dict[str, Declared] = {}
        for plugin, _config, _source in self._pending:
            try:
                name = _check_plugin(plugin, set(self.loaded) | set(found))
                found[name] = _declared(plugin, name)
            except errors.KuzzleError:
                continue
        return found

    async def initialise(self) -> None:
        """Validate, ``init`` and wire every pending plugin (called by ``app.start``)."""
        if self.failures:
            raise self.failures[0]
        pending, self._pending = self._pending, []
        for plugin, config, source in pending:
            await self._load(plugin, config, source)

    async def _load(self, plugin: Plugin, config: dict[str, Any], source: str) -> None:
        name = _check_plugin(plugin, set(self.loaded))
        manifest = dict(getattr(plugin, "manifest", None) or {})
        warn_time = config.pop("PIPE_WARN_TIME", None)
        try:
            result = plugin.init(copy.deepcopy(config), PluginContext(self._app, name))
            if inspect.isawaitable(result):
                await result
        except errors.KuzzleError:
            raise
        except Exception as error:
            raise errors.PluginImplementationError(
                f'Plugin "{name}": init failed: {error!r}', "plugin.runtime.failed_init"
            ) from error
        loaded = LoadedPlugin(name, plugin, source, config, manifest)
        self._wire(plugin, loaded, warn_time)
        self.loaded[name] = loaded

    def _wire(self, plugin: Plugin, loaded: LoadedPlugin, warn_time: float | None) -> None:
        app, name = self._app, loaded.name
        declared = _declared(plugin, name)
        for full, definition in declared.controllers.items():
            app.controller.register(full, definition, owner=name, route_prefix=f"/_plugin/{name}", builtin=True)
            loaded.controllers.append(full)
            for act in app.controller.controllers[full].actions.values():
                loaded.routes.extend(f"{r.verb.upper()} {r.path}" for r in act.routes)
        for kind, event, priority, fn, options in declared.listeners:
            if options.get("durable"):
                app.durable.register(event, fn, name, priority, options["retries"], options["backoff"])
            else:
                app._add_listener(kind, event, fn, priority, name, warn_time)
            (loaded.pipes if kind == "pipe" else loaded.hooks).append(event)

    def describe(self) -> dict[str, Any]:
        """Every loaded plugin's manifest and what it registered."""
        return {name: p.describe() for name, p in sorted(self.loaded.items())}


def _import(path: str) -> Any:
    # "package.module.Class", or "package.module:Class" as entry points write it.
    module_name, _, attr = path.rpartition(":") if ":" in path else path.rpartition(".")
    try:
        return getattr(import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as error:
        raise errors.get("plugin.assert.cannot_load", path, error) from error


def _instantiate(target: Any, where: str) -> Plugin:
    if isinstance(target, type):
        try:
            return target()
        except Exception as error:
            raise errors.get("plugin.assert.cannot_load", where, error) from error
    return target


def _check_plugin(plugin: Any, taken: set[str]) -> str:
    """The plugin's name, once its manifest, its name's uniqueness and its ``init`` are right."""
    name = _check_manifest(plugin, dict(getattr(plugin, "manifest", None) or {}))
    if name in taken:
        raise errors.get("plugin.assert.name_already_exists", name)
    if not callable(getattr(plugin, "init", None)):
        raise errors.get("plugin.assert.init_not_found", name)
    return name


def _declared(plugin: Any, name: str) -> Declared:
    """The plugin's controllers and listeners as it declares them now, resolved and checked."""
    controllers = {f"{name}/{c}": d for c, d in _controller_definitions(plugin, name).items()}
    listeners: list[Listener] = []
    for kind, table in (("pipe", getattr(plugin, "pipes", {}) or {}), ("hook", getattr(plugin, "hooks", {}) or {})):
        for event, handlers in table.items():
            for handler in handlers if isinstance(handlers, list) else [handlers]:
                options: dict[str, Any] = {}
                if kind == "hook" and isinstance(handler, dict):
                    handler, options = _durable_entry(handler, name, event)
                listeners.append((kind, event, 0, _resolve(plugin, handler, name, f"{kind} on {event}"), options))
    listeners.extend(plugin.marked_listeners() if isinstance(plugin, Plugin) else ())
    for kind, event, _priority, fn, _options in listeners:
        try:
            check_listener(kind, event, fn)
        except errors.KuzzleError as error:
            raise errors.PluginImplementationError(f'Plugin "{name}": {error.message}', error.id) from None
    return Declared(controllers, listeners)


def _check_manifest(plugin: Any, manifest: dict[str, Any]) -> str:
    label = type(plugin).__name__
    name = manifest.get("name")
    if name is None:
        raise errors.get("plugin.manifest.missing_name", label)
    if not isinstance(name, str) or not name:
        raise errors.get("plugin.manifest.invalid_name_type", label)
    if not PLUGIN_NAME.match(name):
        raise errors.get("plugin.assert.invalid_plugin_name", name)
    supported = manifest.get("kuzzle_events")
    if supported is None:
        raise errors.PluginImplementationError(
            f'Plugin "{name}": the manifest needs a "kuzzle_events" version range (e.g. ">=0.1,<1").',
            "plugin.manifest.missing_version",
        )
    try:
        accepted = Version(__version__) in SpecifierSet(str(supported))
    except InvalidSpecifier:
        accepted = False
    if not accepted:
        raise errors.PluginImplementationError(
            f'Plugin "{name}": version mismatch: kuzzle_events {__version__} does not match "{supported}".',
            "plugin.manifest.version_mismatch",
        )
    return name


def _durable_entry(entry: dict[str, Any], name: str, event: str) -> tuple[Any, dict[str, Any]]:
    """``{"handler": ..., "durable": True, "retries": 5, "backoff": 1.0}`` of a ``hooks`` dict:
    the handler and its options."""
    unknown = set(entry) - {"handler", "durable", "retries", "backoff"}
    if "handler" not in entry or unknown:
        raise errors.PluginImplementationError(
            f'Plugin "{name}": a hook on {event} written as a dict takes "handler" and "durable", "retries", '
            f'"backoff" ({entry!r}).',
            "plugin.assert.invalid_hook",
        )
    if not entry.get("durable"):
        return entry["handler"], {}
    options = {
        "durable": True,
        "retries": entry.get("retries", DEFAULT_RETRIES),
        "backoff": entry.get("backoff", DEFAULT_BACKOFF),
    }
    return entry["handler"], options


def _resolve(plugin: Any, handler: Any, name: str, what: str) -> Callable[..., Any]:
    fn = getattr(plugin, handler, None) if isinstance(handler, str) else handler
    if not callable(fn):
        raise errors.PluginImplementationError(
            f'Plugin "{name}": the {what} ({handler!r}) is not a function.', "plugin.assert.invalid_pipe"
        )
    return fn


def _controller_definitions(plugin: Any, name: str) -> dict[str, dict[str, Any]]:
    """Kuzzle's ``controllers`` + ``routes`` shapes, or Controller instances, as definitions."""
    declared = getattr(plugin, "controllers", {}) or {}
    if isinstance(declared, list):
        declared = {c.controller_name(): c for c in declared}
    routes = getattr(plugin, "routes", []) or []
    definitions: dict[str, dict[str, Any]] = {}
    for controller_name, spec in declared.items():
        if isinstance(spec, Controller):
            definitions[controller_name] = spec.definition()
            if not definitions[controller_name]["actions"]:
                raise errors.PluginImplementationError(
                    f'Plugin "{name}": controller "{controller_name}" ({type(spec).__qualname__}) '
                    "has no @action method.",
                    "plugin.assert.invalid_controller_definition",
                )
            continue
        if not isinstance(spec, dict):
            raise errors.get("plugin.controller.invalid_description", f"[{name}]", type(spec).__name__)
        actions: dict[str, Any] = {}
        for action_name, handler in spec.items():
            actions[action_name] = {
                "handler": _resolve(plugin, handler, name, f"action {controller_name}:{action_name}"),
                "http": [],
            }
        definitions[controller_name] = {"actions": actions}
    for route in routes:
        controller_name, action_name = route.get("controller"), route.get("action")
        action = definitions.get(controller_name, {}).get("actions", {}).get(action_name)
        if action is None:
            raise errors.PluginImplementationError(
                f'Plugin "{name}": route {route!r} names an undefined action "{controller_name}:{action_name}".',
                "plugin.controller.undefined_action",
            )
        action["http"].append({"verb": route.get("verb"), "path": route.get("url") or route.get("path")})
    return definitions
