"""The console's Home, API keys, Queues and Preferences in a real browser (Debian's chromium driven by
Playwright) against the real API, workers, PostgreSQL, RabbitMQ and the fake Jira: Home counts the
work items of a sync; a key is created (its secret shown once, copied with the Copy button), works,
is revoked after a confirmation and is then refused; revoking the key in use signs out; the time
zone and page size survive a reload and the jobs list follows them; Queues shows the three stages
(a tenant's own batches, an admin's broker queues) and refreshes. Every page fits 1280 px.
Screenshots: test-artifacts/console/ops-NN-*.png."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx
import pytest
from playwright.sync_api import expect

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import EtlJob
from etl.tenancy.keys import issue_api_key
from tests.console.browser import no_sideways_scroll, shot, sign_in
from tests.scopes import session_scope

pytestmark = pytest.mark.usefixtures("workers")


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_home_is_empty_then_counts_the_work_items_of_a_sync(page, jira_integration, make_tenant):
    _, empty_key = make_tenant()
    sign_in(page, empty_key)
    expect(page.get_by_role("link", name="Add an integration")).to_be_visible()
    expect(page.locator('[data-card="Work items"]')).to_contain_text("0")
    shot(page, "ops-01-home-empty")
    page.get_by_role("button", name="Sign out").click()

    tenant_id, key, integration_id, _ = jira_integration(issues=120)
    sign_in(page, key)
    row = page.locator(f'tr[data-integration="{integration_id}"]')
    expect(row).to_contain_text("never")
    start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="api")
    # The job's end arrives by the live stream, which refreshes Home: no reload.
    expect(page.locator('[data-card="Work items"]')).to_contain_text("120", timeout=120_000)
    expect(row).to_contain_text("just now")
    expect(page.get_by_role("link", name=re.compile("^succeeded"))).to_contain_text("1")
    expect(page.locator('[data-card="Records failed"]')).to_have_attribute("href", "/raw?status=failed")
    expect(page.locator('[data-card="Unmapped values"]')).to_have_attribute("href", "/mappings/unmapped")
    expect(row.get_by_role("link", name=re.compile("^jira-"))).to_have_attribute("href", f"/integrations/{integration_id}")
    no_sideways_scroll(page)
    shot(page, "ops-02-home-after-sync")


def test_a_key_is_created_shown_once_copied_revoked_and_then_refused(page, make_tenant, console_url):
    _, key = make_tenant()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_url)
    sign_in(page, key)
    nav(page, "API keys")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_contain_text("this key")

    page.get_by_label("Name").fill("ci-bot")
    page.get_by_label("Access").select_option("read")
    page.get_by_role("button", name="Create key").click()
    panel = page.get_by_test_id("new-key")
    expect(panel).to_contain_text("only time it is shown")
    secret = panel.get_by_role("textbox").input_value()
    assert secret.startswith("pk_")
    panel.get_by_role("button", name="Copy").click()
    expect(panel).to_contain_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    created = page.locator("tbody tr", has_text="ci-bot")
    expect(created).to_contain_text("read only")
    expect(created).to_contain_text("active")
    no_sideways_scroll(page)
    shot(page, "ops-03-key-created")

    me = httpx.get(f"{console_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["scopes"] == ["read"]

    panel.get_by_role("button", name="Done, hide it").click()
    expect(panel).to_have_count(0)
    assert secret not in page.content()  # shown once: gone from the page

    created.get_by_role("button", name="Revoke key ci-bot").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    expect(dialog).not_to_contain_text("signed out")
    shot(page, "ops-04-revoke-confirmation")
    dialog.get_by_role("button", name="Revoke the key").click()
    expect(created).to_contain_text("revoked")
    expect(created.get_by_role("button", name=re.compile("Revoke"))).to_have_count(0)
    shot(page, "ops-05-key-revoked")

    refused = httpx.get(f"{console_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401


def test_revoking_the_key_in_use_warns_then_signs_out(page, make_tenant):
    tenant_id, _ = make_tenant()
    with session_scope() as s:
        key = issue_api_key(s, tenant_id, name="my-laptop").secret
    sign_in(page, key)
    page.goto("/keys")
    mine = page.locator("tbody tr", has_text="my-laptop")
    expect(mine).to_contain_text("this key")
    mine.get_by_role("button", name="Revoke key my-laptop").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("you will be signed out")
    shot(page, "ops-06-revoke-own-key")
    dialog.get_by_role("button", name="Revoke and sign out").click()
    expect(page.get_by_label("API key or token")).to_be_visible()
    expect(page.get_by_text("You revoked the key you were signed in with")).to_be_visible()


def test_preferences_survive_a_reload_and_the_jobs_list_follows_them(page, jira_integration):
    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    created = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    with session_scope() as s:
        s.add(EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="succeeded", created_at=created,
                     started_at=created, finished_at=created))
    sign_in(page, key)
    nav(page, "Preferences")
    expect(page.get_by_text("Kept in this browser only")).to_be_visible()
    page.get_by_label("Time zone for display").select_option("Asia/Tokyo")
    page.get_by_label("Rows per page").select_option("25")
    page.get_by_label("Colour theme", exact=True).select_option("dark")
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    page.reload()
    expect(page.get_by_label("Time zone for display")).to_have_value("Asia/Tokyo")
    expect(page.get_by_label("Rows per page")).to_have_value("25")
    expect(page.get_by_label("Colour theme", exact=True)).to_have_value("dark")
    no_sideways_scroll(page)
    shot(page, "ops-07-preferences")

    with page.expect_request(lambda r: "/api/v1/etl/jobs?" in r.url and "limit=25" in r.url):
        nav(page, "Jobs")
    cell = page.locator("tr[data-job] td[title]").last
    expected = page.evaluate(
        "iso => new Date(iso).toLocaleString(undefined, {timeZone: 'Asia/Tokyo', timeZoneName: 'short'})",
        created.isoformat())
    assert "GMT+9" in expected and "9:00:00" in expected  # 12:00 UTC is 21:00 in Tokyo
    expect(cell).to_have_attribute("title", expected)
    shot(page, "ops-08-jobs-in-tokyo-time")


def test_queues_show_the_three_stages_and_refresh(page, make_tenant):
    tenant_id, key = make_tenant()
    sign_in(page, key)
    nav(page, "Queues")
    for stage in ("extract", "transform", "load"):
        card = page.locator(f'[data-stage="{stage}"]')
        expect(card).to_contain_text("Batches waiting")
        expect(card).not_to_contain_text("Messages waiting")  # a tenant key never sees the broker's numbers
    expect(page.get_by_test_id("queues-empty")).to_be_visible()
    refreshed = page.get_by_text(re.compile("^Last refreshed"))
    first = refreshed.inner_text()
    expect(refreshed).not_to_have_text(first, timeout=15_000)  # read again within about 5 s
    no_sideways_scroll(page)
    shot(page, "ops-09-queues-tenant")

    page.get_by_role("button", name="Sign out").click()
    with session_scope() as s:
        admin = issue_api_key(s, tenant_id, name="ops", is_admin=True).secret
    sign_in(page, admin)
    page.goto("/queues")
    for stage in ("extract", "transform", "load"):
        card = page.locator(f'[data-stage="{stage}"]')
        expect(card).to_contain_text("Messages waiting")
        expect(card).to_contain_text("Consumers")
        expect(card).to_contain_text(f"{stage}.scheduled")
    expect(page.locator('[data-stage="extract"]')).not_to_contain_text("No worker consumes")  # the session's workers
    no_sideways_scroll(page)
    shot(page, "ops-10-queues-admin")
