"""Kuzzle's error classes: each carries its HTTP status and, without an explicit id, a default id.

Every protocol turns an error into the same JSON object with :meth:`KuzzleError.to_dict`.
"""

from __future__ import annotations

import traceback
from typing import Any

__all__ = [
    "CLASSES",
    "CODES",
    "ErrorClasses",
    "BadRequestError",
    "ExternalServiceError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "InternalError",
    "KuzzleError",
    "MultipleErrorsError",
    "NotFoundError",
    "PartialError",
    "PluginImplementationError",
    "PreconditionError",
    "ServiceUnavailableError",
    "SizeLimitError",
    "TooManyRequestsError",
    "UnauthorizedError",
]

# An id's numeric code, for errors built without one. :mod:`kuzzle_events.errors.table` fills it,
# and the package imports the table with the classes, so it is full before any error is built.
CODES: dict[str, int] = {}


class KuzzleError(Exception):
    """Base of every error a client can receive: an id, a numeric code, a status and a message."""

    status: int = 500
    default_id: str = "core.fatal.unexpected_error"
    # What the envelope's ``result`` holds next to the error: Kuzzle answers some failures with
    # both (``server:healthCheck`` with a red service: its 500 and the services' states).
    result: Any = None

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
        self.code = code if code is not None else CODES.get(self.id, 0)
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


class ErrorClasses:
    """Every error class, as attributes: ``app.errors.ForbiddenError`` (the registry inherits them)."""

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


CLASSES: dict[str, type[KuzzleError]] = {
    name: cls for name, cls in vars(ErrorClasses).items() if isinstance(cls, type) and cls is not KuzzleError
}
"""The classes an error id may name (Kuzzle's ``class`` field), by name."""
