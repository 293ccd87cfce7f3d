"""History retention: every task execution leaves an etl_task_runs row and every page an
etl_batches row, so a per-minute schedule grows them by the thousands a day. Beat prunes them daily:

- the task runs and batches of jobs that ended more than ETL_HISTORY_RETENTION_DAYS ago (the job
  row keeps its counters, status and error, so the jobs list and a job's summary stay as they were);
- job rows that ended more than ETL_JOB_RETENTION_DAYS ago, with whatever they still hold.

Active jobs are never touched, however old. Deletes go in chunks, each its own short transaction,
so pruning a large backlog never holds locks for long or blocks the pipeline.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from etl.config import get_settings
from etl.db import scope_to_all_tenants, session_scope

log = logging.getLogger(__name__)

CHUNK = 5000

# Each statement deletes at most CHUNK rows belonging to jobs that ended before :cutoff.
_DELETE_ENDED = {
    "task_runs": """
        DELETE FROM etl_task_runs WHERE id IN (
            SELECT r.id FROM etl_task_runs r JOIN etl_jobs j ON j.id = r.job_id
            WHERE j.finished_at < :cutoff LIMIT :chunk)""",
    "batches": """
        DELETE FROM etl_batches WHERE id IN (
            SELECT b.id FROM etl_batches b JOIN etl_jobs j ON j.id = b.job_id
            WHERE j.finished_at < :cutoff LIMIT :chunk)""",
    "jobs": """
        DELETE FROM etl_jobs WHERE id IN (
            SELECT id FROM etl_jobs WHERE finished_at < :cutoff LIMIT :chunk)""",
}


@dataclass
class Pruned:
    task_runs: int = 0
    batches: int = 0
    jobs: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def prune_history(now: datetime | None = None) -> Pruned:
    settings = get_settings()
    now = now or datetime.now(timezone.utc)
    details_cutoff = now - timedelta(days=settings.history_retention_days)
    jobs_cutoff = now - timedelta(days=settings.job_retention_days)
    pruned = Pruned(task_runs=_delete_in_chunks("task_runs", details_cutoff),
                    batches=_delete_in_chunks("batches", details_cutoff),
                    jobs=_delete_in_chunks("jobs", jobs_cutoff))  # cascades to what is left of them
    if pruned.task_runs or pruned.batches or pruned.jobs:
        log.info("history pruned: %s task runs, %s batches (jobs ended before %s), %s jobs (ended before %s)",
                 pruned.task_runs, pruned.batches, details_cutoff.date(), pruned.jobs, jobs_cutoff.date())
    return pruned


def _delete_in_chunks(what: str, cutoff: datetime) -> int:
    total = 0
    while True:
        with session_scope() as session:
            scope_to_all_tenants(session, "retention prunes every tenant's old history")
            deleted = session.execute(text(_DELETE_ENDED[what]), {"cutoff": cutoff, "chunk": CHUNK}).rowcount
        total += deleted
        if deleted < CHUNK:
            return total
