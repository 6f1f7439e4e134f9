"""The admin pages, through Django's test client: staff only, and what each page lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

import kuzzle_events
from kuzzle_events.core.catalog import EVENTS

PAGES = ["controllers", "events", "plugins", "deliveries"]
PROBE_EVENT = "admin-views-probe:checked"
PROBE_WILDCARD = "admin-views-probe:*"


async def probe_low(payload: Any) -> Any:
    return payload


async def probe_high(payload: Any) -> Any:
    return payload


async def probe_wildcard(payload: Any) -> Any:
    return payload


@pytest.fixture
def probe_pipes() -> Iterator[list[str]]:
    """Pipes on the global app: two on the probe event, the later one with the higher priority (so
    it runs first), and one on its wildcard variant (after them, whatever its priority)."""
    app = kuzzle_events.app
    app.start_sync()
    ids = [
        app.pipe.register(PROBE_EVENT, probe_low, priority=1),
        app.pipe.register(PROBE_EVENT, probe_high, priority=5),
        app.pipe.register(PROBE_WILDCARD, probe_wildcard, priority=10),
    ]
    yield ids
    for pipe_id in ids:
        app.pipe.unregister(pipe_id)


@pytest.fixture
def staff(client: Client, django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_user("staff", password="pw-staff-1", is_staff=True)
    client.force_login(user)
    return client


def url(page: str) -> str:
    return reverse(f"kuzzle_events_admin:{page}")


def section(html: str, element_id: str) -> str:
    """The HTML of the module whose id is ``element_id`` (up to the next module)."""
    start = html.index(f'id="{element_id}"')
    end = html.find('<div class="module', start)
    return html[start : end if end != -1 else len(html)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_the_admin_login(client: Client, page: str) -> None:
    response = client.get(url(page))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url(page)}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", PAGES)
def test_a_user_who_is_not_staff_is_refused(client: Client, django_user_model: type[User], page: str) -> None:
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-visitor-1"))
    response = client.get(url(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db(transaction=True)
def test_admin_index_links_to_the_pages(staff: Client) -> None:
    html = staff.get(reverse("admin:index")).content.decode()
    module = section(html, "kuzzle-events-module")
    assert "Kuzzle events" in module
    assert re.findall(r'href="([^"]+)"', module) == [url(page) for page in PAGES]
    assert 'id="recent-actions-module"' in html  # the rest of the stock index is still there


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", PAGES)
def test_pages_render_inside_the_admin(staff: Client, page: str) -> None:
    response = staff.get(url(page))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["site_header"] and response.context["title"] == page.capitalize()
    assert '<div class="breadcrumbs">' in html and f'href="{reverse("admin:index")}"' in html
    assert kuzzle_events.app.started  # the admin is an entry point: it started the application


@pytest.mark.django_db(transaction=True)
def test_controllers_page(staff: Client) -> None:
    app = kuzzle_events.app
    before = staff.get(url("controllers"))
    say_hello = _action(before.context, "greeting", "sayHello")
    calls = say_hello["figures"]["calls"]
    for _ in range(2):
        app.run_sync(app.sdk.query, {"controller": "greeting", "action": "sayHello", "name": "Ada"})

    response = staff.get(url("controllers"))
    html = response.content.decode()
    greeting = section(html, "controller-greeting")
    assert "owner: application" in greeting
    assert "<code>POST /greeting/:name</code>" in greeting and "<code>GET /greeting/:name</code>" in greeting
    for event in ("greeting:beforeSayHello", "greeting:afterSayHello", "greeting:errorSayHello"):
        assert event in greeting
    assert "owner: core" in section(html, "controller-server") and "<code>GET /_now</code>" in html
    plugin = section(html, "controller-greeter/greeting")
    assert "owner: greeter" in plugin and "<code>GET /_plugin/greeter/hello/:name</code>" in plugin
    for column in ("Calls", "Errors", "Mean ms", "p99 ms", "Samples"):
        assert f">{column}</th>" in greeting

    figures = _action(response.context, "greeting", "sayHello")["figures"]
    assert figures["calls"] == calls + 2 and figures["mean_ms"] is not None and figures["p99_ms"] is not None
    assert f'<td class="figure calls">{figures["calls"]}</td>' in greeting
    owners = [c["owner"] for c in response.context["controllers"]]
    assert owners.index("core") < owners.index("application") < owners.index("greeter")


@pytest.mark.django_db(transaction=True)
def test_events_page_lists_pipes_in_execution_order(staff: Client, probe_pipes: list[str]) -> None:
    app = kuzzle_events.app
    for _ in range(64):  # one chain run in 64 is timed pipe by pipe
        app.run_sync(app.trigger, PROBE_EVENT, {"n": 1})

    response = staff.get(url("events"))
    html = response.content.decode()
    probe = section(html, f"event-{PROBE_EVENT}")
    high, low = "tests.admin.test_views.probe_high", "tests.admin.test_views.probe_low"
    assert high in probe and low in probe and probe.index(high) < probe.index(low)
    assert '<td class="figure priority">5</td>' in probe and '<td class="figure priority">1</td>' in probe
    for column in ("Calls", "Errors", "Mean ms", "p99 ms", "Slow warnings", "Samples"):
        assert f">{column}</th>" in probe

    low_id, high_id, wildcard_id = probe_pipes
    [event] = [e for e in response.context["listened"] if e["name"] == PROBE_EVENT]
    assert [p["id"] for p in event["pipes"]] == [high_id, low_id, wildcard_id]
    assert [(p["owner"], p["priority"], p["event"]) for p in event["pipes"]] == [
        ("application", 5, PROBE_EVENT),
        ("application", 1, PROBE_EVENT),
        ("application", 10, PROBE_WILDCARD),
    ]
    for pipe in event["pipes"]:
        assert pipe["figures"]["calls"] == 64 and pipe["figures"]["samples"] == 1
        assert pipe["figures"]["mean_ms"] is not None and pipe["figures"]["slow_warnings"] == 0
    assert event["origin"] == "custom"
    assert probe.index(low) < probe.index("tests.admin.test_views.probe_wildcard")
    assert f'<a href="#event-{PROBE_WILDCARD}">{PROBE_WILDCARD}</a>' in probe  # where it was registered
    [wildcard] = [e for e in response.context["listened"] if e["name"] == PROBE_WILDCARD]
    assert [p["id"] for p in wildcard["pipes"]] == [wildcard_id] and wildcard["origin"] == "wildcard"

    [plugin_hook] = [e for e in response.context["listened"] if e["name"] == "plugin-greeter:greeted"]
    assert [(h["name"], h["owner"]) for h in plugin_hook["hooks"]] == [
        ("kuzzle_events_greeter.GreeterPlugin.remember", "greeter")
    ]


@pytest.mark.django_db(transaction=True)
def test_events_page_lists_the_catalog(staff: Client) -> None:
    response = staff.get(url("events"))
    catalog = section(response.content.decode(), "catalog")
    assert len(response.context["catalog"]) == len(EVENTS)
    for event in EVENTS:
        assert f"<code>{_escaped(event.name)}</code>" in catalog
        assert _escaped(event.when) in catalog
    assert "<code>plugin_name, event, error</code>" in catalog  # hook:onError's payload
    rows = {row["event"].name: row for row in response.context["catalog"]}
    assert rows["connection:new"]["event"].kind == "hook" and rows["kuzzle:state:start"]["event"].kind == "pipe"
    assert rows["<controller>:before<Action>"]["pipes"] is None  # one per action: see the Controllers page


@pytest.mark.django_db(transaction=True)
def test_plugins_page(staff: Client) -> None:
    response = staff.get(url("plugins"))
    greeter = section(response.content.decode(), "plugin-greeter")
    assert '<td class="version">1.0.0</td>' in greeter
    assert "&quot;kuzzle_events&quot;: &quot;&gt;=0.1,&lt;1&quot;" in greeter  # the manifest
    assert "entry point: greeter" in greeter
    for registered in ("greeter/greeting", "greeter/farewell", "GET /_plugin/greeter/hello/:name", "plugin-greeter:greeted"):
        assert registered in greeter
    [described] = [p for p in response.context["plugins"] if p["name"] == "greeter"]
    assert described["hooks"] == ["plugin-greeter:greeted"] and described["pipes"] == []


def _action(context: Any, controller: str, action: str) -> dict[str, Any]:
    [found] = [c for c in context["controllers"] if c["name"] == controller]
    [act] = [a for a in found["actions"] if a["name"] == action]
    return act


def _escaped(text: str) -> str:
    from django.utils.html import escape

    return escape(text)
