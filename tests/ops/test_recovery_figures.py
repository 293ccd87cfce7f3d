"""Recovery figures (issue 14, item 5): why each retry, redelivery and re-drive happened, in the
job's detail (API and `etl jobs show`), and the counters /metrics derives from the same tables for
the automatic error recovery rate. Real workers, the suite's PostgreSQL and RabbitMQ, the fake Jira."""
from __future__ import annotations

import subprocess

from sqlalchemy import text

from etl.jobs.recoveries import WORKER_LOST
from etl.models import EtlJob, EtlTaskRun
from tests.cli.test_cli import ROOT, etl, etl_command
from tests.ops.test_metrics import scrape, value
from tests.scopes import session_scope
from tests.waiting import run_sync

RECOVERIES = "pulse_task_recoveries_total"
FAILURES = "pulse_task_failures_total"


def test_a_503_once_is_retried_with_its_reason_shown_and_counted_as_a_recovery(api_client, jira_integration,
                                                                                 workers):
    tenant_id, key, integration_id, fake = jira_integration(issues=30)
    fake.faults.add("503", path_contains="/search", times=1)
    before = scrape(api_client)

    job = run_sync(tenant_id, integration_id)

    assert job.status == "succeeded"
    detail = api_client.get(f"/api/v1/etl/jobs/{job.id}", headers={"Authorization": f"Bearer {key}"})
    assert detail.status_code == 200, detail.text
    [retry] = detail.json()["recoveries"]
    assert retry["kind"] == "retry" and retry["stage"] == "extract" and retry["attempt"] == 1
    assert "503" in retry["reason"], retry
    assert retry["recovered"] is True and retry["at"] is not None
    retried = [r for r in detail.json()["task_runs"] if r["state"] == "retrying"]
    assert [r["task_id"] for r in retried] == [retry["task_id"]]

    after = scrape(api_client)
    assert value(after, RECOVERIES, stage="extract", kind="retry") == \
        value(before, RECOVERIES, stage="extract", kind="retry") + 1
    assert value(after, FAILURES, stage="extract") == value(before, FAILURES, stage="extract")

    code, shown, _ = etl("jobs", "show", str(job.id))
    assert code == 0 and [r["kind"] for r in shown["recoveries"]] == ["retry"]
    words = subprocess.run([*etl_command(), "jobs", "show", str(job.id)], cwd=ROOT, capture_output=True, text=True,
                           timeout=60).stdout
    assert "recoveries: 1" in words and "extract   retry      attempt 1 (recovered)\n" in words and "503" in words


def test_a_permanent_failure_counts_as_a_failure_not_a_recovery(api_client, jira_integration, workers):
    tenant_id, key, integration_id, fake = jira_integration(issues=10)
    fake.faults.add("401", times=None)
    before = scrape(api_client)

    job = run_sync(tenant_id, integration_id)

    assert job.status == "failed"
    after = scrape(api_client)
    assert value(after, FAILURES, stage="extract") == value(before, FAILURES, stage="extract") + 1
    for kind in ("retry", "redelivery"):
        assert value(after, RECOVERIES, stage="extract", kind=kind) == value(before, RECOVERIES, stage="extract", kind=kind)
    detail = api_client.get(f"/api/v1/etl/jobs/{job.id}", headers={"Authorization": f"Bearer {key}"}).json()
    assert detail["recoveries"] == []  # a fatal error is not retried


def _record_run(task_id: str, job_id, **params):
    """What the task base runs when a delivery starts (the statement itself, so this test can
    replay a worker that died without one)."""
    from etl.pipeline.task_base import RECORD_RUN

    with session_scope() as s:
        return s.execute(RECORD_RUN, {"job_id": job_id, "batch_id": None, "task_id": task_id, "task_name": "etl.extract",
                                      "stage": "extract", "attempt": 0, "worker": "w1", "worker_lost": WORKER_LOST,
                                      **params}).scalar()


def test_a_redelivery_keeps_why_and_a_redrive_counts_once_the_job_succeeds(api_client, jira_integration):
    from etl.pipeline.task_base import FINISH_RUN, FINISH_SUCCEEDED

    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    with session_scope() as s:
        job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="running", entities=["issues"],
                     redrives=2, redriven_at=text("now()"))
        s.add(job)
        s.flush()
        job_id = job.id
    before = scrape(api_client)
    # A worker died mid-task: the broker delivers the same attempt again.
    _record_run("killed", job_id)
    assert _record_run("killed", job_id) == 2
    # A task whose follow-ups could not be published put itself back in the queue.
    _record_run("requeued", job_id)
    with session_scope() as s:
        s.execute(FINISH_RUN, {"state": "requeued", "error": "its follow-up tasks could not be published",
                               "task_id": "requeued", "attempt": 0})
    _record_run("requeued", job_id)
    with session_scope() as s:
        for task_id in ("killed", "requeued"):
            s.execute(FINISH_SUCCEEDED, {"task_id": task_id, "attempt": 0})
        s.get(EtlJob, job_id).status = "succeeded"

    with session_scope() as s:
        runs = {r.task_id: r for r in s.query(EtlTaskRun).filter_by(job_id=job_id)}
    assert runs["killed"].state == "succeeded" and runs["killed"].error == WORKER_LOST  # kept past success
    detail = api_client.get(f"/api/v1/etl/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}).json()
    found = {(r["kind"], r.get("task_id")): r for r in detail["recoveries"]}
    assert found[("redelivery", "killed")]["reason"] == WORKER_LOST
    assert found[("redelivery", "requeued")]["reason"] == "its follow-up tasks could not be published"
    redrive = found[("redrive", None)]
    assert redrive["stage"] == "reaper" and redrive["attempt"] == 2 and redrive["recovered"] is True
    assert "no progress for" in redrive["reason"]

    after = scrape(api_client)
    assert value(after, RECOVERIES, stage="extract", kind="redelivery") == \
        value(before, RECOVERIES, stage="extract", kind="redelivery") + 2
    assert value(after, RECOVERIES, stage="reaper", kind="redrive") == \
        value(before, RECOVERIES, stage="reaper", kind="redrive") + 2
