"""Tenants and their API keys. Keys are shown once at creation and stored as SHA-256 hashes."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.errors import Conflict
from etl.mappings.defaults import seed_default_mappings
from etl.models import Tenant
from etl.tenancy.keys import IssuedKey, issue_api_key


class TenantExists(Conflict):
    pass


def create_tenant(session: Session, name: str) -> tuple[Tenant, IssuedKey]:
    """A tenant with the default mappings and a first API key."""
    name = name.strip()
    if not name:
        raise ValueError("tenant name must not be empty")
    if session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
        raise TenantExists(f"a tenant named {name!r} already exists")
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    seed_default_mappings(session, tenant.id)
    return tenant, issue_api_key(session, tenant.id)


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.name == name))






















