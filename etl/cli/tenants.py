"""`etl tenants`: create and list tenants; `resolve_tenant` finds one by name or id for the other
command groups."""
from __future__ import annotations

import uuid

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.cli.output import CliError, emit, json_option, operator_session, table
from etl.models import Tenant
from etl.tenancy.tenants import TenantExists, create_tenant, tenant_by_name


@click.group()
def tenants() -> None:
    """Tenants and their API keys."""


@tenants.command("create")
@click.argument("name")
@json_option
def tenants_create(name: str, as_json: bool) -> int:
    """Create a tenant (with the default mappings) and print its first API key, shown only once."""
    try:
        with operator_session() as s:
            tenant, key = create_tenant(s, name)
            data = {"tenant_id": tenant.id, "name": tenant.name, "api_key_id": key.id, "api_key": key.secret}
    except TenantExists as exc:
        raise CliError(f"{exc}; choose another name (`etl tenants list` shows the existing ones)") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    emit(as_json, data, lambda: (
        f"tenant {data['name']} created\n"
        f"  id       {data['tenant_id']}\n"
        f"  API key  {data['api_key']}\n"
        "The API key is shown only this once: store it now."
    ))
    return 0


@tenants.command("list")
@json_option
def tenants_list(as_json: bool) -> int:
    """List tenants."""
    with operator_session() as s:
        rows = [{"tenant_id": t.id, "name": t.name, "created_at": t.created_at} for t in _all_tenants(s)]
    emit(as_json, {"tenants": rows}, lambda: table(["ID", "NAME"], [[r["tenant_id"], r["name"]] for r in rows])
         if rows else "no tenants yet")
    return 0


def _all_tenants(session: Session) -> list[Tenant]:
    """Every tenant, oldest first."""
    return list(session.scalars(select(Tenant).order_by(Tenant.created_at)))


def resolve_tenant(session: Session, ref: str) -> Tenant:
    """A tenant by name (or by id)."""
    tenant = tenant_by_name(session, ref)
    if tenant is None:
        try:
            tenant = session.get(Tenant, uuid.UUID(ref))
        except ValueError:
            tenant = None
    if tenant is None:
        raise CliError(f"no tenant named {ref!r}; create it with `etl tenants create {ref}`")
    return tenant
