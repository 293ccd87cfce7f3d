"""Jobs that transform and load again from the raw layer: the retry of an ended job, and the
reprocess a mapping change starts for the integrations whose items it can alter."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etl.db import scope_to_tenant
from etl.errors import Conflict, Invalid, NotFound
from etl.jobs.lifecycle import (
    JOB_KINDS,
    ActiveJobExists,
    BrokerUnavailable,
    request_reprocess,
    start_job,
    start_reprocess,
)
from etl.mappings.impact import Impact, affected_raw_ids
from etl.models import EtlBatch, EtlJob, RawExtractionData


class JobStillActive(Conflict):
    pass


class NothingToRetry(Invalid):
    pass


def failed_raw_ids(session: Session, job: EtlJob) -> list[int]:
    """Raw records whose last processing failed in this job (mark_failed records the job id)."""
    return list(session.scalars(
        select(RawExtractionData.id).where(
            RawExtractionData.tenant_id == job.tenant_id, RawExtractionData.integration_id == job.integration_id,
            RawExtractionData.processing_status == "failed",
            RawExtractionData.error_details["job_id"].astext == str(job.id),
        ).order_by(RawExtractionData.id)
    ))


def retry_job(session_factory, job_id, tenant_id: uuid.UUID, trigger: str = "api") -> uuid.UUID:
    """Start a new job for what an ended job left undone, and return its id:
    - a `failed` or `cancelled` sync: a new sync of the same kind (the watermark advances only when
      a job succeeds, so it re-reads everything the lost one would have);
    - a `partial` job: a reprocess of the raw records that failed in it;
    - a `failed` or `cancelled` reprocess: a reprocess of its records that were not loaded.
    Raises NotFound (no such job for the tenant), JobStillActive, NothingToRetry (it succeeded, or
    nothing it left undone remains), ActiveJobExists (the integration is busy), BrokerUnavailable."""
    with session_factory() as session:
        scope_to_tenant(session, tenant_id)
        job = session.scalar(select(EtlJob).where(EtlJob.id == job_id, EtlJob.tenant_id == tenant_id))
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status in ("queued", "running"):
            raise JobStillActive(f"job {job_id} is still {job.status}: cancel it or wait for it to end")
        if job.status == "succeeded":
            raise NothingToRetry(f"job {job_id} succeeded: nothing to retry")
        if job.kind in JOB_KINDS and job.status in ("failed", "cancelled"):
            kind, raw_ids = job.kind, None
        else:
            raw_ids = failed_raw_ids(session, job)
            if job.status != "partial":  # a reprocess that ended early: also what it never loaded
                unloaded = session.scalars(
                    select(text("unnest(raw_ids)")).select_from(EtlBatch)
                    .where(EtlBatch.job_id == job.id, EtlBatch.status != "loaded")
                )
                raw_ids = sorted(set(raw_ids) | set(unloaded))
            if not raw_ids:
                raise NothingToRetry(f"job {job_id} is {job.status} but none of its records is left to process "
                                     "(they were processed again since)")
            kind = "reprocess"
        integration_id = job.integration_id
    if kind == "reprocess":
        return start_reprocess(session_factory, integration_id, tenant_id, raw_ids, trigger)
    return start_job(session_factory, integration_id, tenant_id, kind, trigger)


@dataclass
class ReprocessOutcome:
    started: list[uuid.UUID] = field(default_factory=list)  # job ids
    busy: list[uuid.UUID] = field(default_factory=list)  # integrations with an active job already
    failed: list[dict] = field(default_factory=list)  # {integration_id, job_id, detail}: the broker was down


def reprocess_affected(session_factory, tenant_id: uuid.UUID, impact: Impact,
                       trigger: str = "api") -> ReprocessOutcome:
    """After a mapping change committed: start a reprocess job (transform + load again from the raw
    layer, no source calls) for each integration with affected items. An integration that already
    has an active job is reported busy, not queued behind it."""
    outcome = ReprocessOutcome()
    if not impact:
        return outcome
    with session_factory() as session:
        affected = affected_raw_ids(session, tenant_id, impact)
    for integration_id, raw_ids in affected.items():
        try:
            outcome.started.append(start_reprocess(session_factory, integration_id, tenant_id, raw_ids, trigger))
        except ActiveJobExists:
            outcome.busy.append(integration_id)
            request_reprocess(session_factory, integration_id)
        except BrokerUnavailable as exc:
            outcome.failed.append({"integration_id": integration_id, "job_id": exc.job_id, "detail": str(exc)})
    return outcome
