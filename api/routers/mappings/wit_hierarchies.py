"""Hierarchy levels of work item types (2 Initiative > 1 Epic > 0 Story > -1 Sub-task)."""
from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from api.deps import ReadSessionDep, SessionDep, TenantId
from api.routers.mappings.common import (
    CONFLICT,
    IN_USE,
    NOT_FOUND,
    RowId,
    commit,
    find_row,
    locked_row,
)
from api.schemas.mappings import wit_hierarchies as s
from api.schemas.mappings.common import Deleted
from etl.mappings import rules
from etl.models import WitHierarchy

router = APIRouter(tags=["mappings"])


@router.get("/wit-hierarchies", response_model=list[s.WitHierarchy], summary="Hierarchy levels, highest first")
def list_wit_hierarchies(session: ReadSessionDep, tenant_id: TenantId) -> list[WitHierarchy]:
    return list(session.scalars(select(WitHierarchy).where(WitHierarchy.tenant_id == tenant_id)
                                .order_by(WitHierarchy.level.desc())))


@router.get("/wit-hierarchies/{hierarchy_id}", response_model=s.WitHierarchy, responses=NOT_FOUND)
def get_wit_hierarchy(hierarchy_id: RowId, session: ReadSessionDep, tenant_id: TenantId) -> WitHierarchy:
    return find_row(session, WitHierarchy, tenant_id, hierarchy_id, "wit hierarchy")


@router.post("/wit-hierarchies", status_code=status.HTTP_201_CREATED, response_model=s.WitHierarchy,
             summary="Add a hierarchy level", responses={**CONFLICT})
def create_wit_hierarchy(body: s.WitHierarchyIn, session: SessionDep, tenant_id: TenantId) -> WitHierarchy:
    rules.lock_tenant_mappings(session, tenant_id)
    rules.check_level_free(session, tenant_id, body.level)
    row = WitHierarchy(tenant_id=tenant_id, **body.model_dump())
    session.add(row)
    commit(session)
    return row


@router.patch("/wit-hierarchies/{hierarchy_id}", response_model=s.WitHierarchy,
              summary="Rename or renumber a hierarchy level (renumbering only while no wit uses it)",
              responses={**NOT_FOUND, **CONFLICT})
def update_wit_hierarchy(hierarchy_id: RowId, body: s.WitHierarchyPatch, session: SessionDep,
                         tenant_id: TenantId) -> WitHierarchy:
    row = locked_row(session, WitHierarchy, tenant_id, hierarchy_id, "wit hierarchy")
    changes = body.changes()
    if changes.get("level", row.level) != row.level:
        rules.check_level_free(session, tenant_id, changes["level"], exclude_id=row.id)
        rules.check_level_unused(session, row)
    for name, value in changes.items():
        setattr(row, name, value)
    commit(session)
    return row


@router.delete("/wit-hierarchies/{hierarchy_id}", response_model=Deleted, summary="Delete an unused hierarchy level",
               responses={**NOT_FOUND, **IN_USE})
def delete_wit_hierarchy(hierarchy_id: RowId, session: SessionDep, tenant_id: TenantId) -> Deleted:
    row = locked_row(session, WitHierarchy, tenant_id, hierarchy_id, "wit hierarchy")
    rules.check_level_unused(session, row)
    session.delete(row)
    commit(session)
    return Deleted(deleted=hierarchy_id)
