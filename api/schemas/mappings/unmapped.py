"""Source values no mapping covers (api/routers/mappings/unmapped.py)."""
from __future__ import annotations

import uuid

from pydantic import Field

from api.schemas.mappings.common import (
    INTEGRATION_EXAMPLE,
    Out,
)


class UnmappedIntegration(Out):
    integration_id: uuid.UUID = Field(examples=[INTEGRATION_EXAMPLE])
    integration_name: str = Field(examples=["acme-jira"])
    count: int = Field(description="issues with this value in the integration's raw data", examples=[17])


class UnmappedValue(Out):
    source_name: str = Field(examples=["Spike"])
    count: int = Field(description="issues with this value, over all integrations", examples=[17])
    integrations: list[UnmappedIntegration]


class Unmapped(Out):
    """Values seen in the raw Jira issues that no mapping covers (neither tenant-wide nor for their
    integration): they are shown with the source's own name and hierarchy level or status category
    until mapped."""

    issue_types: list[UnmappedValue] = Field(description="map with POST /api/v1/wit-mappings")
    statuses: list[UnmappedValue] = Field(description="map with POST /api/v1/status-mappings")
