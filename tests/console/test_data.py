"""The console's Raw data and Data pages in a real browser (Debian's chromium driven by Playwright)
against the real API, real workers and the fake Jira and GitHub: a sync where some issues fail to
transform, their records found from the job's page, one opened (its error, its payload in the JSON
viewer), reprocessed as it is and then corrected and reprocessed, a refusal shown in words; the
work items filtered in the URL, one opened and linked to its raw record and back; pull requests
and their raw records. Screenshots `data-NN-*.png` under test-artifacts/console/."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import WorkItem
from etl.tenancy.keys import SCOPE_READ, issue_api_key
from tests.console.browser import no_sideways_scroll, shot, sign_in
from tests.scopes import session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def _partial_sync(jira_integration, issues: int = 60, bad: tuple[int, ...] = (5, 40)):
    tenant_id, key, integration_id, fake = jira_integration(issues=issues, projects=("ABC", "OPS"))
    broken = [fake.issue_keys()[i] for i in bad]
    for issue in broken:
        fake.make_malformed(issue)
    job = run_sync(tenant_id, integration_id)
    assert (job.status, job.failed) == ("partial", len(bad)), job.error_details
    return tenant_id, key, integration_id, fake, job, broken


def test_failed_records_are_read_reprocessed_corrected_and_linked_to_their_work_item(page, jira_integration):
    tenant_id, key, integration_id, fake, job, broken = _partial_sync(jira_integration)
    sign_in(page, key)

    # From the job's page to its failed records: a filtered, bookmarkable view.
    page.goto(f"/jobs/{job.id}")
    page.get_by_role("link", name="See the 2 failed records in Raw data").click()
    expect(page).to_have_url(re.compile(r"/raw\?.*status=failed"))
    assert f"job_id={job.id}" in page.url and f"integration_id={integration_id}" in page.url
    rows = page.locator("tr[data-raw]")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("combobox", name="Status")).to_have_value("failed")
    expect(rows.first).to_contain_text("failed")
    page.reload()  # the filters are the URL's
    expect(rows).to_have_count(2)
    no_sideways_scroll(page)
    shot(page, "data-01-raw-failed")

    # One failed record: its error in full and its payload as a tree.
    wanted = fake.expected(broken[0])["id"]
    page.get_by_role("link", name=wanted, exact=True).click()
    expect(page).to_have_url(re.compile(r"/raw/\d+$"))
    raw_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name=f"jira_issue {wanted}")).to_be_visible()
    expect(page.get_by_test_id("raw-error")).not_to_be_empty()
    expect(page.get_by_role("link", name=str(job.id)[:8])).to_be_visible()  # the job it failed in
    payload = page.get_by_role("group", name="Payload")
    expect(payload).to_contain_text(f'"key": "{broken[0]}"')
    expect(payload).to_contain_text('"fields"')
    expect(page.get_by_text("none: it has not been loaded")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "data-02-raw-failed-record")

    # Reprocessed as it is: the job starts, and the record fails again.
    page.get_by_role("button", name="Reprocess", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"jira_issue {wanted}")
    dialog.get_by_role("button", name="Reprocess").click()
    started = page.get_by_test_id("started-job")
    expect(started).to_contain_text("Started reprocess job")
    expect(started).to_contain_text(re.compile("partial|failed"), timeout=60_000)
    expect(page.get_by_test_id("raw-error")).to_be_visible()
    shot(page, "data-03-reprocessed-still-failing")
    started.get_by_role("button", name="Dismiss").click()

    # Corrected and stored: the reprocess job loads it, and the record links to its work item.
    page.get_by_role("button", name="Edit payload").click()
    editor = page.get_by_label(re.compile("Corrected payload"))
    fixed = json.loads(editor.input_value())
    fixed["fields"]["created"] = "2025-01-02T03:04:05.000+0000"
    fixed["fields"]["issuetype"] = {"name": "Story", "hierarchyLevel": 0, "subtask": False}
    editor.fill(json.dumps(fixed, indent=2))
    page.get_by_role("button", name="Store and reprocess").click()
    expect(page.get_by_test_id("started-job")).to_contain_text("succeeded", timeout=60_000)
    expect(page.get_by_test_id("final-row")).to_have_text(f"work item {broken[0]}")
    expect(page.locator("main, body").get_by_text("completed", exact=True).first).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "data-04-corrected-and-loaded")

    # The work item it produced, and back to the raw record.
    page.get_by_test_id("final-row").click()
    expect(page).to_have_url(re.compile(f"/data/work-items/{broken[0]}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{broken[0]} ")
    page.get_by_test_id("raw-link").click()
    expect(page).to_have_url(re.compile(f"/raw/{raw_id}$"))


@pytest.mark.console_errors("422")
def test_reprocess_selected_and_all_failed_from_the_list_and_a_refusal_in_words(page, jira_integration):
    tenant_id, key, integration_id, fake, job, broken = _partial_sync(jira_integration, issues=40, bad=(3, 30))
    sign_in(page, key)
    page.goto(f"/raw?integration_id={integration_id}&status=failed")
    rows = page.locator("tr[data-raw]")
    expect(rows).to_have_count(2)

    # Nothing selected: the button says why it is disabled.
    selected = page.get_by_role("button", name=re.compile("^Reprocess selected"))
    expect(selected).to_be_disabled()
    rows.first.get_by_role("checkbox").check()
    expect(selected).to_have_text("Reprocess selected (1)")
    selected.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Reprocess 1 record?")
    shot(page, "data-05-reprocess-selected-confirmation")
    dialog.get_by_role("button", name="Reprocess").click()
    started = page.get_by_test_id("started-job")
    expect(started).to_contain_text(re.compile("partial|failed"), timeout=60_000)
    started.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name=re.compile("reprocess job"))).to_be_visible()
    page.go_back()

    # Every failed record of the integration at once.
    page.get_by_role("button", name="Reprocess all failed").click()
    page.get_by_role("dialog").get_by_role("button", name="Reprocess").click()
    expect(page.get_by_test_id("started-job")).to_contain_text("for 2 records")
    expect(page.get_by_test_id("started-job")).to_contain_text(re.compile("partial|failed"), timeout=60_000)

    # Nothing matches: the API's 422 in words, on the page.
    page.get_by_role("combobox", name="Entity type").select_option("github_pull_request")
    expect(page.get_by_text("No raw record matches these filters.")).to_be_visible()
    page.get_by_role("button", name="Reprocess all failed").click()
    page.get_by_role("dialog").get_by_role("button", name="Reprocess").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing to reprocess")
    no_sideways_scroll(page)
    shot(page, "data-06-refused-in-words")


def test_a_read_only_key_reads_raw_data_but_cannot_reprocess(page, jira_integration):
    tenant_id, _, integration_id, fake, job, broken = _partial_sync(jira_integration, issues=20, bad=(2,))
    with session_scope() as s:
        read_only = issue_api_key(s, tenant_id, name="viewer", scopes=[SCOPE_READ]).secret
    sign_in(page, read_only)
    page.goto(f"/raw?integration_id={integration_id}&status=failed")
    expect(page.locator("tr[data-raw]")).to_have_count(1)
    page.locator("tr[data-raw]").get_by_role("checkbox").check()
    for name in ("Reprocess selected (1)", "Reprocess all failed"):
        button = page.get_by_role("button", name=name)
        expect(button).to_be_disabled()
        expect(button.locator("xpath=..")).to_have_attribute("title", "this key is read-only")
    page.locator("tr[data-raw]").get_by_role("link").click()
    for name in ("Reprocess", "Edit payload"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()
    # The dark theme: the error, the tree and its text stay readable.
    page.get_by_label("Theme").select_option("dark")
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    expect(page.get_by_test_id("raw-error")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "data-12-raw-record-dark")


def test_work_items_are_filtered_in_the_url_and_linked_to_their_raw_records(page, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=80, projects=("ABC", "OPS"))
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded", job.error_details
    ops = sorted(k for k in fake.issue_keys() if k.startswith("OPS-"))
    sign_in(page, key)

    page.goto("/data")
    expect(page).to_have_url(re.compile("/data/work-items$"))
    expect(page.locator("tr[data-item]")).to_have_count(50)  # a page of the default size
    expect(page.get_by_role("button", name="Load more")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "data-07-work-items")

    project = page.get_by_role("searchbox", name="Project")
    project.fill("OPS")
    project.press("Enter")
    expect(page).to_have_url(re.compile(r"project=OPS"))
    expect(page.locator("tr[data-item]")).to_have_count(len(ops))
    page.reload()
    expect(page.get_by_role("searchbox", name="Project")).to_have_value("OPS")
    expect(page.locator("tr[data-item]")).to_have_count(len(ops))
    page.get_by_role("combobox", name="Category").select_option("done")
    expect(page).to_have_url(re.compile(r"status_category=done"))
    with session_scope() as s:
        done = s.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.integration_id == integration_id, WorkItem.project == "OPS", WorkItem.status_category == "done"))
    assert done, "the fake's OPS project has done issues"
    expect(page.locator("tr[data-item]")).to_have_count(done)
    shot(page, "data-08-work-items-filtered")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator("tr[data-item]")).to_have_count(50)

    # One item: every field, its transitions, its raw record, and back.
    item = ops[0]
    page.goto("/data/work-items?project=OPS")
    page.get_by_role("link", name=item, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{item} ")
    expect(page.get_by_role("heading", name="Status transitions")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "data-09-work-item")
    page.get_by_test_id("raw-link").click()
    expect(page).to_have_url(re.compile(r"/raw/\d+$"))
    expect(page.get_by_role("group", name="Payload")).to_contain_text(f'"key": "{item}"')
    page.get_by_test_id("final-row").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{item} ")


def test_pull_requests_are_listed_opened_and_linked_to_their_raw_records(page, github_integration):
    tenant_id, key, integration_id, fake = github_integration(repos={"acme/api": 6})
    job = wait_for_job(start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="api"))
    assert job.status == "succeeded", job.error_details
    sign_in(page, key)
    page.goto("/data/work-items")
    expect(page.get_by_text("No work items yet")).to_be_visible()
    page.get_by_role("navigation", name="Data tables").get_by_role("link", name="Pull requests").click()
    rows = page.locator("tr[data-pr]")
    expect(rows).to_have_count(6)
    page.get_by_role("combobox", name="State").select_option("merged")
    expect(page).to_have_url(re.compile("state=merged"))
    no_sideways_scroll(page)
    shot(page, "data-10-pull-requests")
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(6)
    rows.first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/data/pull-requests/acme/api/\d+$"))
    expect(page.get_by_role("heading", name="Reviews")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "data-11-pull-request")
    page.get_by_test_id("raw-link").click()
    expect(page).to_have_url(re.compile(r"/raw/\d+$"))
    expect(page.get_by_test_id("final-row")).to_contain_text("pull request acme/api#")
