"""Bulk loads into the final tables, entirely in SQL: the staged rows are read from the batch's
JSONB with jsonb_to_recordset and upserted with ON CONFLICT ... DO UPDATE ... WHERE IS DISTINCT FROM,
so unchanged rows write nothing (no dead tuples on a re-sync) and concurrent loads cannot collide."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

SKIP_COLUMNS = {"id", "loaded_at"}


@dataclass(frozen=True)
class LoadSpec:
    table: Table
    key: tuple[str, ...]
    # Child rows replace the parent's set: rows of a loaded parent that are no longer staged go.
    parent: tuple[str, str, str] | None = None  # (parent staged table, parent key column, our fk column)
    derived: tuple[str, ...] = ()  # columns computed after the load (after_load), never staged

    @property
    def name(self) -> str:
        return self.table.name

    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns if c.name not in SKIP_COLUMNS and c.name not in self.derived]

    def upsert_sql(self) -> str:
        cols = self.columns()
        dialect = postgresql.dialect()
        defs = ", ".join(f"{c} {self.table.c[c].type.compile(dialect=dialect)}" for c in cols)
        updatable = [c for c in cols if c not in self.key]
        names = ", ".join(cols)
        stamp = ", loaded_at = now()" if "loaded_at" in self.table.c else ""
        return f"""
            INSERT INTO {self.name} AS t ({names})
            SELECT {", ".join(f"x.{c}" for c in cols)} FROM etl_batches b, jsonb_to_recordset(b.staged -> '{self.name}') AS x({defs})
            WHERE b.id = :batch_id
            ON CONFLICT ({", ".join(self.key)}) DO UPDATE SET
                {", ".join(f"{c} = EXCLUDED.{c}" for c in updatable)}{stamp}
            WHERE ({", ".join(f"t.{c}" for c in updatable)}) IS DISTINCT FROM
                  ({", ".join(f"EXCLUDED.{c}" for c in updatable)})
        """

    def prune_sql(self) -> str | None:
        # Arrays come from Python: a subquery on the batch's JSONB here would be re-run per row.
        if not self.parent:
            return None
        fk = self.parent[2]
        return f"""
            DELETE FROM {self.name}
            WHERE tenant_id = :tenant_id AND integration_id = :integration_id
              AND {fk} = ANY(:parents) AND NOT (external_id = ANY(:keep))
        """


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
