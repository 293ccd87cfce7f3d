"""The circuit breaker (etl/jobs/breaker.py) on the real database, broker and worker processes, with
the fake Jira refusing the integration's token: fatal failures pause an integration, schedules
skip it, manual syncs are refused with the reason, a resume closes it only once the connection
test passes, and a transient pause gets its half-open probe after the cool-down.

The workers run with the default thresholds (ETL_BREAKER_FATAL_FAILURES=3, ETL_BREAKER_FAILURES=10,
ETL_BREAKER_COOLDOWN_MINUTES=60); what the test process decides itself (failing a job as the
reaper does, dispatching) runs with the settings the test sets."""
from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from etl.config import get_settings
from etl.db import get_sessionmaker
from etl.jobs.breaker import IntegrationPaused
from etl.jobs.ending import cancel_job
from etl.jobs.lifecycle import create_job, fail_job, start_job
from etl.models import EtlJob, Integration
from etl.notify import events
from etl.ops.scheduling import Schedule, dispatch_due, set_schedule
from tests.cli.test_cli import ROOT, etl, etl_command
from tests.scopes import session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def integration(integration_id) -> Integration:
    with session_scope() as s:
        row = s.get(Integration, integration_id)
        s.expunge(row)
        return row


def job_count(integration_id) -> int:
    with session_scope() as s:
        return len(s.scalars(select(EtlJob.id).where(EtlJob.integration_id == integration_id)).all())


@pytest.fixture
def emitted(monkeypatch) -> list[tuple]:
    """The events raised in this process (the API's, the dispatcher's, a test's own job ends)."""
    calls: list[tuple] = []
    monkeypatch.setattr(events, "emit", lambda session, tenant_id, kind, subject: calls.append((tenant_id, kind, subject)))
    return calls


