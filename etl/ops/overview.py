"""What the console's Home shows about one tenant, in one read: rows loaded, records failed,
unmapped values, integrations with their freshness, and the last day's jobs by status.

Every number is an aggregate over one tenant's rows on an indexed column or a small table; nothing
reads raw payloads. (The unmapped values are counted on the loaded work items' source columns,
`work_items.source_type` / `source_status`, with the same mapping rules as etl.mappings.unmapped,
which reads the raw layer's payloads for the full list on the Unmapped page.)"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.models import JOB_ACTIVE_STATUSES, JOB_FINAL_STATUSES

# An enabled integration whose next sync is this late has not been picked up (is beat running?);
# the same grace as the metrics' pulse_integrations_overdue.
OVERDUE_GRACE = timedelta(minutes=5)
RECENT_JOBS = timedelta(hours=24)
JOB_STATUSES = (*JOB_ACTIVE_STATUSES, *JOB_FINAL_STATUSES)


@dataclass(frozen=True)
class Freshness:
    id: uuid.UUID
    name: str
    provider: str
    enabled: bool
    last_success_at: datetime | None  # end of the last succeeded job
    next_sync_at: datetime | None
    overdue: bool
    active_job_id: uuid.UUID | None  # its queued or running job, if any


@dataclass
class Overview:
    work_items: int
    pull_requests: int
    raw_failed: int
    unmapped_issue_types: int
    unmapped_statuses: int
    integrations: list[Freshness]
    jobs_last_24h: dict[str, int]
    overdue_grace_seconds: int = int(OVERDUE_GRACE.total_seconds())
    read_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def unmapped_values(self) -> int:
        return self.unmapped_issue_types + self.unmapped_statuses


_UNMAPPED = text("""
    WITH seen AS (
        SELECT DISTINCT w.integration_id, v.kind, lower(btrim(v.name)) AS key
        FROM work_items w
        CROSS JOIN LATERAL (VALUES ('issue_type', w.source_type), ('status', w.source_status)) AS v(kind, name)
        WHERE w.tenant_id = :tenant_id AND w.deleted_at IS NULL AND btrim(v.name) <> ''
    )
    SELECT s.kind, count(DISTINCT s.key)
    FROM seen s
    WHERE NOT EXISTS (
        SELECT 1 FROM wit_mappings m
        WHERE s.kind = 'issue_type' AND m.tenant_id = :tenant_id AND lower(m.source_name) = s.key
          AND (m.integration_id IS NULL OR m.integration_id = s.integration_id))
      AND NOT EXISTS (
        SELECT 1 FROM status_mappings m
        WHERE s.kind = 'status' AND m.tenant_id = :tenant_id AND lower(m.source_name) = s.key
          AND (m.integration_id IS NULL OR m.integration_id = s.integration_id))
    GROUP BY s.kind
""")


def tenant_overview(session: Session, tenant_id: uuid.UUID, now: datetime | None = None) -> Overview:
    """One tenant's overview. Every query also filters on the tenant (the session is scoped to it
    as well, by row-level security)."""
    now = now or datetime.now(timezone.utc)
    params = {"tenant_id": tenant_id}
    work_items = session.execute(text(
        "SELECT count(*) FROM work_items WHERE tenant_id = :tenant_id AND deleted_at IS NULL"), params).scalar_one()
    pull_requests = session.execute(text(
        "SELECT count(*) FROM pull_requests WHERE tenant_id = :tenant_id AND deleted_at IS NULL"), params).scalar_one()
    # ix_raw_integration_status (integration_id, processing_status): one index range per integration.
    raw_failed = session.execute(text("""
        SELECT count(*) FROM raw_extraction_data
        WHERE tenant_id = :tenant_id AND processing_status = 'failed'
          AND integration_id IN (SELECT id FROM integrations WHERE tenant_id = :tenant_id)"""), params).scalar_one()
    unmapped = dict(session.execute(_UNMAPPED, params).all())
    rows = session.execute(text("""
        SELECT i.id, i.name, i.provider, i.enabled, i.next_sync_at,
               (SELECT max(j.finished_at) FROM etl_jobs j
                 WHERE j.tenant_id = :tenant_id AND j.integration_id = i.id AND j.status = 'succeeded'),
               (SELECT j.id FROM etl_jobs j
                 WHERE j.integration_id = i.id AND j.status IN ('queued', 'running') LIMIT 1)
        FROM integrations i WHERE i.tenant_id = :tenant_id ORDER BY lower(i.name), i.id"""), params).all()
    integrations = [
        Freshness(id=row[0], name=row[1], provider=row[2], enabled=row[3], next_sync_at=row[4], last_success_at=row[5],
                  overdue=bool(row[3] and row[4] is not None and row[4] < now - OVERDUE_GRACE), active_job_id=row[6])
        for row in rows
    ]
    # ix_etl_jobs_tenant_created (tenant_id, created_at).
    by_status = dict(session.execute(text("""
        SELECT status, count(*) FROM etl_jobs
        WHERE tenant_id = :tenant_id AND created_at > :since GROUP BY status"""),
        {**params, "since": now - RECENT_JOBS}).all())
    return Overview(
        work_items=work_items, pull_requests=pull_requests, raw_failed=raw_failed,
        unmapped_issue_types=unmapped.get("issue_type", 0), unmapped_statuses=unmapped.get("status", 0),
        integrations=integrations, jobs_last_24h={status: by_status.get(status, 0) for status in JOB_STATUSES},
        read_at=now,
    )
