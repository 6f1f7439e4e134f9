"""Any exception as a Kuzzle error: the one place where that translation is decided.

Django's exceptions are recognised only once Django is loaded (they are looked up in
``sys.modules``, never imported), so the core, which must run without Django, can call
:func:`from_exception` too.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from kuzzle_events.errors.classes import (
    BadRequestError,
    ForbiddenError,
    KuzzleError,
    NotFoundError,
    SizeLimitError,
    TooManyRequestsError,
    UnauthorizedError,
)
from kuzzle_events.errors.registry import get

__all__ = ["from_exception"]

log = logging.getLogger("kuzzle_events")

# Errors that say the database cannot be reached (as opposed to a query that failed).
_UNREACHABLE = ("OperationalError", "InterfaceError")
# Errors that say the database refused what it was given: a value, or a constraint it breaks.
_REFUSED = ("DataError", "IntegrityError")


def from_exception(error: BaseException) -> KuzzleError:
    """The Kuzzle error a client receives for ``error``.

    - a :class:`KuzzleError`: itself;
    - Django's ``Http404``: 404 (``app.errors.not_found``), as a handler raising NotFoundError;
    - ``PermissionDenied``: 403 ``security.rights.forbidden``;
    - ``ValidationError``: 400 ``api.assert.invalid_argument``, naming the fields;
    - a database error (``django.db.DatabaseError``, its subclasses, ``InterfaceError``):
      ``core.fatal.service_unavailable`` when the database cannot be reached, 400
      ``services.storage.unexpected_bad_request`` for a value or constraint it refuses
      (``DataError``, ``IntegrityError``), else 500 ``services.storage.unexpected_error``; the
      message names the error's class only, as the
      database's own text may quote SQL and data (it is logged, and kept as the cause);
    - a DRF ``APIException`` (authentication, permission and throttling classes raise them): the
      Kuzzle class of its status code (401, 403, 404, 413, 429, else 400), with DRF's message;
    - anything else: 500 ``plugin.runtime.unexpected_error``.

    The original exception is the new error's ``__cause__``.
    """
    if isinstance(error, KuzzleError):
        return error
    mapped = _from_django(error) or get("plugin.runtime.unexpected_error", str(error) or type(error).__name__)
    mapped.__cause__ = error
    return mapped


def _loaded(module: str, name: str) -> Any:
    """``module.name`` if ``module`` is imported already, else a class no exception is."""
    return getattr(sys.modules.get(module), name, _Never)


class _Never(Exception):
    """Stands for a class of a module not loaded: no exception is an instance of it."""


def _from_django(error: BaseException) -> KuzzleError | None:
    if "django" not in sys.modules:
        return None
    if isinstance(error, _loaded("django.http.response", "Http404")):
        return NotFoundError(str(error) or "Not found.")
    if isinstance(error, _loaded("django.core.exceptions", "PermissionDenied")):
        return ForbiddenError(str(error) or "Insufficient permissions.", "security.rights.forbidden")
    if isinstance(error, _loaded("django.core.exceptions", "ValidationError")):
        return _invalid(error)
    # Error, not DatabaseError: InterfaceError (a connection closed under us) derives from Error only.
    if isinstance(error, _loaded("django.db.utils", "Error")):
        return _database(error)
    if isinstance(error, _loaded("rest_framework.exceptions", "APIException")):
        return _from_drf(error)
    return None


_BY_STATUS: dict[int, type[KuzzleError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    413: SizeLimitError,
    429: TooManyRequestsError,
}


def _from_drf(error: Any) -> KuzzleError:
    cls = _BY_STATUS.get(getattr(error, "status_code", 400), BadRequestError)
    detail = getattr(error, "detail", None)
    message = str(detail) if isinstance(detail, str) else str(error)
    return cls(message or cls.__name__)


def _invalid(error: Any) -> KuzzleError:
    if hasattr(error, "error_dict"):
        fields = sorted(error.message_dict)
        expected = "; ".join(f"{field}: {' '.join(error.message_dict[field])}" for field in fields)
        mapped = get("api.assert.invalid_argument", ", ".join(fields), expected)
        mapped.props = fields
        return mapped
    return BadRequestError(" ".join(error.messages), "api.assert.invalid_argument")


def _database(error: BaseException) -> KuzzleError:
    kind = type(error).__name__
    # The database's text is for the operator (the client's message leaves it out); no traceback:
    # the error is answered, and its cause keeps the stack for whoever asks for it.
    log.error("kuzzle_events: database error (%s): %s", kind, error)
    if any(cls.__name__ in _UNREACHABLE for cls in type(error).__mro__):
        return get("core.fatal.service_unavailable", f"database ({kind})")
    if any(cls.__name__ in _REFUSED for cls in type(error).__mro__):
        return get("services.storage.unexpected_bad_request", f"The database refused the request ({kind}).")
    return get("services.storage.unexpected_error", f"Database error ({kind}).")
