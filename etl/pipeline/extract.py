"""The extract stage: fetch a batch of pages from the source, store their raw objects, and say what
to publish next (the next batch, this one's transform -> load chain). Pauses on a source's rate
limit without holding a worker."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from etl.broker.lanes import lane_of
from etl.config import get_settings
from etl.db import session_scope
from etl.models import EtlBatch, EtlJob, Integration
from etl.pipeline.checkpoints import (
    FollowUps,
    claim,
    finish_stage,
    implied_follow_ups,
    lock_active_job,
    not_started,
    pending_next_batch,
    stage_scope,
    touch_batch,
)
from etl.pipeline.extract_state import ExtractState
from etl.pipeline.raw import IN_BATCH, store_records
from etl.sources.base import Page
from etl.sources.http import RateLimited
from etl.sources.registry import get_source
from etl.tenancy.integrations import credentials_of


def wait_while_paused(integration: Integration) -> None:
    """An integration whose rate limit is spent makes no request until the reset: the task
    re-queues itself (etl.pipeline.task_base); other integrations keep running."""
    if integration.paused_until is not None:
        remaining = (integration.paused_until - datetime.now(timezone.utc)).total_seconds()
        if remaining > 0:
            raise RateLimited(f"rate limit of integration {integration.id} spent until "
                              f"{integration.paused_until.isoformat()}", retry_after=remaining)


def pause_after_page(integration: Integration, seconds: float) -> None:
    """The page was fetched and the budget is down to its reserve: the next pages wait for the
    reset (wait_while_paused) instead of spending it."""
    until = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    if integration.paused_until is None or integration.paused_until < until:
        integration.paused_until = until


def extract_page(batch_id: int) -> FollowUps:
    """Fetch the batch's pages (fetch_pages) and commit the next batch with the cursor after them,
    then store the raw records in a second transaction. The caller publishes the next batch with
    the transform and load of this one. (Publishing the next page before the store overlaps the two, but on a 2-core machine
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
        state = ExtractState(session, job.tenant_id, integration.id, full=job.kind == "full")
        connector = get_source(integration.provider).connect(integration, credentials_of(integration))
        try:  # a spent rate limit (RateLimited) pauses the integration: the task base decides that
            page = fetch_pages(connector, batch.stream, batch.cursor or {}, state, pages_for(session, batch))
        finally:
            connector.close()
        lock_active_job(session, job.id)  # cancelled during the fetch: no next page
        if page.pause_for:
            pause_after_page(integration, page.pause_for)
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
                follow.extract = not_started(session, job.id, "extract", pending_next_batch(session, batch))
        tenant_id, integration_id, job_id = job.tenant_id, integration.id, job.id

    with stage_scope() as session:
        claimed = claim(session, batch_id, "pending")
        if claimed is None:
            return follow
        batch, _ = claimed
        changed, unchanged = store_records(session, tenant_id, integration_id, page.records, IN_BATCH)
        batch.raw_ids = changed
        batch.fetched = len(page.records)
        batch.extracted = len(changed)
        batch.unchanged = unchanged
        batch.requests_made = page.requests_made
        batch.pages = page.pages
        batch.is_last = page.next_cursor is None
        batch.max_updated_at = max((r.updated_at for r in page.records if r.updated_at), default=None)
        batch.source_total = page.source_total
        batch.listed = page.listed
        # A page with nothing new skips transform and load altogether.
        batch.status = "extracted" if changed else "loaded"
        touch_batch(batch)
        session.flush()
        finish_stage(session, job_id)
        if changed:
            follow.process.append(batch_id)
    return follow


# The most pages a batch takes after batches that found nothing changed (the setting's own bound).
MAX_PAGES_PER_BATCH = 20


def pages_for(session: Session, batch: EtlBatch) -> int:
    """A stream's first batch takes one page: its first rows land quickly. Later ones take
    ETL_PAGES_PER_BATCH, or twice as many as the batch before when that one found nothing changed
    (up to MAX_PAGES_PER_BATCH): unchanged pages go no further than the extract, so each batch's
    tasks, claims and bookkeeping were most of a re-sync's cost (issue 12: a third of its time went
    between its batches). The first batch with a change brings the size back."""
    if batch.seq == 0:
        return 1
    base = get_settings().pages_per_batch
    before = session.execute(
        select(EtlBatch.pages, EtlBatch.extracted, EtlBatch.status)
        .where(EtlBatch.job_id == batch.job_id, EtlBatch.stream == batch.stream, EtlBatch.seq == batch.seq - 1)
    ).first()
    if before is None or before.status != "loaded" or before.extracted:
        return base
    return min(MAX_PAGES_PER_BATCH, max(base, 2 * before.pages))


@dataclass
class Pages:
    """The pages one batch fetched, as one page."""
    records: list = field(default_factory=list)
    next_cursor: dict | None = None
    requests_made: int = 0
    pages: int = 0
    listed: int = 0
    source_total: int | None = None
    settings_update: dict = field(default_factory=dict)
    pause_for: float | None = None

    def add(self, page: Page) -> None:
        self.records += page.records
        self.next_cursor = page.next_cursor
        self.requests_made += page.requests_made
        self.pages += 1
        self.listed += len(page.records) if page.listed is None else page.listed
        if self.pages == 1:
            self.source_total = page.source_total
        self.settings_update.update(page.settings_update or {})
        self.pause_for = page.pause_for


def fetch_pages(connector, stream: str, cursor: dict, state: ExtractState, max_pages: int) -> Pages:
    """Up to max_pages pages from `cursor`, for one batch. The batch ends early at the stream's end,
    at the source's budget reserve, after ETL_BATCH_FETCH_SECONDS, or when the budget is spent after
    its first page: the pages fetched are kept, the integration pauses, and the next batch starts
    where this one stopped. A failure fails the whole fetch, as for a single page: the task base
    retries it (honouring Retry-After) and the job's history shows why."""
    pages = Pages()
    deadline = time.monotonic() + get_settings().batch_fetch_seconds
    while True:
        try:
            page = connector.fetch_page(stream, cursor, state)
        except RateLimited as exc:
            if not pages.pages:
                raise
            pages.pause_for = max(exc.retry_after or 60, pages.pause_for or 0)
            return pages
        pages.add(page)
        if (page.next_cursor is None or page.pause_for or pages.pages >= max_pages
                or time.monotonic() > deadline):
            return pages
        cursor = page.next_cursor


def _mark_running(job_id: uuid.UUID) -> None:
    """In a transaction of its own, committed before the fetch: a job whose first page fails and
    retries shows `running` (with its task runs' errors), not `queued` as if no worker had it."""
    with session_scope() as session:
        session.execute(
            update(EtlJob).where(EtlJob.id == job_id, EtlJob.status == "queued")
            .values(status="running", started_at=datetime.now(timezone.utc))
        )
