"""History retention: the daily pruning (beat entry prune-history) drops the task runs and batches
of long-ended jobs and very old job rows, through a real worker, and never touches an active job."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from etl.broker.app import app
from etl.models import EtlBatch, EtlJob, EtlTaskRun
from etl.ops.tasks import prune_history
from tests.scopes import session_scope
from tests.waiting import run_sync


def details(job_id) -> tuple[int, int]:
    """(task runs, batches) of a job."""
    with session_scope() as s:
        return (s.scalar(select(func.count()).select_from(EtlTaskRun).where(EtlTaskRun.job_id == job_id)),
                s.scalar(select(func.count()).select_from(EtlBatch).where(EtlBatch.job_id == job_id)))


def job_exists(job_id) -> bool:
    with session_scope() as s:
        return s.get(EtlJob, job_id) is not None


def age(job_id, days: int) -> None:
    with session_scope() as s:
        s.execute(update(EtlJob).where(EtlJob.id == job_id).values(
            finished_at=datetime.now(timezone.utc) - timedelta(days=days)))


def stuck_job_from_long_ago(tenant_id, integration_id) -> uuid.UUID:
    """An active job created 400 days ago, with a batch and a task run."""
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    with session_scope() as s:
        job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="running", trigger="api",
                     created_at=long_ago, started_at=long_ago)
        s.add(job)
        s.flush()
        batch = EtlBatch(job_id=job.id, tenant_id=tenant_id, stream="jira_issue", seq=0, cursor={})
        s.add(batch)
        s.flush()
        s.add(EtlTaskRun(job_id=job.id, tenant_id=tenant_id, batch_id=batch.id, task_id=f"{job.id}.extract.0",
                         task_name="etl.extract.page", stage="extract", state="started", started_at=long_ago))
        return job.id


def test_daily_pruning_drops_old_details_keeps_job_summaries_and_spares_active_jobs(
        jira_integration, api_client, workers):
    assert app.conf.beat_schedule["prune-history"]["task"] == prune_history.name
    tenant_id, key, integration_id, fake = jira_integration(issues=150)
    jobs = [run_sync(tenant_id, integration_id, kind="full") for _ in range(3)]
    assert all(j.status == "succeeded" for j in jobs)
    ancient, old, recent = (j.id for j in jobs)
    age(ancient, 400)
    age(old, 40)
    age(recent, 5)
    recent_details = details(recent)
    assert all(n > 0 for n in details(old)) and all(n > 0 for n in recent_details)
    headers = {"Authorization": f"Bearer {key}"}
    summary_before = api_client.get(f"/api/v1/etl/jobs/{old}", headers=headers).json()
    assert summary_before["task_runs"]
    _, _, busy_integration, _ = jira_integration(issues=5, tenant=(tenant_id, key))
    stuck = stuck_job_from_long_ago(tenant_id, busy_integration)
    try:
        prune_history.apply_async()  # as beat sends it, to a real worker
        deadline = time.monotonic() + 30
        while job_exists(ancient) or details(old) != (0, 0):
            assert time.monotonic() < deadline, "the pruning did not run within 30 s"
            time.sleep(0.2)

        assert details(recent) == recent_details, "recent jobs keep their task runs and batches"
        assert details(stuck) == (1, 1) and job_exists(stuck), "an active job is never pruned"
        r = api_client.get(f"/api/v1/etl/jobs/{old}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {**summary_before, "task_runs": []}, "the job's summary is kept as it was"
        assert api_client.get(f"/api/v1/etl/jobs/{ancient}", headers=headers).status_code == 404
    finally:
        with session_scope() as s:
            s.execute(update(EtlJob).where(EtlJob.id == stuck).values(status="cancelled",
                                                                        finished_at=datetime.now(timezone.utc)))
