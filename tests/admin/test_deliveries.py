"""The Deliveries page: pending and failed deliveries of durable hooks; retry and discard by POST
(staff, CSRF)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kuzzle_events.durable import store
from kuzzle_events.models import Delivery

URL = "/admin/kuzzle/deliveries/"
HOOK = "application:shop.receipts.send@shop:ordered"


@pytest.fixture
def staff_user(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("staff", password="pw-staff-1", is_staff=True)


@pytest.fixture
def staff(staff_user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


def failed_delivery(error: str = "SMTPError: mail server down") -> str:
    [delivery_id] = store.record([HOOK], "shop:ordered", [{"order": 7}])
    store.claim([HOOK], "worker", 60, 1)
    store.fail(delivery_id, "worker", error, None)
    return delivery_id


def csrf_token(client: Client) -> str:
    html = client.get(URL).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def test_the_url_and_the_page_list_pending_and_failed_deliveries_with_the_error(staff: Client) -> None:
    assert reverse("kuzzle_events_admin:deliveries") == URL
    failed = failed_delivery("SMTPError: <mail> server down")
    waiting = store.record([HOOK], "shop:ordered", [])[0]
    html = staff.get(URL).content.decode()
    pending_section = html[html.index('id="deliveries-pending"') : html.index('id="deliveries-failed"')]
    failed_section = html[html.index('id="deliveries-failed"') :]
    assert f'id="delivery-{waiting}"' in pending_section and f'id="delivery-{failed}"' not in pending_section
    assert f'id="delivery-{failed}"' in failed_section
    assert "SMTPError: &lt;mail&gt; server down" in failed_section  # escaped
    assert HOOK in failed_section and "not registered in this process" in failed_section


def test_retry_makes_a_failed_delivery_pending_again_with_all_its_tries(staff: Client) -> None:
    delivery_id = failed_delivery()
    answer = staff.post(URL, {"action": "retry", "delivery": delivery_id, "csrfmiddlewaretoken": csrf_token(staff)})
    assert answer.status_code == 302 and answer["Location"] == URL
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("pending", 0)
    assert "pending again" in staff.get(URL).content.decode()  # the message


def test_discard_deletes_a_delivery(staff: Client) -> None:
    delivery_id = failed_delivery()
    answer = staff.post(URL, {"action": "discard", "delivery": delivery_id, "csrfmiddlewaretoken": csrf_token(staff)})
    assert answer.status_code == 302 and not Delivery.objects.exists()


def test_a_delivery_being_run_is_left_alone(staff: Client) -> None:
    [delivery_id] = store.record([HOOK], "shop:ordered", [])
    store.claim([HOOK], "worker", 60, 1)
    token = csrf_token(staff)
    staff.post(URL, {"action": "discard", "delivery": delivery_id, "csrfmiddlewaretoken": token})
    assert Delivery.objects.filter(pk=delivery_id).exists()
    assert "being run right now" in staff.get(URL).content.decode()


def test_a_post_needs_the_csrf_token_a_staff_user_and_a_known_action(
    staff: Client, django_user_model: type[User]
) -> None:
    delivery_id = failed_delivery()
    assert staff.post(URL, {"action": "discard", "delivery": delivery_id}).status_code == 403  # no token
    token = csrf_token(staff)
    assert staff.post(URL, {"action": "delete", "delivery": delivery_id, "csrfmiddlewaretoken": token}).status_code == 400

    visitor = Client()
    visitor.force_login(django_user_model.objects.create_user("visitor", password="pw-visitor-1"))
    answer = visitor.post(URL, {"action": "discard", "delivery": delivery_id})
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("admin:login"))
    assert Client().post(URL, {"action": "discard", "delivery": delivery_id}).status_code == 302
    assert Delivery.objects.filter(pk=delivery_id, status="failed").exists()


async def send_receipt(order: dict[str, object], *, delivery_id: str) -> None: ...


def test_durable_hooks_are_listed_on_the_events_page_and_known_on_the_deliveries_page(staff_user: User) -> None:
    from django.test import RequestFactory

    from kuzzle_events import Application
    from kuzzle_events.admin.views import DeliveriesView, EventsView

    app = Application(config={"DURABLE_RUNNER": False})
    app.hook.register("shop:ordered", send_receipt, durable=True)
    app.start_sync()
    try:
        [key] = app.durable.hooks
        store.record([key], "shop:ordered", [{"order": 1}])
        request = RequestFactory().get(URL)
        request.user = staff_user
        events = EventsView.as_view(kuzzle_app=app)(request).rendered_content
        row = events[events.index('id="event-shop:ordered"') :]
        assert "<td>durable hook</td>" in row and "send_receipt" in row
        deliveries = DeliveriesView.as_view(kuzzle_app=app)(request).rendered_content
        assert key in deliveries and "not registered in this process" not in deliveries
    finally:
        app.run_sync(app.shutdown)
