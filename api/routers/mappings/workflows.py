"""Workflows (ordered steps, commitment point, done step) that cycle times are measured on,
tenant-wide or for one integration; a change computes them again."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.deps import ReadSessionDep, SessionDep, TenantId
from api.routers.mappings.common import (
    CONFLICT,
    INVALID,
    NOT_FOUND,
    IntegrationFilter,
    RowId,
    commit_and_reprocess,
    locked_row,
)
from api.schemas.mappings import workflows as s
from api.schemas.mappings.common import DeletedWithReprocess
from etl.errors import NotFound
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.models import Status, Workflow, WorkflowStep

router = APIRouter(tags=["mappings"])


def _workflows(session: Session, tenant_id: uuid.UUID, *where) -> list[s.Workflow]:
    workflows = list(session.scalars(select(Workflow).where(Workflow.tenant_id == tenant_id, *where)
                                     .order_by(Workflow.integration_id.nulls_first(), Workflow.id)))
    steps: dict[int, list[s.WorkflowStep]] = {w.id: [] for w in workflows}
    if workflows:
        rows = session.execute(
            select(WorkflowStep, Status.name).join(Status, Status.id == WorkflowStep.status_id)
            .where(WorkflowStep.tenant_id == tenant_id, WorkflowStep.workflow_id.in_(steps))
            .order_by(WorkflowStep.workflow_id, WorkflowStep.position)
        ).all()
        for step, status_name in rows:
            steps[step.workflow_id].append(s.WorkflowStep(
                position=step.position, status_id=step.status_id, status_name=status_name,
                is_commitment_point=step.is_commitment_point, is_done=step.is_done))
    return [s.Workflow(id=w.id, name=w.name, integration_id=w.integration_id, steps=steps[w.id]) for w in workflows]


def _set_steps(session: Session, workflow: Workflow, steps: list[s.WorkflowStepIn]) -> None:
    """Replace the steps (deleted in SQL first: the unit of work would insert before deleting and trip
    the unique keys on position and status)."""
    rules.check_step_statuses(session, workflow.tenant_id, [step.status_id for step in steps])
    session.execute(delete(WorkflowStep).where(WorkflowStep.workflow_id == workflow.id))
    session.add_all(WorkflowStep(tenant_id=workflow.tenant_id, workflow_id=workflow.id, position=n, **step.model_dump())
                    for n, step in enumerate(steps))


@router.get("/workflows", response_model=list[s.Workflow],
            summary="Workflows (ordered steps, commitment point, done step) that cycle times are measured on")
def list_workflows(session: ReadSessionDep, tenant_id: TenantId,
                   integration_id: IntegrationFilter = None) -> list[s.Workflow]:
    return _workflows(session, tenant_id, *([Workflow.integration_id == integration_id] if integration_id else []))


@router.get("/workflows/{workflow_id}", response_model=s.Workflow, responses=NOT_FOUND)
def get_workflow(workflow_id: RowId, session: ReadSessionDep, tenant_id: TenantId) -> s.Workflow:
    found = _workflows(session, tenant_id, Workflow.id == workflow_id)
    if not found:
        raise NotFound(f"workflow {workflow_id} not found")
    return found[0]


@router.post("/workflows", status_code=status.HTTP_201_CREATED, response_model=s.WorkflowChanged,
             summary="Add a workflow, tenant-wide or for one integration; cycle times are computed again",
             responses={**CONFLICT, **INVALID})
def create_workflow(body: s.WorkflowIn, session: SessionDep, tenant_id: TenantId) -> s.WorkflowChanged:
    rules.lock_tenant_mappings(session, tenant_id)
    rules.check_integration(session, tenant_id, body.integration_id)
    rules.check_workflow_free(session, tenant_id, body.integration_id)
    row = Workflow(tenant_id=tenant_id, name=body.name, integration_id=body.integration_id)
    session.add(row)
    session.flush()
    _set_steps(session, row, body.steps)
    session.flush()
    impact = Impact(everything={row.integration_id})
    out = _workflows(session, tenant_id, Workflow.id == row.id)[0]
    return s.WorkflowChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.patch("/workflows/{workflow_id}", response_model=s.WorkflowChanged,
              summary="Rename a workflow, move it to another integration or replace its steps; cycle times are "
                      "computed again", responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_workflow(workflow_id: RowId, body: s.WorkflowPatch, session: SessionDep,
                    tenant_id: TenantId) -> s.WorkflowChanged:
    row = locked_row(session, Workflow, tenant_id, workflow_id, "workflow")
    changes = body.changes()
    impact = Impact()
    if "integration_id" in changes and changes["integration_id"] != row.integration_id:
        rules.check_integration(session, tenant_id, changes["integration_id"])
        rules.check_workflow_free(session, tenant_id, changes["integration_id"], exclude_id=row.id)
        impact.everything |= {row.integration_id, changes["integration_id"]}
        row.integration_id = changes["integration_id"]
    if "steps" in changes:
        _set_steps(session, row, body.steps)
        impact.everything.add(row.integration_id)
    if "name" in changes:
        row.name = changes["name"]
    session.flush()
    out = _workflows(session, tenant_id, Workflow.id == row.id)[0]
    return s.WorkflowChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.delete("/workflows/{workflow_id}", response_model=DeletedWithReprocess,
               summary="Delete a workflow; its integrations fall back to the tenant-wide one (or get no cycle "
                       "times), and are computed again", responses=NOT_FOUND)
def delete_workflow(workflow_id: RowId, session: SessionDep, tenant_id: TenantId) -> DeletedWithReprocess:
    row = locked_row(session, Workflow, tenant_id, workflow_id, "workflow")
    impact = Impact(everything={row.integration_id})
    session.delete(row)
    return DeletedWithReprocess(deleted=workflow_id, reprocess=commit_and_reprocess(session, tenant_id, impact))
