"""Bulk loads into the final tables, entirely in SQL: the staged rows are read from the batch's
JSONB with jsonb_to_recordset and upserted with ON CONFLICT ... DO UPDATE ... WHERE IS DISTINCT FROM,
so unchanged rows write nothing (no dead tuples on a re-sync) and concurrent loads cannot collide."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from etl.models import Integration, RawExtractionData
from etl.pipeline.checkpoints import claim, finish_stage, stage_scope, touch_batch
from etl.sources.base import LoadSpec
from etl.sources.registry import get_source


@lru_cache(maxsize=None)
def _compiled(spec: LoadSpec):
    prune = spec.prune_sql()
    return text(spec.upsert_sql()), text(prune) if prune else None


def load_batch_rows(session: Session, specs: list[LoadSpec], batch_id: int, tenant_id, integration_id,
                    staged: dict) -> int:
    """Upsert every staged table of a batch; returns the number of top-level records loaded
    (child rows such as transitions are not counted)."""
    loaded = 0
    for spec in specs:
        rows = staged.get(spec.name)
        if rows is None:
            continue
        upsert, prune = _compiled(spec)
        params = {"batch_id": batch_id, "tenant_id": str(tenant_id), "integration_id": str(integration_id)}
        session.execute(upsert, params)
        if prune is not None:
            parent_table, parent_key, _ = spec.parent
            session.execute(prune, {**params, "parents": [p[parent_key] for p in staged.get(parent_table, [])],
                                    "keep": [r["external_id"] for r in rows]})
        if spec.parent is None:  # one row per raw object; derived child rows are not counted
            loaded += len(rows)
    return loaded


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
        touch_batch(batch)
        session.flush()
        finish_stage(session, job.id)
