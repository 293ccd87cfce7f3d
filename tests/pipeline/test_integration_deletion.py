"""Deleting an integration deletes everything synced from it, and nothing of anyone else's. The
synced data tables have no foreign keys (migration 0022: two checks per inserted row were a sixth
of a first sync's database time); a trigger on integrations does what the cascades did."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from etl.models import (
    PrCommit,
    PrReview,
    PullRequest,
    RawExtractionData,
    Tenant,
    WorkItem,
    WorkItemTransition,
)
from tests.scopes import session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")

SYNCED = (RawExtractionData, WorkItem, WorkItemTransition, PullRequest, PrReview, PrCommit)


def rows_of(integration_id) -> dict[str, int]:
    with session_scope() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m).where(m.integration_id == integration_id))
                for m in SYNCED}


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_deleting_an_integration_deletes_its_synced_rows_and_no_one_elses(
        jira_integration, github_integration, make_tenant, api_client):
    tenant = make_tenant()
    tenant_id, key, jira_id, _ = jira_integration(issues=120, tenant=tenant)
    _, _, github_id, _ = github_integration(repos={"acme/api": 12}, tenant=tenant)
    other_tenant_id, _, other_id, _ = jira_integration(issues=40)
    for integration_id, owner in ((jira_id, tenant_id), (github_id, tenant_id), (other_id, other_tenant_id)):
        assert run_sync(owner, integration_id, kind="full").status == "succeeded"
    jira_rows, github_rows, other_rows = rows_of(jira_id), rows_of(github_id), rows_of(other_id)
    assert jira_rows["raw_extraction_data"] == 120 and jira_rows["work_item_transitions"] > 0
    assert github_rows["pull_requests"] == 12 and github_rows["pr_commits"] > 0

    assert api_client.delete(f"/api/v1/integrations/{jira_id}", headers=auth(key)).status_code == 204
    assert set(rows_of(jira_id).values()) == {0}
    assert rows_of(github_id) == github_rows  # the tenant's other integration keeps its data
    assert rows_of(other_id) == other_rows  # and so does every other tenant

    with session_scope() as s:  # a deleted tenant deletes its integrations, and so their data
        s.execute(delete(Tenant).where(Tenant.id == tenant_id))
    assert set(rows_of(github_id).values()) == {0}
    assert rows_of(other_id) == other_rows
