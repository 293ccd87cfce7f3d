"""Source status -> status, tenant-wide or for one integration; a change re-transforms the work
items in (or once in) the statuses it covered and covers."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import ReadSessionDep, SessionDep, TenantId
from api.routers.mappings.common import (
    CONFLICT,
    INVALID,
    NOT_FOUND,
    IntegrationFilter,
    RowId,
    changes_anything,
    commit_and_reprocess,
    locked_row,
)
from api.schemas.mappings import status_mappings as s
from api.schemas.mappings.common import DeletedWithReprocess
from etl.errors import NotFound
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.models import Status, StatusMapping

router = APIRouter(tags=["mappings"])


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
    session: ReadSessionDep, tenant_id: TenantId, integration_id: IntegrationFilter = None,
    status_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only the mappings to this status")] = None,
) -> list[s.StatusMapping]:
    where = []
    if integration_id is not None:
        where.append(StatusMapping.integration_id == integration_id)
    if status_id is not None:
        where.append(StatusMapping.status_id == status_id)
    return _status_mappings(session, tenant_id, *where)


@router.get("/status-mappings/{mapping_id}", response_model=s.StatusMapping, responses=NOT_FOUND)
def get_status_mapping(mapping_id: RowId, session: ReadSessionDep, tenant_id: TenantId) -> s.StatusMapping:
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
    return s.StatusMappingChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.patch("/status-mappings/{mapping_id}", response_model=s.StatusMappingChanged,
              summary="Change a status mapping; the work items it covered and covers are transformed again",
              responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_status_mapping(mapping_id: RowId, body: s.StatusMappingPatch, session: SessionDep,
                          tenant_id: TenantId) -> s.StatusMappingChanged:
    row = locked_row(session, StatusMapping, tenant_id, mapping_id, "status mapping")
    changes = body.changes()
    new = {f: changes.get(f, getattr(row, f)) for f in ("source_name", "status_id", "integration_id")}
    target = rules.get_status(session, tenant_id, new["status_id"])
    rules.check_integration(session, tenant_id, new["integration_id"])
    rules.check_source_name_free(session, StatusMapping, tenant_id, new["integration_id"], new["source_name"],
                             exclude_id=row.id)
    impact = Impact()
    if changes_anything(row, changes):
        impact.add_status_sources(row.integration_id, row.source_name)
        impact.add_status_sources(new["integration_id"], new["source_name"])
    for name, value in changes.items():
        setattr(row, name, value)
    out = _status_mapping_out(row, target)
    return s.StatusMappingChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.delete("/status-mappings/{mapping_id}", response_model=DeletedWithReprocess,
               summary="Delete a status mapping; its work items are transformed again", responses=NOT_FOUND)
def delete_status_mapping(mapping_id: RowId, session: SessionDep, tenant_id: TenantId) -> DeletedWithReprocess:
    row = locked_row(session, StatusMapping, tenant_id, mapping_id, "status mapping")
    impact = Impact()
    impact.add_status_sources(row.integration_id, row.source_name)
    session.delete(row)
    return DeletedWithReprocess(deleted=mapping_id, reprocess=commit_and_reprocess(session, tenant_id, impact))
