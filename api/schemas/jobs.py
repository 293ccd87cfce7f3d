"""ETL jobs: list, detail with counters and task runs, the conflicts of cancel and retry and the
active job in the way of a sync or a reprocess (api/routers/jobs.py and the routes that start jobs)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import ORMModel
from etl.models import JOB_ACTIVE_STATUSES, JOB_FINAL_STATUSES

_JOB = "0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"

JobStatus = Literal[JOB_ACTIVE_STATUSES + JOB_FINAL_STATUSES]


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
    state: str = Field(examples=["retrying"], description="started | succeeded | retrying | failed | requeued "
                                                          "(put back in the queue: its follow-ups could not be published)")
    attempt: int = Field(description="0 for the first run, then one more per retry")
    deliveries: int = Field(description="how many times the broker delivered this attempt")
    batch_id: int | None
    worker: str | None
    error: str | None = Field(description="what went wrong in this attempt: its failure, the cause of its retry, or "
                                          "why it was delivered again")
    started_at: datetime
    finished_at: datetime | None


class Recovery(ORMModel):
    """One automatic recovery of the job (etl.jobs.recoveries): a retry, a redelivery or a re-drive."""

    kind: Literal["retry", "redelivery", "redrive"] = Field(description=(
        "retry: an attempt failed for a retriable reason and ran again after a backoff; redelivery: the broker "
        "delivered the same attempt again (its worker stopped, or its follow-ups could not be published); "
        "redrive: the reaper re-published the job's tasks after it made no progress"))
    stage: str = Field(examples=["extract"], description="the task's stage; `reaper` for a re-drive")
    attempt: int = Field(description="the attempt that ran again (1 for the first retry); for a re-drive, how many "
                                     "there were")
    reason: str = Field(examples=["Jira answered 503 Service Unavailable"], description="why, in words")
    at: datetime | None = Field(description="when it was decided (a re-drive: the last one)")
    recovered: bool | None = Field(description="whether the task (a re-drive: the job) then succeeded; null while "
                                               "it has not ended")
    task_id: str | None = None
    batch_id: int | None = None


class JobDetail(Job):
    progress: float | None = Field(
        None, ge=0, le=1,
        description="Share of pages loaded, once extraction has found them all; null while the total is unknown.",
    )
    task_runs: list[TaskRun]
    recoveries: list[Recovery] = Field(default_factory=list, description=(
        "the retries, redeliveries and re-drives of the job with their reasons, oldest first"))


class ActiveJobConflict(BaseModel):
    detail: str = Field(examples=["integration 7d6c... already has an active job 0b9d..."])
    job_id: uuid.UUID | None


class JobConflict(BaseModel):
    detail: str = Field(examples=[f"job {_JOB} already ended: succeeded"])
    status: str | None = Field(None, description="the job's status", examples=["succeeded"])
    job_id: uuid.UUID | None = Field(None, description="the active job in the way, if any")


class RetryResponse(BaseModel):
    job_id: uuid.UUID = Field(description="the new job", examples=["5c0e8d1a-7b2f-4e3a-9c6d-2f1e0a9b8c7d"])
    retry_of: uuid.UUID = Field(examples=[_JOB])
    kind: str = Field(description="the same sync kind for a failed or cancelled sync; reprocess for failed records",
                      examples=["reprocess"])
    status_url: str = Field(examples=["/api/v1/etl/jobs/5c0e8d1a-7b2f-4e3a-9c6d-2f1e0a9b8c7d"])
