"""The pulse-etl API: `uvicorn api.main:app`. Routes read data and enqueue work; the work itself is
in etl/. OpenAPI at /docs."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from api.errors import answer_domain_errors
from api.request_log import RequestLog, setup_api_logging
from api.routers import (
    api_keys,
    audits,
    auth,
    console,
    docs,
    events,
    health,
    integrations,
    jobs,
    metrics,
    notifications,
    overview,
    pull_requests,
    queues,
    raw_data,
    tenants,
    work_items,
)
from api.routers import (
    syncs as pipeline,
)
from api.routers.mappings import status_mappings, statuses, unmapped, wit_hierarchies, wit_mappings, wits, workflows
from api.schemas.raw_data import MAX_STORE_BYTES
from api.validation import RefuseNulInUrl
from etl.config import get_settings
from etl.db import get_engine

API_PREFIX = "/api/v1"
# ETL_LOG_FORMAT on our lines and uvicorn's, before uvicorn logs that it started (it imports us first).
setup_api_logging()


@asynccontextmanager
async def lifespan(app: FastAPI):
    problem = get_settings().api_startup_problem()
    if problem:
        raise RuntimeError(problem)  # uvicorn prints it and exits: better than serving unprotected
    yield
    get_engine().dispose()


app = FastAPI(
    title="pulse-etl",
    version="0.1.0",
    summary="Jira and GitHub into an engineering-analytics database: trigger syncs, follow jobs, read work items.",
    description="Authenticate every `/api/v1` call with the tenant's API key: `Authorization: Bearer pk_...` "
                "(or, when the server sets ETL_JWT_SECRET, an HS256 JWT with a `tenant_id` claim). "
                "Admin keys also manage tenants; read-only keys (scope `read`) get 403 on anything but GET.",
    lifespan=lifespan,
    docs_url=None,  # /docs and /redoc are api/routers/docs.py: their assets served here, not from a CDN
    redoc_url=None,
)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 (field location and problem), without echoing the submitted values: a body
    that fails validation may carry credentials."""
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return JSONResponse(jsonable_encoder({"detail": errors}), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


answer_domain_errors(app)  # etl's refusals (etl.errors) as HTTP statuses, once for every route
app.include_router(health.router)
app.include_router(metrics.router)
app.include_router(docs.router)
MAPPINGS = (wit_hierarchies, wits, wit_mappings, statuses, status_mappings, workflows, unmapped)
for module in (pipeline, jobs, events, overview, queues, integrations, work_items, pull_requests, api_keys, auth, tenants, *MAPPINGS,
               audits):
    app.include_router(module.router, prefix=API_PREFIX)
app.include_router(raw_data.router, prefix=API_PREFIX)
app.include_router(notifications.router, prefix=API_PREFIX)
console.mount(app)  # the console at / with its history fallback: after every other route
# Request bodies over ETL_MAX_REQUEST_BYTES (pushed raw records: MAX_STORE_BYTES) are refused with
# 413 before the whole body is read.
app.add_middleware(raw_data.BodySizeLimit, limits={raw_data.STORE_PATH: MAX_STORE_BYTES})
app.add_middleware(RefuseNulInUrl)  # a NUL in the path or query string: 422 before any route
app.add_middleware(RequestLog)  # outermost: a request id and an access line for every answer, refusals too


def _openapi() -> dict:
    """FastAPI documents every 422 as a list of field errors; ours may also be one sentence (a bad
    cursor, a rule that spans fields). Publish both shapes so the schema tells the truth."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, description=app.description,
                         routes=app.routes)
    error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
    if error:
        error["properties"]["detail"] = {
            "title": "Detail",
            "anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}, {"type": "string"}],
        }
        # Routes that describe their own 422 can still answer FastAPI's field-error list.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                unprocessable = operation.get("responses", {}).get("422")
                if unprocessable is not None:
                    unprocessable["content"] = {
                        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
    _document_read_only_refusal(schema)
    _document_limits(schema)
    app.openapi_schema = schema
    return schema


READ_ONLY_403 = "the API key (or JWT) is read-only (scope `read`): this method needs the `write` scope"


def _document_read_only_refusal(schema: dict) -> None:
    """Every authenticated route that changes something can answer 403 to a read-only key (api.deps)."""
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("get", "head", "options") or not operation.get("security"):
                continue
            refused = operation.setdefault("responses", {}).setdefault(
                "403", {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}})
            refused["description"] = "; or ".join(filter(None, (refused.get("description"), READ_ONLY_403)))


RATE_LIMITED_429 = ("over the rate limit of the API key (ETL_RATE_LIMIT_PER_KEY), or too many failed "
                    "authentications from this address (ETL_AUTH_FAILURE_LIMIT_PER_IP); Retry-After says when to retry")
TOO_LARGE_413 = "request body over ETL_MAX_REQUEST_BYTES"


def _document_limits(schema: dict) -> None:
    """Every authenticated route can answer 429 (api.limits), every route with a body 413 (BodySizeLimit)."""
    message = {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if operation.get("security"):
                limited = responses.setdefault("429", {"content": message})
                limited["description"] = "; or ".join(filter(None, (limited.get("description"), RATE_LIMITED_429)))
            if operation.get("requestBody"):
                responses.setdefault("413", {"content": message, "description": TOO_LARGE_413})


app.openapi = _openapi
