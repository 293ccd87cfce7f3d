"""`etl keys`: a tenant's API keys."""
from __future__ import annotations

from datetime import timezone

import click

from etl.cli.output import CliError, emit, json_option, operator_session, parse_uuid, table
from etl.cli.tenants import resolve_tenant
from etl.models import ApiKey
from etl.tenancy.keys import READ_WRITE, SCOPE_READ, issue_api_key, revoke_api_key, tenant_api_keys


@click.group()
def keys() -> None:
    """A tenant's API keys (stored hashed: a secret is shown once, at creation)."""


def _key_dict(key) -> dict:
    return {"api_key_id": key.id, "name": key.name, "prefix": key.prefix, "is_admin": key.is_admin,
            "scopes": list(key.scopes), "created_at": key.created_at, "revoked_at": key.revoked_at}


@keys.command("create")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@click.option("--name", default="default", show_default=True, help="What the key is for.")
@click.option("--admin", "is_admin", is_flag=True, help="An admin key: it also manages tenants through the API.")
@click.option("--read-only", "read_only", is_flag=True,
              help="Scope read: GET requests only; the API refuses anything that changes data (403).")
@json_option
def keys_create(tenant_ref: str, name: str, is_admin: bool, read_only: bool, as_json: bool) -> int:
    """Create an API key and print its secret, shown only this once."""
    if not name.strip():
        raise CliError("--name must not be empty", code=2)
    if is_admin and read_only:
        raise CliError("--admin and --read-only exclude each other: an admin key manages tenants, which needs "
                       "the write scope", code=2)
    with operator_session() as s:
        tenant = resolve_tenant(s, tenant_ref)
        issued = issue_api_key(s, tenant.id, name=name.strip(), is_admin=is_admin,
                               scopes=[SCOPE_READ] if read_only else READ_WRITE)
        data = {**_key_dict(s.get(ApiKey, issued.id)), "tenant_id": tenant.id, "tenant": tenant.name,
                "api_key": issued.secret}
    emit(as_json, data, lambda: (
        f"{'admin ' if is_admin else ''}{'read-only ' if read_only else ''}API key {data['name']} created for "
        f"tenant {data['tenant']}\n"
        f"  id       {data['api_key_id']}\n"
        f"  API key  {data['api_key']}\n"
        "The API key is shown only this once: store it now."
    ))
    return 0


@keys.command("list")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@json_option
def keys_list(tenant_ref: str, as_json: bool) -> int:
    """List a tenant's API keys, revoked ones included (never the secrets)."""
    with operator_session() as s:
        tenant = resolve_tenant(s, tenant_ref)
        rows = [_key_dict(k) for k in tenant_api_keys(s, tenant.id)]

    def text() -> str:
        if not rows:
            return f"tenant {tenant_ref} has no API keys"
        def utc(at):
            return f"{at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}" if at else "-"

        return table(["ID", "PREFIX", "NAME", "ROLE", "SCOPES", "CREATED (UTC)", "REVOKED (UTC)"],
                     [[r["api_key_id"], r["prefix"], r["name"], "admin" if r["is_admin"] else "tenant",
                       ",".join(r["scopes"]), utc(r["created_at"]), utc(r["revoked_at"])] for r in rows])

    emit(as_json, {"api_keys": rows}, text)
    return 0


@keys.command("revoke")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@click.argument("key_id")
@json_option
def keys_revoke(tenant_ref: str, key_id: str, as_json: bool) -> int:
    """Revoke one of a tenant's API keys: the API refuses it (401) from now on."""
    kid = parse_uuid(key_id, "API key")
    with operator_session() as s:
        tenant = resolve_tenant(s, tenant_ref)
        key = revoke_api_key(s, tenant.id, kid, by_admin=True)  # the operator
        if key is None:
            raise CliError(f"tenant {tenant.name} has no API key {kid}; `etl keys list --tenant {tenant.name}` "
                           "shows its keys")
        data = {**_key_dict(key), "tenant_id": tenant.id, "tenant": tenant.name}
    emit(as_json, data, f"API key {data['api_key_id']} ({data['prefix']}...) of tenant {data['tenant']} revoked")
    return 0
