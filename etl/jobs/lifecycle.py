"""A job's life: starting one (a sync, or a reprocess from the raw layer) and publishing its first
tasks after commit, keeping its counters, knowing when extraction is done, and ending it exactly
once (finished, or failed with its reason). etl_jobs is the results table the API and dashboards
read. A user's cancel is in ending.py; a retry and the reprocess after a mapping change in
reprocess.py."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import Row, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etl.broker.publish import BROKER_UNREACHABLE, publish_extract, publish_process, publish_reconcile
from etl.config import get_settings
from etl.db import get_sessionmaker, scope_to_tenant, session_scope, tenant_sessionmaker
from etl.errors import Conflict, NotFound, TooMany, Unavailable
from etl.jobs.breaker import lock_integration, record_sync_end, refuse_if_paused
from etl.models import EtlBatch, EtlJob, EtlTaskRun, Integration, RawExtractionData, SyncState
from etl.notify.events import JOB_FAILED, JOB_PARTIAL, emit
from etl.sources.registry import get_source, supports_reconcile

log = logging.getLogger(__name__)

JOB_KINDS = ("incremental", "full")  # sync kinds; "reprocess" jobs come from create_reprocess_job
REPROCESS_STREAM = "reprocess"
TRIGGERS = ("api", "schedule", "cli")


class ActiveJobExists(Conflict):
    def __init__(self, job_id: uuid.UUID | None):
        super().__init__(f"integration already has an active job {job_id}")
        self.job_id = job_id


class TooManyActiveJobs(TooMany):
    """The tenant already has ETL_MAX_ACTIVE_JOBS_PER_TENANT queued or running jobs."""


class BrokerUnavailable(Unavailable):
    def __init__(self, message: str, job_id: uuid.UUID):
        super().__init__(message)
        self.job_id = job_id


def now() -> datetime:
    return datetime.now(timezone.utc)


def active_job_id(session: Session, integration_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(
        select(EtlJob.id).where(EtlJob.integration_id == integration_id, EtlJob.status.in_(("queued", "running")))
    )


def _since_for(session: Session, integration: Integration, stream: str, kind: str) -> datetime | None:
    if kind == "full":
        return None
    state = session.get(SyncState, (integration.id, stream))
    if state is None or state.watermark is None:  # first sync: from the configured start
        return now() - timedelta(days=get_settings().initial_sync_days)
    return state.watermark - timedelta(seconds=state.overlap_seconds)


def create_job(
    session: Session, integration: Integration, kind: str = "incremental", trigger: str = "api",
    entities: list[str] | None = None,
) -> tuple[EtlJob, list[int]]:
    """Insert a queued job and the first batch of each stream. The database refuses a second active
    job for the same integration (partial unique index), whoever triggers it."""
    if kind not in JOB_KINDS:
        raise ValueError(f"kind must be one of {', '.join(JOB_KINDS)}")
    source = get_source(integration.provider)
    streams = source.streams(integration, entities)
    job = EtlJob(tenant_id=integration.tenant_id, integration_id=integration.id, kind=kind, trigger=trigger,
                 entities=streams, scheduled_at=now())
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        raise ActiveJobExists(active_job_id(session, integration.id)) from None
    batches = [
        EtlBatch(job_id=job.id, tenant_id=job.tenant_id, stream=stream, seq=0,
                 cursor=source.first_cursor(stream, _since_for(session, integration, stream, kind)))
        for stream in streams
    ]
    session.add_all(batches)
    session.flush()
    return job, [b.id for b in batches]


def _tenant_integration(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID) -> Integration:
    """The tenant's integration, in a session scoped to that tenant (NotFound otherwise)."""
    scope_to_tenant(session, tenant_id)
    integration = session.scalar(
        select(Integration).where(Integration.id == integration_id, Integration.tenant_id == tenant_id))
    if integration is None:
        raise NotFound(f"integration {integration_id} not found")
    return integration


