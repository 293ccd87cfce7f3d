"""Normalized statuses with their categories; a change re-transforms the work items mapped to one."""
from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from api.deps import ReadSessionDep, SessionDep, TenantId
from api.routers.mappings.common import (
    CONFLICT,
    IN_USE,
    NOT_FOUND,
    RowId,
    changes_anything,
    commit_and_reprocess,
    find_row,
    locked_row,
)
from api.schemas.mappings import statuses as s
from api.schemas.mappings.common import DeletedWithReprocess
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.models import Status

router = APIRouter(tags=["mappings"])


@router.get("/statuses", response_model=list[s.Status], summary="Normalized statuses with their categories")
def list_statuses(session: ReadSessionDep, tenant_id: TenantId) -> list[Status]:
    return list(session.scalars(select(Status).where(Status.tenant_id == tenant_id).order_by(Status.name)))


@router.get("/statuses/{status_id}", response_model=s.Status, responses=NOT_FOUND)
def get_status(status_id: RowId, session: ReadSessionDep, tenant_id: TenantId) -> Status:
    return find_row(session, Status, tenant_id, status_id, "status")


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
    return s.StatusChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, Impact()))


@router.patch("/statuses/{status_id}", response_model=s.StatusChanged,
              summary="Rename a status or change its category; the work items mapped to it are transformed again",
              responses={**NOT_FOUND, **CONFLICT})
def update_status(status_id: RowId, body: s.StatusPatch, session: SessionDep, tenant_id: TenantId) -> s.StatusChanged:
    row = locked_row(session, Status, tenant_id, status_id, "status")
    changes = body.changes()
    if "name" in changes:
        rules.check_name_free(session, Status, tenant_id, changes["name"], exclude_id=row.id)
    impact = Impact()
    if changes_anything(row, changes):
        impact.add_status(session, row)
    for name, value in changes.items():
        setattr(row, name, value)
    out = s.Status.model_validate(row)
    return s.StatusChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.delete("/statuses/{status_id}", response_model=DeletedWithReprocess,
               summary="Delete a status no mapping or workflow uses", responses={**NOT_FOUND, **IN_USE})
def delete_status(status_id: RowId, session: SessionDep, tenant_id: TenantId) -> DeletedWithReprocess:
    row = locked_row(session, Status, tenant_id, status_id, "status")
    rules.check_status_unused(session, row)
    session.delete(row)
    # Unused, so no work item was mapped to it.
    return DeletedWithReprocess(deleted=status_id, reprocess=commit_and_reprocess(session, tenant_id, Impact()))
