"""ETL jobs of the caller's tenant: list with filters, one job with its counters and task runs,
cancel, retry, and live progress as server-sent events."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

import anyio
import orjson
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import func, select

from api.deps import PageDep, ReadSessionDep, SessionDep, TenantId, UtcDateTime, paginate
from api.schemas.common import Message, Page
from api.schemas.jobs import Job, JobConflict, JobCounters, JobDetail, JobStatus, Recovery, RetryResponse, TaskRun
from etl.db import get_sessionmaker, scope_to_tenant
from etl.errors import NotFound
from etl.jobs.ending import cancel_and_release
from etl.jobs.lifecycle import JOB_KINDS, TRIGGERS, ActiveJobExists, job_task_runs
from etl.jobs.recoveries import job_recoveries
from etl.jobs.reprocess import JobStillActive, retry_job
from etl.models import JOB_FINAL_STATUSES, EtlBatch, EtlJob

JobKindFilter = Literal[JOB_KINDS + ("reprocess",)]
Trigger = Literal[TRIGGERS]
EVENTS_POLL_SECONDS = 0.5
EVENTS_KEEPALIVE_SECONDS = 15.0

router = APIRouter(prefix="/etl/jobs", tags=["jobs"])


@router.get(
    "",
    response_model=Page[Job],
    summary="Jobs, newest first",
    description="Filters combine (all must hold); `status` may be repeated. A bad value answers 422 naming the "
                "parameter and what it accepts.",
    responses={422: {"model": Message, "description": "a filter's value is not one it accepts, or `until` is not "
                                                      "after `since`"}},
)
def list_jobs(
    session: ReadSessionDep,
    tenant_id: TenantId,
    page: PageDep,
    status: Annotated[list[JobStatus] | None, Query(
        description="only jobs in these statuses; repeat the parameter for several: `?status=queued&status=running`",
    )] = None,
    integration_id: Annotated[uuid.UUID | None, Query(description="only the jobs of this integration")] = None,
    kind: Annotated[JobKindFilter | None, Query(description="only jobs of this kind")] = None,
    trigger: Annotated[Trigger | None, Query(description="what started the job")] = None,
    created_since: Annotated[UtcDateTime | None, Query(
        description="the same as `since` (the older name); ISO 8601, e.g. 2025-01-31T00:00:00Z")] = None,
    since: Annotated[UtcDateTime | None, Query(
        description="only jobs created at or after this time; ISO 8601, e.g. 2025-01-31T00:00:00Z (no offset: UTC)")] = None,
    until: Annotated[UtcDateTime | None, Query(
        description="only jobs created before this time (exclusive); ISO 8601, e.g. 2025-02-01T00:00:00Z")] = None,
) -> Page[Job]:
    if since is not None and until is not None and until <= since:
        raise HTTPException(status_code=422, detail=f"until ({until.isoformat()}) must be after since ({since.isoformat()})")
    query = select(EtlJob).where(EtlJob.tenant_id == tenant_id)
    if status:
        query = query.where(EtlJob.status.in_(set(status)))
    if integration_id:
        query = query.where(EtlJob.integration_id == integration_id)
    if kind:
        query = query.where(EtlJob.kind == kind)
    if trigger:
        query = query.where(EtlJob.trigger == trigger)
    for start in (created_since, since):
        if start is not None:
            query = query.where(EtlJob.created_at >= start)
    if until is not None:
        query = query.where(EtlJob.created_at < until)
    rows, next_cursor = paginate(session, query, EtlJob.created_at, EtlJob.id, page)
    return Page[Job](items=[Job.from_row(job) for job in rows], next=next_cursor)


def job_progress(session, job: EtlJob) -> float | None:
    """Loaded pages over all pages. The total is known only once extraction has found every page."""
    if job.status == "queued":
        return 0.0
    if not job.extraction_done:
        return None
    total, loaded = session.execute(
        select(func.count(), func.count().filter(EtlBatch.status == "loaded")).where(EtlBatch.job_id == job.id)
    ).one()
    return loaded / total if total else 1.0


@router.get(
    "/{job_id}",
    response_model=JobDetail,
    summary="A job: status, counters per stage, progress, task runs and its automatic recoveries with their reasons",
    responses={404: {"model": Message}},
)
def get_job(job_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> JobDetail:
    job = session.scalar(select(EtlJob).where(EtlJob.id == job_id, EtlJob.tenant_id == tenant_id))
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job_detail(session, job)


def job_detail(session, job: EtlJob, progress: float | None = None) -> JobDetail:
    """What GET /etl/jobs/{id} answers, and what the tenant-wide event stream carries (api/routers/events.py,
    which passes the progress it has just read)."""
    runs = job_task_runs(session, job.id)
    return JobDetail.from_row(
        job,
        progress=job_progress(session, job) if progress is None else progress,
        task_runs=[TaskRun.model_validate(run) for run in runs],
        recoveries=[Recovery.model_validate(found) for found in job_recoveries(job, runs)],
    )


def _own_job(session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> EtlJob:
    job = session.scalar(select(EtlJob).where(EtlJob.id == job_id, EtlJob.tenant_id == tenant_id))
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def _conflict(detail: str, job_status: str | None = None, job_id=None) -> JSONResponse:
    body = JobConflict(detail=detail, status=job_status, job_id=job_id)
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)


@router.post(
    "/{job_id}/cancel",
    response_model=Job,
    summary="Cancel a queued or running job",
    description="The job ends `cancelled` at once and its queued tasks are revoked. Its running tasks "
                "stop at their next checkpoint and roll back what they had not committed; batches "
                "transformed but not yet loaded go back to `extracted` (their raw records to `pending`), "
                "so every batch is either loaded or untouched. The sync watermark does not move: the next "
                "sync re-reads what this one did not finish.",
    responses={404: {"model": Message}, 409: {"model": JobConflict, "description": "the job already ended"}},
)
def cancel(job_id: uuid.UUID, session: SessionDep, tenant_id: TenantId):
    _own_job(session, tenant_id, job_id)
    session.rollback()  # the cancel locks the row and reads it afresh
    if not cancel_and_release(session, job_id, "cancelled through the API"):
        job = _own_job(session, tenant_id, job_id)
        return _conflict(f"job {job_id} already ended: {job.status}", job.status)
    job = _own_job(session, tenant_id, job_id)
    session.refresh(job)
    return Job.from_row(job)


@router.post(
    "/{job_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RetryResponse,
    summary="Start a new job for what a failed, partial or cancelled job left undone",
    description="A `failed` or `cancelled` sync: a new sync of the same kind (the watermark only advances when a "
                "job succeeds, so it re-reads what was lost). A `partial` job: a reprocess of the raw records that "
                "failed in it. A `failed` or `cancelled` reprocess: a reprocess of its records that were not loaded.",
    responses={
        404: {"model": Message},
        409: {"model": JobConflict, "description": "the job is still active, or its integration has another active job"},
        422: {"model": Message, "description": "the job succeeded, or nothing it left undone remains"},
        429: {"model": Message, "description": "the tenant has ETL_MAX_ACTIVE_JOBS_PER_TENANT queued or running jobs"},
        503: {"model": Message, "description": "the message broker is unreachable; the new job is recorded as failed"},
    },
)
def retry(job_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, request: Request):
    original = _own_job(session, tenant_id, job_id)
    integration_id = original.integration_id
    session.close()  # retry_job opens its own sessions and may block on the broker
    # NotFound (404), NothingToRetry (422), TooManyActiveJobs (429) and BrokerUnavailable (503) are answered by api.errors.
    try:
        new_id = retry_job(get_sessionmaker(), job_id, tenant_id, trigger="api")
    except JobStillActive as exc:
        return _conflict(str(exc), original.status, job_id)
    except ActiveJobExists as exc:
        return _conflict(f"integration {integration_id} already has an active job {exc.job_id}", None, exc.job_id)
    with get_sessionmaker()() as s:
        scope_to_tenant(s, tenant_id)
        kind = s.scalar(select(EtlJob.kind).where(EtlJob.id == new_id))
    return RetryResponse(job_id=new_id, retry_of=job_id, kind=kind,
                         status_url=request.app.url_path_for("get_job", job_id=str(new_id)))


def _snapshot(job_id: uuid.UUID, tenant_id: uuid.UUID) -> dict:
    """What the events carry; read in a short session of its own on each poll."""
    with get_sessionmaker()() as session:
        scope_to_tenant(session, tenant_id)
        job = session.get(EtlJob, job_id)
        if job is None:  # deleted with its integration meanwhile
            return {"job_id": str(job_id), "status": "deleted", "counters": None, "progress": None,
                    "extraction_done": None, "error_details": None, "finished_at": None}
        return {
            "job_id": str(job.id),
            "status": job.status,
            "counters": JobCounters.model_validate(job).model_dump(),
            "progress": job_progress(session, job),
            "extraction_done": job.extraction_done,
            "error_details": job.error_details,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        }


def sse_frame(event: str, data: dict, event_id: int) -> bytes:
    """One server-sent event (this job's stream and the tenant-wide one in api/routers/events.py)."""
    return b"event: %s\nid: %d\ndata: %s\n\n" % (event.encode(), event_id, orjson.dumps(data))


async def _job_events(request: Request, job_id: uuid.UUID, tenant_id: uuid.UUID, poll: float):
    """`progress` whenever status, counters or progress change; `end` once the job ended, then the
    stream closes. Stops as soon as the client goes away."""
    last, event_id, quiet = None, 0, 0.0
    while True:
        snapshot = await anyio.to_thread.run_sync(_snapshot, job_id, tenant_id)
        state = {k: snapshot[k] for k in ("status", "counters", "progress", "extraction_done")}
        if state != last:
            event_id += 1
            yield sse_frame("progress", snapshot, event_id)
            last, quiet = state, 0.0
        if snapshot["status"] in JOB_FINAL_STATUSES + ("deleted",):
            event_id += 1
            yield sse_frame("end", snapshot, event_id)
            return
        if quiet >= EVENTS_KEEPALIVE_SECONDS:  # a comment line keeps proxies from closing an idle stream
            yield b": keep-alive\n\n"
            quiet = 0.0
        await anyio.sleep(poll)
        quiet += poll
        if await request.is_disconnected():
            return


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    summary="Live progress of a job as server-sent events",
    description="`text/event-stream`: a `progress` event (status, counters, progress) now and whenever they "
                "change (polled every 0.5 s), then one `end` event with the final status and error, after which "
                "the stream closes. For an ended job: one `progress` and the `end`.",
    responses={200: {"content": {"text/event-stream": {"example": "event: progress\nid: 1\ndata: {\"status\": "
                                                                 "\"running\", ...}\n\n"}}},
               404: {"model": Message}},
)
def job_events(job_id: uuid.UUID, session: SessionDep, tenant_id: TenantId, request: Request):
    _own_job(session, tenant_id, job_id)
    session.close()  # the stream polls in short sessions of its own; hold no connection meanwhile
    return StreamingResponse(
        _job_events(request, job_id, tenant_id, EVENTS_POLL_SECONDS), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
