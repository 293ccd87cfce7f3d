"""TODO docstring (etl.mappings.lookup)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.models import Status, StatusMapping, Wit, WitMapping, Workflow, WorkflowStep


@dataclass(frozen=True)
class MappedWit:
    name: str
    hierarchy_level: int


@dataclass(frozen=True)
class MappedStatus:
    name: str
    category: str


@dataclass
class TenantMappings:
    """Everything a transform needs, loaded once per batch. Lookups are case-insensitive; an
    integration-specific mapping wins over the tenant-wide one."""

    wits: dict[str, MappedWit] = field(default_factory=dict)
    statuses: dict[str, MappedStatus] = field(default_factory=dict)
    # workflow: normalized status name -> step position; commitment and done positions
    step_positions: dict[str, int] = field(default_factory=dict)
    commitment_position: int | None = None
    done_position: int | None = None

    def wit_for(self, source_name: str | None) -> MappedWit | None:
        return self.wits.get((source_name or "").strip().lower())

    def status_for(self, source_name: str | None) -> MappedStatus | None:
        return self.statuses.get((source_name or "").strip().lower())


def _source_map(session: Session, mapping, target, target_fk, values, tenant_id, integration_id) -> dict:
    """source name (lower case) -> tuple of target values; integration-specific rows win."""
    rows = session.execute(
        select(mapping.source_name, mapping.integration_id, *values)
        .join(target, target.id == target_fk)
        .where(mapping.tenant_id == tenant_id,
               (mapping.integration_id.is_(None)) | (mapping.integration_id == integration_id))
    ).all()
    # tenant-wide first, then integration-specific ones overwrite them
    return {src.strip().lower(): tuple(vals) for src, _, *vals in sorted(rows, key=lambda r: r[1] is not None)}


def load_mappings(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID) -> TenantMappings:
    m = TenantMappings()
    wits = _source_map(session, WitMapping, Wit, WitMapping.wit_id, (Wit.name, Wit.hierarchy_level),
                       tenant_id, integration_id)
    m.wits = {src: MappedWit(*v) for src, v in wits.items()}
    statuses = _source_map(session, StatusMapping, Status, StatusMapping.status_id, (Status.name, Status.category),
                           tenant_id, integration_id)
    m.statuses = {src: MappedStatus(*v) for src, v in statuses.items()}

    workflow = session.execute(
        select(Workflow.id)
        .where(Workflow.tenant_id == tenant_id,
               (Workflow.integration_id.is_(None)) | (Workflow.integration_id == integration_id))
        .order_by(Workflow.integration_id.is_(None))  # integration-specific first
        .limit(1)
    ).scalar()
    if workflow is not None:
        steps = session.execute(
            select(WorkflowStep.position, Status.name, WorkflowStep.is_commitment_point, WorkflowStep.is_done)
            .join(Status, Status.id == WorkflowStep.status_id)
            .where(WorkflowStep.workflow_id == workflow)
            .order_by(WorkflowStep.position)
        ).all()
        for pos, name, is_commit, is_done in steps:
            m.step_positions[name] = pos
            if is_commit and m.commitment_position is None:
                m.commitment_position = pos
            if is_done:
                m.done_position = pos
    return m
