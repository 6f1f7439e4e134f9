"""The registry that turns error ids into instances: Kuzzle's own ids and an application's."""

from __future__ import annotations

import re
from typing import Any

from kuzzle_events.errors.classes import (
    CLASSES,
    BadRequestError,
    ErrorClasses,
    InternalError,
    KuzzleError,
    PluginImplementationError,
)
from kuzzle_events.errors.table import ERROR_TABLE, Row

__all__ = ["ErrorRegistry", "get"]

# The base class under another name: inside ErrorRegistry, ``KuzzleError`` is a class attribute.
_Error = KuzzleError

_ID = re.compile(r"^[a-z][\w-]*\.[a-z][\w-]*\.[a-z][\w-]*$", re.IGNORECASE)


def _placeholder(value: Any) -> str:
    # As JavaScript writes them (Kuzzle's messages): never Python's None, True or False.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _format(template: str, placeholders: tuple[Any, ...]) -> str:
    # Kuzzle's templates use %s; missing placeholders stay visible rather than failing.
    parts = template.split("%s")
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        out.append(_placeholder(placeholders[i]) if i < len(placeholders) else "%s")
        out.append(part)
    return "".join(out)


class ErrorRegistry(ErrorClasses):
    """``app.errors``: the error classes, and Kuzzle's ids as instances.

    >>> app.errors.get("api", "assert", "missing_argument", "index")
    BadRequestError('api.assert.missing_argument', 'Missing argument "index".')
    """

    def __init__(self) -> None:
        self._custom: dict[str, Row] = {}

    def register(
        self,
        domain: str,
        subdomain: str,
        name: str,
        *,
        message: str,
        cls: type[_Error] | str = BadRequestError,
        code: int = 0,
    ) -> str:
        """Declare an application error id ``domain.subdomain.name``; returns the id.

        ``cls`` is one of the error classes, or its name as Kuzzle's error definitions give it;
        anything else is refused here, not when the error is raised.
        """
        error_id = f"{domain}.{subdomain}.{name}"
        if not _ID.match(error_id):
            raise PluginImplementationError(f'Invalid error id "{error_id}".')
        error_class = CLASSES.get(cls) if isinstance(cls, str) else cls
        if error_class is None or not (isinstance(error_class, type) and issubclass(error_class, KuzzleError)):
            raise PluginImplementationError(
                f'Unknown error class "{cls}" for "{error_id}" (one of: {", ".join(CLASSES)}).'
            )
        if error_id in ERROR_TABLE or error_id in self._custom:
            raise PluginImplementationError(f'Error id "{error_id}" is already registered.')
        self._custom[error_id] = (code, error_class, message)
        return error_id

    def get(self, domain: str, subdomain: str | None = None, name: str | None = None, *placeholders: Any) -> _Error:
        """An error instance for a registered id, its message filled with ``placeholders``.

        Accepts either ``get("api", "assert", "missing_argument", "index")`` or
        ``get("api.assert.missing_argument", "index")``.
        """
        if name is None or "." in domain:
            error_id = domain
            placeholders = tuple(p for p in (subdomain, name) if p is not None) + placeholders
        else:
            error_id = f"{domain}.{subdomain}.{name}"
        row = self._custom.get(error_id) or ERROR_TABLE.get(error_id)
        if row is None:
            raise InternalError(f'Unknown error id "{error_id}".', "core.fatal.unexpected_error")
        code, error_class, template = row
        return error_class(_format(template, placeholders), id=error_id, code=code)


_core_registry = ErrorRegistry()


def get(error_id: str, *placeholders: Any) -> KuzzleError:
    """An instance of one of Kuzzle's own error ids (``api.assert.missing_argument``...)."""
    return _core_registry.get(error_id, None, None, *placeholders)
