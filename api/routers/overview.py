"""The console's Home in one call: the tenant's loaded rows, failed records, unmapped values,
integrations with their freshness and the last day's jobs."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReadSessionDep, TenantId
from api.schemas.overview import IntegrationFreshness, Overview, Unmapped
from etl.ops.overview import tenant_overview

router = APIRouter(tags=["overview"])


@router.get(
    "/overview",
    response_model=Overview,
    summary="The tenant at a glance: rows loaded, failures, unmapped values, integrations' freshness, last day's jobs",
    description="Counts over the caller's tenant only, each an aggregate on indexed columns (no raw payload is "
                "read): work items and pull requests loaded, raw records failed, issue types and statuses of "
                "loaded work items that no mapping covers (the full list with counts: GET /mappings/unmapped), "
                "each integration with the end of its last succeeded job, its next due time and whether it is "
                "overdue, and the jobs created in the last 24 hours by status. Read scope is enough.",
)
def overview(session: ReadSessionDep, tenant_id: TenantId) -> Overview:
    found = tenant_overview(session, tenant_id)
    return Overview(
        work_items=found.work_items, pull_requests=found.pull_requests, raw_records_failed=found.raw_failed,
        unmapped=Unmapped(issue_types=found.unmapped_issue_types, statuses=found.unmapped_statuses,
                          values=found.unmapped_values),
        integrations=[IntegrationFreshness.model_validate(item) for item in found.integrations],
        jobs_last_24h=found.jobs_last_24h, overdue_grace_seconds=found.overdue_grace_seconds, read_at=found.read_at,
    )
