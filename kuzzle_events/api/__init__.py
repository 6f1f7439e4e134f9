"""Kuzzle's built-in controllers that kuzzle_events implements."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["register_builtins"]


def register_builtins(app: Application) -> None:
    from kuzzle_events.api.auth import auth_controller
    from kuzzle_events.api.documents import (
        attach_generic_events,
        collection_controller,
        document_controller,
        index_controller,
    )
    from kuzzle_events.api.realtime import realtime_controller
    from kuzzle_events.api.security import security_controller
    from kuzzle_events.api.server import server_controller

    app.controller.register("server", server_controller(app), owner="core", builtin=True)
    app.controller.register("auth", auth_controller(app), owner="core", builtin=True)
    app.controller.register("security", security_controller(app), owner="core", builtin=True)
    app.controller.register("index", index_controller(app), owner="core", builtin=True)
    app.controller.register("collection", collection_controller(app), owner="core", builtin=True)
    app.controller.register("document", document_controller(app), owner="core", builtin=True)
    attach_generic_events(app)
    app.controller.register("realtime", realtime_controller(app), owner="core", builtin=True)
