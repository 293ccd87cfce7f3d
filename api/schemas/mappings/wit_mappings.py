"""Source issue type -> wit (api/routers/mappings/wit_mappings.py)."""
from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from api.schemas.mappings.common import (
    INTEGRATION_EXAMPLE,
    Changed,
    In,
    Out,
    Patch,
    SourceName,
)
from api.validation import RowId


class WitMappingIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source_name": "Spike", "wit_id": 12},
        {"source_name": "User Story", "wit_id": 11, "integration_id": INTEGRATION_EXAMPLE}]})
    source_name: SourceName = Field(description="the source's issue type name, matched case-insensitively")
    wit_id: RowId
    integration_id: uuid.UUID | None = Field(
        None, description="only for this Jira integration (it wins over a tenant-wide mapping); omit for tenant-wide")


class WitMappingPatch(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"wit_id": 11}, {"source_name": "Research spike"}]})
    nullable = ("integration_id",)
    source_name: SourceName | None = None
    wit_id: RowId | None = None
    integration_id: uuid.UUID | None = Field(None, description="null makes the mapping tenant-wide")


class WitMapping(Out):
    id: int
    source_name: str = Field(examples=["Spike"])
    wit_id: int = Field(examples=[12])
    wit_name: str = Field(examples=["Research"])
    integration_id: uuid.UUID | None = Field(description="null: tenant-wide", examples=[None])


class WitMappingChanged(WitMapping, Changed):
    pass
