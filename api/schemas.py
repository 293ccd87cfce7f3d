"""Request and response models of the API. Responses are built from ORM rows (from_attributes);
credentials are write-only: no response model has a field that could carry them."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr

from api.validation import RequestModel
from etl.jobs.lifecycle import JOB_KINDS
from etl.models import JOB_ACTIVE_STATUSES, JOB_FINAL_STATUSES
from etl.tenancy.integrations import PROVIDERS

JobKind = Literal[JOB_KINDS]
JobStatus = Literal[JOB_ACTIVE_STATUSES + JOB_FINAL_STATUSES]
Provider = Literal[tuple(PROVIDERS)]

T = TypeVar("T")


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def column_at(column: str):
    """A response field that keeps its published name while its column is `column` (timestamp
    columns end in _at; the API's field names did not change): read from the row's column, or by
    the field's own name from a dump of the model."""
    return Field(validation_alias=AliasChoices(column, column.removesuffix("_at")))


class Message(BaseModel):
    detail: str = Field(examples=["integration 3f2b... not found"])


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page.",
        examples=["WyIyMDI1LTA5LTMwVDEyOjAwOjAwKzAwOjAwIiwgMTJd"],
    )


# --- health ---------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(examples=[{"database": "ok", "broker": "ok"}])
    detail: str | None = Field(None, examples=["broker unreachable: [Errno 111] Connection refused"])


# --- pipeline -------------------------------------------------------------------------------


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


class ActiveJobConflict(BaseModel):
    detail: str = Field(examples=["integration 7d6c... already has an active job 0b9d..."])
    job_id: uuid.UUID | None


# --- jobs -----------------------------------------------------------------------------------


class JobCounters(ORMModel):
    pages: int = Field(description="pages fetched from the source")
    extracted: int = Field(description="records new or changed since the last sync")
    unchanged: int = Field(description="records whose content hash did not change")
    transformed: int
    loaded: int
    failed: int = Field(description="records that could not be transformed or loaded")
    requests_made: int = Field(description="HTTP requests made to the source")
    seen: int = Field(0, description="records the source's pages held: loaded + unchanged + failed once the job ends")
    expected: int | None = Field(None, description=(
        "how many records the source said this sync would find (Jira: the search's total or approximate count, "
        "on a complete read); a job whose pages held fewer ends `partial` with the gap. null: not checked"))


class Job(ORMModel):
    id: uuid.UUID
    integration_id: uuid.UUID
    kind: str = Field(examples=["incremental"])
    trigger: str = Field(examples=["api"])
    status: str = Field(examples=["running"], description="queued | running | succeeded | partial | failed | cancelled")
    entities: list[str] = Field(examples=[["issues"]])
    counters: JobCounters
    extraction_done: bool
    redrives: int = Field(0, description="times the reaper re-published this job's tasks after they were lost")
    error_details: dict[str, Any] | None = Field(
        None, examples=[{"stage": "broker", "message": "the message broker is unreachable: ..."}]
    )
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, job, **extra) -> "Job":
        return cls.model_validate(
            {**{f: getattr(job, f) for f in Job.model_fields if f != "counters"},
             "counters": JobCounters.model_validate(job), **extra}
        )


class TaskRun(ORMModel):
    task_id: str
    name: str = Field(validation_alias="task_name", examples=["etl.extract.page"])
    stage: str = Field(examples=["extract"])
    state: str = Field(examples=["retrying"], description="started | succeeded | retrying | failed")
    attempt: int = Field(description="0 for the first run, then one more per retry")
    deliveries: int = Field(description="how many times the broker delivered this attempt")
    batch_id: int | None
    worker: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class JobDetail(Job):
    progress: float | None = Field(
        None, ge=0, le=1,
        description="Share of pages loaded, once extraction has found them all; null while the total is unknown.",
    )
    task_runs: list[TaskRun]


# --- integrations ---------------------------------------------------------------------------


