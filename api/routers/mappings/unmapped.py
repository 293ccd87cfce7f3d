"""Issue types and statuses in the raw Jira data that no mapping covers."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ReadSessionDep, TenantId
from api.schemas.mappings import unmapped as s
from etl.mappings.unmapped import unmapped_values

router = APIRouter(tags=["mappings"])


@router.get("/mappings/unmapped", response_model=s.Unmapped,
            summary="Issue types and statuses in the raw Jira data that no mapping covers, with counts")
def unmapped(
    session: ReadSessionDep, tenant_id: TenantId,
    integration_id: Annotated[uuid.UUID | None, Query(description="only this integration's raw data")] = None,
) -> s.Unmapped:
    return s.Unmapped.model_validate(unmapped_values(session, tenant_id, integration_id))
