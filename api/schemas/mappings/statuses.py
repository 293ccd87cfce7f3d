"""Normalized statuses and their categories (api/routers/mappings/statuses.py)."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from api.schemas.mappings.common import (
    Category,
    Changed,
    In,
    Name,
    Out,
    Patch,
)


class StatusIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Blocked", "category": "in_progress"}]})
    name: Name
    category: Category


class StatusPatch(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"category": "to_do"}]})
    name: Name | None = None
    category: Category | None = None


class Status(Out):
    id: int
    name: str = Field(examples=["In Progress"])
    category: Category = Field(examples=["in_progress"])


class StatusChanged(Status, Changed):
    pass
