"""Source status -> status (api/routers/mappings/status_mappings.py)."""
from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from api.schemas.mappings.common import (
    INTEGRATION_EXAMPLE,
    Category,
    Changed,
    In,
    Out,
    Patch,
    SourceName,
)
from api.validation import RowId


class StatusMappingIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source_name": "Blocked", "status_id": 21},
        {"source_name": "QA", "status_id": 22, "integration_id": INTEGRATION_EXAMPLE}]})
    source_name: SourceName = Field(description="the source's status name, matched case-insensitively")
    status_id: RowId
    integration_id: uuid.UUID | None = Field(
        None, description="only for this Jira integration (it wins over a tenant-wide mapping); omit for tenant-wide")


class StatusMappingPatch(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status_id": 22}]})
    nullable = ("integration_id",)
    source_name: SourceName | None = None
    status_id: RowId | None = None
    integration_id: uuid.UUID | None = Field(None, description="null makes the mapping tenant-wide")


class StatusMapping(Out):
    id: int
    source_name: str = Field(examples=["Blocked"])
    status_id: int = Field(examples=[21])
    status_name: str = Field(examples=["To Do"])
    status_category: Category = Field(examples=["to_do"])
    integration_id: uuid.UUID | None = Field(description="null: tenant-wide", examples=[None])


class StatusMappingChanged(StatusMapping, Changed):
    pass
