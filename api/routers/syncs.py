"""Starting ETL jobs. The route only validates and hands over to etl.jobs.start_job, which creates
the job, commits, then publishes its first tasks."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse

from api.deps import SessionDep, TenantId
from api.schemas.common import Message
from api.schemas.jobs import ActiveJobConflict
from api.schemas.syncs import TriggerRequest, TriggerResponse
from etl.db import get_sessionmaker
from etl.jobs.breaker import IntegrationPaused
from etl.jobs.lifecycle import ActiveJobExists, start_job

router = APIRouter(prefix="/etl/pipeline", tags=["pipeline"])


@router.post(
    "/trigger",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TriggerResponse,
    summary="Start a sync of one integration",
    responses={
        404: {"model": Message, "description": "no such integration for this tenant"},
        409: {"model": ActiveJobConflict, "description": "the integration already has a queued or running job, or "
                                                        "it is paused by the circuit breaker (the message says why "
                                                        "and how to resume it)"},
        429: {"model": Message, "description": "the tenant has ETL_MAX_ACTIVE_JOBS_PER_TENANT queued or running "
                                               "jobs; try again when one has ended"},
        503: {"model": Message, "description": "the message broker is unreachable; the job is recorded as failed"},
    },
)
def trigger(body: TriggerRequest, tenant_id: TenantId, session: SessionDep, request: Request):
    # A plain `def`: start_job blocks on the broker, so it runs in the threadpool. It opens its own
    # sessions; give the request's connection back to the pool first so that concurrent triggers
    # never hold two connections each.
    session.close()
    # NotFound (404), TooManyActiveJobs (429) and BrokerUnavailable (503, with the failed job's id) are answered by api.errors.
    try:
        job_id = start_job(get_sessionmaker(), body.integration_id, tenant_id, body.kind, trigger="api",
                           entities=body.entities)
    except ActiveJobExists as exc:
        conflict = ActiveJobConflict(
            detail=f"integration {body.integration_id} already has an active job {exc.job_id}", job_id=exc.job_id
        )
        return JSONResponse(conflict.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)
    except IntegrationPaused as exc:  # the 409's documented shape, with no job in the way
        conflict = ActiveJobConflict(detail=str(exc), job_id=None)
        return JSONResponse(conflict.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)
    except ValueError as exc:  # a kind or provider start_job does not know
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return TriggerResponse(job_id=job_id, status_url=request.app.url_path_for("get_job", job_id=str(job_id)))
