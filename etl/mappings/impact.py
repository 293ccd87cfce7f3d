"""What a mapping change re-transforms: the raw Jira issues whose issue type or status (now or in
their changelog) a change can alter, per integration."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etl.mappings.rules import source_key
from etl.models import Integration, RawExtractionData, Status, StatusMapping, Wit, WitMapping, Workflow
from etl.sources.jira.streams import ISSUE
from etl.sources.registry import providers_of


@dataclass
class Impact:
    """What a committed mapping change can alter, by scope (an integration id, or None for
    tenant-wide): items of these source issue types, items that are or were in these source
    statuses (cycle time reads the transitions), or every item (a workflow)."""

    wit_sources: dict[uuid.UUID | None, set[str]] = field(default_factory=dict)
    status_sources: dict[uuid.UUID | None, set[str]] = field(default_factory=dict)
    everything: set[uuid.UUID | None] = field(default_factory=set)

    def add_wit_sources(self, scope: uuid.UUID | None, *names: str) -> None:
        self.wit_sources.setdefault(scope, set()).update(source_key(n) for n in names)

    def add_status_sources(self, scope: uuid.UUID | None, *names: str) -> None:
        self.status_sources.setdefault(scope, set()).update(source_key(n) for n in names)

    def add_wit(self, session: Session, wit: Wit) -> None:
        """Items whose issue type maps to this wit (its name or level changed)."""
        for scope, src in session.execute(select(WitMapping.integration_id, WitMapping.source_name)
                                          .where(WitMapping.tenant_id == wit.tenant_id, WitMapping.wit_id == wit.id)):
            self.add_wit_sources(scope, src)

    def add_status(self, session: Session, status: Status) -> None:
        """Items in, or once in, a source status that maps to this status."""
        for scope, src in session.execute(
                select(StatusMapping.integration_id, StatusMapping.source_name)
                .where(StatusMapping.tenant_id == status.tenant_id, StatusMapping.status_id == status.id)):
            self.add_status_sources(scope, src)

    def __bool__(self) -> bool:
        return bool(self.everything or any(self.wit_sources.values()) or any(self.status_sources.values()))


# Status names a raw issue went through, from its changelog (lax: a missing or odd changelog is no match).
_CHANGELOG_STATUSES = 'lax $.changelog.histories[*].items[*] ? (@.fieldId == "status" || @.field == "status").toString'


def affected_raw_ids(session: Session, tenant_id: uuid.UUID, impact: Impact) -> dict[uuid.UUID, list[int] | None]:
    """Per integration of the tenant whose source stores Jira issues, the raw issues to transform again (None: all of them);
    integrations with nothing affected are left out. One query over the raw layer."""
    integrations = list(session.scalars(select(Integration.id).where(
        Integration.tenant_id == tenant_id, Integration.provider.in_(providers_of(ISSUE)))
        .order_by(Integration.created_at)))
    own_workflow = set(session.scalars(select(Workflow.integration_id).where(
        Workflow.tenant_id == tenant_id, Workflow.integration_id.is_not(None))))
    everything: list[uuid.UUID] = []
    wanted: list[tuple[uuid.UUID, str, str]] = []
    for integration_id in integrations:
        if integration_id in impact.everything or (None in impact.everything and integration_id not in own_workflow):
            everything.append(integration_id)  # a workflow: cycle times of every item
            continue
        for kind, sources in (("wit", impact.wit_sources), ("status", impact.status_sources)):
            for key in sources.get(None, set()) | sources.get(integration_id, set()):
                wanted.append((integration_id, kind, key))
    result: dict[uuid.UUID, list[int] | None] = {}
    if everything:
        has_raw = (select(RawExtractionData.id)
                   .where(RawExtractionData.tenant_id == tenant_id, RawExtractionData.integration_id == Integration.id,
                          RawExtractionData.entity_type == ISSUE).exists())
        result.update((i, None) for i in session.scalars(
            select(Integration.id).where(Integration.id.in_(everything), has_raw).order_by(Integration.created_at)))
    if wanted:
        rows = session.execute(text("""
            WITH wanted(integration_id, kind, key) AS (
                SELECT * FROM unnest(CAST(:ints AS uuid[]), CAST(:kinds AS text[]), CAST(:keys AS text[]))
            )
            SELECT r.integration_id, array_agg(r.id ORDER BY r.id)
            FROM raw_extraction_data r
            WHERE r.tenant_id = :tenant_id AND r.entity_type = :entity_type
              AND r.integration_id IN (SELECT integration_id FROM wanted)
              AND EXISTS (
                SELECT 1 FROM wanted w
                WHERE w.integration_id = r.integration_id AND (
                  (w.kind = 'wit' AND w.key = lower(btrim(r.raw_data #>> '{fields,issuetype,name}')))
                  OR (w.kind = 'status' AND w.key = lower(btrim(r.raw_data #>> '{fields,status,name}')))
                  OR (w.kind = 'status' AND EXISTS (
                        SELECT 1 FROM jsonb_path_query(r.raw_data, CAST(:changelog_statuses AS jsonpath)) AS t(v)
                        WHERE lower(btrim(t.v #>> '{}')) = w.key))
                ))
            GROUP BY r.integration_id
        """), {"ints": [str(i) for i, _, _ in wanted], "kinds": [k for _, k, _ in wanted],
               "keys": [key for _, _, key in wanted], "tenant_id": tenant_id, "entity_type": ISSUE,
               "changelog_statuses": _CHANGELOG_STATUSES}).all()
        result.update({integration_id: list(ids) for integration_id, ids in rows})
    return result
