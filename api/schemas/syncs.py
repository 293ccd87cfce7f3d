"""Starting a sync: POST /etl/pipeline/trigger (api/routers/syncs.py)."""
from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.validation import RequestModel
from etl.jobs.lifecycle import JOB_KINDS

JobKind = Literal[JOB_KINDS]


class TriggerRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"integration_id": "7d6c1f0e-2a4b-4c1d-9a7e-1b2c3d4e5f60", "kind": "incremental"}]},
    )
    integration_id: uuid.UUID
    kind: JobKind = Field("incremental", description="incremental: since the last watermark; full: everything")
    entities: list[str] | None = Field(
        None, description="streams to sync (default: all of the source's streams), e.g. [\"jira_issue\"]",
        examples=[["jira_issue"]],
    )


class TriggerResponse(BaseModel):
    job_id: uuid.UUID
    status: Literal["queued"] = "queued"
    status_url: str = Field(examples=["/api/v1/etl/jobs/0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"])