def worker_logged(workers, line: str, timeout: float = 30) -> bool:
    """Whether a worker process logged `line` (the events it raised: emit() logs each one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(line in path.read_text(errors="replace") for path in workers.logdir.glob("worker-*.log")):
            return True
        time.sleep(0.2)
    return False


def fail_fatally(tenant_id, integration_id, times: int) -> None:
    for _ in range(times):
        job = run_sync(tenant_id, integration_id)
        assert job.status == "failed", job.error_details
        assert job.error_details["fatal"] is True and job.error_details["status"] == 401


def test_fatal_failures_pause_until_a_resume_with_fixed_credentials(jira_integration, api_client, workers, emitted):
    tenant_id, key, integration_id, fake = jira_integration(issues=20)
    good_token, fake.token = fake.token, "revoked-token"  # the stored token is refused from now on (401)
    fatal_limit = get_settings().breaker_fatal_failures

    fail_fatally(tenant_id, integration_id, fatal_limit - 1)
    assert integration(integration_id).breaker_open_at is None  # not yet
    fail_fatally(tenant_id, integration_id, 1)
    row = integration(integration_id)
    assert row.breaker_kind == "fatal" and row.breaker_open_at is not None and row.breaker_probe_at is None
    assert "401" in row.breaker_reason and row.consecutive_fatal_failures == fatal_limit
    assert worker_logged(workers, f"event integration.paused for tenant {tenant_id}")

    # the API and the CLI show it
    shown = api_client.get(f"/api/v1/integrations/{integration_id}", headers=auth(key)).json()
    assert shown["paused"] is True and shown["breaker_kind"] == "fatal"
    assert "401" in shown["breaker_reason"] and shown["consecutive_failures"] == fatal_limit
    listed = api_client.get("/api/v1/integrations", headers=auth(key)).json()
    assert [i["paused"] for i in listed if i["id"] == str(integration_id)] == [True]
    code, out, _ = etl("integrations", "show", str(integration_id))
    assert code == 0 and out["paused"] is True and "401" in out["breaker_reason"]
    for command in ("show", "list"):  # in words, for people
        text = subprocess.run([*etl_command(), "integrations", command, *([str(integration_id)] * (command == "show"))],
                              cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=60).stdout
        assert f"paused: {row.breaker_reason[:40]}" in text, text
    gauge = [line for line in api_client.get("/metrics").text.splitlines()
             if line.startswith('pulse_integrations_breaker_open{provider="jira"}')]
    assert len(gauge) == 1 and float(gauge[0].split()[-1]) >= 1  # other tests' integrations share the database

    # schedules skip it: due now, no job
    with session_scope() as s:
        set_schedule(s, s.get(Integration, integration_id), Schedule(every_minutes=1))
        s.get(Integration, integration_id).next_sync_at = utcnow() - timedelta(minutes=1)
    before = job_count(integration_id)
    dispatch_due(utcnow())
    assert job_count(integration_id) == before

    # a manual sync is refused with the reason and how to resume, over the API and the CLI
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)},
                        headers=auth(key))
    assert r.status_code == 409 and "paused by the circuit breaker" in r.json()["detail"] and r.json()["job_id"] is None
    assert "401" in r.json()["detail"] and f"/integrations/{integration_id}/resume" in r.json()["detail"]
    code, out, _ = etl("sync", str(integration_id))
    assert code == 1 and "paused by the circuit breaker" in out["error"]
    assert job_count(integration_id) == before

    # resuming with the credentials still refused: 409 in the connection test's words, still paused
    r = api_client.post(f"/api/v1/integrations/{integration_id}/resume", headers=auth(key))
    assert r.status_code == 409 and "rejected the credentials" in r.json()["detail"]
    assert integration(integration_id).breaker_open_at is not None
    code, out, _ = etl("integrations", "resume", str(integration_id))
    assert code == 1 and "stays paused" in out["error"]

    # the token works again: the resume closes the breaker, and the next dispatch syncs it
    fake.token = good_token
    r = api_client.post(f"/api/v1/integrations/{integration_id}/resume", headers=auth(key))
    assert r.status_code == 200, r.text
    assert r.json()["paused"] is False and r.json()["consecutive_failures"] == 0 and r.json()["breaker_reason"] is None
    assert [(kind, subject["integration_id"]) for _, kind, subject in emitted] == [
        (events.INTEGRATION_RECOVERED, str(integration_id))]
    jobs = dispatch_due(utcnow())
    mine = [j for j in jobs if j in set(_job_ids(integration_id))]
    assert len(mine) == 1 and wait_for_job(mine[0]).status == "succeeded"
    assert run_sync(tenant_id, integration_id).status == "succeeded"


def _job_ids(integration_id) -> list:
    with session_scope() as s:
        return list(s.scalars(select(EtlJob.id).where(EtlJob.integration_id == integration_id)))


def test_a_passing_test_after_new_credentials_closes_the_breaker(jira_integration, api_client, emitted):
    tenant_id, key, integration_id, fake = jira_integration(issues=10)
    fake.token = "rotated-token"  # the admin rotated the token at the source; the stored one is refused
    fail_fatally(tenant_id, integration_id, get_settings().breaker_fatal_failures)
    assert integration(integration_id).breaker_kind == "fatal"

    r = api_client.patch(f"/api/v1/integrations/{integration_id}",
                         json={"credentials": {"email": fake.email, "token": "rotated-token"}}, headers=auth(key))
    assert r.status_code == 200 and r.json()["paused"] is True  # saving alone proves nothing yet
    r = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key))
    assert r.status_code == 200 and r.json()["ok"] is True
    assert integration(integration_id).breaker_open_at is None
    assert [kind for _, kind, _ in emitted] == [events.INTEGRATION_RECOVERED]
    assert run_sync(tenant_id, integration_id).status == "succeeded"


def _fail_in_process(tenant_id, integration_id, message: str) -> None:
    """A job that ends failed as the reaper or a task out of retries ends it (etl.jobs.lifecycle.fail_job)."""
    with session_scope() as s:
        job_id = create_job(s, s.get(Integration, integration_id), trigger="schedule")[0].id
    with session_scope() as s:
        assert fail_job(s, job_id, "extract", message)


def test_transient_failures_pause_then_a_half_open_probe_decides(jira_integration, settings_env, workers, emitted):
    settings_env(ETL_BREAKER_FAILURES="2", ETL_BREAKER_COOLDOWN_MINUTES="0")
    tenant_id, _, integration_id, fake = jira_integration(issues=10)
    transient = f"gave up after 8 retries: GET {fake.url}/rest/api/3/search/jql -> 503: Service Unavailable"

    _fail_in_process(tenant_id, integration_id, transient)
    # a cancelled job does not count (nor break the run of failures)
    with session_scope() as s:
        job_id = create_job(s, s.get(Integration, integration_id), trigger="api")[0].id
    with session_scope() as s:
        assert cancel_job(s, job_id)
    assert integration(integration_id).consecutive_failures == 1
    _fail_in_process(tenant_id, integration_id, transient)
    row = integration(integration_id)
    assert row.breaker_kind == "failures" and row.consecutive_failures == 2 and "503" in row.breaker_reason
    assert row.breaker_probe_at is not None and row.breaker_probe_at <= utcnow()  # cool-down 0
    assert [(kind, subject["kind"]) for _, kind, subject in emitted] == [(events.INTEGRATION_PAUSED, "failures")]
    assert emitted[0][2]["link"] == f"/integrations/{integration_id}"
    with pytest.raises(IntegrationPaused, match="A probe sync runs by itself"):
        start_job(get_sessionmaker(), integration_id, tenant_id)

    # the probe fails (the source refuses it now): paused again, the next probe one cool-down later
    # (the worker's: 60 minutes)
    fake.faults.add("401", times=None)
    probes = [j for j in dispatch_due(utcnow()) if j in set(_job_ids(integration_id))]
    assert len(probes) == 1 and integration(integration_id).breaker_probe_at is None  # in flight: one probe
    assert wait_for_job(probes[0]).status == "failed"
    row = integration(integration_id)
    assert row.breaker_open_at is not None and row.consecutive_failures == 3
    assert row.breaker_probe_at > utcnow() + timedelta(minutes=50)
    assert [j for j in dispatch_due(utcnow()) if j in set(_job_ids(integration_id))] == []  # not due yet

    # the source is back; once the cool-down has passed, the probe succeeds and closes the breaker
    fake.faults.clear()
    with session_scope() as s:
        s.execute(update(Integration).where(Integration.id == integration_id)
                  .values(breaker_probe_at=utcnow() - timedelta(seconds=1)))
    probes = [j for j in dispatch_due(utcnow()) if j in set(_job_ids(integration_id))]
    assert len(probes) == 1 and wait_for_job(probes[0]).status == "succeeded"
    row = integration(integration_id)
    assert row.breaker_open_at is None and row.consecutive_failures == 0 and row.breaker_kind is None
    assert worker_logged(workers, f"event integration.recovered for tenant {tenant_id}")
    assert run_sync(tenant_id, integration_id).status == "succeeded"
