"""The admin pages in a real browser: headless Chromium driven by Selenium against a live server.

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/test`` installs them). Screenshots of
each page go to ``artifacts/screenshots/``; with ``KUZZLE_UPDATE_DOCS=1`` they are also copied to
``docs/admin/`` for the README.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

import kuzzle_events

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DOCS = ROOT / "docs" / "admin"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)
PROBE_EVENT = "admin-browser-probe:checked"
PASSWORD = "pw-browser-staff-1"


async def browser_probe_low(payload: Any) -> Any:
    return payload


async def browser_probe_high(payload: Any) -> Any:
    return payload


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver; scripts/test does it)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in CHROME_ARGS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def probe_pipes() -> Iterator[list[str]]:
    """Two pipes on the global app, the later one with the higher priority (so it runs first),
    each run 64 times so that their figures include a timed sample."""
    app = kuzzle_events.app
    app.start_sync()
    ids = [
        app.pipe.register(PROBE_EVENT, browser_probe_low, priority=1),
        app.pipe.register(PROBE_EVENT, browser_probe_high, priority=5),
    ]
    for _ in range(64):
        app.run_sync(app.trigger, PROBE_EVENT, {"probe": True})
    for name in ("Ada", "Bo", "Cy"):
        app.run_sync(app.sdk.query, {"controller": "greeting", "action": "sayHello", "name": name})
    yield ids
    for pipe_id in ids:
        app.pipe.unregister(pipe_id)


@pytest.mark.django_db(transaction=True)
def test_admin_pages_in_a_real_browser(
    live_server: Any, browser: WebDriver, probe_pipes: list[str], django_user_model: type[User]
) -> None:
    staff = django_user_model.objects.create_user("browser-staff", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))  # the stock index lists a model too
    base = live_server.url

    # Anonymous: refused, lands on the admin login form.
    browser.get(f"{base}/admin/kuzzle/events/")
    assert browser.current_url == f"{base}/admin/login/?next=/admin/kuzzle/events/"
    assert browser.find_element(By.ID, "login-form")
    assert "Events" not in browser.title

    # Log in through the form, as a person would.
    browser.get(f"{base}/admin/login/?next=/admin/")
    browser.find_element(By.ID, "id_username").send_keys("browser-staff")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    module = _wait_for(browser, "kuzzle-events-module")
    assert browser.current_url == f"{base}/admin/"
    _assert_admin_css_loaded(browser)
    links = module.find_elements(By.TAG_NAME, "a")
    assert [(a.text, a.get_attribute("href")) for a in links] == [
        ("Controllers", f"{base}/admin/kuzzle/controllers/"),
        ("Events", f"{base}/admin/kuzzle/events/"),
        ("Plugins", f"{base}/admin/kuzzle/plugins/"),
        ("Deliveries", f"{base}/admin/kuzzle/deliveries/"),
    ]
    _screenshot(browser, "index")

    # Controllers, reached from the index's link.
    _open_from_index(browser, base, "Controllers")
    greeting = _wait_for(browser, "controller-greeting")
    assert "owner: application" in greeting.text
    say_hello = greeting.find_element(By.ID, "action-greeting:sayHello")
    routes = [li.text for li in say_hello.find_elements(By.CSS_SELECTOR, "li.route")]
    assert routes == ["POST /greeting/:name", "GET /greeting/:name"]
    events = [li.text.split(" ")[0] for li in say_hello.find_elements(By.CSS_SELECTOR, "li.event")]
    assert events == ["greeting:beforeSayHello", "greeting:afterSayHello", "greeting:errorSayHello"]
    assert int(say_hello.find_element(By.CSS_SELECTOR, "td.calls").text) >= 3
    assert say_hello.find_element(By.CSS_SELECTOR, "td.mean").text != "–"
    headers = [th.get_attribute("textContent").strip() for th in greeting.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[-5:] == ["Calls", "Errors", "Mean ms", "p99 ms", "Samples"]
    assert "owner: core" in browser.find_element(By.ID, "controller-server").text
    assert "owner: greeter" in browser.find_element(By.ID, "controller-greeter/greeting").text
    _screenshot(browser, "controllers")

    # Events: the probe pipes under their event, highest priority first, with their figures.
    _open_from_index(browser, base, "Events")
    probe = _wait_for(browser, f"event-{PROBE_EVENT}")
    pipes = probe.find_elements(By.CSS_SELECTOR, "tr.pipe")
    assert [row.find_element(By.CSS_SELECTOR, ".handler").text for row in pipes] == [
        "tests.admin.test_browser.browser_probe_high",
        "tests.admin.test_browser.browser_probe_low",
    ]
    assert [row.find_element(By.CSS_SELECTOR, ".priority").text for row in pipes] == ["5", "1"]
    assert [row.find_element(By.CSS_SELECTOR, ".owner").text for row in pipes] == ["application", "application"]
    assert [row.find_element(By.CSS_SELECTOR, ".calls").text for row in pipes] == ["64", "64"]
    assert all(row.find_element(By.CSS_SELECTOR, ".p99").text != "–" for row in pipes)
    headers = [th.get_attribute("textContent").strip() for th in probe.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[-7:] == ["Calls", "Errors", "Mean ms", "p99 ms", "Slow warnings", "Samples", "Switch"]
    catalog = browser.find_element(By.ID, "catalog").text
    assert "request:beforeExecution" in catalog and "hook:onError" in catalog
    _screenshot(browser, "events")

    # Plugins: the installed example plugin, its version and what it registered.
    _open_from_index(browser, base, "Plugins")
    greeter = _wait_for(browser, "plugin-greeter")
    assert greeter.find_element(By.CSS_SELECTOR, "td.version").text == "1.0.0"
    assert '"name": "greeter"' in greeter.find_element(By.CSS_SELECTOR, "pre.manifest").text
    for registered in ("greeter/greeting", "greeter/farewell", "GET /_plugin/greeter/hello/:name", "plugin-greeter:greeted"):
        assert registered in greeter.text
    _screenshot(browser, "plugins")


@pytest.mark.django_db(transaction=True)
def test_switching_a_pipe_off_and_on_from_the_events_page(
    live_server: Any, browser: WebDriver, probe_pipes: list[str], django_user_model: type[User]
) -> None:
    from kuzzle_events.models import ListenerSwitch

    staff = django_user_model.objects.create_user("browser-switcher", password=PASSWORD, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="switch_listener"))
    base = live_server.url
    browser.get(f"{base}/admin/login/?next=/admin/kuzzle/events/")
    browser.find_element(By.ID, "id_username").send_keys("browser-switcher")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    app = kuzzle_events.app
    high_id = probe_pipes[1]
    row_id = f"{high_id}-on-{PROBE_EVENT}"
    row = _wait_for(browser, row_id)
    assert row.find_element(By.CSS_SELECTOR, ".state").text == "on"

    calls = app.events.listeners(PROBE_EVENT).pipes
    row.find_element(By.CSS_SELECTOR, "button.switch-button").click()  # a form POST with its CSRF token
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert "switched off" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    row = browser.find_element(By.ID, row_id)
    assert "off" in row.get_attribute("class").split()
    assert row.find_element(By.CSS_SELECTOR, ".state").text == "off"
    assert "off by browser-switcher" in row.find_element(By.CSS_SELECTOR, ".switched-by").text
    assert row.find_element(By.CSS_SELECTOR, "button.switch-button").text == "Enable"
    # The application no longer runs it; the other probe pipe still runs.
    running = app.events.listeners(PROBE_EVENT).pipes
    assert [p.id for p in running] == [p.id for p in calls if p.id != high_id]
    assert not ListenerSwitch.objects.get(listener="tests.admin.test_browser.browser_probe_high").enabled
    _screenshot(browser, "events-switched-off")

    row.find_element(By.CSS_SELECTOR, "button.switch-button").click()
    # (The page being replaced, the row found may belong to the old one: look again.)
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_element(By.ID, row_id).find_element(By.CSS_SELECTOR, ".state").text == "on"
    )
    assert [p.id for p in app.events.listeners(PROBE_EVENT).pipes] == [p.id for p in calls]


@pytest.mark.django_db(transaction=True)
def test_deliveries_page_in_a_real_browser(live_server: Any, browser: WebDriver, django_user_model: type[User]) -> None:
    from kuzzle_events.durable import store
    from kuzzle_events.models import Delivery

    hook = "application:shop.receipts.send@shop:ordered"
    [failed] = store.record([hook], "shop:ordered", [{"order": 7}])
    store.claim([hook], "browser-worker", 60, 1)
    store.fail(failed, "browser-worker", "SMTPError: mail server down", None)
    [waiting] = store.record([hook], "shop:ordered", [{"order": 8}])
    django_user_model.objects.create_user("browser-staff", password=PASSWORD, is_staff=True)
    base = live_server.url

    browser.get(f"{base}/admin/login/?next=/admin/")
    browser.find_element(By.ID, "id_username").send_keys("browser-staff")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    _wait_for(browser, "kuzzle-events-module")
    _open_from_index(browser, base, "Deliveries")

    pending = _wait_for(browser, "deliveries-pending")
    failures = browser.find_element(By.ID, "deliveries-failed")
    assert [row.get_attribute("id") for row in pending.find_elements(By.CSS_SELECTOR, "tr.delivery")] == [
        f"delivery-{waiting}"
    ]
    row = failures.find_element(By.ID, f"delivery-{failed}")
    assert row.find_element(By.CSS_SELECTOR, "td.error").text == "SMTPError: mail server down"
    assert row.find_element(By.CSS_SELECTOR, "td.tries").text == "1"
    assert row.find_element(By.CSS_SELECTOR, "td.event").text == "shop:ordered"
    _screenshot(browser, "deliveries")

    # Retry (a POST with the page's CSRF token): pending again, with all its tries.
    row.find_element(By.CSS_SELECTOR, "button.retry").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert "pending again" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    pending = browser.find_element(By.ID, "deliveries-pending")
    assert {r.get_attribute("id") for r in pending.find_elements(By.CSS_SELECTOR, "tr.delivery")} == {
        f"delivery-{waiting}",
        f"delivery-{failed}",
    }
    assert "No failed delivery." in browser.find_element(By.ID, "deliveries-failed").text
    assert Delivery.objects.get(pk=failed).status == "pending"

    # Discard: gone.
    pending.find_element(By.ID, f"delivery-{waiting}").find_element(By.CSS_SELECTOR, "button.discard").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"), "discarded"))
    remaining = browser.find_element(By.ID, "deliveries-pending").find_elements(By.CSS_SELECTOR, "tr.delivery")
    assert [r.get_attribute("id") for r in remaining] == [f"delivery-{failed}"]
    assert not Delivery.objects.filter(pk=waiting).exists()


def _wait_for(browser: WebDriver, element_id: str) -> WebElement:
    return WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def _open_from_index(browser: WebDriver, base: str, page: str) -> None:
    browser.get(f"{base}/admin/")
    _wait_for(browser, "kuzzle-events-module").find_element(By.LINK_TEXT, page).click()
    WebDriverWait(browser, 10).until(expected_conditions.title_contains(page))
    breadcrumbs = browser.find_element(By.CSS_SELECTOR, ".breadcrumbs").text
    assert breadcrumbs == f"Home › Kuzzle events › {page}"


def _assert_admin_css_loaded(browser: WebDriver) -> None:
    header = browser.execute_script("return getComputedStyle(document.getElementById('header')).backgroundColor")
    assert header not in ("", "transparent", "rgba(0, 0, 0, 0)"), "the admin's CSS did not load"


def _screenshot(browser: WebDriver, page: str) -> None:
    """The whole page: the window is fitted to the document's height before the shot."""
    width = browser.get_window_size()["width"]
    browser.set_window_size(width, 500)  # shrink first: a document is never shorter than its window
    height, chrome = browser.execute_script(
        "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
    )
    browser.set_window_size(width, height + chrome)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{page}.png"
    assert browser.save_screenshot(str(target))
    if os.environ.get("KUZZLE_UPDATE_DOCS"):  # refresh the README's screenshots on demand
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, DOCS / f"{page}.png")
    browser.set_window_size(width, 1000)
