"""Tenants, for admin keys only (403 for any other key: this is about the key's role, not about
another tenant's object). A new tenant gets the default mappings and a first API key."""
from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import AdminDep, SessionDep
from api.schemas.api_keys import ApiKey, ApiKeyCreated
from api.schemas.common import Message
from api.schemas.tenants import Tenant, TenantCreate, TenantCreated
from etl.db import scope_to_all_tenants
from etl.errors import NotFound
from etl.models import ApiKey as ApiKeyRow
from etl.models import Tenant as TenantRow
from etl.tenancy.tenants import TenantExists, create_tenant

log = logging.getLogger(__name__)


def across_tenants(session: SessionDep, admin: AdminDep) -> None:
    """Managing tenants is cross-tenant work: an admin key's requests here see every tenant (as
    pulse_system, still under row-level security; etl.db)."""
    scope_to_all_tenants(session, f"admin key {admin.api_key_id} manages tenants")


router = APIRouter(prefix="/tenants", tags=["tenants"], dependencies=[Depends(across_tenants)],
                   responses={403: {"model": Message, "description": "the key is not an admin key"}})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantCreated,
    summary="Create a tenant with the default mappings; its first API key is in this response only",
    responses={409: {"model": Message, "description": "a tenant with this name exists"}},
)
def create(body: TenantCreate, session: SessionDep, admin: AdminDep) -> TenantCreated:
    name = body.name.strip()
    try:
        tenant, issued = create_tenant(session, name)
        session.commit()
    except ValueError as exc:  # an empty name
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except IntegrityError:  # the same name created concurrently; an existing one is TenantExists (409)
        session.rollback()
        raise TenantExists(f"a tenant named {name!r} already exists") from None
    key = session.get(ApiKeyRow, issued.id)
    log.info("tenant %s (%s) created by admin key %s", tenant.id, tenant.name, admin.api_key_id)
    return TenantCreated(**Tenant.model_validate(tenant).model_dump(),
                         api_key=ApiKeyCreated(**ApiKey.model_validate(key).model_dump(), key=issued.secret))


@router.get("", response_model=list[Tenant], summary="All tenants, oldest first")
def list_tenants(session: SessionDep, admin: AdminDep) -> list[Tenant]:
    return [Tenant.model_validate(t) for t in session.scalars(select(TenantRow).order_by(TenantRow.created_at))]


@router.get("/{tenant_id}", response_model=Tenant, responses={404: {"model": Message}})
def get_tenant(tenant_id: uuid.UUID, session: SessionDep, admin: AdminDep) -> Tenant:
    tenant = session.get(TenantRow, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return Tenant.model_validate(tenant)
