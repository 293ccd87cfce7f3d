"""The tenant's mappings as a transform reads them (etl.sources.base.TenantMappings), loaded once
per batch from the mapping tables."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.models import Status, StatusMapping, Wit, WitMapping, Workflow, WorkflowStep
from etl.sources.base import MappedStatus, MappedWit, TenantMappings


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
