"""What every stage does around its work: claim the batch, check the job is still active, end the
stage and maybe the job, and work out the follow-ups a redelivery must re-publish. The stages are
plain functions in extract.py, transform.py and load.py (tasks.py only wires them to queues).

A batch is one extracted page. Each stage claims the batch with a row lock and checks that it is
in the status the stage expects. A redelivered or duplicated task that finds it moved on does not
redo the work, but re-publishes what the batch's committed state calls for and nobody started yet:
its first delivery may have died between its commit and its publish (a SIGKILL, a broker outage).
Each function returns what to publish, and the caller publishes only after commit."""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etl.broker.lanes import lane_of, stage_task_id
from etl.db import scope_to_tenant, session_scope
from etl.jobs.lifecycle import finish_if_complete, lock_job, refresh_counters, update_extraction_done
from etl.models import JOB_ACTIVE_STATUSES, EtlBatch, EtlJob, EtlTaskRun

log = logging.getLogger(__name__)


@dataclass
class FollowUps:
    extract: list[int] = field(default_factory=list)  # batch ids whose page is to be fetched
    process: list[int] = field(default_factory=list)  # batch ids to transform then load
    load: list[int] = field(default_factory=list)  # batch ids transformed, to load
    lane: str | None = None  # etl.broker.lanes: scheduled jobs travel in their own queues


def claim(session: Session, batch_id: int, expected: str) -> tuple[EtlBatch, EtlJob] | None:
    """Lock the batch; None when its job is no longer active or the batch already moved past
    `expected` (a duplicate delivery). The batch and its job in one statement (one round trip)."""
    row = session.execute(
        select(EtlBatch, EtlJob).join(EtlJob, EtlJob.id == EtlBatch.job_id)
        .where(EtlBatch.id == batch_id).with_for_update(of=EtlBatch)
    ).first()
    if row is None:
        log.warning("batch %s does not exist", batch_id)
        return None
    batch, job = row
    # The rest of this stage's transaction runs under the batch's tenant (row-level security).
    scope_to_tenant(session, batch.tenant_id)
    if job.status not in ("queued", "running"):
        log.info("batch %s skipped: job %s is %s", batch_id, job.id, job.status)
        return None
    if batch.status != expected:
        log.info("batch %s is %s, not %s: duplicate delivery, nothing to do", batch_id, batch.status, expected)
        return None
    return batch, job


def implied_follow_ups(session: Session, batch_id: int) -> FollowUps:
    """What a batch's committed state calls for, for a delivery that found it moved on: the
    transform and load of an extracted batch, the load of a transformed one, the extract of its
    stream's next page while that is pending. Only work that no task ever started is returned:
    whatever started is redelivered by RabbitMQ if its worker dies, and re-publishing it would
    send a shadow chain of duplicates after the real one. Duplicates are harmless anyway (every
    stage claims by status); silence is what stalls a job."""
    batch = session.get(EtlBatch, batch_id)
    if batch is None:
        return FollowUps()
    job = session.get(EtlJob, batch.job_id)
    if job.status not in JOB_ACTIVE_STATUSES:
        return FollowUps()
    follow = FollowUps(lane=lane_of(job.trigger))
    if batch.status == "extracted":
        follow.process = not_started(session, job.id, "transform", [batch.id])
    elif batch.status == "transformed":
        follow.load = not_started(session, job.id, "load", [batch.id])
    follow.extract = not_started(session, job.id, "extract", pending_next_batch(session, batch))
    if follow.extract or follow.process or follow.load:
        log.warning("batch %s (%s) of job %s: re-publishing what never started: extract %s, process %s, load %s",
                    batch.id, batch.status, job.id, follow.extract, follow.process, follow.load)
    return follow


def pending_next_batch(session: Session, batch: EtlBatch) -> list[int]:
    next_id = session.scalar(
        select(EtlBatch.id).where(EtlBatch.job_id == batch.job_id, EtlBatch.stream == batch.stream,
                                  EtlBatch.seq == batch.seq + 1, EtlBatch.status == "pending"))
    return [next_id] if next_id is not None else []


