"""Automatic recoveries of a job, and why each happened: what `GET /etl/jobs/{id}` lists as
`recoveries`, what `etl jobs show` prints, and what /metrics counts (etl.ops.metrics), from one set
of definitions over the tables the pipeline already writes (no table of their own):

- a retry: a task attempt that failed for a retriable reason (a source 5xx, 429 or connection
  error, the database unavailable, the time limit) and was run again after a backoff. Its run
  record is `retrying` with the reason in `error` (etl.pipeline.task_base). It recovered when a
  later attempt of the same task succeeded.
- a redelivery: the broker delivered the same attempt again, because the worker running it
  stopped before it finished (killed, out of memory, its broker connection lost) or because its
  follow-ups could not be published (the task put itself back in the queue). The run record counts
  `deliveries` and keeps why in `error` (task_base's RECORD_RUN). It recovered when the task later
  succeeded.
- a re-drive: the reaper re-published the tasks of a job that made no progress (etl.ops.reaper);
  the job counts `redrives`. It recovered when the job then ended succeeded or partial.

A failure, for the recovery rate, is a task run that ended `failed` (a fatal error, or retries run
out), or a job the reaper failed after re-drives that did not help.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from etl.config import get_settings
from etl.models import EtlJob, EtlTaskRun

RETRY, REDELIVERY, REDRIVE = "retry", "redelivery", "redrive"
REDRIVE_STAGE = "reaper"
# The reason a redelivery records when the delivery before it was still `started`: its worker
# never told us how it ended.
WORKER_LOST = ("delivered again before its previous delivery finished: the worker running it stopped "
               "(killed, out of memory) or lost its connection to the broker")


@dataclass(frozen=True)
class Recovery:
    kind: str  # retry | redelivery | redrive
    stage: str
    attempt: int  # the attempt that ran again (1 for the first retry); a re-drive's number
    reason: str
    at: datetime | None
    recovered: bool | None  # None while the task or job has not ended
    task_id: str | None = None
    batch_id: int | None = None


def job_recoveries(job: EtlJob, runs: list[EtlTaskRun]) -> list[Recovery]:
    """The retries, redeliveries and re-drives of one job, oldest first."""
    succeeded = {r.task_id for r in runs if r.state == "succeeded"}
    failed = {r.task_id for r in runs if r.state == "failed"}

    def outcome(task_id: str) -> bool | None:
        return True if task_id in succeeded else False if task_id in failed else None

    found = []
    for run in runs:
        if run.deliveries > 1:
            found.append(Recovery(REDELIVERY, run.stage, run.attempt, _redelivery_reason(run), run.started_at,
                                  outcome(run.task_id), run.task_id, run.batch_id))
        if run.state == "retrying":
            found.append(Recovery(RETRY, run.stage, run.attempt + 1, run.error or "a retriable failure",
                                  run.finished_at, outcome(run.task_id), run.task_id, run.batch_id))
    if job.redrives:
        found.append(Recovery(REDRIVE, REDRIVE_STAGE, job.redrives, _redrive_reason(job), job.redriven_at,
                              _job_outcome(job)))
    return sorted(found, key=lambda r: (r.at is None, r.at))


def _redelivery_reason(run: EtlTaskRun) -> str:
    """RECORD_RUN wrote why into `error`; a retry or failure of the same attempt since replaced it."""
    if run.error and run.state in ("started", "succeeded", "requeued"):
        return run.error
    return f"delivered {run.deliveries} times: an earlier delivery did not finish"


def _redrive_reason(job: EtlJob) -> str:
    stall = get_settings().reaper_stall_seconds
    return (f"re-driven {job.redrives} time(s) by the reaper: no progress for {stall} s (ETL_REAPER_STALL_SECONDS), "
            "so the tasks of its unfinished batches were published again (lost messages, a purged queue)")


def _job_outcome(job: EtlJob) -> bool | None:
    if job.status in ("queued", "running"):
        return None
    return job.status in ("succeeded", "partial")


# --- totals for /metrics (etl.ops.metrics), the same definitions in SQL --------------------------
# Over the history the database keeps (ETL_HISTORY_RETENTION_DAYS for task runs): the daily prune
# lowers them, which Prometheus reads as a counter reset (README "Recovery rate").

RECOVERIES_SQL = """
    SELECT r.stage, 'retry', count(*) FROM etl_task_runs r
    WHERE r.state = 'retrying'
      AND EXISTS (SELECT 1 FROM etl_task_runs s WHERE s.task_id = r.task_id AND s.state = 'succeeded')
    GROUP BY r.stage
    UNION ALL
    SELECT r.stage, 'redelivery', sum(r.deliveries - 1) FROM etl_task_runs r
    WHERE r.deliveries > 1
      AND EXISTS (SELECT 1 FROM etl_task_runs s WHERE s.task_id = r.task_id AND s.state = 'succeeded')
    GROUP BY r.stage
    UNION ALL
    SELECT 'reaper', 'redrive', coalesce(sum(redrives), 0) FROM etl_jobs
    WHERE redrives > 0 AND status IN ('succeeded', 'partial')"""

FAILURES_SQL = """
    SELECT stage, count(*) FROM etl_task_runs WHERE state = 'failed' GROUP BY stage
    UNION ALL
    SELECT 'reaper', count(*) FROM etl_jobs WHERE status = 'failed' AND error_details->>'stage' = 'reaper'"""
