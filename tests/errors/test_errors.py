"""Error classes, ids, codes and the error object."""

from __future__ import annotations

import pytest

from kuzzle_events import errors

STATUSES = {
    "BadRequestError": 400,
    "UnauthorizedError": 401,
    "ForbiddenError": 403,
    "NotFoundError": 404,
    "PreconditionError": 412,
    "SizeLimitError": 413,
    "TooManyRequestsError": 429,
    "InternalError": 500,
    "PluginImplementationError": 500,
    "ExternalServiceError": 500,
    "ServiceUnavailableError": 503,
    "GatewayTimeoutError": 504,
    "PartialError": 206,
    "MultipleErrorsError": 400,
}


@pytest.mark.parametrize(("name", "status"), STATUSES.items())
def test_fourteen_classes(name: str, status: int) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.KuzzleError)
    assert cls("x").status == status


def test_error_object_shape_and_kuzzle_codes() -> None:
    error = errors.get("api.process.controller_not_found", "nope")
    assert error.to_dict() == {
        "id": "api.process.controller_not_found",
        "code": 0x02020004,
        "message": 'API controller "nope" not found.',
        "status": 404,
        "props": [],
    }
    assert "stack" in error.to_dict(stack=True)


def test_partial_error_lists_failures() -> None:
    error = errors.PartialError("some failed", [errors.NotFoundError("a")])
    data = error.to_dict()
    assert data["count"] == 1 and data["errors"][0]["status"] == 404


def test_wrap() -> None:
    forbidden = errors.ForbiddenError("x")
    assert errors.from_exception(forbidden) is forbidden
    wrapped = errors.from_exception(KeyError("k"))
    assert wrapped.id == "plugin.runtime.unexpected_error"


def test_placeholders_are_written_as_javascript_would() -> None:
    # Kuzzle's messages never say None, True or False: they say null, true and false.
    error = errors.get("api.process.action_not_found", None, True)
    assert error.message == 'API action "null":"true" not found'
    assert errors.get("api.assert.missing_argument", False).message == 'Missing argument "false".'
