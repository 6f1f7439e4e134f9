"""DRF authentication with Kuzzle tokens, for the DRF adapter and any other DRF view.

``Authorization: Bearer <jwt>`` (a token from ``auth:login`` or an API key) authenticates the
request: ``request.user`` is the Django user, ``request.auth`` the
:class:`~kuzzle_events.security.tokens.AuthToken`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from kuzzle_events.errors import KuzzleError
from kuzzle_events.protocols.http.parsing import bearer_token
from kuzzle_events.protocols.session import resolve_app

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KuzzleTokenAuthentication", "KuzzleAuthenticationFailed"]


class KuzzleAuthenticationFailed(AuthenticationFailed):
    """A refused token, carrying its Kuzzle error (``security.token.invalid``...)."""

    def __init__(self, error: KuzzleError) -> None:
        super().__init__(detail=error.message, code=error.id)
        self.kuzzle_error = error


class KuzzleTokenAuthentication(BaseAuthentication):
    """Authenticate ``Authorization: Bearer <jwt>`` with the tokens of ``kuzzle_app``."""

    kuzzle_app: Application | None = None

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        jwt = bearer_token({"authorization": request.META.get("HTTP_AUTHORIZATION", "")})
        if not jwt:
            return None
        app = resolve_app(self.kuzzle_app)
        try:
            token, django_user = app.security.verify_sync(jwt)
        except KuzzleError as error:
            raise KuzzleAuthenticationFailed(error) from None
        return django_user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="kuzzle"'
