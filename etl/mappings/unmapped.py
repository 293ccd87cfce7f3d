"""Values seen in the raw layer that no mapping covers, with how many items each affects."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.sources.jira.streams import ISSUE


@dataclass(frozen=True)
class UnmappedIn:
    integration_id: uuid.UUID
    integration_name: str
    count: int


@dataclass
class UnmappedValue:
    source_name: str
    count: int = 0  # over all integrations
    integrations: list[UnmappedIn] = field(default_factory=list)


def unmapped_values(session: Session, tenant_id: uuid.UUID,
                    integration_id: uuid.UUID | None = None) -> dict[str, list[UnmappedValue]]:
    """Source issue types and statuses of the tenant's raw Jira issues that no mapping covers
    (neither tenant-wide nor for their integration), with the number of issues per integration:
    {"issue_types": [...], "statuses": [...]}, most frequent first. One aggregate over the raw
    layer; the values differing only in case are one value, as for the transform."""
    rows = session.execute(text("""
        WITH seen AS (
            SELECT r.integration_id, v.kind, lower(btrim(v.name)) AS key, min(btrim(v.name)) AS name, count(*) AS n
            FROM raw_extraction_data r
            CROSS JOIN LATERAL (VALUES ('issue_type', r.raw_data #>> '{fields,issuetype,name}'),
                                       ('status', r.raw_data #>> '{fields,status,name}')) AS v(kind, name)
            WHERE r.tenant_id = :tenant_id AND r.entity_type = :entity_type
              AND (CAST(:integration_id AS uuid) IS NULL OR r.integration_id = CAST(:integration_id AS uuid))
              AND btrim(v.name) <> ''
            GROUP BY r.integration_id, v.kind, lower(btrim(v.name))
        )
        SELECT s.kind, s.key, s.name, s.integration_id, i.name, s.n
        FROM seen s JOIN integrations i ON i.id = s.integration_id AND i.tenant_id = :tenant_id
        WHERE NOT EXISTS (
            SELECT 1 FROM wit_mappings m
            WHERE s.kind = 'issue_type' AND m.tenant_id = :tenant_id AND lower(m.source_name) = s.key
              AND (m.integration_id IS NULL OR m.integration_id = s.integration_id))
          AND NOT EXISTS (
            SELECT 1 FROM status_mappings m
            WHERE s.kind = 'status' AND m.tenant_id = :tenant_id AND lower(m.source_name) = s.key
              AND (m.integration_id IS NULL OR m.integration_id = s.integration_id))
        ORDER BY s.kind, sum(s.n) OVER (PARTITION BY s.kind, s.key) DESC, s.key, s.n DESC, i.name
    """), {"tenant_id": tenant_id, "entity_type": ISSUE,
           "integration_id": str(integration_id) if integration_id else None}).all()
    found: dict[str, dict[str, UnmappedValue]] = {"issue_type": {}, "status": {}}
    for kind, key, name, in_id, in_name, count in rows:
        value = found[kind].setdefault(key, UnmappedValue(name))
        value.count += count
        value.integrations.append(UnmappedIn(in_id, in_name, count))
    return {"issue_types": list(found["issue_type"].values()), "statuses": list(found["status"].values())}
