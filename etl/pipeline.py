"""The three stages as plain functions (tasks only wire them to queues; tests can call them).

A batch is one extracted page. Each stage claims the batch with a row lock and checks that it is
in the status the stage expects. A redelivered or duplicated task that finds it moved on does not
redo the work, but re-publishes what the batch's committed state calls for and nobody started yet:
its first delivery may have died between its commit and its publish (a SIGKILL, a broker outage).
Each function returns what to publish, and the caller publishes only after commit."""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from etl.db import scope_to_tenant, session_scope
from etl.extract_state import ExtractState, save_validators
from etl.integrations import credentials_of
from etl.lanes import lane_of, stage_task_id
from etl.jobs import finish_if_complete, lock_job, refresh_counters
from etl.mappings import load_mappings
from etl.models import JOB_ACTIVE_STATUSES, EtlBatch, EtlJob, EtlTaskRun, Integration, RawExtractionData, SyncState
from etl.raw import store_records
from etl.sources import get_source
from etl.sources.base import TransformContext, TransformResult
from etl.sources.http import RateLimited
from etl.load import load_batch_rows

log = logging.getLogger(__name__)


@dataclass
class FollowUps:
    extract: list[int] = field(default_factory=list)  # batch ids whose page is to be fetched
    process: list[int] = field(default_factory=list)  # batch ids to transform then load
    load: list[int] = field(default_factory=list)  # batch ids transformed, to load
    lane: str | None = None  # etl.lanes: scheduled jobs travel in their own queues


def claim(session: Session, batch_id: int, expected: str) -> tuple[EtlBatch, EtlJob] | None:
    """Lock the batch; None when its job is no longer active or the batch already moved past
    `expected` (a duplicate delivery)."""
    batch = session.scalar(select(EtlBatch).where(EtlBatch.id == batch_id).with_for_update())
    if batch is None:
        log.warning("batch %s does not exist", batch_id)
        return None
    # The rest of this stage's transaction runs under the batch's tenant (row-level security).
    scope_to_tenant(session, batch.tenant_id)
    job = session.get(EtlJob, batch.job_id)
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
        follow.process = _not_started(session, job.id, "transform", [batch.id])
    elif batch.status == "transformed":
        follow.load = _not_started(session, job.id, "load", [batch.id])
    follow.extract = _not_started(session, job.id, "extract", _pending_next_batch(session, batch))
    if follow.extract or follow.process or follow.load:
        log.warning("batch %s (%s) of job %s: re-publishing what never started: extract %s, process %s, load %s",
                    batch.id, batch.status, job.id, follow.extract, follow.process, follow.load)
    return follow


def _pending_next_batch(session: Session, batch: EtlBatch) -> list[int]:
    next_id = session.scalar(
        select(EtlBatch.id).where(EtlBatch.job_id == batch.job_id, EtlBatch.stream == batch.stream,
                                  EtlBatch.seq == batch.seq + 1, EtlBatch.status == "pending"))
    return [next_id] if next_id is not None else []


def _not_started(session: Session, job_id: uuid.UUID, stage: str, batch_ids: list[int]) -> list[int]:
    if not batch_ids:
        return []
    ids = {stage_task_id(job_id, stage, b): b for b in batch_ids}
    started = set(session.scalars(select(EtlTaskRun.task_id).where(EtlTaskRun.task_id.in_(ids))))
    return [b for task_id, b in ids.items() if task_id not in started]


def _touch(batch: EtlBatch) -> None:
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


def _lock_active_job(session: Session, job_id: uuid.UUID) -> EtlJob:
    job = lock_job(session, job_id)
    session.refresh(job)
    if job.status not in JOB_ACTIVE_STATUSES:
        raise JobEnded(f"job {job_id} is {job.status}")
    return job


def _finish_stage(session: Session, job_id: uuid.UUID) -> None:
    """Counters move while the job runs; the job ends when its last batch lands."""
    job = _lock_active_job(session, job_id)
    refresh_counters(session, job_id)
    session.refresh(job)
    _update_extraction_done(session, job)
    finish_if_complete(session, job)


