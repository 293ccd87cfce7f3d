"""The console in a real browser (Debian's chromium driven by Playwright) against the real API, real
workers, PostgreSQL, RabbitMQ and the fake Jira: sign in, watch a sync to its end, open its detail
and reload it, cancel a running job, a read-only key's disabled actions, the theme across a reload,
a 1280x800 window without sideways scrolling, and no console errors. A screenshot of each step is
saved under test-artifacts/console/ (CI keeps that folder)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.tenancy.keys import SCOPE_READ, issue_api_key
from tests.console.browser import no_sideways_scroll, shot, sign_in
from tests.scopes import session_scope

pytestmark = pytest.mark.usefixtures("workers")


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
