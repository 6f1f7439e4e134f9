"""The ``auth`` controller: what a caller's token is worth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..application import Application
    from ..request import KuzzleRequest

__all__ = ["auth_controller"]


def auth_controller(app: Application) -> dict[str, Any]:
    async def check_token(request: KuzzleRequest) -> dict[str, Any]:
        body = request.input.body if isinstance(request.input.body, dict) else {}
        token = body.get("token")
        if not token:
            # No token is the anonymous user, whom Kuzzle's clients check right after connecting.
            return {"valid": True, "kuid": "-1", "expiresAt": -1}
        # No token issuer exists yet, so no token can be valid.
        return {"valid": False, "state": "Invalid token."}

    return {
        "actions": {
            "checkToken": {"handler": check_token, "http": [{"verb": "post", "path": "/_checkToken"}]},
        }
    }
