"""Normalized work item types; a change re-transforms the work items mapped to one."""
from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from api.deps import ReadSessionDep, SessionDep, TenantId
from api.routers.mappings.common import (
    CONFLICT,
    IN_USE,
    INVALID,
    NOT_FOUND,
    RowId,
    changes_anything,
    commit_and_reprocess,
    find_row,
    locked_row,
)
from api.schemas.mappings import wits as s
from api.schemas.mappings.common import DeletedWithReprocess
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.models import Wit

router = APIRouter(tags=["mappings"])


@router.get("/wits", response_model=list[s.Wit], summary="Normalized work item types")
def list_wits(session: ReadSessionDep, tenant_id: TenantId) -> list[Wit]:
    return list(session.scalars(select(Wit).where(Wit.tenant_id == tenant_id)
                                .order_by(Wit.hierarchy_level.desc(), Wit.name)))


@router.get("/wits/{wit_id}", response_model=s.Wit, responses=NOT_FOUND)
def get_wit(wit_id: RowId, session: ReadSessionDep, tenant_id: TenantId) -> Wit:
    return find_row(session, Wit, tenant_id, wit_id, "wit")


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
    return s.WitChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, Impact()))


@router.patch("/wits/{wit_id}", response_model=s.WitChanged,
              summary="Change a work item type; the work items mapped to it are transformed again",
              responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_wit(wit_id: RowId, body: s.WitPatch, session: SessionDep, tenant_id: TenantId) -> s.WitChanged:
    row = locked_row(session, Wit, tenant_id, wit_id, "wit")
    changes = body.changes()
    if "name" in changes:
        rules.check_name_free(session, Wit, tenant_id, changes["name"], exclude_id=row.id)
    if "hierarchy_level" in changes:
        rules.check_hierarchy_level(session, tenant_id, changes["hierarchy_level"])
    impact = Impact()
    if changes_anything(row, {f: v for f, v in changes.items() if f != "description"}):
        impact.add_wit(session, row)
    for name, value in changes.items():
        setattr(row, name, value)
    out = s.Wit.model_validate(row)
    return s.WitChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.delete("/wits/{wit_id}", response_model=DeletedWithReprocess,
               summary="Delete a work item type no mapping uses", responses={**NOT_FOUND, **IN_USE})
def delete_wit(wit_id: RowId, session: SessionDep, tenant_id: TenantId) -> DeletedWithReprocess:
    row = locked_row(session, Wit, tenant_id, wit_id, "wit")
    rules.check_wit_unused(session, row)
    session.delete(row)
    # Unused, so no work item was mapped to it.
    return DeletedWithReprocess(deleted=wit_id, reprocess=commit_and_reprocess(session, tenant_id, Impact()))
