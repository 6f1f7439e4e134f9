"""A service module (plain sync functions on the ORM) as the API's actions call it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kuzzle_events.orm import orm

__all__ = ["Service"]


class Service:
    """``Service("kuzzle_events.security.roles").get_role``: that function as a coroutine function.

    Each call is one hop to Django's sync thread (:func:`kuzzle_events.orm.orm`); the module is
    imported on the first call, once Django's apps are ready.
    """

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        fn = orm(self._module, name)
        # Kept on the instance: the next lookup finds it without coming back here.
        setattr(self, name, fn)
        return fn