def start_job(session_factory, integration_id: uuid.UUID, tenant_id: uuid.UUID, kind: str = "incremental",
              trigger: str = "api", entities: list[str] | None = None) -> uuid.UUID:
    """Create a job, commit, then publish. If the broker cannot be reached the job ends failed with
    that reason and BrokerUnavailable is raised, so nothing stays queued forever."""
    with session_factory() as session:
        integration = _tenant_integration(session, tenant_id, integration_id)
        refuse_if_paused(integration)  # IntegrationPaused: says why and how to resume
        if trigger == "api":  # what a tenant starts itself is capped; an operator's CLI is not
            _refuse_over_active_job_cap(session, tenant_id)
        job, batch_ids = create_job(session, integration, kind, trigger, entities)
        session.commit()
        job_id = job.id
    _publish_or_fail(session_factory, tenant_id, job_id, publish_extract, batch_ids)
    return job_id


def _refuse_over_active_job_cap(session: Session, tenant_id: uuid.UUID) -> None:
    """Counted under a per-tenant lock held until the new job is committed, so parallel triggers
    cannot all slip under the cap."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"pulse-etl active jobs {tenant_id}"})
    limit = get_settings().max_active_jobs_per_tenant
    active = session.scalar(select(func.count()).select_from(EtlJob).where(
        EtlJob.tenant_id == tenant_id, EtlJob.status.in_(("queued", "running"))))
    if active >= limit:
        raise TooManyActiveJobs(
            f"the tenant has {active} queued or running jobs, the most allowed (ETL_MAX_ACTIVE_JOBS_PER_TENANT = "
            f"{limit}); wait for one to end (GET /api/v1/etl/jobs?status=running) or cancel one, then try again")


REPROCESS_BATCH_SIZE = 200


def create_reprocess_job(session: Session, integration: Integration, raw_ids: list[int] | None = None,
                         trigger: str = "api") -> tuple[EtlJob, list[int]]:
    """A job that transforms and loads again from the raw layer, without calling the source (after
    a mapping change, or for chosen raw records). Its batches start out `extracted`."""
    query = select(RawExtractionData.id).where(RawExtractionData.tenant_id == integration.tenant_id,
                                               RawExtractionData.integration_id == integration.id)
    if raw_ids is not None:
        query = query.where(RawExtractionData.id.in_(raw_ids))
    ids = list(session.scalars(query.order_by(RawExtractionData.id)))
    job = EtlJob(tenant_id=integration.tenant_id, integration_id=integration.id, kind="reprocess", trigger=trigger,
                 entities=[REPROCESS_STREAM], status="running", started_at=now(), scheduled_at=now(),
                 extraction_done=True)
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        raise ActiveJobExists(active_job_id(session, integration.id)) from None
    chunks = [ids[i:i + REPROCESS_BATCH_SIZE] for i in range(0, len(ids), REPROCESS_BATCH_SIZE)]
    batches = [EtlBatch(job_id=job.id, tenant_id=job.tenant_id, stream=REPROCESS_STREAM, seq=n, status="extracted",
                        raw_ids=chunk, is_last=n == len(chunks) - 1) for n, chunk in enumerate(chunks)]
    session.add_all(batches)
    session.flush()
    if not batches:
        job.status, job.finished_at = "succeeded", now()
    return job, [b.id for b in batches]


def start_reprocess(session_factory, integration_id: uuid.UUID, tenant_id: uuid.UUID,
                    raw_ids: list[int] | None = None, trigger: str = "api") -> uuid.UUID:
    """Create a reprocess job, commit, then publish its transform + load chains."""
    with session_factory() as session:
        integration = _tenant_integration(session, tenant_id, integration_id)
        job, batch_ids = create_reprocess_job(session, integration, raw_ids, trigger)
        session.commit()
        job_id = job.id
    _publish_or_fail(session_factory, tenant_id, job_id, publish_process, batch_ids)
    return job_id


def _publish_or_fail(session_factory, tenant_id: uuid.UUID, job_id: uuid.UUID, publish, batch_ids: list[int]) -> None:
    """Publish a committed job's first tasks; if the broker cannot be reached, the job ends failed
    with that reason (nothing stays queued forever) and BrokerUnavailable is raised."""
    try:
        publish(job_id, batch_ids, fail_fast=True)
    except BROKER_UNREACHABLE as exc:
        log.error("could not publish job %s: %s", job_id, exc)
        with session_factory() as session:
            scope_to_tenant(session, tenant_id)
            fail_unpublished(session, job_id, exc)
            session.commit()
        raise BrokerUnavailable(f"the message broker is unreachable ({exc}); the job was not started", job_id) from exc


def fail_unpublished(session: Session, job_id, exc: Exception) -> None:
    """A committed job whose first tasks the broker never took ends failed, in words."""
    fail_job(session, job_id, "broker", f"the message broker is unreachable: {exc}")


def end_active_job(session: Session, job_id, status: str, error_details: dict) -> EtlJob | None:
    """Lock an active job, settle its counters and end it; None if it had already ended."""
    job = lock_job(session, job_id)
    if job is None or job.status not in ("queued", "running"):
        return None
    refresh_counters(session, job_id)
    session.refresh(job)
    job.status = status
    job.finished_at = now()
    job.error_details = error_details
    return job


def release_unloaded(session: Session, job_id) -> int:
    """Run after a cancel or a failure committed. Batches transformed but never loaded go back to
    `extracted` (staging dropped), the raw records of every unloaded batch back to `pending` for the next job, so every
    batch of an ended job is either loaded or untouched by transform and load, and no staged copy
    of the data outlives it. Stages still running when the job ended roll back when they lock the
    job (etl.pipeline.checkpoints.stage_scope); this waits for them on the batch locks. Returns the number of
    batches released."""
    batches = list(session.scalars(
        select(EtlBatch).where(EtlBatch.job_id == job_id, EtlBatch.status.in_(("extracted", "transformed")))
        .order_by(EtlBatch.id).with_for_update()
    ))
    # The extract writes its objects `completed` ahead of their load (etl.pipeline.raw): those of
    # a batch that will never be loaded go back to `pending`, for the next job to process.
    raw_ids = [raw_id for batch in batches for raw_id in batch.raw_ids]
    transformed = [batch for batch in batches if batch.status == "transformed"]
    for batch in transformed:
        batch.status, batch.staged, batch.transformed, batch.updated_at = "extracted", None, 0, now()
    if raw_ids:
        session.execute(
            update(RawExtractionData)
            .where(RawExtractionData.id.in_(raw_ids),
                   RawExtractionData.processing_status.in_(("processing", "completed")))
            .values(processing_status="pending", processed_at=None)
        )
    session.flush()
    if lock_job(session, job_id) is not None:
        refresh_counters(session, job_id)
    return len(transformed)


def lock_job(session: Session, job_id) -> EtlJob | None:
    return session.scalar(select(EtlJob).where(EtlJob.id == job_id).with_for_update()
                          .execution_options(populate_existing=True))


def refresh_counters(session: Session, job_id) -> None:
    """Counters are sums over the job's batches (each set idempotently by its stage), so a task that
    runs twice never counts twice. Call with the job row locked for an exact read."""
    session.execute(
        text("""
            UPDATE etl_jobs j SET
                pages = s.pages, extracted = s.extracted, unchanged = s.unchanged,
                transformed = s.transformed, loaded = s.loaded, failed = s.failed,
                requests_made = s.requests_made, seen = s.seen,
                listed = s.listed, expected = s.expected, updated_at = now()
            FROM (
                SELECT coalesce(sum(pages) FILTER (WHERE status <> 'pending'), 0) AS pages,
                       coalesce(sum(extracted), 0) AS extracted, coalesce(sum(unchanged), 0) AS unchanged,
                       coalesce(sum(transformed), 0) AS transformed, coalesce(sum(loaded), 0) AS loaded,
                       coalesce(sum(failed), 0) AS failed, coalesce(sum(requests_made), 0) AS requests_made,
                       coalesce(sum(fetched), 0) AS seen, coalesce(sum(listed), 0) AS listed,
                       sum(source_total) AS expected
                FROM etl_batches WHERE job_id = :job_id
            ) s
            WHERE j.id = :job_id
        """),
        {"job_id": job_id},
    )


def update_extraction_done(session: Session, job: EtlJob) -> None:
    """Extraction is done once every stream of the job has fetched its last page."""
    if job.extraction_done:
        return
    exhausted = session.scalar(
        select(func.count(func.distinct(EtlBatch.stream)))
        .where(EtlBatch.job_id == job.id, EtlBatch.is_last, EtlBatch.status != "pending")
    )
    job.extraction_done = exhausted >= len(job.entities)
    session.flush()


def finish_if_complete(session: Session, job: EtlJob) -> bool:
    """End the job when extraction is done and every batch is loaded. Runs with the job row locked,
    so of two tasks finishing at once exactly one sees the complete set and ends it."""
    if job.status != "running" or not job.extraction_done:
        return False
    unfinished = session.scalar(
        select(EtlBatch.id).where(EtlBatch.job_id == job.id, EtlBatch.status != "loaded").limit(1)
    )
    if unfinished is not None:
        return False
    refresh_counters(session, job.id)
    session.refresh(job)
    missing = missing_records(job)
    job.status = "partial" if job.failed or missing else "succeeded"
    job.finished_at = now()
    if missing:
        job.error_details = {"stage": "reconcile", "missing": missing, "message": (
            f"the source counted {job.expected} record(s) for this sync and its pages listed {job.listed}: "
            f"{missing} missing; run a full sync again")}
    elif job.failed:
        job.error_details = {"stage": "transform",
                             "message": f"{job.failed} record(s) failed; see raw_extraction_data.error_details"}
    reprocess_after_commit_if_requested(session, job)
    if job.status == "partial":
        notify_job_end(session, job)
    if job.kind == "reprocess":  # read nothing from the source: no watermark, no sync time
        log.info("job %s %s: %s transformed again, %s failed", job.id, job.status, job.loaded, job.failed)
        return True
    if not missing:  # the next incremental sync must not start past records this one never saw
        _advance_watermarks(session, job)
    session.execute(
        text("UPDATE integrations SET last_sync_at = :at WHERE id = :id"), {"at": job.finished_at, "id": job.integration_id}
    )
    count_for_breaker(session, job)
    if job.kind == "full":  # a full re-read is the moment to look for deletions too
        reconcile_after_commit(session, job.integration_id)
    log.info("job %s %s: %s extracted, %s loaded, %s failed", job.id, job.status, job.extracted, job.loaded, job.failed)
    return True


def missing_records(job: EtlJob) -> int:
    """How many records the source said this sync would find and its pages did not hold: a
    complete read (Jira: the search's total or approximate count taken on its first page; GitHub:
    at least the pages its first page's rel="last" link announces) is
    checked, not assumed. A page that breaks the protocol already fails or retries; this catches
    what no single page shows (a source that skips records across pages)."""
    if job.expected is None or job.kind == "reprocess":
        return 0
    return max(0, job.expected - job.listed)


def _advance_watermarks(session: Session, job: EtlJob) -> None:
    """The next incremental sync starts at the newest source update this job saw (minus overlap).
    A partial job advances it too: its failed records are recorded, not lost, and a malformed
    record must not pin every later sync to the same window."""
    rows = session.execute(
        select(EtlBatch.stream, text("max(max_updated_at)"))
        .where(EtlBatch.job_id == job.id).group_by(EtlBatch.stream)
    ).all()
    overlap = get_settings().sync_overlap_seconds
    for stream, newest in rows:
        state = session.get(SyncState, (job.integration_id, stream))
        if state is None:
            state = SyncState(integration_id=job.integration_id, stream=stream, tenant_id=job.tenant_id,
                              overlap_seconds=overlap)
            session.add(state)
        if newest is not None and (job.kind == "full" or state.watermark is None or newest > state.watermark):
            state.watermark = newest
        state.last_job_id = job.id
        state.updated_at = now()


def reprocess_after_commit_if_requested(session: Session, job: EtlJob) -> None:
    """A mapping changed while this job ran (etl.jobs.reprocess found the integration busy and
    called request_reprocess): now that it ends, re-transform the integration from the raw layer,
    once this transaction has committed."""
    requested = session.scalar(select(Integration.reprocess_requested_at).where(Integration.id == job.integration_id))
    if requested is None:
        return
    session.execute(update(Integration).where(Integration.id == job.integration_id).values(reprocess_requested_at=None))
    integration_id, tenant_id = job.integration_id, job.tenant_id

    def start(_session) -> None:
        try:
            start_reprocess(get_sessionmaker(), integration_id, tenant_id)
        except ActiveJobExists:  # someone started a job in between: ask again for its end
            request_reprocess(tenant_sessionmaker(tenant_id), integration_id)
        except BrokerUnavailable as exc:
            log.error("requested reprocess of integration %s not started: %s", integration_id, exc)

    event.listen(session, "after_commit", start, once=True)


def fail_job(session: Session, job_id, stage: str, message: str, **details) -> bool:
    """End an active job as failed with a reason. Returns False if it had already ended."""
    job = end_active_job(session, job_id, "failed", {"stage": stage, "message": message, **details})
    if job is None:
        return False
    reprocess_after_commit_if_requested(session, job)
    count_for_breaker(session, job)
    _release_unloaded_after_commit(session, job_id, job.tenant_id)
    log.warning("job %s failed in %s: %s", job_id, stage, message)
    notify_job_end(session, job)
    return True


def count_for_breaker(session: Session, job: EtlJob) -> None:
    """Count an ended job for its integration's circuit breaker (etl.jobs.breaker), in the
    transaction that ends it."""
    integration = lock_integration(session, job.integration_id)
    if integration is not None:
        record_sync_end(session, integration, job)


def notify_job_end(session: Session, job: EtlJob) -> None:
    """Webhooks subscribed to job.failed / job.partial hear of it once this transaction commits."""
    name = session.scalar(select(Integration.name).where(Integration.id == job.integration_id))
    emit(session, job.tenant_id, JOB_FAILED if job.status == "failed" else JOB_PARTIAL, {
        "integration_id": job.integration_id, "integration_name": name, "job_id": job.id,
        "reason": (job.error_details or {}).get("message"), "link": f"/jobs/{job.id}"})


def _release_unloaded_after_commit(session: Session, job_id, tenant_id: uuid.UUID) -> None:
    """Once the failure is committed (stages still running then roll back), release what the job
    transformed but never loaded, in a transaction of its own."""

    def release(_session) -> None:
        try:
            with session_scope() as own:
                scope_to_tenant(own, tenant_id)
                released = release_unloaded(own, job_id)
            if released:
                log.info("failed job %s: %d transformed batch(es) released", job_id, released)
        except Exception:  # noqa: BLE001 - the job has failed either way; the next job re-reads
            log.exception("failed job %s: could not release its unloaded batches", job_id)

    event.listen(session, "after_commit", release, once=True)


def job_task_runs(session: Session, job_id) -> list[EtlTaskRun]:
    return list(session.scalars(select(EtlTaskRun).where(EtlTaskRun.job_id == job_id).order_by(EtlTaskRun.id)))


def last_task_error(session: Session, job_id) -> Row | None:
    """The newest error of the job's task runs, as (stage, state, error): why a job is stuck or
    failed. None when no run of it recorded one."""
    return session.execute(
        select(EtlTaskRun.stage, EtlTaskRun.state, EtlTaskRun.error)
        .where(EtlTaskRun.job_id == job_id, EtlTaskRun.error.is_not(None))
        .order_by(EtlTaskRun.id.desc()).limit(1)
    ).first()


def request_reprocess(session_factory, integration_id: uuid.UUID) -> None:
    """The integration is busy: its active job starts a reprocess when it ends
    (reprocess_after_commit_if_requested)."""
    with session_factory() as session:
        session.execute(update(Integration).where(Integration.id == integration_id)
                        .values(reprocess_requested_at=func.now()))
        session.commit()


def reconcile_after_commit(session: Session, integration_id: uuid.UUID) -> None:
    """Ask for a reconciliation once the caller's transaction commits (a full sync just ended)."""
    provider = session.scalar(select(Integration.provider).where(Integration.id == integration_id))
    if provider is None or not supports_reconcile(provider):
        return
    session.execute(update(Integration).where(Integration.id == integration_id)
                    .values(reconcile_requested_at=func.now()))
    event.listen(session, "after_commit", lambda _session: publish_reconcile(integration_id), once=True)