def _update_extraction_done(session: Session, job: EtlJob) -> None:
    if job.extraction_done:
        return
    exhausted = session.scalar(
        select(text("count(DISTINCT stream)")).select_from(EtlBatch)
        .where(EtlBatch.job_id == job.id, EtlBatch.is_last.is_(True), EtlBatch.status != "pending")
    )
    job.extraction_done = exhausted >= len(job.entities)
    session.flush()


# --- extract ---------------------------------------------------------------------------------


def wait_while_paused(integration: Integration) -> None:
    """An integration whose rate limit is spent makes no request until the reset; its tasks
    re-queue themselves (other integrations keep running)."""
    if integration.paused_until is not None:
        remaining = (integration.paused_until - datetime.now(timezone.utc)).total_seconds()
        if remaining > 0:
            raise RateLimited(f"rate limit of integration {integration.id} spent until "
                              f"{integration.paused_until.isoformat()}", retry_after=remaining)


def pause_integration(integration_id: uuid.UUID, seconds: float | None) -> None:
    if not seconds:
        return
    until = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    with session_scope() as session:
        session.execute(
            update(Integration).where(Integration.id == integration_id)
            .where((Integration.paused_until.is_(None)) | (Integration.paused_until < until))
            .values(paused_until=until)
        )


def extract_page(batch_id: int) -> FollowUps:
    """Fetch one page and commit the next page's batch with its cursor, then store the raw records
    in a second transaction. The caller publishes the next page with the transform and load of
    this one. (Publishing the next page before the store overlaps the two, but on a 2-core machine
    that is already CPU-bound it measured slower, 829-956 vs 960 issues/s.)"""
    follow = FollowUps()
    with stage_scope() as session:
        claimed = claim(session, batch_id, "pending")
        if claimed is None:
            return implied_follow_ups(session, batch_id)
        batch, job = claimed
        follow.lane = lane_of(job.trigger)
        if job.status == "queued":
            _mark_running(job.id)
        integration = session.get(Integration, job.integration_id)
        wait_while_paused(integration)
        sync = session.get(SyncState, (integration.id, batch.stream)) if batch.seq == 0 else None
        state = ExtractState(session, job.tenant_id, integration.id, full=job.kind == "full",
                             stream_etag=sync.stream_etag if sync else None)
        connector = get_source(integration.provider).connect(integration, credentials_of(integration))
        try:
            page = connector.fetch_page(batch.stream, batch.cursor or {}, state)
        except RateLimited as exc:
            pause_integration(integration.id, exc.retry_after)
            raise
        finally:
            connector.close()
        _lock_active_job(session, job.id)  # cancelled during the fetch: no next page
        if page.settings_update:
            integration.settings = {**integration.settings, **page.settings_update}
        if page.next_cursor is not None:
            next_id = session.scalar(
                insert(EtlBatch)
                .values(job_id=job.id, tenant_id=job.tenant_id, stream=batch.stream, seq=batch.seq + 1,
                        cursor=page.next_cursor)
                .on_conflict_do_nothing(index_elements=["job_id", "stream", "seq"])
                .returning(EtlBatch.id)
            )
            if next_id is not None:
                follow.extract.append(next_id)
            else:  # an earlier attempt committed it, then died before its store and its publish
                follow.extract = _not_started(session, job.id, "extract", _pending_next_batch(session, batch))
        tenant_id, integration_id, job_id = job.tenant_id, integration.id, job.id

    with stage_scope() as session:
        claimed = claim(session, batch_id, "pending")
        if claimed is None:
            return follow
        batch, _ = claimed
        changed, unchanged = store_records(session, tenant_id, integration_id, page.records)
        save_validators(session, tenant_id, integration_id, state.new_validators)
        batch.raw_ids = changed
        batch.fetched = len(page.records)
        batch.extracted = len(changed)
        batch.unchanged = unchanged
        batch.requests_made = page.requests_made
        batch.not_modified = page.not_modified
        batch.stream_etag = page.stream_etag
        batch.is_last = page.next_cursor is None
        batch.max_updated = max((r.updated_at for r in page.records if r.updated_at), default=None)
        batch.source_total = page.source_total
        batch.listed = len(page.records) if page.listed is None else page.listed
        # A page with nothing new skips transform and load altogether.
        batch.status = "extracted" if changed else "loaded"
        _touch(batch)
        session.flush()
        _finish_stage(session, job_id)
        if changed:
            follow.process.append(batch_id)
    return follow


