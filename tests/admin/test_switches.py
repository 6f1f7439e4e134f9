"""The Events page's switches, through Django's test client: staff with the permission, POST, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

import kuzzle_events
from kuzzle_events.models import ListenerSwitch

PROBE_EVENT = "admin-switch-probe:checked"
PROBE = f"{__name__}.probe"


async def probe(payload: Any) -> Any:
    payload["probed"] = True
    return payload


@pytest.fixture
def probe_pipe() -> Iterator[str]:
    app = kuzzle_events.app
    app.start_sync()
    pipe_id = app.pipe.register(PROBE_EVENT, probe)
    yield pipe_id
    app.pipe.unregister(pipe_id)


def staff_client(client: Client, django_user_model: type[User], *, may_switch: bool) -> Client:
    user = django_user_model.objects.create_user("switcher", password="pw-switch-1", is_staff=True)
    if may_switch:
        user.user_permissions.add(Permission.objects.get(codename="switch_listener"))
    client.force_login(user)
    return client


def switch(client: Client, enabled: str, listener: str = PROBE) -> Any:
    data = {"kind": "pipe", "event": PROBE_EVENT, "listener": listener, "enabled": enabled}
    return client.post(reverse("kuzzle_events_admin:switch"), data, follow=True)


def probed() -> bool:
    app = kuzzle_events.app
    return "probed" in app.run_sync(app.trigger, PROBE_EVENT, {})


def row_of(response: Any) -> dict[str, Any]:
    [event] = [e for e in response.context["listened"] if e["name"] == PROBE_EVENT]
    [row] = event["pipes"]
    return row


def test_staff_with_the_permission_switch_a_pipe_off_and_on(
    client: Client, django_user_model: type[User], probe_pipe: str
) -> None:
    staff = staff_client(client, django_user_model, may_switch=True)
    page = staff.get(reverse("kuzzle_events_admin:events")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page and ">Disable</button>" in page

    answer = switch(staff, "0")
    assert answer.redirect_chain[-1][0].endswith(f"#event-{PROBE_EVENT}")
    assert "switched off" in answer.content.decode()
    assert not probed()
    row = row_of(answer)  # still listed, in its place, marked off, with who and when
    assert row["off"] is True and row["switch"]["changed_by"] == "switcher"
    stored = ListenerSwitch.objects.get(event=PROBE_EVENT)
    assert (stored.kind, stored.listener, stored.enabled, stored.changed_by) == ("pipe", PROBE, False, "switcher")
    html = answer.content.decode()
    assert ">Enable</button>" in html and "off by switcher" in html

    answer = switch(staff, "1")
    assert probed() and row_of(answer)["off"] is False
    assert ListenerSwitch.objects.get(event=PROBE_EVENT).enabled


def test_staff_without_the_permission_see_the_state_but_cannot_switch(
    client: Client, django_user_model: type[User], probe_pipe: str
) -> None:
    staff = staff_client(client, django_user_model, may_switch=False)
    page = staff.get(reverse("kuzzle_events_admin:events")).content.decode()
    assert "switch-button" not in page and "kuzzle_events.switch_listener" in page
    assert switch(staff, "0").status_code == 403
    assert probed() and not ListenerSwitch.objects.exists()


def test_anonymous_and_non_staff_cannot_switch(client: Client, django_user_model: type[User], probe_pipe: str) -> None:
    answer = client.post(reverse("kuzzle_events_admin:switch"), {"kind": "pipe"})
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    user = django_user_model.objects.create_user("nobody", password="pw-nobody-1")
    user.user_permissions.add(Permission.objects.get(codename="switch_listener"))
    client.force_login(user)
    answer = client.post(reverse("kuzzle_events_admin:switch"), {"kind": "pipe"})
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    assert probed()


def test_the_switch_checks_csrf_and_refuses_get(django_user_model: type[User], probe_pipe: str) -> None:
    client = Client(enforce_csrf_checks=True)
    staff = staff_client(client, django_user_model, may_switch=True)
    assert switch(staff, "0").status_code == 403
    assert probed()
    assert staff.get(reverse("kuzzle_events_admin:switch")).status_code == 405


def test_an_unknown_listener_is_a_message_and_nothing_is_stored(
    client: Client, django_user_model: type[User], probe_pipe: str
) -> None:
    staff = staff_client(client, django_user_model, may_switch=True)
    answer = switch(staff, "0", listener="tests.nope")
    assert answer.status_code == 200 and "No pipe" in answer.content.decode()
    assert not ListenerSwitch.objects.exists() and probed()
