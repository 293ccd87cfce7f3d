"""ETL_DATABASE_READ_URL (issue 14, item 4) against a real streaming standby: a private primary
cluster, a hot standby cloned from it with pg_basebackup (tests/faults.PrivateStandby, as the
compose profile `replica` does), and the API in this process pointed at both.

Which server answered is told by the data, not by mocks: with the standby's replay paused, a row
committed on the primary is missing from the read routes (the replica's answer) and present in job
detail, integrations and writes (the primary's). Then the standby stops: the read routes answer 503
in words, the primary's routes carry on. Unset, every read is the primary's again.
"""
from __future__ import annotations

import statistics
import time
import uuid
from datetime import datetime, timezone

import psycopg2
import pytest
from fastapi.testclient import TestClient

from tests.faults import migrate, wait_until

API = "/api/v1"


def _replayed(standby, external_id: str) -> bool:
    """The standby shows the work item (read as its superuser: no row-level security in the way)."""
    conn = psycopg2.connect(standby.dsn(), connect_timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM work_items WHERE external_id = %s", (external_id,))
            return cur.fetchone()[0] == 1
    finally:
        conn.close()


def _add_work_item(tenant_id, integration_id, key: str) -> str:
    from etl.models import WorkItem
    from tests.scopes import session_scope

    external_id = f"ext-{uuid.uuid4().hex[:8]}"
    with session_scope() as s:
        s.add(WorkItem(tenant_id=tenant_id, integration_id=integration_id, external_id=external_id, key=key,
                       title=key, updated_at=datetime.now(timezone.utc)))
    return external_id


def _add_job(tenant_id, integration_id):
    from etl.models import EtlJob
    from tests.scopes import session_scope

    with session_scope() as s:
        job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="succeeded", entities=["issues"],
                     finished_at=datetime.now(timezone.utc))
        s.add(job)
        s.flush()
        return job.id


def _keys(client, headers) -> set[str]:
    response = client.get(f"{API}/work-items", headers=headers)
    assert response.status_code == 200, response.text
    return {item["key"] for item in response.json()["items"]}


@pytest.fixture
def replicated(private_postgres, private_standby, settings_env):
    """The private primary migrated (the standby replays the migration too), the API's settings
    pointed at both, and a tenant with an integration. -> (primary, standby, headers, tenant, integration)."""
    from etl.tenancy.integrations import create_integration
    from etl.tenancy.tenants import create_tenant
    from tests.scopes import session_scope

    migrate(private_postgres.url)
    settings_env(ETL_DATABASE_URL=private_postgres.url, ETL_DATABASE_READ_URL=private_standby.url)
    with session_scope() as s:
        tenant, key = create_tenant(s, f"replica-{uuid.uuid4().hex[:6]}")
        integration = create_integration(s, tenant.id, "jira", "jira", "http://127.0.0.1:9",
                                         {"email": "a@example.com", "token": "t"}, {"projects": ["P"]})
        tenant_id, integration_id = tenant.id, integration.id
    yield private_postgres, private_standby, {"Authorization": f"Bearer {key.secret}"}, tenant_id, integration_id
    from etl.db import get_engine, get_read_engine

    get_read_engine().dispose()
    get_engine().dispose()


def test_reads_go_to_the_replica_writes_and_job_detail_to_the_primary(replicated):
    primary, standby, headers, tenant_id, integration_id = replicated
    # Replication lag, measured: commit on the primary, then poll the standby until it shows the row.
    lags = []
    for n in range(10):
        t0 = time.monotonic()
        external_id = _add_work_item(tenant_id, integration_id, f"LAG-{n}")
        wait_until(lambda: _replayed(standby, external_id), 30, "the standby to replay a commit", interval=0.005)
        lags.append(time.monotonic() - t0)
    print(f"\nreplication: commit on the primary -> visible on the standby: median {statistics.median(lags) * 1000:.1f} ms, "
          f"max {max(lags) * 1000:.1f} ms over {len(lags)} commits (includes the commit and a 5 ms poll)")

    from api.main import app

    with TestClient(app) as client:
        assert _keys(client, headers) == {f"LAG-{n}" for n in range(10)}

        standby.pause_replay()
        _add_work_item(tenant_id, integration_id, "NEW-1")
        job_id = _add_job(tenant_id, integration_id)
        # the read routes answer from the replica, which has not replayed these yet
        assert "NEW-1" not in _keys(client, headers)
        jobs = client.get(f"{API}/etl/jobs", headers=headers)
        assert jobs.status_code == 200 and str(job_id) not in {j["id"] for j in jobs.json()["items"]}
        overview = client.get(f"{API}/overview", headers=headers)
        assert overview.status_code == 200 and overview.json()["work_items"] == 10
        # job detail, integrations and the caller's own key stay on the primary
        assert client.get(f"{API}/etl/jobs/{job_id}", headers=headers).status_code == 200
        assert client.get(f"{API}/integrations/{integration_id}", headers=headers).status_code == 200
        # a write goes to the primary (a replica would refuse it: read-only transaction)
        created = client.post(f"{API}/statuses", headers=headers, json={"name": "Blocked-R", "category": "in_progress"})
        assert created.status_code == 201, created.text
        statuses = client.get(f"{API}/statuses", headers=headers)
        assert statuses.status_code == 200 and "Blocked-R" not in {s["name"] for s in statuses.json()}

        standby.resume_replay()
        wait_until(lambda: "NEW-1" in _keys(client, headers), 30, "the replica to catch up")
        assert "Blocked-R" in {s["name"] for s in client.get(f"{API}/statuses", headers=headers).json()}

        # the replica down: the read routes say so (503, in words), the primary's routes carry on
        standby.stop()
        down = client.get(f"{API}/work-items", headers=headers)
        assert down.status_code == 503, down.text
        assert "read replica (ETL_DATABASE_READ_URL) is unavailable" in down.json()["detail"]
        assert str(standby.port) not in down.json()["detail"]  # no address for the tenant
        assert down.headers["Retry-After"] == "5"
        assert client.get(f"{API}/etl/jobs", headers=headers).status_code == 503
        assert client.get(f"{API}/overview", headers=headers).status_code == 503
        assert client.get(f"{API}/etl/jobs/{job_id}", headers=headers).status_code == 200
        assert client.get(f"{API}/integrations", headers=headers).status_code == 200


def test_without_a_read_url_every_read_is_the_primarys(replicated, settings_env):
    primary, standby, headers, tenant_id, integration_id = replicated
    standby.pause_replay()
    settings_env(ETL_DATABASE_READ_URL=None)
    _add_work_item(tenant_id, integration_id, "PRIMARY-1")
    from api.main import app

    with TestClient(app) as client:
        assert _keys(client, headers) == {"PRIMARY-1"}
    standby.resume_replay()


def test_the_doctor_checks_the_replica(replicated, settings_env):
    from etl.ops.doctor import check_read_replica

    primary, standby, headers, tenant_id, integration_id = replicated
    [check] = check_read_replica()
    assert check.status == "ok" and "standby at" in check.detail, check
    standby.stop()
    [check] = check_read_replica()
    assert check.status == "fail" and "cannot reach" in check.detail and "503" in check.detail
    settings_env(ETL_DATABASE_READ_URL=primary.url)  # a server that is not a standby
    [check] = check_read_replica()
    assert check.status == "warn" and "not a standby" in check.detail
    settings_env(ETL_DATABASE_READ_URL=None)
    assert check_read_replica() == []
