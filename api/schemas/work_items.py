"""Work items as the API shows them (api/routers/work_items.py)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.common import ORMModel, column_at
from api.schemas.pull_requests import PullRequestLink


class WorkItem(ORMModel):
    id: int
    integration_id: uuid.UUID
    external_id: str = Field(examples=["10042"])
    key: str = Field(examples=["ABC-42"])
    project: str | None
    title: str | None
    source_type: str | None = Field(examples=["Story"])
    wit: str | None = Field(examples=["Story"])
    hierarchy_level: int | None
    source_status: str | None = Field(examples=["In Review"])
    status: str | None
    status_category: str | None = Field(examples=["in_progress"])
    priority: str | None
    assignee: str | None
    reporter: str | None
    parent_key: str | None
    epic_key: str | None
    labels: list[Any]
    story_points: float | None
    created: datetime | None = column_at("created_at")
    updated: datetime | None = column_at("updated_at")
    resolved: datetime | None = column_at("resolved_at")
    lead_time_seconds: int | None
    cycle_time_seconds: int | None
    url: str | None
    raw_id: int | None = Field(None, description="the raw record it was last loaded from (GET /etl/raw-data/{id})")
    deleted_at: datetime | None
    loaded_at: datetime


class Transition(ORMModel):
    from_status: str | None = Field(examples=["To Do"])
    to_status: str | None = Field(examples=["In Progress"])
    author: str | None
    transitioned_at: datetime


class WorkItemDetail(WorkItem):
    transitions: list[Transition]
    pull_requests: list[PullRequestLink] = Field(
        default_factory=list, description="pull requests of this tenant that mention the key")
