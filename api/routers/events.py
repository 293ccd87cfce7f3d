"""The console's one live connection: `GET /api/v1/etl/events`, every job of the caller's tenant as
server-sent events. A snapshot first (active jobs and those ended lately), then what changed, polled
in a short session of its own every EVENTS_POLL_SECONDS: no database connection is held between polls.
Open streams are counted per API key (per tenant for a JWT) in this process, at most
MAX_STREAMS_PER_KEY: a stream lasts as long as a browser tab stays open, and a tenant must not hold
every worker of the API that way."""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import anyio
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from api.deps import Principal, PrincipalDep, SessionDep
from api.routers.jobs import job_detail, job_progress, sse_frame
from api.schemas.common import Message
from api.schemas.jobs import JobCounters
from etl.db import get_sessionmaker, scope_to_tenant
from etl.models import JOB_ACTIVE_STATUSES, JOB_FINAL_STATUSES, EtlJob

EVENTS_POLL_SECONDS = 1.0
EVENTS_KEEPALIVE_SECONDS = 15.0
RECENT_SECONDS = 600  # the snapshot holds the jobs ended in the last 10 minutes
MAX_JOBS = 200  # per poll: every active job (a tenant has few, ETL_MAX_ACTIVE_JOBS_PER_TENANT), then the newest ended
MAX_STREAMS_PER_KEY = 5

router = APIRouter(prefix="/etl", tags=["jobs"])


class StreamSlots:
    """Open event streams per caller, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    def take(self, who: str, limit: int) -> bool:
        with self._lock:
            if self._open[who] >= limit:
                return False
            self._open[who] += 1
            return True

    def give_back(self, who: str) -> None:
        with self._lock:
            self._open[who] -= 1
            if self._open[who] <= 0:
                del self._open[who]

    def open(self, who: str) -> int:
        with self._lock:
            return self._open[who]


SLOTS = StreamSlots()


def caller(principal: Principal) -> str:
    """Whose streams are counted together: the API key, or for a JWT the tenant (as api.limits counts)."""
    return f"key {principal.api_key_id}" if principal.api_key_id else f"jwt {principal.tenant_id}"


class JobWatch:
    """What one stream has told its client: each job's last state sent. Each method runs in a worker
    thread with a session of its own, closed before it returns."""

    def __init__(self, tenant_id: uuid.UUID):
        self.tenant_id = tenant_id
        self.sent: dict[uuid.UUID, tuple] = {}  # job id -> (status, counters, progress, extraction_done)

    def _jobs(self, session: Session) -> list[EtlJob]:
        active = [job_id for job_id, state in self.sent.items() if state[0] not in JOB_FINAL_STATUSES]
        is_active = EtlJob.status.in_(JOB_ACTIVE_STATUSES)
        recent = func.coalesce(EtlJob.finished_at, EtlJob.created_at) >= func.now() - timedelta(seconds=RECENT_SECONDS)
        # A job this stream saw active is read again whatever its times say, so that its end is never missed.
        wanted = or_(is_active, recent, EtlJob.id.in_(active)) if active else or_(is_active, recent)
        query = (select(EtlJob).where(EtlJob.tenant_id == self.tenant_id, wanted)
                 .order_by(case((is_active, 0), else_=1), EtlJob.created_at.desc(), EtlJob.id.desc()).limit(MAX_JOBS))
        return list(session.scalars(query))

    def _session(self) -> Session:
        session = get_sessionmaker()()
        scope_to_tenant(session, self.tenant_id)
        return session

    @staticmethod
    def _state(session: Session, job: EtlJob) -> tuple:
        counters = JobCounters.model_validate(job).model_dump()
        return job.status, tuple(sorted(counters.items())), job_progress(session, job), job.extraction_done

    def snapshot(self) -> dict:
        with self._session() as session:
            jobs = self._jobs(session)
            self.sent = {job.id: self._state(session, job) for job in jobs}
            return {"jobs": [job_detail(session, job, progress=self.sent[job.id][2]).model_dump(mode="json")
                             for job in jobs]}

    def changes(self) -> list[tuple[str, dict]]:
        """(event, data) for each job created, changed or ended since the last call."""
        events: list[tuple[str, dict]] = []
        with self._session() as session:
            jobs = self._jobs(session)
            for job in jobs:
                before = self.sent.get(job.id)
                if before is not None and before[0] in JOB_FINAL_STATUSES:
                    continue  # told already; an ended job does not change
                state = self._state(session, job)
                if state == before:
                    continue
                self.sent[job.id] = state
                data = {"job": job_detail(session, job, progress=state[2]).model_dump(mode="json")}
                if before is None:
                    events.append(("job_created", data))
                if job.status in JOB_FINAL_STATUSES:
                    events.append(("job_ended", data))
                elif before is not None:
                    events.append(("job_progress", data))
        # Forget what the query no longer returns (ended long ago, or deleted with its integration).
        seen = {job.id for job in jobs}
        self.sent = {job_id: state for job_id, state in self.sent.items() if job_id in seen}
        return events


async def _tenant_events(request: Request, watch: JobWatch):
    event_id = 1
    yield sse_frame("snapshot", await anyio.to_thread.run_sync(watch.snapshot), event_id)
    quiet = 0.0
    while True:
        await anyio.sleep(EVENTS_POLL_SECONDS)
        quiet += EVENTS_POLL_SECONDS
        if await request.is_disconnected():
            return
        for event, data in await anyio.to_thread.run_sync(watch.changes):
            event_id += 1
            quiet = 0.0
            yield sse_frame(event, data, event_id)
        if quiet >= EVENTS_KEEPALIVE_SECONDS:  # a comment line keeps proxies from closing an idle stream
            yield b": keep-alive\n\n"
            quiet = 0.0


class _CountedStream(StreamingResponse):
    """Gives its caller's slot back however the response ends: finished, cancelled or the client gone."""

    def __init__(self, content, who: str):
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.who = who

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            SLOTS.give_back(self.who)


