"""Source issue type -> wit, tenant-wide or for one integration; a change re-transforms the
work items it covered and covers."""
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
from api.schemas.mappings import wit_mappings as s
from api.schemas.mappings.common import DeletedWithReprocess
from etl.errors import NotFound
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.models import Wit, WitMapping

router = APIRouter(tags=["mappings"])


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
    session: ReadSessionDep, tenant_id: TenantId, integration_id: IntegrationFilter = None,
    wit_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only the mappings to this wit")] = None,
) -> list[s.WitMapping]:
    where = []
    if integration_id is not None:
        where.append(WitMapping.integration_id == integration_id)
    if wit_id is not None:
        where.append(WitMapping.wit_id == wit_id)
    return _wit_mappings(session, tenant_id, *where)


@router.get("/wit-mappings/{mapping_id}", response_model=s.WitMapping, responses=NOT_FOUND)
def get_wit_mapping(mapping_id: RowId, session: ReadSessionDep, tenant_id: TenantId) -> s.WitMapping:
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
    return s.WitMappingChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.patch("/wit-mappings/{mapping_id}", response_model=s.WitMappingChanged,
              summary="Change a wit mapping; the work items it covered and covers are transformed again",
              responses={**NOT_FOUND, **CONFLICT, **INVALID})
def update_wit_mapping(mapping_id: RowId, body: s.WitMappingPatch, session: SessionDep,
                       tenant_id: TenantId) -> s.WitMappingChanged:
    row = locked_row(session, WitMapping, tenant_id, mapping_id, "wit mapping")
    changes = body.changes()
    new = {f: changes.get(f, getattr(row, f)) for f in ("source_name", "wit_id", "integration_id")}
    wit = rules.get_wit(session, tenant_id, new["wit_id"])
    rules.check_integration(session, tenant_id, new["integration_id"])
    rules.check_source_name_free(session, WitMapping, tenant_id, new["integration_id"], new["source_name"],
                             exclude_id=row.id)
    impact = Impact()
    if changes_anything(row, changes):
        impact.add_wit_sources(row.integration_id, row.source_name)
        impact.add_wit_sources(new["integration_id"], new["source_name"])
    for name, value in changes.items():
        setattr(row, name, value)
    out = _wit_mapping_out(row, wit.name)
    return s.WitMappingChanged(**out.model_dump(), reprocess=commit_and_reprocess(session, tenant_id, impact))


@router.delete("/wit-mappings/{mapping_id}", response_model=DeletedWithReprocess,
               summary="Delete a wit mapping; its work items are transformed again", responses=NOT_FOUND)
def delete_wit_mapping(mapping_id: RowId, session: SessionDep, tenant_id: TenantId) -> DeletedWithReprocess:
    row = locked_row(session, WitMapping, tenant_id, mapping_id, "wit mapping")
    impact = Impact()
    impact.add_wit_sources(row.integration_id, row.source_name)
    session.delete(row)
    return DeletedWithReprocess(deleted=mapping_id, reprocess=commit_and_reprocess(session, tenant_id, impact))
