"""The tenant's mappings: work item types and their hierarchy levels, statuses, the source names that
map to them, and workflows. The checks are in etl.mappings.rules; a change that can alter work items is
committed first, then the affected items are transformed again from the raw layer by reprocess
jobs (the source is not called), and the response says which jobs started."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import SessionDep, TenantId
from api.schemas.integrations import Message
from api.schemas.mappings import common as s
from etl.db import tenant_sessionmaker
from etl.errors import NotFound
from etl.jobs import reprocess
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.mappings.unmapped import unmapped_values
from etl.models import Status, StatusMapping, Wit, WitHierarchy, WitMapping, Workflow, WorkflowStep

router = APIRouter(tags=["mappings"])

RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IntegrationFilter = Annotated[uuid.UUID | None, Query(description="only the mappings of this integration")]

NOT_FOUND = {404: {"model": Message, "description": "no such row in this tenant"}}
INVALID = {422: {"model": Message, "description": "the body names something that does not exist or breaks a rule; "
                                                  "the message says what to fix"}}
CONFLICT = {409: {"model": Message, "description": "collides with an existing row, which the message names"}}
IN_USE = {409: {"model": Message, "description": "still used; the message says by what"}}


def _row(session: Session, model, tenant_id: uuid.UUID, row_id: int, what: str):
    row = session.scalar(select(model).where(model.id == row_id, model.tenant_id == tenant_id))
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


def _locked_row(session: Session, model, tenant_id: uuid.UUID, row_id: int, what: str):
    """The row to change, after taking the tenant's mapping lock (all checks run under it)."""
    rules.lock_tenant_mappings(session, tenant_id)
    return _row(session, model, tenant_id, row_id, what)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # only a write outside the API can race the checks made under the lock
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT,
                            "the change conflicts with a concurrent change of the same mappings; read them again "
                            "and retry") from None


def _changes_anything(row, changes: dict) -> bool:
    return any(getattr(row, name) != value for name, value in changes.items())


def _commit_and_reprocess(session: Session, tenant_id: uuid.UUID, impact: Impact) -> s.Reprocess:
    """Commit the change, give the connection back, then start the reprocess jobs it calls for."""
    _commit(session)
    session.close()
    outcome = reprocess.reprocess_affected(tenant_sessionmaker(tenant_id), tenant_id, impact)
    return s.Reprocess(started=outcome.started, busy=outcome.busy,
                       failed=[s.ReprocessFailure(**f) for f in outcome.failed])


# --- wit hierarchies ----------------------------------------------------------------------------


@router.get("/wit-hierarchies", response_model=list[s.WitHierarchy], summary="Hierarchy levels, highest first")
def list_wit_hierarchies(session: SessionDep, tenant_id: TenantId) -> list[WitHierarchy]:
    return list(session.scalars(select(WitHierarchy).where(WitHierarchy.tenant_id == tenant_id)
                                .order_by(WitHierarchy.level.desc())))


@router.get("/wit-hierarchies/{hierarchy_id}", response_model=s.WitHierarchy, responses=NOT_FOUND)
def get_wit_hierarchy(hierarchy_id: RowId, session: SessionDep, tenant_id: TenantId) -> WitHierarchy:
    return _row(session, WitHierarchy, tenant_id, hierarchy_id, "wit hierarchy")


@router.post("/wit-hierarchies", status_code=status.HTTP_201_CREATED, response_model=s.WitHierarchy,
             summary="Add a hierarchy level", responses={**CONFLICT})
def create_wit_hierarchy(body: s.WitHierarchyIn, session: SessionDep, tenant_id: TenantId) -> WitHierarchy:
    rules.lock_tenant_mappings(session, tenant_id)
    rules.check_level_free(session, tenant_id, body.level)
    row = WitHierarchy(tenant_id=tenant_id, **body.model_dump())
    session.add(row)
    _commit(session)
    return row


@router.patch("/wit-hierarchies/{hierarchy_id}", response_model=s.WitHierarchy,
              summary="Rename or renumber a hierarchy level (renumbering only while no wit uses it)",
              responses={**NOT_FOUND, **CONFLICT})