def not_started(session: Session, job_id: uuid.UUID, stage: str, batch_ids: list[int]) -> list[int]:
    if not batch_ids:
        return []
    ids = {stage_task_id(job_id, stage, b): b for b in batch_ids}
    started = set(session.scalars(select(EtlTaskRun.task_id).where(EtlTaskRun.task_id.in_(ids))))
    return [b for task_id, b in ids.items() if task_id not in started]


def touch_batch(batch: EtlBatch) -> None:
    batch.updated_at = datetime.now(timezone.utc)


class JobEnded(Exception):
    """The job was cancelled or failed while a stage ran: the stage's transaction is rolled back."""


@contextmanager
def stage_scope():
    """session_scope for a stage's writes. A stage that finds its job ended when it locks the job
    row (cancelled or failed meanwhile) rolls back quietly: nothing moves after a job ended, and a
    batch is either wholly through a stage or untouched by it."""
    try:
        with session_scope() as session:
            yield session
    except JobEnded as exc:
        log.info("%s: the stage is rolled back", exc)


def lock_active_job(session: Session, job_id: uuid.UUID) -> EtlJob:
    job = lock_job(session, job_id)  # read afresh under the lock (populate_existing)
    if job.status not in JOB_ACTIVE_STATUSES:
        raise JobEnded(f"job {job_id} is {job.status}")
    return job


# The job's counters are sums over its batches (exact whatever runs twice). Summing on every stage
# costs O(batches) per task, O(batches^2) per job: a 100,000-issue sync has 1,000 batches. A job past
# SUM_ALWAYS_BELOW pages has them summed at most once per COUNTERS_EVERY while it runs (progress is
# read by people); a smaller one, cheap to sum, on every stage. The job's end sums them exactly.
SUM_ALWAYS_BELOW = 50
COUNTERS_EVERY = timedelta(seconds=1)


def finish_stage(session: Session, job_id: uuid.UUID) -> None:
    """Counters move while the job runs; the job ends when its last batch lands."""
    job = lock_active_job(session, job_id)
    if (job.pages < SUM_ALWAYS_BELOW or job.updated_at is None
            or job.updated_at < datetime.now(timezone.utc) - COUNTERS_EVERY):
        refresh_counters(session, job_id)
        session.refresh(job)
    update_extraction_done(session, job)
    finish_if_complete(session, job)
    record_success(session)


FINISH_RUN = text("""
    UPDATE etl_task_runs SET state = :state, error = :error, finished_at = now()
    WHERE task_id = :task_id AND attempt = :attempt
""")
# A redelivered run keeps why it was delivered again (etl.jobs.recoveries) once it succeeds.
FINISH_SUCCEEDED = text("""
    UPDATE etl_task_runs SET state = 'succeeded', error = CASE WHEN deliveries > 1 THEN error END,
        finished_at = now()
    WHERE task_id = :task_id AND attempt = :attempt
""")


@dataclass
class StageRun:
    """The run record (etl_task_runs) of the task running a stage (etl.pipeline.task_base)."""
    task_id: str
    attempt: int
    recorded: bool = False  # its success is written with the stage's last transaction


_STAGE_RUN: ContextVar[StageRun | None] = ContextVar("pulse_stage_run", default=None)


@contextmanager
def stage_run(run: StageRun):
    token = _STAGE_RUN.set(run)
    try:
        yield run
    finally:
        _STAGE_RUN.reset(token)


def record_success(session: Session) -> None:
    """The run's success, written in the stage's last transaction instead of one of its own after
    it (issue 12: a transaction less per task): it commits exactly when the stage's work does. A
    stage that finds nothing to do, or fails, is recorded by the task base as before."""
    run = _STAGE_RUN.get()
    if run is None:
        return
    session.execute(FINISH_SUCCEEDED, {"task_id": run.task_id, "attempt": run.attempt})
    run.recorded = True
