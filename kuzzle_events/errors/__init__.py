"""Kuzzle's error classes, and the registry that turns error ids into instances.

Errors are data: each class carries its HTTP status; each id (``domain.subdomain.name``) maps to a
class, a numeric code and a message template in :mod:`kuzzle_events.error_table`. Every protocol
turns an error into the same JSON object with :meth:`KuzzleError.to_dict`.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

from kuzzle_events.errors.table import ERROR_TABLE

__all__ = [
    "KuzzleError",
    "BadRequestError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "PreconditionError",
    "SizeLimitError",
    "TooManyRequestsError",
    "InternalError",
    "PluginImplementationError",
    "ExternalServiceError",
    "ServiceUnavailableError",
    "GatewayTimeoutError",
    "PartialError",
    "MultipleErrorsError",
    "ErrorRegistry",
    "get",
    "wrap",
]


class KuzzleError(Exception):
    """Base of every error a client can receive: an id, a numeric code, a status and a message."""

    status: int = 500
    default_id: str = "core.fatal.unexpected_error"

    def __init__(
        self,
        message: str = "",
        id: str | None = None,
        code: int | None = None,
        props: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.id = id or self.default_id
        self.code = code if code is not None else _code_of(self.id)
        self.props = props or []

    def to_dict(self, *, stack: bool = False) -> dict[str, Any]:
        """The error object of Kuzzle's response envelope."""
        data: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "props": self.props,
        }
        if stack:
            data["stack"] = "".join(traceback.format_exception(self))
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, {self.message!r})"


def _code_of(error_id: str) -> int:
    row = ERROR_TABLE.get(error_id)
    return row[0] if row else 0


class BadRequestError(KuzzleError):
    status = 400
    default_id = "app.errors.bad_request"


class UnauthorizedError(KuzzleError):
    status = 401
    default_id = "app.errors.unauthorized"


class ForbiddenError(KuzzleError):
    status = 403
    default_id = "app.errors.forbidden"


class NotFoundError(KuzzleError):
    status = 404
    default_id = "app.errors.not_found"


class PreconditionError(KuzzleError):
    status = 412
    default_id = "app.errors.precondition"


class SizeLimitError(KuzzleError):
    status = 413
    default_id = "app.errors.size_limit"


class TooManyRequestsError(KuzzleError):
    status = 429
    default_id = "app.errors.too_many_requests"


class InternalError(KuzzleError):
    status = 500
    default_id = "core.fatal.unexpected_error"


class PluginImplementationError(KuzzleError):
    status = 500
    default_id = "plugin.runtime.unexpected_error"


class ExternalServiceError(KuzzleError):
    status = 500
    default_id = "app.errors.external_service"


class ServiceUnavailableError(KuzzleError):
    status = 503
    default_id = "app.errors.service_unavailable"


class GatewayTimeoutError(KuzzleError):
    status = 504
    default_id = "app.errors.gateway_timeout"


class PartialError(KuzzleError):
    """Some items of a multi-item request failed: ``errors`` lists them."""

    status = 206
    default_id = "app.errors.partial"

    def __init__(self, message: str = "", errors: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors or []

    def to_dict(self, *, stack: bool = False) -> dict[str, Any]:
        data = super().to_dict(stack=stack)
        data["errors"] = [e.to_dict() if isinstance(e, KuzzleError) else e for e in self.errors]
        data["count"] = len(self.errors)
        return data


class MultipleErrorsError(PartialError):
    """Several errors at once, none of the items succeeded."""

    status = 400
    default_id = "app.errors.multiple_errors"


CLASSES: dict[str, type[KuzzleError]] = {
    cls.__name__: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        PreconditionError,
        SizeLimitError,
        TooManyRequestsError,
        InternalError,
        PluginImplementationError,
        ExternalServiceError,
        ServiceUnavailableError,
        GatewayTimeoutError,
        PartialError,
        MultipleErrorsError,
    )
}

_ID = re.compile(r"^[a-z][\w-]*\.[a-z][\w-]*\.[a-z][\w-]*$", re.IGNORECASE)


def _format(template: str, placeholders: tuple[Any, ...]) -> str:
    # Kuzzle's templates use %s; missing placeholders stay visible rather than failing.
    parts = template.split("%s")
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        out.append(str(placeholders[i]) if i < len(placeholders) else "%s")
        out.append(part)
    return "".join(out)


class ErrorRegistry:
    """``app.errors``: the error classes, and Kuzzle's ids as instances.

    >>> app.errors.get("api", "assert", "missing_argument", "index")
    BadRequestError('api.assert.missing_argument', 'Missing argument "index".')
    """

    KuzzleError = KuzzleError
    BadRequestError = BadRequestError
    UnauthorizedError = UnauthorizedError
    ForbiddenError = ForbiddenError
    NotFoundError = NotFoundError
    PreconditionError = PreconditionError
    SizeLimitError = SizeLimitError
    TooManyRequestsError = TooManyRequestsError
    InternalError = InternalError
    PluginImplementationError = PluginImplementationError
    ExternalServiceError = ExternalServiceError
    ServiceUnavailableError = ServiceUnavailableError
    GatewayTimeoutError = GatewayTimeoutError
    PartialError = PartialError
    MultipleErrorsError = MultipleErrorsError

    def __init__(self) -> None:
        self._custom: dict[str, tuple[int, str, str]] = {}

    def register(
        self,
        domain: str,
        subdomain: str,
        name: str,
        *,
        message: str,
        cls: type[KuzzleError] | str = "BadRequestError",
        code: int = 0,
    ) -> str:
        """Declare an application error id ``domain.subdomain.name``; returns the id."""
        error_id = f"{domain}.{subdomain}.{name}"
        class_name = cls if isinstance(cls, str) else cls.__name__
        if not _ID.match(error_id):
            raise PluginImplementationError(f'Invalid error id "{error_id}".')
        if class_name not in CLASSES:
            raise PluginImplementationError(
                f'Unknown error class "{class_name}" for "{error_id}" (one of: {", ".join(CLASSES)}).'
            )
        if error_id in ERROR_TABLE or error_id in self._custom:
            raise PluginImplementationError(f'Error id "{error_id}" is already registered.')
        self._custom[error_id] = (code, class_name, message)
        return error_id

    def get(self, domain: str, subdomain: str | None = None, name: str | None = None, *placeholders: Any) -> KuzzleError:
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
        code, class_name, template = row
        return CLASSES[class_name](_format(template, placeholders), error_id, code)


_core_registry = ErrorRegistry()


def get(error_id: str, *placeholders: Any) -> KuzzleError:
    """An instance of one of Kuzzle's own error ids (``api.assert.missing_argument``...)."""
    return _core_registry.get(error_id, None, None, *placeholders)


def wrap(error: BaseException) -> KuzzleError:
    """Any exception as a KuzzleError: KuzzleErrors as they are, others as an unexpected plugin error."""
    if isinstance(error, KuzzleError):
        return error
    wrapped = get("plugin.runtime.unexpected_error", str(error) or type(error).__name__)
    wrapped.__cause__ = error
    return wrapped
