"""Normalized work item types (api/routers/mappings/wits.py)."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from api.schemas.mappings.common import (
    Changed,
    Description,
    In,
    Level,
    Name,
    Out,
    Patch,
)


class WitIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Research", "hierarchy_level": 0, "description": "Spikes and investigations"}]})
    name: Name
    hierarchy_level: Level = Field(0, description="a level of /wit-hierarchies")
    description: Description | None = None


class WitPatch(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"hierarchy_level": 1}]})
    nullable = ("description",)
    name: Name | None = None
    hierarchy_level: Level | None = None
    description: Description | None = None


class Wit(Out):
    id: int
    name: str = Field(examples=["Story"])
    hierarchy_level: int = Field(examples=[0])
    description: str | None = Field(examples=[None])


class WitChanged(Wit, Changed):
    pass
