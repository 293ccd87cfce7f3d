"""The load stage, and the one place the final tables (work_items, pull_requests, ...) are written.

A source declares where its rows go (etl.sources.base.LoadSpec: table, natural key, parent); the
SQL is generated here from that declaration. The staged rows are read from the batch's JSONB with
jsonb_to_recordset and upserted with ON CONFLICT ... DO UPDATE ... WHERE IS DISTINCT FROM, so
unchanged rows write nothing (no dead tuples on a re-sync) and concurrent loads cannot collide.
Child rows (a work item's transitions) replace their parent's set: the prune deletes those no
longer staged. A source's after_load hook fills the columns derived across records."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from etl.models import Integration, RawExtractionData
from etl.pipeline.checkpoints import claim, finish_stage, stage_scope, touch_batch
from etl.pipeline.raw import ids_with_status
from etl.sources.base import LoadSpec, StagedKeys
from etl.sources.registry import get_source

SKIP_COLUMNS = {"id", "loaded_at"}  # the table's own: a surrogate key, the load's timestamp


def columns(spec: LoadSpec) -> list[str]:
    """The columns a staged row carries (derived ones are filled after the load)."""
    return [c.name for c in spec.table.columns if c.name not in SKIP_COLUMNS and c.name not in spec.derived]


def recordset_columns(spec: LoadSpec) -> str:
    """The column definitions jsonb_to_recordset reads staged rows with: the table's own types, so
    a staged value is cast exactly as the load casts it (the consistency audit reads with it too)."""
    dialect = postgresql.dialect()
    return ", ".join(f"{c} {spec.table.c[c].type.compile(dialect=dialect)}" for c in columns(spec))


def upsert_sql(spec: LoadSpec) -> str:
    cols = columns(spec)
    defs = recordset_columns(spec)
    updatable = [c for c in cols if c not in spec.key]
    names = ", ".join(cols)
    stamp = ", loaded_at = now()" if "loaded_at" in spec.table.c else ""
    return f"""
        INSERT INTO {spec.name} AS t ({names})
        SELECT {", ".join(f"x.{c}" for c in cols)} FROM etl_batches b, jsonb_to_recordset(b.staged -> '{spec.name}') AS x({defs})
        WHERE b.id = :batch_id
        ON CONFLICT ({", ".join(spec.key)}) DO UPDATE SET
            {", ".join(f"{c} = EXCLUDED.{c}" for c in updatable)}{stamp}
        WHERE ({", ".join(f"t.{c}" for c in updatable)}) IS DISTINCT FROM
              ({", ".join(f"EXCLUDED.{c}" for c in updatable)})
    """


def prune_sql(spec: LoadSpec) -> str | None:
    """The ids of the child rows of the batch's parents that are no longer staged; None for a
    top-level table. The load deletes them only if there are any: a DELETE by id, like any
    statement by id under the tenant policy, walks the tenant's every row of the table (see
    etl.pipeline.raw, _BY_ID), and on a first sync or a re-sync there are none."""
    # Arrays come from Python: a subquery on the batch's JSONB here would be re-run per row.
    if not spec.parent:
        return None
    # One index probe per parent (the LATERAL subquery's equality on every column of the
    # (tenant, integration, parent) index), whatever the planner believes of the table's size:
    # with `{fk} = ANY(:parents)` and no statistics yet (a first sync into a new table, autovacuum
    # not yet by) it walked the integration's every child row for each batch, a fifth of the
    # database's time on a first sync (issue 12).
    fk = spec.parent[2]
    return f"""
        SELECT c.id FROM unnest(CAST(:parents AS text[])) AS p(parent_key),
        LATERAL (SELECT id FROM {spec.name}
                 WHERE tenant_id = :tenant_id AND integration_id = :integration_id
                   AND {fk} = p.parent_key AND NOT (external_id = ANY(:keep)) OFFSET 0) c
    """


@lru_cache(maxsize=None)
def _compiled(spec: LoadSpec):
    prune = prune_sql(spec)
    delete = text(f"DELETE FROM {spec.name} WHERE id = ANY(:ids)")
    return text(upsert_sql(spec)), (text(prune), delete) if prune else None


class BatchStaged:
    """A batch's staged rows as the load needs them beside the upserts (etl.sources.base.StagedKeys):
    counts and key columns read in SQL, so the worker never parses the batch's JSON."""

    COUNTS = text("SELECT key, jsonb_array_length(value) FROM etl_batches b, jsonb_each(b.staged) WHERE b.id = :batch_id")
    VALUES = text("SELECT coalesce(array_agg(x ->> :column), '{}') FROM etl_batches b, "
                  "jsonb_array_elements(b.staged -> :table) x WHERE b.id = :batch_id")

    def __init__(self, session: Session, batch_id: int):
        self.session, self.batch_id = session, batch_id
        self.counts = dict(session.execute(self.COUNTS, {"batch_id": batch_id}).all())

    def count(self, table: str) -> int | None:
        return self.counts.get(table)

    def values(self, table: str, column: str) -> list[str]:
        if not self.counts.get(table):
            return []
        return self.session.execute(self.VALUES, {"batch_id": self.batch_id, "table": table, "column": column}).scalar()


def load_batch_rows(session: Session, specs: list[LoadSpec], batch_id: int, tenant_id, integration_id,
                    staged: StagedKeys) -> int:
    """Upsert every staged table of a batch; returns the number of top-level records loaded
    (child rows such as transitions are not counted)."""
    loaded = 0
    for spec in specs:
        count = staged.count(spec.name)
        if count is None:
            continue
        upsert, prune = _compiled(spec)
        params = {"batch_id": batch_id, "tenant_id": str(tenant_id), "integration_id": str(integration_id)}
        session.execute(upsert, params)
        if prune is not None:
            parent_table, parent_key, _ = spec.parent
            find, delete = prune
            gone = session.scalars(find, {**params, "parents": staged.values(parent_table, parent_key),
                                          "keep": staged.values(spec.name, "external_id")}).all()
            if gone:
                session.execute(delete, {"ids": list(gone)})
        if spec.parent is None:  # one row per raw object; derived child rows are not counted
            loaded += count
    return loaded


def load_batch(batch_id: int) -> None:
    with stage_scope() as session:
        claimed = claim(session, batch_id, "transformed")
        if claimed is None:
            return
        batch, job = claimed
        source = get_source(session.get(Integration, job.integration_id).provider)
        staged = BatchStaged(session, batch.id)
        loaded = load_batch_rows(session, source.load_specs, batch.id, job.tenant_id, job.integration_id, staged)
        # derived columns that span records (GitHub's review counts); most sources have none
        source.after_load(session, staged, job.tenant_id, job.integration_id)
        processing = ids_with_status(session, batch.raw_ids, "processing")
        if processing:
            session.execute(
                update(RawExtractionData)
                .where(RawExtractionData.id.in_(processing), RawExtractionData.processing_status == "processing")
                .values(processing_status="completed", processed_at=datetime.now(timezone.utc))
            )
        batch.loaded = loaded
        batch.staged = None  # staging is transient: it must not accumulate
        batch.status = "loaded"
        touch_batch(batch)
        session.flush()
        finish_stage(session, job.id)