def _mark_running(job_id: uuid.UUID) -> None:
    """In a transaction of its own, committed before the fetch: a job whose first page fails and
    retries shows `running` (with its task runs' errors), not `queued` as if no worker had it."""
    with session_scope() as session:
        session.execute(
            update(EtlJob).where(EtlJob.id == job_id, EtlJob.status == "queued")
            .values(status="running", started_at=datetime.now(timezone.utc))
        )


# --- transform -------------------------------------------------------------------------------


def transform_batch(batch_id: int) -> None:
    with stage_scope() as session:
        claimed = claim(session, batch_id, "extracted")
        if claimed is None:
            return
        batch, job = claimed
        integration = session.get(Integration, job.integration_id)
        ctx = TransformContext(job.tenant_id, integration.id, integration.base_url, integration.settings,
                               load_mappings(session, job.tenant_id, integration.id))
        result = transform_raw(session, get_source(integration.provider), batch.raw_ids, job.tenant_id, ctx)
        mark_failed(session, result.failures, job.id)
        if result.ok_raw_ids:
            session.execute(
                update(RawExtractionData).where(RawExtractionData.id.in_(result.ok_raw_ids))
                .values(processing_status="processing", error_details=None)
            )
        batch.staged = result.rows
        batch.transformed = len(result.ok_raw_ids)
        batch.failed = len(result.failures)
        batch.status = "transformed"
        _touch(batch)
        session.flush()
        _finish_stage(session, job.id)


def transform_raw(session: Session, source, raw_ids: list[int], tenant_id, ctx: TransformContext) -> TransformResult:
    rows = session.execute(
        select(RawExtractionData.id, RawExtractionData.entity_type, RawExtractionData.external_id,
               RawExtractionData.raw_data)
        .where(RawExtractionData.id.in_(raw_ids), RawExtractionData.tenant_id == tenant_id)
        .order_by(RawExtractionData.id)
    ).all()
    by_type: dict[str, list[tuple[int, str, dict]]] = {}
    for raw_id, entity_type, external_id, payload in rows:
        by_type.setdefault(entity_type, []).append((raw_id, external_id, payload))
    merged = TransformResult()
    for entity_type, items in by_type.items():
        part = source.transform(entity_type, items, ctx)
        for table, table_rows in part.rows.items():
            merged.rows.setdefault(table, []).extend(table_rows)
        merged.ok_raw_ids += part.ok_raw_ids
        merged.failures.update(part.failures)
    return merged


def mark_failed(session: Session, failures: dict[int, str], job_id: uuid.UUID) -> None:
    """Failed records keep their error beside the raw object, for the admin and for reprocessing."""
    at = datetime.now(timezone.utc).isoformat()
    for raw_id, error in failures.items():
        session.execute(
            update(RawExtractionData).where(RawExtractionData.id == raw_id)
            .values(processing_status="failed",
                    error_details={"stage": "transform", "error": error, "job_id": str(job_id), "at": at})
        )


# --- load ------------------------------------------------------------------------------------


def load_batch(batch_id: int) -> None:
    with stage_scope() as session:
        claimed = claim(session, batch_id, "transformed")
        if claimed is None:
            return
        batch, job = claimed
        source = get_source(session.get(Integration, job.integration_id).provider)
        loaded = load_batch_rows(session, source.load_specs, batch.id, job.tenant_id, job.integration_id,
                                 batch.staged or {})
        if hasattr(source, "after_load"):  # derived columns that span records (e.g. review counts)
            source.after_load(session, batch.staged or {}, job.tenant_id, job.integration_id)
        session.execute(
            update(RawExtractionData)
            .where(RawExtractionData.id.in_(batch.raw_ids), RawExtractionData.processing_status == "processing")
            .values(processing_status="completed", processed_at=datetime.now(timezone.utc))
        )
        batch.loaded = loaded
        batch.staged = None  # staging is transient: it must not accumulate
        batch.status = "loaded"
        _touch(batch)
        session.flush()
        _finish_stage(session, job.id)
