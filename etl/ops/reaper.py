"""The reaper: finds active jobs whose work was lost and re-drives them from their checkpoints.

A job's work can vanish without a trace: a purged queue, a broker that lost unreplicated messages,
a publish that failed after the commit that created the batch. Such a job makes no progress, so
nothing would ever end it. Every minute (beat) the reaper looks for active jobs with no activity
for `ETL_REAPER_STALL_SECONDS`: no batch moved, no counter refreshed, no task run started or
finished, and the integration is not paused on a rate limit. For each, it re-publishes the task of
every unfinished batch's current stage (pending -> extract, extracted -> transform + load,
transformed -> load). Every stage claims its batch by status, so a duplicate message is harmless.
After `ETL_REAPER_MAX_REDRIVES` re-drives without progress in between, the job is failed with the
reason, so no job stays queued or running forever.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etl.broker.lanes import lane_of
from etl.broker.publish import publish_extract, publish_load, publish_process
from etl.config import get_settings
from etl.db import scope_to_all_tenants, session_scope
from etl.jobs.lifecycle import fail_job, finish_if_complete, last_task_error, refresh_counters, update_extraction_done
from etl.models import EtlBatch, EtlJob

log = logging.getLogger(__name__)

REAP_LIMIT = 200

# Newest sign of life of each active job. A task run that is waiting for a retry counts as alive
# until its longest possible backoff has passed.
_STALLED = text("""
    SELECT j.id, a.last_activity
    FROM etl_jobs j
    JOIN integrations i ON i.id = j.integration_id
    CROSS JOIN LATERAL (
        SELECT greatest(
            j.created_at, j.updated_at, j.started_at, i.paused_until,
            (SELECT max(b.updated_at) FROM etl_batches b WHERE b.job_id = j.id),
            (SELECT max(CASE WHEN r.state = 'retrying'
                             THEN r.finished_at + make_interval(secs => :retry_margin)
                             ELSE coalesce(r.finished_at, r.started_at) END)
             FROM etl_task_runs r WHERE r.job_id = j.id)
        ) AS last_activity
    ) a
    WHERE j.status IN ('queued', 'running')
      AND a.last_activity < :cutoff
      AND (j.redriven_at IS NULL OR j.redriven_at < :cutoff)
    ORDER BY j.created_at
    LIMIT :limit
    FOR UPDATE OF j SKIP LOCKED
""")

# stage name -> batch status it waits in
STAGE_OF_STATUS = {"pending": "extract", "extracted": "transform", "transformed": "load"}


@dataclass
class ReapResult:
    redriven: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    finished: list[uuid.UUID] = field(default_factory=list)  # only the final step was missing

    def as_dict(self) -> dict:
        return {"redriven": [str(j) for j in self.redriven], "failed": [str(j) for j in self.failed],
                "finished": [str(j) for j in self.finished]}


@dataclass
class _Redrive:
    job_id: uuid.UUID
    batches: list[tuple[int, str]]  # (batch id, status)
    lane: str | None  # a scheduled job stays in the scheduled lane (etl.broker.lanes)


def _unfinished(session: Session, job_id) -> list[tuple[int, str]]:
    return [(b_id, status) for b_id, status in session.execute(
        select(EtlBatch.id, EtlBatch.status)
        .where(EtlBatch.job_id == job_id, EtlBatch.status != "loaded")
        .order_by(EtlBatch.stream, EtlBatch.seq)
    )]


def _stage_summary(batches: list[tuple[int, str]]) -> str:
    """'extract (1 batch pending)' for the least advanced stage with work left."""
    if not batches:
        return "finalize (every batch loaded, the job was not ended)"
    for status in ("pending", "extracted", "transformed"):
        count = sum(1 for _, s in batches if s == status)
        if count:
            return f"{STAGE_OF_STATUS[status]} ({count} batch{'es' if count > 1 else ''} {status})"
    return "unknown"


def _try_finish(session: Session, job: EtlJob) -> bool:
    """Every batch is loaded but the job was not ended (its last task died after committing the
    batch and before the job's own update): finish it here, exactly as the last task would have."""
    refresh_counters(session, job.id)
    session.refresh(job)
    update_extraction_done(session, job)
    if job.status == "queued" and job.extraction_done:
        job.status = "running"
    session.flush()
    return finish_if_complete(session, job)


def reap(now: datetime | None = None) -> ReapResult:
    """Re-drive or fail the active jobs that stopped making progress. Safe to run concurrently:
    each job row is claimed with FOR UPDATE SKIP LOCKED and only re-driven once per stall period."""
    settings = get_settings()
    now = now or datetime.now(timezone.utc)
    stall = settings.reaper_stall_seconds
    cutoff = now - timedelta(seconds=stall)
    result = ReapResult()
    redrives: list[_Redrive] = []
    with session_scope() as session:
        scope_to_all_tenants(session, "the reaper looks for stalled jobs of every tenant")
        rows = session.execute(_STALLED, {"cutoff": cutoff, "limit": REAP_LIMIT,
                                          "retry_margin": settings.retry_backoff_max * 1.5}).all()
        for job_id, last_activity in rows:
            job = session.get(EtlJob, job_id)
            if job.redriven_at is not None and last_activity > job.redriven_at:
                job.stalled_redrives = 0  # it moved after the last re-drive: a new stall
            batches = _unfinished(session, job_id)
            idle = int((now - last_activity).total_seconds())
            if job.stalled_redrives >= settings.reaper_max_redrives:
                message = (f"no progress for {idle} s after {job.stalled_redrives} re-drive(s); "
                           f"last stage {_stage_summary(batches)}")
                last = last_task_error(session, job_id)
                fail_job(session, job_id, "reaper", message, redrives=job.redrives,
                         last_error=f"{last.stage} {last.state}: {last.error.splitlines()[0][:300]}" if last else None)
                result.failed.append(job_id)
                continue
            if not batches and _try_finish(session, job):
                log.warning("job %s had every batch loaded but was never ended; ended %s", job_id, job.status)
                result.finished.append(job_id)
                continue
            job.redrives += 1
            job.stalled_redrives += 1
            job.redriven_at = now
            log.warning("job %s (%s) made no progress for %s s; re-drive %s of %s: %s", job_id, job.status, idle,
                        job.stalled_redrives, settings.reaper_max_redrives, _stage_summary(batches))
            redrives.append(_Redrive(job_id, batches, lane_of(job.trigger)))
            result.redriven.append(job_id)
    for redrive in redrives:  # only after the re-drive counters are committed
        try:
            publish_redrive(redrive.job_id, redrive.batches, redrive.lane)
        except Exception:  # noqa: BLE001 - the next run re-drives it again
            log.exception("could not re-publish the tasks of job %s", redrive.job_id)
    return result


def publish_redrive(job_id: uuid.UUID, batches: list[tuple[int, str]], lane: str | None) -> None:
    """Publish, for each unfinished batch, the task of the stage it waits in, in the job's lane."""
    job = str(job_id)
    for batch_id, status in batches:
        if status == "pending":
            publish_extract(job, [batch_id], lane)
        elif status == "extracted":
            publish_process(job, [batch_id], lane)
        elif status == "transformed":
            publish_load(job, batch_id, lane)
