"""The console's Mappings pages in a real browser against the real API, workers and fake Jira: map an
unmapped status and follow the reprocess job it started until the data changed, add a work item type
and see a duplicate name refused in words, reorder a workflow's steps (a refused order first, with the
API's message), and a read-only key's disabled write controls. 1280x800, no sideways scrolling;
screenshots mappings-NN-*.png under test-artifacts/console/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import WorkItem
from etl.tenancy.keys import SCOPE_READ, issue_api_key
from tests.console.browser import no_sideways_scroll, shot, sign_in
from tests.scopes import session_scope
from tests.waiting import wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def work_items(integration_id) -> list[WorkItem]:
    with session_scope() as s:
        return list(s.scalars(select(WorkItem).where(WorkItem.integration_id == integration_id)))


def test_an_unmapped_status_is_mapped_and_its_reprocess_job_changes_the_data(page, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=300)
    assert wait_for_job(start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="api")).status == "succeeded"
    # The fake's "Blocked" status has no default mapping: its items keep the source's name.
    blocked = [item for item in work_items(integration_id) if item.source_status == "Blocked"]
    assert blocked and {item.status for item in blocked} == {"Blocked"}

    sign_in(page, key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mappings").click()
    expect(page).to_have_url(re.compile("/mappings/work-item-types$"))  # the first tab
    page.get_by_role("navigation", name="Mappings").get_by_role("link", name="Unmapped values").click()
    row = page.get_by_role("region", name="Statuses").locator('tr[data-unmapped="Blocked"]')
    expect(row).to_contain_text(str(len(blocked)))
    expect(row).to_contain_text("jira-")  # per integration, by name
    no_sideways_scroll(page)
    shot(page, "mappings-01-unmapped")

    row.get_by_role("button", name="Map Blocked to…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Map status “Blocked” to…")
    dialog.get_by_label("Status", exact=True).select_option(label="To Do")
    shot(page, "mappings-02-map-to")
    dialog.get_by_role("button", name="Map", exact=True).click()

    notice = page.get_by_test_id("reprocess-notice")
    expect(notice).to_contain_text(re.compile(r"Saved — reprocessing \d+ items? in job [0-9a-f]{8}"))
    expect(row).to_have_count(0)  # no longer unmapped
    expect(notice).to_contain_text("succeeded", timeout=90_000)  # the job's live status
    no_sideways_scroll(page)
    shot(page, "mappings-03-reprocess-succeeded")

    notice.get_by_role("link", name=re.compile("^job ")).click()
    expect(page).to_have_url(re.compile("/jobs/[0-9a-f-]{36}$"))
    expect(page.get_by_text("reprocess").first).to_be_visible()
    expect(page.get_by_text("succeeded").first).to_be_visible()
    shot(page, "mappings-04-reprocess-job")

    after = {item.key: item for item in work_items(integration_id)}
    assert {(after[item.key].status, after[item.key].status_category) for item in blocked} == {("To Do", "to_do")}


@pytest.mark.console_errors("409")
def test_a_work_item_type_is_added_and_a_duplicate_name_is_refused_in_words(page, make_tenant):
    _, key = make_tenant()
    sign_in(page, key)
    page.goto("/mappings/work-item-types")
    types = page.get_by_role("region", name="Work item types")
    expect(types.locator('tr[data-row="Story"]')).to_be_visible()  # the defaults

    types.get_by_role("button", name="Add a work item type").click()
    form = types.get_by_role("form", name="New work item type")
    form.get_by_label("Name").fill("Research")
    form.get_by_label("Hierarchy level").select_option(label="Story (0)")
    form.get_by_role("button", name="Add", exact=True).click()
    expect(types.locator('tr[data-row="Research"]')).to_contain_text("Story (0)")
    expect(page.get_by_text("Saved — no work item needed reprocessing").first).to_be_visible()

    types.get_by_role("button", name="Add a work item type").click()
    form.get_by_label("Name").fill("research")
    form.get_by_role("button", name="Add", exact=True).click()
    expect(form.get_by_test_id("form-error")).to_contain_text("already named 'Research'")
    no_sideways_scroll(page)
    shot(page, "mappings-05-duplicate-refused")


@pytest.mark.console_errors("422")
def test_a_workflows_steps_are_reordered_and_saved(page, make_tenant):
    _, key = make_tenant()
    sign_in(page, key)
    page.goto("/mappings/workflows")
    workflow = page.locator('article[data-workflow="Default"]')
    expect(workflow.get_by_role("list", name="Steps of Default")).to_contain_text("To Do")
    workflow.get_by_role("button", name="Edit Default").click()
    form = workflow.get_by_role("form", name="Edit Default")

    # Done above the commitment point: the API refuses it, in words
    form.get_by_role("button", name="Move Done up").click()
    form.get_by_role("button", name="Save", exact=True).click()
    expect(form.get_by_test_id("form-error")).to_contain_text("must come before the done step")
    shot(page, "mappings-06-workflow-refused")

    form.get_by_role("button", name="Move Done down").click()
    form.get_by_role("button", name="Move To Do down").click()  # In Progress, To Do, Done
    form.get_by_role("button", name="Save", exact=True).click()
    steps = workflow.get_by_role("list", name="Steps of Default").get_by_role("listitem")
    expect(steps).to_have_text([re.compile("^In Progress"), re.compile("^.*To Do"), re.compile("^.*Done")])
    expect(steps.first).to_contain_text("commitment point")
    expect(steps.last).to_contain_text("done")
    page.reload()
    expect(workflow.get_by_role("list", name="Steps of Default").get_by_role("listitem").first).to_contain_text("In Progress")
    no_sideways_scroll(page)
    shot(page, "mappings-07-workflow-saved")


def test_a_read_only_key_sees_the_write_controls_disabled_and_why(page, make_tenant):
    tenant_id, _ = make_tenant()
    with session_scope() as s:
        read_only = issue_api_key(s, tenant_id, name="viewer", scopes=[SCOPE_READ]).secret
    sign_in(page, read_only)
    for tab, button in (("statuses", "Add a status"), ("hierarchies", "Add a hierarchy level"),
                        ("workflows", "Add a workflow"), ("work-item-types", "Edit Story")):
        page.goto(f"/mappings/{tab}")
        control = page.get_by_role("button", name=button, exact=True)
        expect(control).to_be_disabled()
        assert control.get_attribute("title") == "this key is read-only"
    page.get_by_label("Theme").select_option("dark")  # the same page in the dark theme
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    no_sideways_scroll(page)
    shot(page, "mappings-08-read-only-dark")