def update_wit_hierarchy(hierarchy_id: RowId, body: s.WitHierarchyPatch, session: SessionDep,
                         tenant_id: TenantId) -> WitHierarchy:
    row = _locked_row(session, WitHierarchy, tenant_id, hierarchy_id, "wit hierarchy")
    changes = body.changes()
    if changes.get("level", row.level) != row.level:
        rules.check_level_free(session, tenant_id, changes["level"], exclude_id=row.id)
        rules.check_level_unused(session, row)
    for name, value in changes.items():
        setattr(row, name, value)
    _commit(session)
    return row


@router.delete("/wit-hierarchies/{hierarchy_id}", response_model=s.Deleted, summary="Delete an unused hierarchy level",
               responses={**NOT_FOUND, **IN_USE})
def delete_wit_hierarchy(hierarchy_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.Deleted:
    row = _locked_row(session, WitHierarchy, tenant_id, hierarchy_id, "wit hierarchy")
    rules.check_level_unused(session, row)
    session.delete(row)
    _commit(session)
    return s.Deleted(deleted=hierarchy_id)


# --- wits ---------------------------------------------------------------------------------------


@router.get("/wits", response_model=list[s.Wit], summary="Normalized work item types")
def list_wits(session: SessionDep, tenant_id: TenantId) -> list[Wit]:
    return list(session.scalars(select(Wit).where(Wit.tenant_id == tenant_id)
                                .order_by(Wit.hierarchy_level.desc(), Wit.name)))


@router.get("/wits/{wit_id}", response_model=s.Wit, responses=NOT_FOUND)
def get_wit(wit_id: RowId, session: SessionDep, tenant_id: TenantId) -> Wit:
    return _row(session, Wit, tenant_id, wit_id, "wit")


@router.post("/wits", status_code=status.HTTP_201_CREATED, response_model=s.WitChanged,
             summary="Add a work item type (map source types to it with /wit-mappings)",
             responses={**CONFLICT, **INVALID})
def create_wit(body: s.WitIn, session: SessionDep, tenant_id: TenantId) -> s.WitChanged:
    rules.lock_tenant_mappings(session, tenant_id)
    rules.check_name_free(session, Wit, tenant_id, body.name)
    rules.check_hierarchy_level(session, tenant_id, body.hierarchy_level)
    row = Wit(tenant_id=tenant_id, **body.model_dump())
    session.add(row)
    session.flush()
    out = s.Wit.model_validate(row)
    # Nothing maps to a new wit yet: no work item changes.
    return s.WitChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, Impact()))


