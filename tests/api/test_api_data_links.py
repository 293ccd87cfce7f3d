"""What the console's Raw data and Data pages ask the API for: a final row names the raw record it was
loaded from (`raw_id`), a raw record finds its final row (`external_id` on /work-items and
/pull-requests), a job's failed records (`job_id` on /etl/raw-data), and the lookup of one raw record
by (integration, entity type, external id)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from etl.models import PullRequest, RawExtractionData, WorkItem
from tests.api.test_api import add_integration, auth

T0 = datetime(2025, 9, 1, tzinfo=timezone.utc)


def add_raw(db, tenant_id, integration_id, entity_type: str, external_id: str, status: str = "completed",
            error: dict | None = None) -> int:
    row = RawExtractionData(tenant_id=tenant_id, integration_id=integration_id, entity_type=entity_type,
                            external_id=external_id, raw_data={"id": external_id}, content_hash=uuid.uuid4().hex,
                            processing_status=status, error_details=error)
    db.add(row)
    db.commit()
    return row.id


def test_a_work_item_names_its_raw_record_and_the_raw_record_finds_the_item(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    h = auth(key)
    integ = uuid.UUID(add_integration(api_client, key)["id"])
    raw_id = add_raw(db, tenant_id, integ, "jira_issue", "10042")
    other_raw = add_raw(db, tenant_id, integ, "jira_issue", "10043")
    db.add_all([WorkItem(tenant_id=tenant_id, integration_id=integ, external_id="10042", key="ABC-42", raw_id=raw_id,
                         updated_at=T0),
                WorkItem(tenant_id=tenant_id, integration_id=integ, external_id="10043", key="ABC-43",
                         raw_id=other_raw, updated_at=T0 + timedelta(hours=1))])
    db.commit()

    found = api_client.get("/api/v1/work-items", params={"integration_id": str(integ), "external_id": "10042"},
                           headers=h).json()["items"]
    assert [(i["key"], i["raw_id"]) for i in found] == [("ABC-42", raw_id)]
    assert api_client.get("/api/v1/work-items/ABC-42", headers=h).json()["raw_id"] == raw_id

    raw = api_client.get("/api/v1/etl/raw-data", params={"integration_id": str(integ), "entity_type": "jira_issue",
                                                         "external_id": "10043"}, headers=h).json()["items"]
    assert [r["id"] for r in raw] == [other_raw]
    none = api_client.get("/api/v1/etl/raw-data", params={"external_id": "nope"}, headers=h).json()
    assert none == {"items": [], "next": None}


def test_a_pull_request_names_its_raw_record_and_is_found_by_integration_and_external_id(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    h = auth(key)
    first = uuid.UUID(add_integration(api_client, key)["id"])
    second = uuid.UUID(add_integration(api_client, key)["id"])
    raw_id = add_raw(db, tenant_id, first, "github_pull_request", "acme/api#7")
    for integ, rid in ((first, raw_id), (second, None)):
        db.add(PullRequest(tenant_id=tenant_id, integration_id=integ, external_id="acme/api#7", repo="acme/api",
                           number=7, state="open", raw_id=rid, updated_at=T0))
    db.commit()

    listed = api_client.get("/api/v1/pull-requests", params={"external_id": "acme/api#7"}, headers=h).json()["items"]
    assert sorted((p["integration_id"], p["raw_id"]) for p in listed) == sorted(
        [(str(first), raw_id), (str(second), None)])
    assert {p["external_id"] for p in listed} == {"acme/api#7"}
    one = api_client.get("/api/v1/pull-requests", params={"external_id": "acme/api#7", "integration_id": str(second)},
                         headers=h).json()["items"]
    assert [(p["integration_id"], p["raw_id"]) for p in one] == [(str(second), None)]


def test_raw_records_filter_by_the_job_they_failed_in(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    h = auth(key)
    integ = uuid.UUID(add_integration(api_client, key)["id"])
    job, other_job = uuid.uuid4(), uuid.uuid4()
    mine = [add_raw(db, tenant_id, integ, "jira_issue", str(n), "failed",
                    {"stage": "transform", "error": "bad", "job_id": str(job)}) for n in (1, 2)]
    add_raw(db, tenant_id, integ, "jira_issue", "3", "failed", {"stage": "transform", "job_id": str(other_job)})
    add_raw(db, tenant_id, integ, "jira_issue", "4")

    r = api_client.get("/api/v1/etl/raw-data", params={"job_id": str(job), "status": "failed"}, headers=h)
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == mine

    # Another tenant asking for this job's records sees none of them.
    _, stranger = make_tenant()
    r = api_client.get("/api/v1/etl/raw-data", params={"job_id": str(job)}, headers=auth(stranger))
    assert r.json()["items"] == []


def test_the_new_filters_are_bounded(api_client, make_tenant):
    _, key = make_tenant()
    h = auth(key)
    for path, params in (("/api/v1/etl/raw-data", {"external_id": "x" * 501}),
                         ("/api/v1/etl/raw-data", {"job_id": "not-a-uuid"}),
                         ("/api/v1/work-items", {"external_id": "x" * 501}),
                         ("/api/v1/pull-requests", {"external_id": "x" * 501}),
                         ("/api/v1/pull-requests", {"integration_id": "nope"})):
        r = api_client.get(path, params=params, headers=h)
        assert r.status_code == 422, (path, params, r.text)
