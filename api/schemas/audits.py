"""The consistency audit of an integration: GET / POST /integrations/{id}/audit (api/routers/audits.py)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.validation import RequestModel


class AuditRequest(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"full": False, "repair": True}]})
    full: bool = Field(False, description="re-transform every raw object, not a sample of ETL_AUDIT_SAMPLE_SIZE "
                                          "per entity type")
    repair: bool = Field(False, description="reprocess the rows found differing or missing (a reprocess job) and "
                                            "delete the final rows that have no raw object")


class AuditStarted(BaseModel):
    audit_id: uuid.UUID
    status: Literal["queued"] = "queued"
    status_url: str = Field(examples=["/api/v1/integrations/7d6c1f0e-2a4b-4c1d-9a7e-1b2c3d4e5f60/audit"])


class Audit(BaseModel):
    """An audit and what it found. `summary.entities` has, per entity type: raw objects by
    processing status, final rows, orphans both ways, rows compared and those that differ (by
    external id with the differing columns); every id list is capped (its `count` is exact)."""

    id: uuid.UUID
    integration_id: uuid.UUID
    trigger: str = Field(description="api | cli | schedule")
    full: bool
    repair: bool
    status: Literal["queued", "running", "finished", "failed"]
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    differences: int | None = Field(description="rows that differ plus orphans both ways; null until finished")
    summary: dict | None
    repaired_job_id: uuid.UUID | None = Field(description="the reprocess job the repair started")
    error: str | None = Field(description="why the audit did not finish")
