"""The documented events, as data: what the docs, the admin and the OpenAPI document list.

Only these events are public; any other event the engine fires is internal and may change.
Names in angle brackets (``<controller>:before<Action>``) are patterns, one event per action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kuzzle_events import errors

__all__ = ["DocumentedEvent", "EVENTS", "HOOK_ONLY", "action_events", "check_listener", "Kind"]

Kind = Literal["pipe", "hook", "pipe+hook"]


@dataclass(frozen=True)
class DocumentedEvent:
    """One public event.

    ``kind`` says which listeners the event is documented for: ``pipe`` (awaited, a pipe may change
    the payload), ``hook`` (notification only), ``pipe+hook`` (both). ``payload`` names the
    arguments listeners receive, in order; ``()`` when there are none.
    """

    name: str
    kind: Kind
    when: str
    payload: tuple[str, ...] = ()

    @property
    def is_pattern(self) -> bool:
        """True for a name standing for one event per action (``<controller>:before<Action>``)."""
        return "<" in self.name


_REQUEST = ("request",)
_DOCUMENTS = ("documents", "request")
_PROTOCOL = ("{connection, payload}",)
_CONNECTION = ("{id, protocol, ips, headers}",)


def _document_events() -> tuple[DocumentedEvent, ...]:
    events = []
    for step, actions in (
        ("Write", "create, createOrReplace, replace, mCreate, mCreateOrReplace, mReplace"),
        ("Update", "update, upsert, mUpdate"),
        ("Delete", "delete, mDelete"),
        ("Get", "get, mGet (before and after), search (after)"),
    ):
        events.append(
            DocumentedEvent(
                f"generic:document:before{step}",
                "pipe+hook",
                f"before document:{actions}, before the action's own before event; the pipe returns the documents",
                _DOCUMENTS,
            )
        )
        events.append(
            DocumentedEvent(
                f"generic:document:after{step}",
                "pipe+hook",
                f"after document:{actions}, after the action's own after event; the pipe returns the documents",
                _DOCUMENTS,
            )
        )
    return tuple(events)


EVENTS: tuple[DocumentedEvent, ...] = (
    # Request life cycle, in the order the funnel fires them.
    DocumentedEvent("request:beforeExecution", "pipe+hook", "first step of every request", _REQUEST),
    DocumentedEvent(
        "request:onUnauthorized", "pipe+hook", "the caller may not run the action, before the 401/403", _REQUEST
    ),
    DocumentedEvent("request:onAuthorized", "pipe+hook", "the caller may run the action", _REQUEST),
    DocumentedEvent("request:onExecution", "pipe+hook", "right before the action's events and handler", _REQUEST),
    DocumentedEvent("<controller>:before<Action>", "pipe+hook", "before the action's handler runs", _REQUEST),
    DocumentedEvent("<controller>:after<Action>", "pipe+hook", "after the action's handler returned", _REQUEST),
    DocumentedEvent(
        "<controller>:error<Action>",
        "pipe+hook",
        "anything in the action step failed; a pipe recovers by clearing the request's error",
        _REQUEST,
    ),
    *_document_events(),
    DocumentedEvent(
        "generic:document:injectMetadata",
        "pipe",
        "a document write builds its _kuzzle_info (create, createOrReplace, replace, update, upsert); "
        "the pipe returns the payload, its metadata as they are to be stored",
        ("{metadata, request, defaultMetadata (upsert)}",),
    ),
    DocumentedEvent("request:onSuccess", "pipe+hook", "the action succeeded", _REQUEST),
    DocumentedEvent(
        "request:onError", "pipe+hook", "the action failed; a pipe recovers by clearing the request's error", _REQUEST
    ),
    DocumentedEvent(
        "request:afterExecution",
        "pipe+hook",
        "last step of every request; what the pipe returns is what the client gets",
        ("{request, result|error, success}",),
    ),
    # Connections and protocols.
    DocumentedEvent("connection:new", "hook", "a client connected", _CONNECTION),
    DocumentedEvent("connection:remove", "hook", "a client disconnected", _CONNECTION),
    DocumentedEvent(
        "core:realtime:user:subscribe:after",
        "hook",
        "a connection subscribed to a realtime room",
        ("{roomId, connectionId, index, collection}",),
    ),
    DocumentedEvent(
        "core:realtime:user:unsubscribe:after",
        "hook",
        "a connection left a realtime room",
        ("{roomId, connectionId}",),
    ),
    DocumentedEvent(
        "protocol:websocket:beforeParsingPayload", "pipe", "a WebSocket frame arrived, before JSON parsing", _PROTOCOL
    ),
    DocumentedEvent(
        "protocol:websocket:afterParsingPayload", "pipe", "a WebSocket frame was parsed into a request", _PROTOCOL
    ),
    DocumentedEvent(
        "protocol:mqtt:beforeParsingPayload", "pipe", "an MQTT message arrived, before JSON parsing", _PROTOCOL
    ),
    DocumentedEvent(
        "protocol:mqtt:afterParsingPayload", "pipe", "an MQTT message was parsed into a request", _PROTOCOL
    ),
    DocumentedEvent("protocol:http:beforeParsingPayload", "pipe", "an HTTP body arrived, before parsing", _PROTOCOL),
    DocumentedEvent("protocol:http:afterParsingPayload", "pipe", "an HTTP body was parsed", _PROTOCOL),
    DocumentedEvent("http:options", "pipe", "an HTTP OPTIONS request (a CORS preflight), before its answer", ("request",)),
    # Application life cycle.
    DocumentedEvent("kuzzle:state:start", "pipe", "the application starts, before it accepts requests"),
    DocumentedEvent("kuzzle:state:live", "pipe", "the application is running"),
    DocumentedEvent("kuzzle:state:ready", "pipe", "the application is ready to serve requests"),
    DocumentedEvent("core:kuzzleStart", "hook", "the application finished starting"),
    DocumentedEvent(
        "core:overload",
        "hook",
        "more than REQUESTS_BUFFER_WARNING_THRESHOLD requests wait for a slot (at most every 0.5 s)",
        ("load",),
    ),
    DocumentedEvent("kuzzle:shutdown", "pipe", "the application stops cleanly"),
    DocumentedEvent("hook:onError", "hook", "a hook raised an exception", ("plugin_name", "event", "error")),
)


# Controllers reached under another name, whose events are those of the controller they alias
# (Kuzzle's funnel names memoryStorage's events ms:*).
EVENT_ALIASES: dict[str, str] = {"memoryStorage": "ms"}


def action_events(controller: str, action: str) -> list[str]:
    """The three events of an action: ``server:now`` -> ``server:beforeNow``, ``afterNow``, ``errorNow``."""
    upper = action[:1].upper() + action[1:]
    controller = EVENT_ALIASES.get(controller, controller)
    return [f"{controller}:before{upper}", f"{controller}:after{upper}", f"{controller}:error{upper}"]


# Kuzzle fires these for hooks only ("Pipes cannot listen to that event, only hooks can"): nothing
# waits for them, so a pipe there could change nothing.
HOOK_ONLY: frozenset[str] = frozenset(event.name for event in EVENTS if event.kind == "hook")


def check_listener(kind: str, event: Any, handler: Any = None, *, decorator: str = "") -> None:
    """Refuse, when a listener is registered, what could never work (``plugin.assert.invalid_<kind>``).

    - an event that is not a name: ``@app.pipe.register`` written without parentheses passes the
      function itself as the event, and the function would be lost;
    - a pipe on a hook-only event (:data:`HOOK_ONLY`).

    ``decorator`` names the API in messages (``app.pipe.register`` unless told, ``pipe`` for plugins).
    """
    registry = decorator or f"app.{kind}.register"
    if callable(event):
        function = getattr(event, "__qualname__", repr(event))
        raise errors.PluginImplementationError(
            f'@{registry} was given the function {function} as its event: write @{registry}("<event>") '
            f"(the event name in parentheses) above {function}.",
            f"plugin.assert.invalid_{kind}",
        )
    if not isinstance(event, str) or not event:
        raise errors.PluginImplementationError(
            f"{registry}: the event must be a non-empty string, not {event!r}.", f"plugin.assert.invalid_{kind}"
        )
    if kind == "pipe" and event in HOOK_ONLY:
        function = getattr(handler, "__qualname__", None)
        culprit = f" ({function})" if function else ""
        raise errors.PluginImplementationError(
            f'"{event}" is a hook-only event: pipes cannot listen to it, only hooks can. Register the '
            f"function{culprit} with app.hook.register (or @hook in a plugin) instead.",
            "plugin.assert.invalid_pipe",
        )
