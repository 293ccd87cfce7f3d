"""The consistency audit of an integration (etl.ops.audit): the latest result, and asking for one.
The audit itself runs on the workers (task etl.control.audit); the route records it and enqueues."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from sqlalchemy import select

from api.deps import SessionDep, TenantId
from api.schemas.audits import Audit, AuditRequest, AuditStarted
from api.schemas.common import Message
from etl.db import get_sessionmaker
from etl.errors import NotFound
from etl.models import Integration
from etl.ops.audit_runs import audit_dict, latest_audit, start_audit

router = APIRouter(prefix="/integrations", tags=["audits"])


@router.get(
    "/{integration_id}/audit",
    response_model=Audit,
    summary="The integration's latest consistency audit (raw objects against final rows)",
    responses={404: {"model": Message, "description": "no such integration, or it was never audited"}},
)
def get_audit(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Audit:
    audit = latest_audit(session, tenant_id, integration_id)
    if audit is None:
        if session.scalar(select(Integration.id).where(Integration.id == integration_id,
                                                       Integration.tenant_id == tenant_id)) is None:
            raise NotFound(f"integration {integration_id} not found")
        raise NotFound(f"integration {integration_id} has not been audited yet; "
                       f"POST /api/v1/integrations/{integration_id}/audit runs one")
    return Audit.model_validate(audit_dict(audit))


@router.post(
    "/{integration_id}/audit",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AuditStarted,
    summary="Run a consistency audit of the integration on the workers (and repair what it finds, if asked)",
    responses={
        404: {"model": Message, "description": "no such integration for this tenant"},
        409: {"model": Message, "description": "the integration has an audit under way"},
        503: {"model": Message, "description": "the message broker is unreachable; the audit is recorded as failed"},
    },
)
def post_audit(integration_id: uuid.UUID, request: Request, session: SessionDep, tenant_id: TenantId,
               body: AuditRequest | None = None) -> AuditStarted:
    # start_audit opens its own sessions and blocks on the broker: give the request's connection back.
    session.close()
    body = body or AuditRequest()
    audit_id = start_audit(get_sessionmaker(), tenant_id, integration_id, body.full, body.repair, trigger="api")
    return AuditStarted(audit_id=audit_id,
                        status_url=request.app.url_path_for("get_audit", integration_id=str(integration_id)))
