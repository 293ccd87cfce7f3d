"""The console's Home in one response (api/routers/overview.py)."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import ORMModel


class IntegrationFreshness(ORMModel):
    id: uuid.UUID
    name: str = Field(examples=["acme-jira"])
    provider: str = Field(examples=["jira"])
    enabled: bool
    last_success_at: datetime | None = Field(description="when its last succeeded job ended; null if none did")
    next_sync_at: datetime | None = Field(description="when its schedule is next due (UTC); null without a schedule")
    overdue: bool = Field(description="enabled, and next_sync_at is more than `overdue_grace_seconds` in the past: "
                                      "the scheduler has not picked it up (is celery beat running?)")
    active_job_id: uuid.UUID | None = Field(description="its queued or running job, if any")


class Unmapped(BaseModel):
    issue_types: int = Field(description="source issue types of loaded work items that no mapping covers")
    statuses: int = Field(description="source statuses of loaded work items that no mapping covers")
    values: int = Field(description="issue_types + statuses")


class Overview(BaseModel):
    work_items: int = Field(description="work items loaded (not deleted at the source)", examples=[3000])
    pull_requests: int = Field(description="pull requests loaded (not deleted at the source)", examples=[240])
    raw_records_failed: int = Field(description="raw records whose transform failed (GET /etl/raw-data?status=failed)")
    unmapped: Unmapped
    integrations: list[IntegrationFreshness]
    jobs_last_24h: dict[str, int] = Field(description="jobs created in the last 24 hours, by status (every status, "
                                                      "0 included)",
                                          examples=[{"queued": 0, "running": 1, "succeeded": 12, "partial": 0,
                                                     "failed": 1, "cancelled": 0}])
    overdue_grace_seconds: int = Field(examples=[300])
    read_at: datetime
