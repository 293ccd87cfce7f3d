"""Waiting for jobs the way a user does: trigger, then poll etl_jobs until the job ends."""
from __future__ import annotations

import time

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import EtlJob
from tests.scopes import session_scope


def wait_for_job(job_id, timeout: float = 180, sessions=None) -> EtlJob:
    """`sessions`: a sessionmaker for another database than the suite's (a private stack's)."""
    deadline = time.monotonic() + timeout
    while True:
        with (sessions or session_scope)() as s:
            job = s.get(EtlJob, job_id)
        if job.status not in ("queued", "running"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} did not finish in {timeout}s (status {job.status})")
        time.sleep(0.2)


def run_sync(tenant_id, integration_id, kind: str = "incremental", timeout: float = 180) -> EtlJob:
    return wait_for_job(start_job(get_sessionmaker(), integration_id, tenant_id, kind, trigger="api"), timeout)
