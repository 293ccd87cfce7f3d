"""The console in a real browser (Debian's chromium driven by Playwright) against the real API, real
workers, PostgreSQL, RabbitMQ and the fake Jira: sign in, watch a sync to its end, open its detail
and reload it, cancel a running job, a read-only key's disabled actions, the theme across a reload,
a 1280x800 window without sideways scrolling, and no console errors. A screenshot of each step is
saved under test-artifacts/console/ (CI keeps that folder)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.tenancy.keys import SCOPE_READ, issue_api_key
from tests.scopes import session_scope
from tests.servers import running_api

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "console"
CHROMIUM = os.environ.get("PULSE_CHROMIUM", "/usr/bin/chromium")
# As root, in a closed network: no sandbox, and none of Chromium's own background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Chromium logs every 4xx answer as a console error; the steps that expect one (a wrong key, a
# cancel that races the job's end) are the only ones allowed.
EXPECTED_CONSOLE_ERRORS = re.compile(r"Failed to load resource: the server responded with a status of (401|409)")

pytestmark = pytest.mark.usefixtures("workers")


@pytest.fixture(scope="module")
def console_url(database, tmp_path_factory):
    """The API (and the console it serves) in a uvicorn process of its own, as an operator runs it."""
    with running_api(os.environ.copy(), tmp_path_factory.mktemp("console") / "uvicorn.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium), as .ci/run does")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, console_url):
    """A fresh 1280x800 tab that records console errors; the test fails on any it did not expect."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=console_url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
    unexpected = [e for e in errors if not EXPECTED_CONSOLE_ERRORS.search(e)]
    assert not unexpected, f"console errors: {unexpected}"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, key: str) -> None:
    page.goto("/")
    page.get_by_label("API key or token").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("tenant")).to_be_visible()


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide in a 1280 px window: something scrolls sideways"


def test_sign_in_refuses_a_wrong_key_then_shows_the_tenant(page, make_tenant):
    _, key = make_tenant()
    page.goto("/")
    page.get_by_label("API key or token").fill("pk_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid")
    shot(page, "01-sign-in-refused")
    sign_in(page, key)
    shot(page, "02-home")
    no_sideways_scroll(page)


def test_a_sync_is_watched_to_its_end_and_its_detail_survives_a_reload(page, jira_integration):
    tenant_id, key, integration_id, _ = jira_integration(issues=300)
    sign_in(page, key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="api")
    row = page.locator(f'tr[data-job="{job_id}"]')
    expect(row).to_be_visible()  # arrived by the live stream, no reload
    expect(row).to_contain_text("succeeded", timeout=120_000)
    expect(row).to_contain_text("300")
    no_sideways_scroll(page)
    shot(page, "03-jobs-succeeded")
    row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(f"/jobs/{job_id}$"))
    expect(page.get_by_text("seen 300")).to_be_visible()
    page.reload()
    expect(page.get_by_text("seen 300")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "04-job-detail")


def test_a_running_job_is_cancelled_after_a_confirmation(page, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=3000)
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=0.5)  # the job stays running
    sign_in(page, key)
    job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="api")
    page.goto(f"/jobs/{job_id}")
    page.get_by_role("button", name=re.compile("^Cancel")).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    shot(page, "05-cancel-confirmation")
    dialog.get_by_role("button", name=re.compile("Cancel")).last.click()
    expect(page.get_by_text("cancelled").first).to_be_visible(timeout=60_000)
    shot(page, "06-cancelled")


def test_a_read_only_key_sees_every_action_disabled_and_why(page, jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=500)
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=0.5)  # running: Cancel is offered
    start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="api")
    with session_scope() as s:
        read_only = issue_api_key(s, tenant_id, name="viewer", scopes=[SCOPE_READ]).secret
    sign_in(page, read_only)
    page.goto("/jobs")
    action = page.get_by_role("button", name=re.compile("^(Cancel|Retry) job")).first
    expect(action).to_be_disabled()
    assert "read-only" in (action.get_attribute("title") or "")
    shot(page, "07-read-only")


def test_the_theme_survives_a_reload(page, make_tenant):
    _, key = make_tenant()
    sign_in(page, key)
    page.get_by_label("Theme").select_option("dark")
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    expect(page.get_by_test_id("tenant")).to_be_visible()  # still signed in: the key is kept for the tab
    shot(page, "08-dark-theme")
