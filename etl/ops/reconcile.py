"""Deletions: reconcile the ids that still exist at the source with the rows in the final tables.

An incremental sync only sees what changed, never what disappeared. Reconciliation lists every id
the source still has (a cheap id-only listing), and marks the final-table rows of the integration
that are not among them with `deleted_at = now()`; rows that were marked and are listed again get
`deleted_at` cleared. The read API hides deleted rows by default.

It never marks anything on a partial picture:
- the listing must complete: any error while listing aborts before a single row is touched;
- a row loaded after the listing started may be new at the source: it is left alone;
- each row missing from the listing is confirmed gone by the source, when the connector can
  (Jira: GET /issue/{id}), so a page that shifted under an offset paginator deletes nothing;
- a run that would mark more than `ETL_RECONCILE_MAX_DELETE_RATIO` of the live rows (a lost
  permission looks like a mass deletion) is refused with that reason.

A source takes part by declaring, on its streams, the final table whose `external_id` are the
stream's ids (StreamSpec.reconcile_table, read through Source.reconcile_table / Source.reconciles)
and giving its connector `list_ids(stream)`, and `confirm_missing(ids) -> ids that are really gone`
when it can ask (etl.sources.base).

It runs from the daily check (`request_due`, beat, hourly: every integration not reconciled for
`ETL_RECONCILE_INTERVAL_HOURS`) and at the end of every full sync (`reconcile_after_commit`).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Table, func, or_, select, text, update
from sqlalchemy.orm import Session

from etl.broker.publish import publish_reconcile
from etl.config import get_settings
from etl.db import scope_to_all_tenants, scope_to_tenant, session_scope
from etl.errors import Conflict
from etl.models import Integration
from etl.sources.base import Source
from etl.sources.registry import PROVIDERS, get_source, supports_reconcile
from etl.tenancy.integrations import credentials_of

log = logging.getLogger(__name__)

# A requested reconciliation that has not finished after this long may be requested again.
REQUEST_LEASE = timedelta(hours=1)
# Below this many rows the delete-ratio guard does not apply (a small project may lose half its issues).
MIN_GUARDED_DELETES = 10
REQUEST_LIMIT = 500


class ReconcileRefused(Conflict):
    """Reconciliation would mark too much deleted; the message says how much and what to check."""


@dataclass
class ReconcileResult:
    integration_id: uuid.UUID
    listed: int = 0
    deleted: int = 0
    restored: int = 0
    kept: int = 0  # missing from the listing but confirmed present by the source
    skipped: str | None = None

    def as_dict(self) -> dict:
        return {"integration_id": str(self.integration_id), "listed": self.listed, "deleted": self.deleted,
                "restored": self.restored, "kept": self.kept, "skipped": self.skipped}


def _targets(source: Source, integration: Integration) -> dict[Table, list[str]]:
    """Final table -> the streams whose ids it holds."""
    out: dict[Table, list[str]] = {}
    for stream in source.streams(integration, None):
        table = source.reconcile_table(stream)
        if table is not None:
            out.setdefault(table, []).append(stream)
    return out


def _compare(session: Session, table: Table, tenant_id, integration_id, ids: set[str],
             started: datetime) -> tuple[list[str], list[str], int]:
    """(rows missing from the listing, deleted rows listed again, live rows) of one table."""
    session.execute(text("CREATE TEMP TABLE reconcile_ids (external_id text PRIMARY KEY) ON COMMIT DROP"))
    session.execute(text("INSERT INTO reconcile_ids SELECT unnest(CAST(:ids AS text[])) ON CONFLICT DO NOTHING"),
                    {"ids": sorted(ids)})
    session.execute(text("ANALYZE reconcile_ids"))
    scope = "t.tenant_id = :tenant_id AND t.integration_id = :integration_id"
    fresh = " AND t.loaded_at < :started" if "loaded_at" in table.c else ""
    params = {"tenant_id": tenant_id, "integration_id": integration_id, "started": started}
    listed = "EXISTS (SELECT 1 FROM reconcile_ids r WHERE r.external_id = t.external_id)"
    missing = list(session.scalars(text(
        f"SELECT t.external_id FROM {table.name} t WHERE {scope} AND t.deleted_at IS NULL{fresh} AND NOT {listed}"
    ), params))
    back = list(session.scalars(text(
        f"SELECT t.external_id FROM {table.name} t WHERE {scope} AND t.deleted_at IS NOT NULL AND {listed}"
    ), params))
    live = session.scalar(text(f"SELECT count(*) FROM {table.name} t WHERE {scope} AND t.deleted_at IS NULL"), params)
    session.execute(text("DROP TABLE reconcile_ids"))
    return missing, back, live


def reconcile(integration_id: uuid.UUID) -> ReconcileResult:
    """List the source's ids and mark the integration's rows that disappeared as deleted (and
    clear the mark of rows that are back). Raises the source's error if the listing fails (nothing
    is marked then) and ReconcileRefused when the run looks like a mass deletion."""
    integration_id = uuid.UUID(str(integration_id))
    result = ReconcileResult(integration_id)
    with session_scope() as session:
        scope_to_all_tenants(session, "reconcile looks up whose integration it reconciles")
        integration = session.get(Integration, integration_id)
        if integration is None:
            raise LookupError(f"integration {integration_id} not found")
        tenant_id = integration.tenant_id
        scope_to_tenant(session, tenant_id)  # from here on, that tenant's rows only
        source = get_source(integration.provider)
        if not source.reconciles:
            result.skipped = f"the {integration.provider} source cannot list its ids"
            return result
        targets = _targets(source, integration)
        credentials = credentials_of(integration)
        # The database's clock, the one that stamps loaded_at.
        started = session.scalar(select(func.now()))
    if not targets:
        result.skipped = "no stream to reconcile"
        return result

    connector = source.connect(integration, credentials)
    try:
        listed: dict[Table, set[str]] = {}
        for table, streams in targets.items():
            ids = listed.setdefault(table, set())
            for stream in streams:
                ids.update(str(i) for i in connector.list_ids(stream))  # an error here aborts everything
        result.listed = sum(len(ids) for ids in listed.values())

        plan: list[tuple[Table, list[str], list[str]]] = []
        with session_scope() as session:
            scope_to_tenant(session, tenant_id)
            for table, ids in listed.items():
                missing, back, live = _compare(session, table, tenant_id, integration_id, ids, started)
                ratio = get_settings().reconcile_max_delete_ratio
                if len(missing) > MIN_GUARDED_DELETES and len(missing) > ratio * live:
                    raise ReconcileRefused(
                        f"reconciling integration {integration_id} would mark {len(missing)} of {live} {table.name} "
                        f"rows deleted (more than {ratio:.0%}); nothing was marked. Check the integration's "
                        f"credentials, projects and permissions; set ETL_RECONCILE_MAX_DELETE_RATIO=1 to allow it"
                    )
                plan.append((table, missing, back))

        final: list[tuple[Table, list[str], list[str]]] = []
        for table, missing, back in plan:
            gone = sorted(connector.confirm_missing(missing)) if missing else missing
            result.kept += len(missing) - len(gone)
            final.append((table, gone, back))
    finally:
        connector.close()

    with session_scope() as session:
        scope_to_tenant(session, tenant_id)
        for table, gone, back in final:
            scope = (table.c.tenant_id == tenant_id, table.c.integration_id == integration_id)
            if gone:
                stmt = update(table).where(*scope, table.c.external_id.in_(gone), table.c.deleted_at.is_(None))
                if "loaded_at" in table.c:
                    stmt = stmt.where(table.c.loaded_at < started)
                result.deleted += session.execute(stmt.values(deleted_at=func.now())).rowcount
            if back:
                result.restored += session.execute(
                    update(table).where(*scope, table.c.external_id.in_(back), table.c.deleted_at.is_not(None))
                    .values(deleted_at=None)
                ).rowcount
        session.execute(update(Integration).where(Integration.id == integration_id)
                        .values(last_reconciled_at=func.now()))
    log.info("integration %s reconciled: %s listed, %s marked deleted, %s restored, %s confirmed present",
             integration_id, result.listed, result.deleted, result.restored, result.kept)
    return result


# --- when it runs --------------------------------------------------------------------------------


def _reconcilable_providers() -> list[str]:
    return [p for p in PROVIDERS if supports_reconcile(p)]


def request_due(now: datetime | None = None) -> list[uuid.UUID]:
    """The daily check: claim every enabled integration that has synced and was not reconciled in
    the last ETL_RECONCILE_INTERVAL_HOURS, mark the request, and publish its reconcile task after
    commit. Two checks at once claim disjoint rows (SKIP LOCKED), and a request is not repeated
    while it is under way (REQUEST_LEASE)."""
    now = now or datetime.now(timezone.utc)
    stale = now - timedelta(hours=get_settings().reconcile_interval_hours)
    with session_scope() as session:
        scope_to_all_tenants(session, "the daily check finds every tenant's integrations due for reconciling")
        rows = list(session.scalars(
            select(Integration)
            .where(Integration.enabled.is_(True), Integration.last_sync_at.is_not(None),
                   Integration.provider.in_(_reconcilable_providers()),
                   or_(Integration.last_reconciled_at.is_(None), Integration.last_reconciled_at < stale),
                   or_(Integration.reconcile_requested_at.is_(None),
                       Integration.reconcile_requested_at < now - REQUEST_LEASE))
            .order_by(Integration.last_reconciled_at.nulls_first())
            .limit(REQUEST_LIMIT)
            .with_for_update(skip_locked=True)
        ))
        for integration in rows:
            integration.reconcile_requested_at = now
        ids = [integration.id for integration in rows]
    for integration_id in ids:
        publish_reconcile(integration_id)
    return ids