_EXAMPLE = (
    "event: snapshot\nid: 1\ndata: {\"jobs\": [{\"id\": \"0b9d4c3e-...\", \"status\": \"running\", ...}]}\n\n"
    "event: job_progress\nid: 2\ndata: {\"job\": {\"id\": \"0b9d4c3e-...\", \"status\": \"running\", "
    "\"counters\": {...}, \"progress\": 0.5, ...}}\n\n"
    ": keep-alive\n\n"
    "event: job_ended\nid: 3\ndata: {\"job\": {\"id\": \"0b9d4c3e-...\", \"status\": \"succeeded\", ...}}\n\n"
)


@router.get(
    "/events",
    response_class=StreamingResponse,
    summary="Every job of the tenant, live, as server-sent events (one stream for the whole console)",
    description=(
        "`text/event-stream`, until the client disconnects. First one `snapshot` event, data "
        "`{\"jobs\": [...]}`: the tenant's queued and running jobs and those ended in the last 10 minutes "
        f"(at most {MAX_JOBS}, active ones first). Then, polled every second: `job_created` when a job appears, "
        "`job_progress` when a job's status, counters or progress change, `job_ended` once when it reaches "
        "a final status (succeeded, partial, failed, cancelled); their data is `{\"job\": ...}`, the object "
        "`GET /api/v1/etl/jobs/{job_id}` returns. A job first seen already ended gets `job_created` then "
        "`job_ended`. `id:` counts up from 1 on each connection; a `: keep-alive` comment is sent after 15 s "
        "without events. Read scope is enough. At most "
        f"{MAX_STREAMS_PER_KEY} open streams per API key (per tenant for JWTs) and API process: 429 beyond."
    ),
    responses={
        200: {"content": {"text/event-stream": {"example": _EXAMPLE}},
              "description": "the stream (the body never ends on its own)"},
        429: {"model": Message, "description": f"the key already has {MAX_STREAMS_PER_KEY} open event streams"},
    },
)
def tenant_events(session: SessionDep, principal: PrincipalDep, request: Request):
    session.close()  # the stream polls in short sessions of its own; hold no connection meanwhile
    who = caller(principal)
    if not SLOTS.take(who, MAX_STREAMS_PER_KEY):
        whose = "API key" if principal.api_key_id else "tenant's JWTs"
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, (
            f"too many open event streams with this {whose} (at most {MAX_STREAMS_PER_KEY}): close another "
            "console tab, or retry once one has disconnected"), headers={"Retry-After": "15"})
    return _CountedStream(_tenant_events(request, JobWatch(principal.tenant_id)), who)
