"""Completeness is checked, not assumed (issue 9, rule 5): a complete read of a Jira JQL compares
what its pages held with what Jira says the JQL matches (Data Center's `total`, Cloud's
approximate count), and a job that saw fewer ends `partial` with the gap, its watermark kept."""
from __future__ import annotations

import pytest

from etl.models import SyncState
from tests.scopes import session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_a_complete_read_reports_what_the_source_said_it_would_find(api_client, jira_integration, flavor):
    tenant_id, key, integration_id, fake = jira_integration(issues=230, flavor=flavor)
    job = run_sync(tenant_id, integration_id, "full")

    assert (job.status, job.seen, job.expected, job.loaded) == ("succeeded", 230, 230, 230), job.error_details
    counters = api_client.get(f"/api/v1/etl/jobs/{job.id}", headers=auth(key)).json()["counters"]
    assert (counters["seen"], counters["expected"]) == (230, 230)
    assert counters["seen"] == counters["loaded"] + counters["unchanged"] + counters["failed"]

    fake.touch(3)  # an incremental read is bounded by `updated >=`: no count to compare with
    job = run_sync(tenant_id, integration_id, "incremental")
    assert (job.status, job.expected) == ("succeeded", None)


def test_a_sync_whose_pages_held_fewer_than_the_source_counts_ends_partial(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=230)
    fake.approximate_count_offset = 7  # Jira counts 237 issues; its pages hold 230

    job = run_sync(tenant_id, integration_id, "full")

    # Before: succeeded, whatever the pages held.
    assert (job.status, job.seen, job.expected, job.loaded, job.failed) == ("partial", 230, 237, 230, 0)
    assert job.error_details["missing"] == 7
    assert "counted 237 record(s) for this sync and its pages listed 230: 7 missing" in job.error_details["message"]
    with session_scope() as s:  # the next incremental sync must not start past what this one missed
        assert s.get(SyncState, (integration_id, "jira_issue")) is None
    shown = api_client.get(f"/api/v1/etl/jobs/{job.id}", headers=auth(key)).json()
    assert shown["status"] == "partial" and shown["error_details"]["missing"] == 7


def test_a_github_listing_that_stops_before_its_last_page_ends_partial(github_integration):
    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 120})  # 3 GraphQL pages of 50
    job = run_sync(tenant_id, integration_id, "full")
    assert (job.status, job.listed, job.expected) == ("succeeded", 120, 120), job.error_details  # totalCount

    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 120})
    # Page 2 says it is the last (the deletion check at the job's end lists over REST: not faulted).
    fake.faults.add("no_next_link", path_contains="/graphql", times=1, every=2)
    job = run_sync(tenant_id, integration_id, "full")

    # Before: succeeded after two pages, 20 pull requests never looked at.
    assert (job.status, job.listed, job.expected) == ("partial", 100, 120), job.error_details
    assert job.error_details["missing"] == 20 and fake.faults.items == []
