"""The documented events, as data: what the docs, the admin and the OpenAPI document list.

Only these events are public; any other event the engine fires is internal and may change.
Names in angle brackets (``<controller>:before<Action>``) are patterns, one event per action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DocumentedEvent", "EVENTS", "action_events", "Kind"]

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
    DocumentedEvent("protocol:http:beforeParsingPayload", "pipe", "an HTTP body arrived, before parsing", _PROTOCOL),
    DocumentedEvent("protocol:http:afterParsingPayload", "pipe", "an HTTP body was parsed", _PROTOCOL),
    # Application life cycle.
    DocumentedEvent("kuzzle:state:start", "pipe", "the application starts, before it accepts requests"),
    DocumentedEvent("kuzzle:state:live", "pipe", "the application is running"),
    DocumentedEvent("kuzzle:state:ready", "pipe", "the application is ready to serve requests"),
    DocumentedEvent("core:kuzzleStart", "hook", "the application finished starting"),
    DocumentedEvent("kuzzle:shutdown", "pipe", "the application stops cleanly"),
    DocumentedEvent("hook:onError", "hook", "a hook raised an exception", ("plugin_name", "event", "error")),
)


def action_events(controller: str, action: str) -> list[str]:
    """The three events of an action: ``server:now`` -> ``server:beforeNow``, ``afterNow``, ``errorNow``."""
    upper = action[:1].upper() + action[1:]
    return [f"{controller}:before{upper}", f"{controller}:after{upper}", f"{controller}:error{upper}"]
