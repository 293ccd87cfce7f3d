"""GET /api/v1/overview on real PostgreSQL: the numbers of the console's Home, each tenant's own."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from etl.models import EtlJob, Integration, PullRequest, RawExtractionData, StatusMapping, WorkItem
from tests.scopes import session_scope


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


NOW = datetime.now(timezone.utc)


def _work_item(tenant_id, integration_id, n: int, issue_type="Story", status="Done", deleted=False) -> WorkItem:
    return WorkItem(tenant_id=tenant_id, integration_id=integration_id, external_id=str(n), key=f"ABC-{n}",
                    source_type=issue_type, source_status=status, deleted_at=NOW if deleted else None)


def _raw(tenant_id, integration_id, n: int, status: str) -> RawExtractionData:
    return RawExtractionData(tenant_id=tenant_id, integration_id=integration_id, entity_type="jira_issue",
                             external_id=str(n), raw_data={"id": str(n)}, content_hash=f"h{n}",
                             processing_status=status)


def _job(tenant_id, integration_id, status: str, created: datetime, finished: datetime | None = None) -> EtlJob:
    return EtlJob(tenant_id=tenant_id, integration_id=integration_id, status=status, created_at=created,
                  finished_at=finished)


def test_overview_counts_the_callers_tenant_only(api_client, jira_integration):
    t1, key1, i1, _ = jira_integration(issues=1)
    t2, key2, i2, _ = jira_integration(issues=1)
    last_success = NOW - timedelta(hours=3)
    with session_scope() as s:
        s.add_all([_work_item(t1, i1, n) for n in range(5)])
        s.add(_work_item(t1, i1, 99, deleted=True))  # deleted at the source: not counted
        s.add(_work_item(t1, i1, 100, issue_type="Spike", status="Limbo"))  # neither is mapped by default
        s.add(_work_item(t1, i1, 101, issue_type="spike ", status="Limbo"))  # same values, other case
        s.add_all([_work_item(t2, i2, n) for n in range(2)])
        s.add(PullRequest(tenant_id=t1, integration_id=i1, external_id="acme/api#1", repo="acme/api", number=1,
                          state="open"))
        s.add_all([_raw(t1, i1, 1, "failed"), _raw(t1, i1, 2, "failed"), _raw(t1, i1, 3, "completed"),
                   _raw(t2, i2, 1, "failed")])
        s.add_all([
            _job(t1, i1, "succeeded", NOW - timedelta(hours=4), last_success),
            _job(t1, i1, "failed", NOW - timedelta(hours=1), NOW - timedelta(minutes=50)),
            _job(t1, i1, "succeeded", NOW - timedelta(days=3), NOW - timedelta(days=3)),  # older than a day
            _job(t2, i2, "failed", NOW - timedelta(hours=2), NOW - timedelta(hours=2)),
        ])
        # t1's integration is 10 minutes late on its schedule; t2's is due in an hour.
        s.execute(update(Integration).where(Integration.id == i1).values(next_sync_at=NOW - timedelta(minutes=10),
                                                                         schedule_interval_minutes=60))
        s.execute(update(Integration).where(Integration.id == i2).values(next_sync_at=NOW + timedelta(hours=1),
                                                                         schedule_interval_minutes=60))

    r = api_client.get("/api/v1/overview", headers=auth(key1))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["work_items"], body["pull_requests"], body["raw_records_failed"]) == (7, 1, 2)
    assert body["unmapped"] == {"issue_types": 1, "statuses": 1, "values": 2}
    assert body["jobs_last_24h"] == {"queued": 0, "running": 0, "succeeded": 1, "partial": 0, "failed": 1,
                                     "cancelled": 0}
    [integration] = body["integrations"]
    assert integration["id"] == str(i1) and integration["provider"] == "jira" and integration["enabled"] is True
    assert datetime.fromisoformat(integration["last_success_at"]) == last_success
    assert integration["overdue"] is True and integration["active_job_id"] is None
    assert body["overdue_grace_seconds"] == 300

    other = api_client.get("/api/v1/overview", headers=auth(key2)).json()
    assert (other["work_items"], other["pull_requests"], other["raw_records_failed"]) == (2, 0, 1)
    assert other["unmapped"]["values"] == 0
    assert other["jobs_last_24h"]["failed"] == 1 and other["jobs_last_24h"]["succeeded"] == 0
    [integration] = other["integrations"]
    assert integration["id"] == str(i2) and integration["overdue"] is False and integration["last_success_at"] is None

    # A mapping for the odd status (any case) takes it off the count; a disabled integration is never overdue.
    with session_scope() as s:
        status_id = s.execute(StatusMapping.__table__.select().where(StatusMapping.tenant_id == t1).limit(1)
                              ).first().status_id
        s.add(StatusMapping(tenant_id=t1, source_name="LIMBO", status_id=status_id))
        s.execute(update(Integration).where(Integration.id == i1).values(enabled=False))
    body = api_client.get("/api/v1/overview", headers=auth(key1)).json()
    assert body["unmapped"] == {"issue_types": 1, "statuses": 0, "values": 1}
    assert body["integrations"][0]["overdue"] is False


def test_overview_of_a_new_tenant_is_all_zeros(api_client, make_tenant):
    _, key = make_tenant()
    r = api_client.get("/api/v1/overview", headers=auth(key))
    assert r.status_code == 200
    body = r.json()
    assert body["integrations"] == [] and body["work_items"] == 0 and set(body["jobs_last_24h"].values()) == {0}


def test_overview_needs_a_key(api_client):
    assert api_client.get("/api/v1/overview").status_code == 401
    assert api_client.get("/api/v1/overview", headers=auth(f"pk_{uuid.uuid4().hex}")).status_code == 401
