"""The Kuzzle API as DRF views: the Django-native adapter (WSGI or ASGI, DRF authentication).

A thin adapter: the Django request becomes an :class:`HttpInput`, the shared exchange does the
rest, and its answer becomes a Django response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.http.request import HttpHeaders
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from kuzzle_events import errors
from kuzzle_events.authentication import KuzzleAuthenticationFailed, KuzzleTokenAuthentication
from kuzzle_events.core.request import User
from kuzzle_events.protocols.http.exchange import HttpAnswer, answer_error, answer_too_large, handle_whole
from kuzzle_events.protocols.http.parsing import HttpInput
from kuzzle_events.protocols.session import resolve_app
from kuzzle_events.security.tokens import AuthToken

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KuzzleAPIView", "kuzzle_user", "project_answer"]

_UNPREFIXED_HEADERS = HttpHeaders.UNPREFIXED_HEADERS


def kuzzle_user(django_user: Any) -> User | None:
    """The caller as Kuzzle sees them, from a user DRF authenticated (None if anonymous)."""
    if django_user is None or not getattr(django_user, "is_authenticated", False):
        return None
    # Models: this module is imported by DRF settings, possibly before Django's apps are ready.
    from kuzzle_events.security import store

    return store.user_of(store.ensure_kuzzle_user(django_user))


def _headers(meta: dict[str, Any]) -> dict[str, str]:
    """The request's headers, names lower-cased: what ``request.headers`` holds, read straight from
    ``META`` (a fraction of the cost of building Django's ``HttpHeaders`` and lower-casing it)."""
    headers = {}
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
        elif key in _UNPREFIXED_HEADERS:
            headers[key.replace("_", "-").lower()] = value
    return headers


class KuzzleAPIView(APIView):
    """Every Kuzzle route, every verb: ``kuzzle_app`` defaults to ``kuzzle_events.app``.

    Authentication is DRF's: the Kuzzle token class by default; with other classes (sessions...),
    an authenticated Django user is the Kuzzle user of the same account. Rights are Kuzzle's,
    checked in the funnel, so DRF permission classes are left empty.
    """

    kuzzle_app: Application | None = None
    # What tells the project's own pages from the Kuzzle API's (see asgi.django_resolves).
    kuzzle_api = True
    authentication_classes = [KuzzleTokenAuthentication]
    permission_classes: list[Any] = []

    def get_app(self) -> Application:
        return resolve_app(self.kuzzle_app)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[BaseRenderer, str]:
        """The first renderer, whatever the request accepts (what DRF falls back to when forced).

        The view answers Kuzzle's envelope itself, as the lean ASGI entry does: an ``Accept`` header
        gets no 406. No answer is rendered by DRF: its own errors (another authentication class,
        throttling...) get the Kuzzle envelope too (see handle_exception).
        """
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @property
    def default_response_headers(self) -> dict[str, str]:
        """None of DRF's (``Allow``, ``Vary: Accept``): the answers are Kuzzle's, whatever the
        request accepts, with Kuzzle's headers only, as under the lean entry."""
        return {}

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """DRF's dispatch, unless the path is the project's own (see :func:`project_answer`)."""
        own = project_answer(self.get_app(), request, kwargs.get("kuzzle_path", ""))
        return own if own is not None else super().dispatch(request, *args, **kwargs)

    def kuzzle(self, request: Request, kuzzle_path: str = "", **kwargs: Any) -> HttpResponse:
        app = self.get_app()
        http = self._http_input(request._request, kuzzle_path)
        try:
            http.body = request._request.body
        except RequestDataTooBig:
            return _django_response(answer_too_large(app, http))
        if isinstance(request.auth, AuthToken):
            user, token = request.auth.user, request.auth
        else:
            user, token = kuzzle_user(request.user), None
        return _django_response(app.run_sync(handle_whole, app, http, user=user, token=token))

    get = post = put = patch = delete = head = options = kuzzle

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, KuzzleAuthenticationFailed):
            # The funnel meets the same token again and refuses it the Kuzzle way: the
            # request:onUnauthorized pipes run and the client gets the Kuzzle error envelope.
            app = self.get_app()
            django_request = self.request._request
            http = self._http_input(django_request, self.kwargs.get("kuzzle_path", ""))
            http.body = django_request.body
            return _django_response(app.run_sync(handle_whole, app, http))
        # Anything else DRF raised before the view ran (another authentication class, throttling,
        # a parse error): the same Kuzzle envelope the lean entry would give.
        app = self.get_app()
        http = self._http_input(self.request._request, self.kwargs.get("kuzzle_path", ""))
        return _django_response(answer_error(app, http, errors.from_exception(exc)))

    @staticmethod
    def _http_input(django_request: Any, kuzzle_path: str) -> HttpInput:
        return HttpInput(
            method=django_request.method or "GET",
            path="/" + kuzzle_path,
            query_string=django_request.META.get("QUERY_STRING", ""),
            headers=_headers(django_request.META),
            client=django_request.META.get("REMOTE_ADDR"),
        )


def project_answer(app: Application, request: Any, kuzzle_path: str) -> HttpResponse | None:
    """Django's answer where a path no Kuzzle route takes is the project's own; None elsewhere.

    The same split as the lean ASGI entry's: under one of the project's URL prefixes (``/admin/``,
    ``STATIC_URL``...) Django's 404 (its page, its ``handler404``); where the project has a page
    once a slash is appended, ``CommonMiddleware``'s redirect to it (the Kuzzle patterns take
    every path, so the middleware never sees one it cannot resolve). Any other path is Kuzzle's,
    and one with no route gets its JSON ``network.http.url_not_found``.
    """
    # Imported here: the URL resolver must not be touched while URLconfs are being loaded.
    from django.conf import settings
    from django.http import Http404

    from kuzzle_events.protocols.http.asgi import django_prefixes, django_resolves

    path = request.path_info
    method = request.method or "GET"
    if kuzzle_path.startswith("_") or not kuzzle_path:
        return None
    matched = isinstance(app.controller.router.match(method, "/" + kuzzle_path), tuple)
    if not path.startswith("/_") and path.startswith(django_prefixes()):
        # A Kuzzle route with a reserved "_" segment (POST /admin/_loadFixtures) is still Kuzzle's.
        if "/_" in path and matched:
            return None
        raise Http404(path)
    if matched:
        return None
    if "django.middleware.common.CommonMiddleware" in settings.MIDDLEWARE and django_resolves(path):
        from django.middleware.common import CommonMiddleware

        common = CommonMiddleware(lambda r: HttpResponse())
        redirect: HttpResponse = common.response_redirect_class(common.get_full_path_with_slash(request))
        return redirect
    return None


def _django_response(answer: HttpAnswer) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status, headers=answer.lines)
