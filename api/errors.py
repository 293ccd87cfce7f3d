"""Domain errors (etl.errors) as HTTP answers, in one place: registered once on the app (api.main),
so a route lets a refusal of etl/ propagate instead of translating it. The status comes from the kind
of refusal, the body is FastAPI's `{"detail": message}`, as an HTTPException's. A route still catches a
refusal itself where its answer says more than the message (ActiveJobConflict with the job in the way,
a message that names the request's integration)."""
from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from etl.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooMany, Unauthenticated, Unavailable
from etl.jobs.lifecycle import BrokerUnavailable

STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    Invalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Unauthenticated: status.HTTP_401_UNAUTHORIZED,
    # 429, not 409, for a limit: nothing about the request is wrong, and it succeeds unchanged once
    # something has ended, which is what clients that back off and retry on 429 do.
    TooMany: status.HTTP_429_TOO_MANY_REQUESTS,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}
HEADERS = {Unauthenticated: {"WWW-Authenticate": "Bearer"}}


def kind_of(exc: DomainError) -> type[DomainError] | None:
    """The nearest kind of refusal in the error's bases (TooManyIntegrations: Conflict before Invalid)."""
    return next((kind for kind in type(exc).__mro__ if kind in STATUS), None)


async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
    kind = kind_of(exc)
    body = {"detail": str(exc)}
    if isinstance(exc, BrokerUnavailable):  # the job is recorded as failed: say which
        body["job_id"] = str(exc.job_id)
    return JSONResponse(body, status_code=STATUS[kind], headers=HEADERS.get(kind))


def answer_domain_errors(app: FastAPI) -> None:
    """One handler per kind (Starlette picks the nearest in the error's bases); a DomainError of no
    kind stays a 500."""
    for kind in STATUS:
        app.add_exception_handler(kind, domain_error)