@router.patch("/wits/{wit_id}", response_model=s.WitChanged,
              summary="Change a work item type; the work items mapped to it are transformed again",
              responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_wit(wit_id: RowId, body: s.WitPatch, session: SessionDep, tenant_id: TenantId) -> s.WitChanged:
    row = _locked_row(session, Wit, tenant_id, wit_id, "wit")
    changes = body.changes()
    if "name" in changes:
        rules.check_name_free(session, Wit, tenant_id, changes["name"], exclude_id=row.id)
    if "hierarchy_level" in changes:
        rules.check_hierarchy_level(session, tenant_id, changes["hierarchy_level"])
    impact = Impact()
    if _changes_anything(row, {f: v for f, v in changes.items() if f != "description"}):
        impact.add_wit(session, row)
    for name, value in changes.items():
        setattr(row, name, value)
    out = s.Wit.model_validate(row)
    return s.WitChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.delete("/wits/{wit_id}", response_model=s.DeletedWithReprocess,
               summary="Delete a work item type no mapping uses", responses={**NOT_FOUND, **IN_USE})
def delete_wit(wit_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.DeletedWithReprocess:
    row = _locked_row(session, Wit, tenant_id, wit_id, "wit")
    rules.check_wit_unused(session, row)
    session.delete(row)
    # Unused, so no work item was mapped to it.
    return s.DeletedWithReprocess(deleted=wit_id, reprocess=_commit_and_reprocess(session, tenant_id, Impact()))


# --- wit mappings -------------------------------------------------------------------------------


def _wit_mappings(session: Session, tenant_id: uuid.UUID, *where) -> list[s.WitMapping]:
    rows = session.execute(
        select(WitMapping, Wit.name).join(Wit, Wit.id == WitMapping.wit_id)
        .where(WitMapping.tenant_id == tenant_id, *where)
        .order_by(WitMapping.source_name, WitMapping.integration_id.nulls_first(), WitMapping.id)
    ).all()
    return [_wit_mapping_out(row, wit_name) for row, wit_name in rows]


def _wit_mapping_out(row: WitMapping, wit_name: str) -> s.WitMapping:
    return s.WitMapping(id=row.id, source_name=row.source_name, wit_id=row.wit_id, wit_name=wit_name,
                        integration_id=row.integration_id)


@router.get("/wit-mappings", response_model=list[s.WitMapping], summary="Source issue type -> wit")
def list_wit_mappings(
    session: SessionDep, tenant_id: TenantId, integration_id: IntegrationFilter = None,
    wit_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only the mappings to this wit")] = None,
) -> list[s.WitMapping]:
    where = []
    if integration_id is not None:
        where.append(WitMapping.integration_id == integration_id)
    if wit_id is not None:
        where.append(WitMapping.wit_id == wit_id)
    return _wit_mappings(session, tenant_id, *where)


@router.get("/wit-mappings/{mapping_id}", response_model=s.WitMapping, responses=NOT_FOUND)
def get_wit_mapping(mapping_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.WitMapping:
    found = _wit_mappings(session, tenant_id, WitMapping.id == mapping_id)
    if not found:
        raise NotFound(f"wit mapping {mapping_id} not found")
    return found[0]


@router.post("/wit-mappings", status_code=status.HTTP_201_CREATED, response_model=s.WitMappingChanged,
             summary="Map a source issue type to a wit; its work items are transformed again",
             responses={**CONFLICT, **INVALID})
def create_wit_mapping(body: s.WitMappingIn, session: SessionDep, tenant_id: TenantId) -> s.WitMappingChanged:
    rules.lock_tenant_mappings(session, tenant_id)
    wit = rules.get_wit(session, tenant_id, body.wit_id)
    rules.check_integration(session, tenant_id, body.integration_id)
    rules.check_source_name_free(session, WitMapping, tenant_id, body.integration_id, body.source_name)
    row = WitMapping(tenant_id=tenant_id, **body.model_dump())
    session.add(row)
    session.flush()
    impact = Impact()
    impact.add_wit_sources(row.integration_id, row.source_name)
    out = _wit_mapping_out(row, wit.name)
    return s.WitMappingChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.patch("/wit-mappings/{mapping_id}", response_model=s.WitMappingChanged,
              summary="Change a wit mapping; the work items it covered and covers are transformed again",
              responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_wit_mapping(mapping_id: RowId, body: s.WitMappingPatch, session: SessionDep,
                       tenant_id: TenantId) -> s.WitMappingChanged:
    row = _locked_row(session, WitMapping, tenant_id, mapping_id, "wit mapping")
    changes = body.changes()
    new = {f: changes.get(f, getattr(row, f)) for f in ("source_name", "wit_id", "integration_id")}
    wit = rules.get_wit(session, tenant_id, new["wit_id"])
    rules.check_integration(session, tenant_id, new["integration_id"])
    rules.check_source_name_free(session, WitMapping, tenant_id, new["integration_id"], new["source_name"],
                             exclude_id=row.id)
    impact = Impact()
    if _changes_anything(row, changes):
        impact.add_wit_sources(row.integration_id, row.source_name)
        impact.add_wit_sources(new["integration_id"], new["source_name"])
    for name, value in changes.items():
        setattr(row, name, value)
    out = _wit_mapping_out(row, wit.name)
    return s.WitMappingChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.delete("/wit-mappings/{mapping_id}", response_model=s.DeletedWithReprocess,
               summary="Delete a wit mapping; its work items are transformed again", responses=NOT_FOUND)
def delete_wit_mapping(mapping_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.DeletedWithReprocess:
    row = _locked_row(session, WitMapping, tenant_id, mapping_id, "wit mapping")
    impact = Impact()
    impact.add_wit_sources(row.integration_id, row.source_name)
    session.delete(row)
    return s.DeletedWithReprocess(deleted=mapping_id, reprocess=_commit_and_reprocess(session, tenant_id, impact))


# --- statuses -----------------------------------------------------------------------------------


@router.get("/statuses", response_model=list[s.Status], summary="Normalized statuses with their categories")
def list_statuses(session: SessionDep, tenant_id: TenantId) -> list[Status]:
    return list(session.scalars(select(Status).where(Status.tenant_id == tenant_id).order_by(Status.name)))


@router.get("/statuses/{status_id}", response_model=s.Status, responses=NOT_FOUND)
def get_status(status_id: RowId, session: SessionDep, tenant_id: TenantId) -> Status:
    return _row(session, Status, tenant_id, status_id, "status")


@router.post("/statuses", status_code=status.HTTP_201_CREATED, response_model=s.StatusChanged,
             summary="Add a status (map source statuses to it with /status-mappings)", responses=CONFLICT)
def create_status(body: s.StatusIn, session: SessionDep, tenant_id: TenantId) -> s.StatusChanged:
    rules.lock_tenant_mappings(session, tenant_id)
    rules.check_name_free(session, Status, tenant_id, body.name)
    row = Status(tenant_id=tenant_id, **body.model_dump())
    session.add(row)
    session.flush()
    out = s.Status.model_validate(row)
    # Nothing maps to a new status yet: no work item changes.
    return s.StatusChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, Impact()))


@router.patch("/statuses/{status_id}", response_model=s.StatusChanged,
              summary="Rename a status or change its category; the work items mapped to it are transformed again",
              responses={**NOT_FOUND, **CONFLICT})
def update_status(status_id: RowId, body: s.StatusPatch, session: SessionDep, tenant_id: TenantId) -> s.StatusChanged:
    row = _locked_row(session, Status, tenant_id, status_id, "status")
    changes = body.changes()
    if "name" in changes:
        rules.check_name_free(session, Status, tenant_id, changes["name"], exclude_id=row.id)
    impact = Impact()
    if _changes_anything(row, changes):
        impact.add_status(session, row)
    for name, value in changes.items():
        setattr(row, name, value)
    out = s.Status.model_validate(row)
    return s.StatusChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.delete("/statuses/{status_id}", response_model=s.DeletedWithReprocess,
               summary="Delete a status no mapping or workflow uses", responses={**NOT_FOUND, **IN_USE})
def delete_status(status_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.DeletedWithReprocess:
    row = _locked_row(session, Status, tenant_id, status_id, "status")
    rules.check_status_unused(session, row)
    session.delete(row)
    # Unused, so no work item was mapped to it.
    return s.DeletedWithReprocess(deleted=status_id, reprocess=_commit_and_reprocess(session, tenant_id, Impact()))


# --- status mappings ----------------------------------------------------------------------------


def _status_mappings(session: Session, tenant_id: uuid.UUID, *where) -> list[s.StatusMapping]:
    rows = session.execute(
        select(StatusMapping, Status).join(Status, Status.id == StatusMapping.status_id)
        .where(StatusMapping.tenant_id == tenant_id, *where)
        .order_by(StatusMapping.source_name, StatusMapping.integration_id.nulls_first(), StatusMapping.id)
    ).all()
    return [_status_mapping_out(row, target) for row, target in rows]


def _status_mapping_out(row: StatusMapping, target: Status) -> s.StatusMapping:
    return s.StatusMapping(id=row.id, source_name=row.source_name, status_id=row.status_id, status_name=target.name,
                           status_category=target.category, integration_id=row.integration_id)


@router.get("/status-mappings", response_model=list[s.StatusMapping], summary="Source status -> status")
def list_status_mappings(
    session: SessionDep, tenant_id: TenantId, integration_id: IntegrationFilter = None,
    status_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only the mappings to this status")] = None,
) -> list[s.StatusMapping]:
    where = []
    if integration_id is not None:
        where.append(StatusMapping.integration_id == integration_id)
    if status_id is not None:
        where.append(StatusMapping.status_id == status_id)
    return _status_mappings(session, tenant_id, *where)


@router.get("/status-mappings/{mapping_id}", response_model=s.StatusMapping, responses=NOT_FOUND)
def get_status_mapping(mapping_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.StatusMapping:
    found = _status_mappings(session, tenant_id, StatusMapping.id == mapping_id)
    if not found:
        raise NotFound(f"status mapping {mapping_id} not found")
    return found[0]


@router.post("/status-mappings", status_code=status.HTTP_201_CREATED, response_model=s.StatusMappingChanged,
             summary="Map a source status to a status; the work items in it (or once in it) are transformed again",
             responses={**CONFLICT, **INVALID})
def create_status_mapping(body: s.StatusMappingIn, session: SessionDep,
                          tenant_id: TenantId) -> s.StatusMappingChanged:
    rules.lock_tenant_mappings(session, tenant_id)
    target = rules.get_status(session, tenant_id, body.status_id)
    rules.check_integration(session, tenant_id, body.integration_id)
    rules.check_source_name_free(session, StatusMapping, tenant_id, body.integration_id, body.source_name)
    row = StatusMapping(tenant_id=tenant_id, **body.model_dump())
    session.add(row)
    session.flush()
    impact = Impact()
    impact.add_status_sources(row.integration_id, row.source_name)
    out = _status_mapping_out(row, target)
    return s.StatusMappingChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.patch("/status-mappings/{mapping_id}", response_model=s.StatusMappingChanged,
              summary="Change a status mapping; the work items it covered and covers are transformed again",
              responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_status_mapping(mapping_id: RowId, body: s.StatusMappingPatch, session: SessionDep,
                          tenant_id: TenantId) -> s.StatusMappingChanged:
    row = _locked_row(session, StatusMapping, tenant_id, mapping_id, "status mapping")
    changes = body.changes()
    new = {f: changes.get(f, getattr(row, f)) for f in ("source_name", "status_id", "integration_id")}
    target = rules.get_status(session, tenant_id, new["status_id"])
    rules.check_integration(session, tenant_id, new["integration_id"])
    rules.check_source_name_free(session, StatusMapping, tenant_id, new["integration_id"], new["source_name"],
                             exclude_id=row.id)
    impact = Impact()
    if _changes_anything(row, changes):
        impact.add_status_sources(row.integration_id, row.source_name)
        impact.add_status_sources(new["integration_id"], new["source_name"])
    for name, value in changes.items():
        setattr(row, name, value)
    out = _status_mapping_out(row, target)
    return s.StatusMappingChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.delete("/status-mappings/{mapping_id}", response_model=s.DeletedWithReprocess,
               summary="Delete a status mapping; its work items are transformed again", responses=NOT_FOUND)
def delete_status_mapping(mapping_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.DeletedWithReprocess:
    row = _locked_row(session, StatusMapping, tenant_id, mapping_id, "status mapping")
    impact = Impact()
    impact.add_status_sources(row.integration_id, row.source_name)
    session.delete(row)
    return s.DeletedWithReprocess(deleted=mapping_id, reprocess=_commit_and_reprocess(session, tenant_id, impact))


# --- workflows ----------------------------------------------------------------------------------


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
def list_workflows(session: SessionDep, tenant_id: TenantId,
                   integration_id: IntegrationFilter = None) -> list[s.Workflow]:
    return _workflows(session, tenant_id, *([Workflow.integration_id == integration_id] if integration_id else []))


@router.get("/workflows/{workflow_id}", response_model=s.Workflow, responses=NOT_FOUND)
def get_workflow(workflow_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.Workflow:
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
    return s.WorkflowChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.patch("/workflows/{workflow_id}", response_model=s.WorkflowChanged,
              summary="Rename a workflow, move it to another integration or replace its steps; cycle times are "
                      "computed again", responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_workflow(workflow_id: RowId, body: s.WorkflowPatch, session: SessionDep,
                    tenant_id: TenantId) -> s.WorkflowChanged:
    row = _locked_row(session, Workflow, tenant_id, workflow_id, "workflow")
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
    return s.WorkflowChanged(**out.model_dump(), reprocess=_commit_and_reprocess(session, tenant_id, impact))


@router.delete("/workflows/{workflow_id}", response_model=s.DeletedWithReprocess,
               summary="Delete a workflow; its integrations fall back to the tenant-wide one (or get no cycle "
                       "times), and are computed again", responses=NOT_FOUND)
def delete_workflow(workflow_id: RowId, session: SessionDep, tenant_id: TenantId) -> s.DeletedWithReprocess:
    row = _locked_row(session, Workflow, tenant_id, workflow_id, "workflow")
    impact = Impact(everything={row.integration_id})
    session.delete(row)
    return s.DeletedWithReprocess(deleted=workflow_id, reprocess=_commit_and_reprocess(session, tenant_id, impact))


# --- unmapped -----------------------------------------------------------------------------------


@router.get("/mappings/unmapped", response_model=s.Unmapped,
            summary="Issue types and statuses in the raw Jira data that no mapping covers, with counts")
def unmapped(
    session: SessionDep, tenant_id: TenantId,
    integration_id: Annotated[uuid.UUID | None, Query(description="only this integration's raw data")] = None,
) -> s.Unmapped:
    return s.Unmapped.model_validate(unmapped_values(session, tenant_id, integration_id))
