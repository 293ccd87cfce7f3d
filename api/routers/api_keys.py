"""The caller's tenant's API keys: create (the secret is returned once, only its hash is stored),
list (never the secrets), revoke."""
from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, HTTPException, status

from api.deps import PrincipalDep, SessionDep
from api.schemas.api_keys import ApiKey, ApiKeyCreate, ApiKeyCreated
from api.schemas.common import Message
from etl.errors import NotFound
from etl.models import ApiKey as ApiKeyRow
from etl.tenancy.keys import issue_api_key, revoke_api_key, tenant_api_keys

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key for the tenant (its secret is in this response only)",
    responses={403: {"model": Message, "description": "an admin key was asked for with a key that is not one"}},
)
def create_api_key(body: ApiKeyCreate, session: SessionDep, principal: PrincipalDep) -> ApiKeyCreated:
    if body.is_admin and not principal.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin key can create an admin key")
    issued = issue_api_key(session, principal.tenant_id, name=body.name.strip() or "default", is_admin=body.is_admin,
                           scopes=body.scopes)
    session.commit()
    row = session.get(ApiKeyRow, issued.id)
    log.info("api key %s (%s, scopes %s) created for tenant %s", row.id, row.prefix, ",".join(row.scopes), row.tenant_id)
    return ApiKeyCreated(**ApiKey.model_validate(row).model_dump(), key=issued.secret)


@router.get("", response_model=list[ApiKey], summary="The tenant's API keys, revoked ones included (never the secrets)")
def list_api_keys(session: SessionDep, principal: PrincipalDep) -> list[ApiKey]:
    return [ApiKey.model_validate(row) for row in tenant_api_keys(session, principal.tenant_id)]


@router.delete(
    "/{key_id}",
    response_model=ApiKey,
    summary="Revoke an API key: it is refused (401) from now on",
    description="Only an admin key can revoke an admin key.",
    responses={403: {"model": Message, "description": "an admin key, and the caller is not one"},
               404: {"model": Message}},
)
def revoke(key_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> ApiKey:
    row = revoke_api_key(session, principal.tenant_id, key_id, by_admin=principal.is_admin)  # AdminKeyProtected: 403
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    session.commit()
    log.info("api key %s (%s) of tenant %s revoked", row.id, row.prefix, row.tenant_id)
    return ApiKey.model_validate(row)
