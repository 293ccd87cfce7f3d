"""The Integrations page in a real browser (Debian's chromium driven by Playwright) against the real API,
real workers, PostgreSQL, RabbitMQ and the fake Jira: add a Jira integration through the form (the
connection test runs and shows the checked project), save it, Sync now and watch the job succeed
with the right count, the schedule editor's next three runs, a PNG logo beside the name on the list
and on the Jobs page, delete after a confirmation; 1280 px without sideways scrolling. Screenshots
integrations-NN-*.png under test-artifacts/console/."""
from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from etl.tenancy.keys import SCOPE_READ, issue_api_key
from tests.console.browser import no_sideways_scroll, shot, sign_in
from tests.scopes import session_scope

pytestmark = pytest.mark.usefixtures("workers")


def png(width: int = 16, height: int = 16) -> bytes:
    """A real (blue) PNG, so the browser draws it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\x25\x63\xeb" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_add_sync_schedule_logo_and_delete_a_jira_integration(page, make_tenant, fake_jira):
    fake = fake_jira(issues=120)
    _, key = make_tenant()
    sign_in(page, key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    expect(page.get_by_text("No integrations yet.")).to_be_visible()
    shot(page, "integrations-01-empty")

    # Add one through the form: Save waits for a passing connection test of these values.
    page.get_by_role("link", name="Add an integration").click()
    form = page.get_by_role("form", name="New integration")
    save = form.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_disabled()
    form.get_by_label("Name").fill("acme-jira")
    form.get_by_label("Base URL").fill(fake.url)
    form.get_by_label("Email").fill(fake.email)
    token = form.get_by_label("API token")
    assert token.get_attribute("type") == "password" and token.get_attribute("autocomplete") == "off"
    token.fill(fake.token)
    form.get_by_label("Projects").fill(", ".join(fake.projects))
    form.get_by_role("button", name="Test connection").click()
    result = page.get_by_test_id("connection-test")
    expect(result).to_contain_text("Connection works")
    expect(result).to_contain_text(f"project {fake.projects[0]}")
    expect(save).to_be_enabled()
    no_sideways_scroll(page)
    shot(page, "integrations-02-connection-tested")
    save.click()
    expect(page).to_have_url(re.compile(r"/integrations/[0-9a-f-]{36}$"))
    integration_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="acme-jira")).to_be_visible()

    # Sync now: the started job is named with a link, and reaches succeeded with every issue.
    page.get_by_role("button", name="Sync now").click()
    started = page.get_by_role("status").filter(has_text="Sync started")
    expect(started).to_be_visible()
    job_id = started.get_by_role("link").get_attribute("href").rsplit("/", 1)[1]
    job_row = page.locator(f'section[aria-labelledby=jobs-title] tr[data-job="{job_id}"]')
    expect(job_row).to_contain_text("succeeded", timeout=120_000)
    expect(job_row).to_contain_text("120")
    no_sideways_scroll(page)
    shot(page, "integrations-03-synced")

    # The schedule editor shows the next three runs as you type, in words.
    schedule = page.get_by_role("region", name="Schedule")
    schedule.get_by_label("Cron").check()
    schedule.get_by_label("Cron (minute hour day month weekday)").fill("0 6 * * mon-fri")
    schedule.get_by_label("Time zone").select_option("Europe/Paris")
    preview = page.get_by_test_id("schedule-preview")
    expect(preview).to_contain_text("at 06:00 Mon-Fri Europe/Paris")
    expect(preview.locator("li")).to_have_count(3)
    schedule.get_by_role("button", name="Save schedule").click()
    expect(schedule).to_contain_text("Now: at 06:00 Mon-Fri Europe/Paris")
    shot(page, "integrations-04-schedule")

    # A PNG logo, shown beside the name here, on the list and on the Jobs page.
    page.get_by_label("Upload a PNG, JPEG or WebP image").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png()})
    expect(page.get_by_role("region", name="Logo").get_by_test_id("integration-logo")).to_be_visible()
    expect(page.get_by_role("heading", name="acme-jira").get_by_test_id("integration-logo")).to_be_visible()
    shot(page, "integrations-05-logo")
    page.get_by_role("link", name="← Integrations").click()
    row = page.locator(f'tr[data-integration="{integration_id}"]')
    expect(row.get_by_test_id("integration-logo")).to_be_visible()
    expect(row).to_contain_text("Jira Cloud")
    expect(row).to_contain_text("at 06:00 Mon-Fri Europe/Paris")
    no_sideways_scroll(page)
    shot(page, "integrations-06-list")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    job = page.locator(f'tr[data-job="{job_id}"]')
    expect(job.get_by_test_id("integration-logo")).to_be_visible()
    expect(job).to_contain_text("acme-jira")
    no_sideways_scroll(page)
    shot(page, "integrations-07-jobs-with-logo")

    # Delete, after a confirmation that names it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    page.get_by_role("button", name="Delete acme-jira").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete acme-jira?")
    shot(page, "integrations-08-delete-confirmation")
    dialog.get_by_role("button", name="Delete acme-jira").click()
    expect(page.get_by_text("No integrations yet.")).to_be_visible()


@pytest.mark.console_errors("422")
def test_the_schedule_editor_shows_the_api_message_for_a_bad_cron(page, jira_integration):
    _, key, integration_id, _ = jira_integration(issues=5)
    sign_in(page, key)
    page.goto(f"/integrations/{integration_id}")
    schedule = page.get_by_role("region", name="Schedule")
    expect(page.get_by_test_id("schedule-preview")).to_contain_text("every 30 minutes")
    schedule.get_by_label("Cron").check()
    schedule.get_by_label("Cron (minute hour day month weekday)").fill("* 25 * * *")
    expect(page.get_by_test_id("schedule-preview")).to_contain_text("cron hour field: 25 is out of range 0-23")
    expect(schedule.get_by_role("button", name="Save schedule")).to_be_disabled()
    no_sideways_scroll(page)
    shot(page, "integrations-09-bad-cron")


@pytest.mark.console_errors("415")
def test_a_logo_that_is_not_an_image_is_refused_with_the_api_message(page, jira_integration):
    _, key, integration_id, _ = jira_integration(issues=5)
    sign_in(page, key)
    page.goto(f"/integrations/{integration_id}")
    page.get_by_label("Upload a PNG, JPEG or WebP image").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": b"<svg xmlns='http://www.w3.org/2000/svg'/>"})
    expect(page.get_by_role("region", name="Logo").get_by_role("alert")).to_contain_text("image/png, image/jpeg, image/webp")
    shot(page, "integrations-10-logo-refused")


def test_a_read_only_key_sees_the_integration_actions_disabled_and_why(page, jira_integration):
    tenant_id, _, integration_id, _ = jira_integration(issues=5)
    with session_scope() as s:
        viewer = issue_api_key(s, tenant_id, name="viewer", scopes=[SCOPE_READ]).secret
    sign_in(page, viewer)
    page.goto("/integrations")
    row = page.locator(f'tr[data-integration="{integration_id}"]')
    for name in ("Sync now", "Full sync", "Disable"):
        button = row.get_by_role("button", name=name)
        expect(button).to_be_disabled()
        assert "read-only" in (button.get_attribute("title") or "")
    no_sideways_scroll(page)
    shot(page, "integrations-11-read-only")
