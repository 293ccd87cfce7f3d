"""Hierarchy levels of work item types (api/routers/mappings/wit_hierarchies.py)."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from api.schemas.mappings.common import (
    Description,
    In,
    Level,
    Name,
    Out,
    Patch,
)


class WitHierarchyIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"level": 3, "name": "Theme", "description": "Groups initiatives"}]})
    level: Level = Field(description="higher is bigger: 2 Initiative > 1 Epic > 0 Story > -1 Sub-task")
    name: Name
    description: Description | None = None


class WitHierarchyPatch(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Portfolio epic"}]})
    nullable = ("description",)
    level: Level | None = None
    name: Name | None = None
    description: Description | None = None


class WitHierarchy(Out):
    id: int
    level: int = Field(examples=[1])
    name: str = Field(examples=["Epic"])
    description: str | None = Field(examples=[None])
