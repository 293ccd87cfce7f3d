"""Pull requests as the API shows them (api/routers/pull_requests.py)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import ORMModel, column_at


class PullRequestLink(ORMModel):
    """A pull request that mentions a work item."""

    repo: str = Field(examples=["acme/api"])
    number: int = Field(examples=[42])
    title: str | None
    state: str = Field(examples=["merged"])
    url: str | None


class LinkedWorkItem(ORMModel):
    key: str = Field(examples=["ABC-12"])
    title: str | None
    status: str | None
    status_category: str | None


class PullRequest(ORMModel):
    id: int
    integration_id: uuid.UUID
    external_id: str = Field(description="`owner/name#number`, the raw record's external id", examples=["acme/api#42"])
    repo: str = Field(examples=["acme/api"])
    number: int = Field(examples=[42])
    title: str | None = Field(examples=["ABC-12: fix login redirect"])
    state: Literal["open", "closed", "merged"]
    draft: bool
    author: str | None
    author_is_bot: bool
    base_ref: str | None
    head_ref: str | None = Field(examples=["feature/ABC-12-login"])
    created: datetime | None = column_at("created_at")
    updated: datetime | None = column_at("updated_at")
    merged: datetime | None = column_at("merged_at")
    closed: datetime | None = column_at("closed_at")
    additions: int | None
    deletions: int | None
    changed_files: int | None
    commits_count: int | None
    review_count: int
    first_review_at: datetime | None
    time_to_first_review_seconds: int | None
    lead_time_seconds: int | None = Field(description="created -> merged")
    work_item_keys: list[str] = Field(examples=[["ABC-12"]])
    url: str | None
    raw_id: int | None = Field(None, description="the raw record it was last loaded from (GET /etl/raw-data/{id})")
    deleted_at: datetime | None
    loaded_at: datetime


class Review(ORMModel):
    external_id: str
    state: str = Field(examples=["APPROVED"])
    author: str | None
    author_is_bot: bool
    submitted_at: datetime | None


class Commit(ORMModel):
    sha: str
    author: str | None
    message: str | None
    committed_at: datetime | None


class PullRequestDetail(PullRequest):
    reviews: list[Review]
    commits: list[Commit]
    work_items: list[LinkedWorkItem] = Field(description="work items of this tenant whose keys the PR mentions")