class Credentials(RequestModel):
    """Write-only: stored encrypted, never returned or logged."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, description="Jira Cloud: the API token's user", examples=["bot@example.com"])
    token: SecretStr = Field(description="Jira Cloud API token, Data Center personal access token, or GitHub token")


class IntegrationSettings(RequestModel):
    model_config = ConfigDict(extra="allow")
    projects: list[str] = Field(default_factory=list, examples=[["ABC", "OPS"]])
    flavor: Literal["cloud", "dc"] | None = Field(None, description="Jira Cloud or Data Center/Server (default cloud)")
    story_points_field: str | None = Field(None, examples=["customfield_10016"])
    jql: str | None = Field(None, description="extra JQL filter", examples=["labels = backend"])
    repos: list[str] = Field(default_factory=list, description="GitHub: repositories owner/name",
                             examples=[["acme/api", "acme/web"]])
    bot_patterns: list[str] | None = Field(
        None, max_length=50,
        description="GitHub: regular expressions (RE2 syntax: no backreferences or lookaround; at most 50, each at "
                    "most 200 characters) on author logins that mark bots (default `\\[bot\\]$`)")


class IntegrationCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "provider": "jira", "name": "acme-jira", "base_url": "https://acme.atlassian.net",
            "credentials": {"email": "bot@acme.com", "token": "<api token>"},
            "settings": {"projects": ["ABC"], "flavor": "cloud", "story_points_field": "customfield_10016"},
        }]},
    )
    provider: Provider
    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(examples=["https://acme.atlassian.net"])
    credentials: Credentials
    settings: IntegrationSettings

    def credentials_dict(self) -> dict:
        creds = {"token": self.credentials.token.get_secret_value()}
        if self.credentials.email:
            creds["email"] = self.credentials.email
        return creds


class Integration(ORMModel):
    id: uuid.UUID
    provider: str
    name: str
    base_url: str
    settings: dict[str, Any] = Field(examples=[{"projects": ["ABC"], "flavor": "cloud"}])
    has_credentials: bool = Field(description="credentials are stored (encrypted); they are never returned")
    enabled: bool
    schedule_interval_minutes: int | None
    schedule_cron: str | None
    schedule_timezone: str | None = Field(description="the zone schedule_cron is read in; null for UTC",
                                          examples=["Europe/Paris"])
    next_sync_at: datetime | None
    last_sync_at: datetime | None
    last_reconciled_at: datetime | None = Field(
        None, description="when the source's ids were last compared with ours to find deleted items")
    created_at: datetime

    @classmethod
    def from_row(cls, row) -> "Integration":
        return cls.model_validate(
            {**{f: getattr(row, f) for f in cls.model_fields if f != "has_credentials"},
             "has_credentials": bool(row.credentials_encrypted)}
        )


class ScheduleIn(RequestModel):
    """Either a 5-field cron expression (in `timezone`, UTC by default) or an interval in minutes."""

    model_config = ConfigDict(extra="forbid")
    cron: str | None = Field(None, description="minute hour day-of-month month day-of-week",
                             examples=["*/15 * * * *", "0 6 * * mon-fri"])
    timezone: str | None = Field(
        None, description="IANA time zone the cron expression is read in (UTC when omitted); 06:00 stays 06:00 "
                          "local time across daylight-saving changes. Cron schedules only.",
        examples=["Europe/Paris", "America/New_York"])
    every_minutes: int | None = Field(None, examples=[30])


class IntegrationPatch(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"schedule": {"cron": "*/15 * * * *"}, "enabled": True},
                                        {"schedule": {"cron": "0 6 * * mon-fri", "timezone": "Europe/Paris"}},
                                        {"schedule": {"every_minutes": 30}}, {"schedule": None}]},
    )
    schedule: ScheduleIn | None = Field(
        None, description="the sync schedule; null removes it (the integration then syncs only when triggered). "
                          "Omit to leave it as it is.")
    enabled: bool | None = Field(None, description="a disabled integration is not synced on schedule")


# --- work items -----------------------------------------------------------------------------


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
    deleted_at: datetime | None
    loaded_at: datetime


class Transition(ORMModel):
    from_status: str | None = Field(examples=["To Do"])
    to_status: str | None = Field(examples=["In Progress"])
    author: str | None
    transitioned_at: datetime


class WorkItemDetail(WorkItem):
    transitions: list[Transition]
    pull_requests: list["PullRequestLink"] = Field(
        default_factory=list, description="pull requests of this tenant that mention the key")


# --- pull requests ----------------------------------------------------------------------------


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
