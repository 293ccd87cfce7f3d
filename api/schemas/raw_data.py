"""The raw layer over HTTP: store, list, read, change a record's status, reprocess
(api/routers/raw_data.py)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import ORMModel
from api.validation import RequestModel, RowId

RawStatus = Literal["pending", "processing", "completed", "failed"]

MAX_STORE_RECORDS = 1000
MAX_STORE_BYTES = 8 * 1024 * 1024  # one store request's body; beyond it: 413
MAX_REPROCESS_IDS = 10_000

_INTEGRATION = "7d6c1f0e-2a4b-4c1d-9a7e-1b2c3d4e5f60"
_JOB = "0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"


# --- store -----------------------------------------------------------------------------------


class RawRecordIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    # Sources do send NUL characters; etl/raw.py drops them from payloads, pushed or extracted alike.
    nul_dropped = frozenset({"payload"})
    external_id: str = Field(
        min_length=1, max_length=500,
        description="the object's id at the source: a Jira issue's `id`; a pull request's `owner/name#number`; "
                    "a review's `id` (`databaseId` in GitHub's GraphQL); a commit's `owner/name#number:sha`",
        examples=["10042"],
    )
    payload: dict[str, Any] = Field(description="the object exactly as the source API served it (GitHub: a REST "
                                                "object, or a GraphQL node with its `__typename`, as the pipeline "
                                                "extracts them; NUL characters are dropped, as from the pipeline's "
                                                "own extracts)")
    metadata: dict[str, Any] | None = Field(
        None, description="where it came from (request URL, page token, fetched_at); not part of the content hash",
        examples=[{"request_url": "https://acme.atlassian.net/rest/api/3/search/jql", "fetched_at": "2025-09-30T12:00:00Z"}],
    )


class StoreRawDataRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "integration_id": _INTEGRATION,
            "entity_type": "jira_issue",
            "records": [{
                "external_id": "10042",
                "payload": {"id": "10042", "key": "ABC-42", "fields": {"summary": "Fix login redirect",
                                                                       "issuetype": {"name": "Story"},
                                                                       "status": {"name": "In Progress"},
                                                                       "created": "2025-09-01T10:00:00.000+0000"}},
                "metadata": {"fetched_at": "2025-09-30T12:00:00Z"},
            }],
            "process": True,
        }]},
    )
    integration_id: uuid.UUID
    entity_type: str = Field(
        description="one the integration's source knows: `jira_issue` for Jira; `github_pull_request`, "
                    "`github_pr_review` or `github_pr_commit` for GitHub",
        examples=["jira_issue"],
    )
    records: list[RawRecordIn] = Field(min_length=1, max_length=MAX_STORE_RECORDS,
                                       description=f"at most {MAX_STORE_RECORDS} per request")
    process: bool = Field(False, description="start a reprocess job (transform + load) for the stored records")


class StoredRecord(BaseModel):
    external_id: str = Field(examples=["10042"])
    id: int = Field(description="the raw record's id", examples=[981])
    result: Literal["stored", "unchanged"] = Field(
        description="stored: new or changed (back to `pending`); unchanged: same content, nothing written")


class StoreRawDataResponse(BaseModel):
    stored: int = Field(description="records new or changed, written and `pending`", examples=[1])
    unchanged: int = Field(description="records whose content was already stored: nothing written", examples=[0])
    records: list[StoredRecord] = Field(description="one per request record, in request order")
    job_id: uuid.UUID | None = Field(None, description="the reprocess job, with `process: true`", examples=[_JOB])
    status_url: str | None = Field(None, examples=[f"/api/v1/etl/jobs/{_JOB}"])
    detail: str | None = Field(None, examples=["nothing to process: every record is unchanged and already processed"])


# --- list, read, status ----------------------------------------------------------------------


class RawRecord(ORMModel):
    id: int = Field(examples=[981])
    integration_id: uuid.UUID
    entity_type: str = Field(examples=["jira_issue"])
    external_id: str = Field(examples=["10042"])
    processing_status: RawStatus
    content_hash: str = Field(description="sha256 of the canonical payload")
    extraction_metadata: dict[str, Any] = Field(examples=[{"request_url": "...", "fetched_at": "2025-09-30T12:00:00Z"}])
    error_details: dict[str, Any] | None = Field(
        None, examples=[{"stage": "transform", "error": "field 'created' is missing", "job_id": _JOB}])
    created_at: datetime
    updated_at: datetime = Field(description="when the payload was last written")
    processed_at: datetime | None
    payload: dict[str, Any] | None = Field(None, description="the raw object; in lists only with include_payload=true")


class RawPage(BaseModel):
    items: list[RawRecord]
    next: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.",
                             examples=["981"])


class RawStatusUpdate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "pending"},
                                        {"status": "failed", "error_details": {"error": "test data, do not load"}}]},
    )
    status: RawStatus = Field(description="allowed: failed -> pending and completed -> pending (process again); "
                                          "pending -> failed (give up on it); processing -> pending or failed only "
                                          "when no job of the integration is active")
    error_details: dict[str, Any] | None = Field(None, description="with `failed`: why")


# --- reprocess -------------------------------------------------------------------------------


class RawFilter(RequestModel):
    model_config = ConfigDict(extra="forbid")
    entity_type: str | None = Field(None, examples=["jira_issue"])
    status: RawStatus | None = Field(None, examples=["failed"])


class ReprocessRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"integration_id": _INTEGRATION, "filter": {"status": "failed"}},
                                        {"integration_id": _INTEGRATION, "raw_ids": [981, 982]},
                                        {"integration_id": _INTEGRATION}]},
    )
    integration_id: uuid.UUID
    raw_ids: list[RowId] | None = Field(None, min_length=1, max_length=MAX_REPROCESS_IDS,
                                      description="these raw records of the integration")
    filter: RawFilter | None = Field(None, description="the integration's raw records that match")

    @model_validator(mode="after")
    def _one_selection(self) -> "ReprocessRequest":
        if self.raw_ids is not None and self.filter is not None:
            raise ValueError("give raw_ids or filter, not both (neither: every raw record of the integration)")
        return self


class ReprocessResponse(BaseModel):
    job_id: uuid.UUID = Field(examples=[_JOB])
    status: str = Field(examples=["running"])
    records: int = Field(description="raw records the job transforms and loads again", examples=[2])
    status_url: str = Field(examples=[f"/api/v1/etl/jobs/{_JOB}"])
