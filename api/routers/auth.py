"""The caller as the API sees it: tenant, key (never its secret), scopes. The console shows it and
disables the actions a read-only key would be refused."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep, SessionDep
from api.schemas.auth import Me
from etl.models import ApiKey, Tenant

router = APIRouter(prefix="/auth", tags=["auth"])


@router.get(
    "/me",
    response_model=Me,
    summary="Who is calling: tenant, API key, scopes",
    description="The tenant and the API key (or JWT) of the Authorization header, with its scopes: a client "
                "disables what a read-only key (`[\"read\"]`) would get 403 for. Never returns the key's secret. "
                "Read scope is enough.",
)
def me(session: SessionDep, principal: PrincipalDep) -> Me:
    tenant = session.get(Tenant, principal.tenant_id)  # the caller's own row, under row-level security
    key = session.get(ApiKey, principal.api_key_id) if principal.api_key_id else None
    return Me(tenant_id=principal.tenant_id, tenant_name=tenant.name, key_id=principal.api_key_id,
              key_name=key.name if key else None, scopes=list(principal.scopes), is_admin=principal.is_admin,
              auth="api_key" if principal.api_key_id else "jwt")
