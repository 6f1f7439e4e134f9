"""The DRF adapter answers DRF's own errors (other authentication classes, throttling) as Kuzzle does."""

from __future__ import annotations

import json
import types
from typing import Any

import pytest
from django.urls import re_path
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from kuzzle_events import Application
from kuzzle_events.protocols.http.drf import KuzzleAPIView


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> None:
        if request.META.get("HTTP_X_API_KEY") == "wrong":
            raise AuthenticationFailed("Unknown API key.")
        return None


class FloodThrottle(BaseThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        return "HTTP_X_FLOOD" not in request.META

    def wait(self) -> float:
        return 3


@pytest.fixture
def client(make_app: Any, settings: Any) -> APIClient:
    app: Application = make_app()
    view = KuzzleAPIView.as_view(
        kuzzle_app=app, authentication_classes=[ApiKeyAuthentication], throttle_classes=[FloodThrottle]
    )
    urlconf = types.ModuleType("kuzzle_drf_errors_urls")
    urlconf.urlpatterns = [re_path(r"^(?P<kuzzle_path>.*)$", view)]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urlconf
    return APIClient()


@pytest.mark.parametrize(
    ("headers", "status", "error_id", "message"),
    [
        ({"X-Api-Key": "wrong"}, 401, "app.errors.unauthorized", "Unknown API key."),
        ({"X-Flood": "1"}, 429, "app.errors.too_many_requests", "Request was throttled"),
    ],
)
def test_drf_errors_are_kuzzle_envelopes(
    client: APIClient, headers: dict[str, str], status: int, error_id: str, message: str
) -> None:
    response = client.get("/_now", headers={**headers, "Origin": "http://example.com"})
    envelope = json.loads(response.content)
    assert response.status_code == status == envelope["status"]
    assert envelope["error"]["id"] == error_id
    assert envelope["error"]["message"].startswith(message)
    assert envelope["result"] is None
    assert response["X-Kuzzle-Request-Id"] == envelope["requestId"]
    assert response["Access-Control-Allow-Origin"] == "http://example.com"


def test_without_drf_errors_the_action_runs(client: APIClient) -> None:
    response = client.get("/_now")
    assert response.status_code == 200
    assert set(json.loads(response.content)["result"]) == {"now"}


# Paths no pattern takes, under the project's URLconf (Django's test client: the WSGI side) ------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_paths_get_kuzzles_json_404(method: str) -> None:
    from django.test import Client

    # (No CSRF token for the POST: the Kuzzle API's views are exempt.)
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/no/such/route/of/any/kind/here", data={}, content_type="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["id"] == "network.http.url_not_found"
    message = f"API URL not found: {method.upper()} /no/such/route/of/any/kind/here."
    assert response.json()["error"]["message"] == message


@pytest.mark.django_db
def test_the_projects_own_paths_keep_djangos_404_and_redirects() -> None:
    from django.test import Client

    client = Client()
    # Under a prefix of the project's own (STATIC_URL, /admin/): Django's 404, not Kuzzle's JSON.
    missing = client.get("/static/no/such/file/in/any/kind/of/place.css")
    assert missing.status_code == 404 and not missing["Content-Type"].startswith("application/json")
    # A project page once a slash is appended: CommonMiddleware's redirect, as without the catch-all.
    redirected = client.get("/admin?next=1")
    assert (redirected.status_code, redirected["Location"]) == (301, "/admin/?next=1")
