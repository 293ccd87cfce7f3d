"""The transform stage: the batch's raw objects through the source's transform with the tenant's
mappings, staged on the batch for the load; a record that fails is marked with its error while the
rest go on."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import update
from sqlalchemy.orm import Session

from etl.mappings.lookup import load_mappings
from etl.models import Integration, RawExtractionData
from etl.pipeline.checkpoints import claim, finish_stage, stage_scope, touch_batch
from etl.pipeline.raw import ids_with_status, payloads
from etl.sources.base import TenantMappings, TransformContext, TransformResult
from etl.sources.registry import get_source


def transform_batch(batch_id: int) -> None:
    with stage_scope() as session:
        claimed = claim(session, batch_id, "extracted")
        if claimed is None:
            return
        batch, job = claimed
        integration = session.get(Integration, job.integration_id)
        ctx = TransformContext(job.tenant_id, integration.id, integration.base_url, integration.settings,
                               job_mappings(session, job.id, job.tenant_id, integration.id))
        result = transform_raw(session, get_source(integration.provider), batch.raw_ids, job.tenant_id, ctx)
        mark_failed(session, result.failures, job.id)
        # objects the extract wrote `completed` (etl.pipeline.raw) are not written again
        unfinished = ids_with_status(session, result.ok_raw_ids, "completed", negate=True)
        if unfinished:
            session.execute(
                update(RawExtractionData).where(RawExtractionData.id.in_(unfinished),
                                                RawExtractionData.processing_status != "completed")
                .values(processing_status="processing", error_details=None)
            )
        batch.staged = result.rows
        batch.transformed = len(result.ok_raw_ids)
        batch.failed = len(result.failures)
        batch.status = "transformed"
        touch_batch(batch)
        session.flush()
        finish_stage(session, job.id)


# Each job's mappings, read once per worker process rather than once per batch (a sixth of the
# transform's time). A mapping changed while a job runs does not reach its later batches: the change
# asks for a reprocess of the integration once the job ends (etl.jobs.reprocess, request_reprocess),
# which reads the new mappings under a job id of its own.
_JOB_MAPPINGS: dict[uuid.UUID, TenantMappings] = {}
JOB_MAPPINGS_KEPT = 32


def job_mappings(session: Session, job_id: uuid.UUID, tenant_id: uuid.UUID, integration_id: uuid.UUID) -> TenantMappings:
    mappings = _JOB_MAPPINGS.get(job_id)
    if mappings is None:
        mappings = load_mappings(session, tenant_id, integration_id)
        if len(_JOB_MAPPINGS) >= JOB_MAPPINGS_KEPT:
            _JOB_MAPPINGS.pop(next(iter(_JOB_MAPPINGS)))  # the oldest job's
        _JOB_MAPPINGS[job_id] = mappings
    return mappings


def transform_raw(session: Session, source, raw_ids: list[int], tenant_id, ctx: TransformContext) -> TransformResult:
    rows = payloads(session, raw_ids, tenant_id)
    by_type: dict[str, list[tuple[int, str, dict]]] = {}
    merged = TransformResult()
    for raw_id, entity_type, external_id, text in rows:
        try:
            payload = source.decode_payload(entity_type, text, ctx)
        except ValueError as exc:  # orjson's JSONDecodeError is one
            # JSONB takes numbers no parser here can hold (1e400 is stored as 401 digits, which
            # orjson refuses): that record fails with its reason; the batch goes on without it.
            merged.failures[raw_id] = f"the stored payload cannot be decoded: {exc}"
            continue
        by_type.setdefault(entity_type, []).append((raw_id, external_id, payload))
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
