"""The raw layer over HTTP: an external extractor pushes raw objects for one of the tenant's
integrations (stored with etl.pipeline.raw.store_records, so an unchanged object writes nothing), admins list
and read them and move a record's status by hand, and reprocess transforms and loads raw records
again without calling the source."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from api.deps import ReadSessionDep, SessionDep, TenantId
from api.schemas.common import Message
from api.schemas.jobs import ActiveJobConflict
from api.schemas.raw_data import (
    RawPage,
    RawRecord,
    RawStatus,
    RawStatusUpdate,
    ReprocessRequest,
    ReprocessResponse,
    StoredRecord,
    StoreRawDataRequest,
    StoreRawDataResponse,
)
from etl.config import get_settings
from etl.db import get_sessionmaker
from etl.errors import NotFound
from etl.jobs.lifecycle import ActiveJobExists, BrokerUnavailable, active_job_id, start_reprocess
from etl.models import Integration
from etl.models import RawExtractionData as RawRow
from etl.pipeline.raw import store_records
from etl.sources.base import Record
from etl.sources.registry import get_source

router = APIRouter(prefix="/etl", tags=["raw data"])

STORE_PATH = "/api/v1/etl/raw-data/store"

# Status changes an admin may make; the pipeline alone sets `processing` and `completed`.
TRANSITIONS = {
    "failed": ("pending",),  # retry it
    "completed": ("pending",),  # process it again
    "pending": ("failed",),  # give up on it
    "processing": ("pending", "failed"),  # stuck after a job ended; only with no active job
}

class BodySizeLimit:
    """ASGI middleware: refuses a request body over its limit with 413 before it is read whole (a
    declared Content-Length at once, a chunked body as soon as it passes the limit). Every route has
    ETL_MAX_REQUEST_BYTES (read per request, so a changed setting applies at once); `limits` gives
    some paths a limit of their own."""

    def __init__(self, app, limits: dict[str, int]):
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.limits.get(path) or get_settings().max_request_bytes
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(path, limit)(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, _too_large_message(path, limit))
            return message

        await self.app(scope, limited_receive, send)


def _size(n: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _too_large_message(path: str, limit: int) -> str:
    if path == STORE_PATH:
        return (f"request body over {_size(limit)}: send the records in smaller requests "
                f"(at most 1000 records each)")
    return f"request body over {_size(limit)} (ETL_MAX_REQUEST_BYTES): send a smaller body"


def _too_large(path: str, limit: int) -> JSONResponse:
    return JSONResponse({"detail": _too_large_message(path, limit)}, status_code=status.HTTP_413_CONTENT_TOO_LARGE)


def _invalid(errors: list[tuple[tuple, str]]) -> RequestValidationError:
    """422 in FastAPI's shape: where in the body, and what is wrong."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", *loc), "msg": msg} for loc, msg in errors])


def _validate_records(body: StoreRawDataRequest, provider: str) -> None:
    source = get_source(provider)
    known = source.entity_types  # the raw entity types its transform knows
    if body.entity_type not in known:
        raise _invalid([(("entity_type",), f"a {provider} integration stores {', '.join(known)}; "
                                           f"not {body.entity_type!r}")])
    errors: list[tuple[tuple, str]] = []
    first_seen: dict[str, int] = {}
    for i, record in enumerate(body.records):
        if record.external_id in first_seen:
            errors.append((("records", i, "external_id"),
                           f"{record.external_id!r} repeats records[{first_seen[record.external_id]}]"))
        first_seen.setdefault(record.external_id, i)
        problem = source.identity_problem(body.entity_type, record.external_id, record.payload)
        if problem:
            errors.append((("records", i, *problem[0]), problem[1]))
        if len(errors) >= 20:
            break
    if errors:
        raise _invalid(errors)


def _integration(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID,
                 for_writing: bool = False) -> Integration:
    """for_writing: the row stays key-share locked until commit, so the integration cannot be deleted
    under the rows written for it (the raw table has no foreign key, migration 0022: a delete waits,
    then its trigger deletes them too)."""
    query = select(Integration).where(Integration.id == integration_id, Integration.tenant_id == tenant_id)
    integration = session.scalar(query.with_for_update(key_share=True) if for_writing else query)
    if integration is None:
        raise NotFound(f"integration {integration_id} not found")
    return integration


def _conflict(integration_id, job_id, prefix: str = "") -> JSONResponse:
    body = ActiveJobConflict(detail=f"{prefix}integration {integration_id} already has an active job {job_id}",
                             job_id=job_id)
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)


def _job_url(request: Request, job_id) -> str:
    return request.app.url_path_for("get_job", job_id=str(job_id))


@router.post(
    "/raw-data/store",
    response_model=StoreRawDataResponse,
    summary="Store raw objects pushed by an external extractor (unchanged ones write nothing)",
    description="Records are stored like the pipeline's own extracts: one row per (integration, entity type, "
                "external id); an object whose content did not change writes nothing, a changed one replaces "
                "the payload and goes back to `pending`. With `process: true` a reprocess job transforms and "
                "loads the stored records (202). At most 1,000 records and 8 MiB per request.",
    responses={
        202: {"model": StoreRawDataResponse, "description": "stored, and a reprocess job started"},
        404: {"model": Message, "description": "no such integration for this tenant"},
        409: {"model": ActiveJobConflict, "description": "with `process`: the integration has an active job"},
        413: {"model": Message, "description": "request body over 8 MiB"},
        503: {"model": Message, "description": "with `process`: the broker is unreachable (the records are stored)"},
    },
)
def store_raw_data(body: StoreRawDataRequest, tenant_id: TenantId, session: SessionDep, request: Request,
                   response: Response):
    integration = _integration(session, tenant_id, body.integration_id, for_writing=True)
    _validate_records(body, integration.provider)
    if body.process and (active := active_job_id(session, integration.id)) is not None:
        return _conflict(integration.id, active, "nothing stored: ")
    received_at = datetime.now(timezone.utc).isoformat()
    records = [Record(body.entity_type, r.external_id, r.payload,
                      metadata={**(r.metadata or {}), "via": "api", "received_at": received_at})
               for r in body.records]
    to_process, _ = store_records(session, tenant_id, integration.id, records)
    # Rows written by this transaction carry its timestamp (now()); the others were left alone.
    written = {ext: (raw_id, fresh) for ext, raw_id, fresh in session.execute(
        select(RawRow.external_id, RawRow.id, RawRow.updated_at == func.now())
        .where(RawRow.tenant_id == tenant_id, RawRow.integration_id == integration.id,
               RawRow.entity_type == body.entity_type,
               RawRow.external_id.in_([r.external_id for r in body.records]))
    )}
    session.commit()
    out = [StoredRecord(external_id=r.external_id, id=written[r.external_id][0],
                        result="stored" if written[r.external_id][1] else "unchanged") for r in body.records]
    result = StoreRawDataResponse(stored=sum(o.result == "stored" for o in out),
                                  unchanged=sum(o.result == "unchanged" for o in out), records=out)
    if not body.process:
        return result
    if not to_process:
        result.detail = "nothing to process: every record is unchanged and already processed"
        return result
    integration_id = integration.id
    session.close()  # start_reprocess opens its own sessions; give this connection back first
    try:
        job_id = start_reprocess(get_sessionmaker(), integration_id, tenant_id, to_process, trigger="api")
    except ActiveJobExists as exc:
        return _conflict(integration_id, exc.job_id, f"{result.stored} record(s) stored but not processed: ")
    except BrokerUnavailable as exc:
        return JSONResponse({"detail": f"{result.stored} record(s) stored but not processed: {exc}",
                             "job_id": str(exc.job_id)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    result.job_id, result.status_url = job_id, _job_url(request, job_id)
    response.status_code = status.HTTP_202_ACCEPTED
    return result


def _raw_record(row: RawRow, with_payload: bool) -> RawRecord:
    record = RawRecord.model_validate(row)
    if with_payload:
        record.payload = row.raw_data
    return record


@router.get("/raw-data", response_model=RawPage, summary="Raw records, oldest first (cursor pagination by id)",
            responses={422: {"model": Message, "description": "a filter or cursor that is not valid"}})
def list_raw_data(
    session: ReadSessionDep,
    tenant_id: TenantId,
    entity_type: Annotated[str | None, Query(examples=["jira_issue"])] = None,
    status_: Annotated[RawStatus | None, Query(alias="status")] = None,
    integration_id: Annotated[uuid.UUID | None, Query()] = None,
    external_id: Annotated[str | None, Query(
        max_length=500, description="the object's id at the source (with integration_id and entity_type: the "
                                    "one record a work item or pull request was loaded from)",
        examples=["10042"])] = None,
    job_id: Annotated[uuid.UUID | None, Query(
        description="records that failed in this job (their `error_details.job_id`)")] = None,
    include_payload: Annotated[bool, Query(description="include each record's raw payload")] = False,
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 100,
    cursor: Annotated[str | None, Query(description="the `next` value of the previous page")] = None,
) -> RawPage:
    query = select(RawRow).where(RawRow.tenant_id == tenant_id)
    for column, value in ((RawRow.entity_type, entity_type), (RawRow.processing_status, status_),
                          (RawRow.integration_id, integration_id), (RawRow.external_id, external_id)):
        if value is not None:
            query = query.where(column == value)
    if job_id is not None:
        query = query.where(RawRow.error_details["job_id"].astext == str(job_id))
    if cursor:
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19):  # a bigint id
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "cursor: not a `next` value returned by this endpoint")
        query = query.where(RawRow.id > int(cursor))
    if not include_payload:
        query = query.options(defer(RawRow.raw_data))
    rows = list(session.scalars(query.order_by(RawRow.id).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return RawPage(items=[_raw_record(r, include_payload) for r in rows[:limit]], next=next_cursor)


def _own_raw(session: Session, tenant_id: uuid.UUID, raw_id: int, lock: bool = False) -> RawRow:
    query = select(RawRow).where(RawRow.id == raw_id, RawRow.tenant_id == tenant_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"raw record {raw_id} not found")
    return row


@router.get("/raw-data/{raw_id}", response_model=RawRecord, summary="One raw record with its payload",
            responses={404: {"model": Message}})
def get_raw_data(raw_id: int, session: ReadSessionDep, tenant_id: TenantId) -> RawRecord:
    return _raw_record(_own_raw(session, tenant_id, raw_id), True)


@router.put(
    "/raw-data/{raw_id}/status",
    response_model=RawRecord,
    summary="Change a raw record's processing status (failed -> pending to retry it)",
    description="Allowed: `failed` -> `pending` and `completed` -> `pending` (to process it again, e.g. with "
                "POST /etl/reprocess and filter status=pending); `pending` -> `failed` (give up on it, with "
                "`error_details`); a record stuck in `processing` -> `pending` or `failed` when its integration "
                "has no active job. The pipeline alone sets `processing` and `completed`. Setting the status a "
                "record already has changes nothing.",
    responses={404: {"model": Message}, 409: {"model": ActiveJobConflict}, 422: {"model": Message}},
)
def update_raw_status(raw_id: int, body: RawStatusUpdate, session: SessionDep, tenant_id: TenantId):
    row = _own_raw(session, tenant_id, raw_id, lock=True)
    current, target = row.processing_status, body.status
    if current == target:
        return _raw_record(row, False)
    allowed = TRANSITIONS.get(current, ())
    if target not in allowed:
        why = ("only the pipeline sets it" if target in ("processing", "completed")
               else f"from {current} a record can go to {' or '.join(allowed) or 'nothing'}")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cannot set status {target} on a {current} "
                                                                    f"record: {why}")
    if current == "processing" and (active := active_job_id(session, row.integration_id)) is not None:
        return _conflict(row.integration_id, active, f"raw record {raw_id} is being processed: ")
    values: dict = {"processing_status": target}
    if target == "pending":
        values.update(error_details=None, processed_at=None)
    else:  # failed by hand
        values.update(error_details={"stage": "manual", "at": datetime.now(timezone.utc).isoformat(),
                                     **(body.error_details or {"error": "marked failed by an admin"})},
                      processed_at=func.now())
    session.execute(update(RawRow).where(RawRow.id == row.id).values(**values))
    session.commit()
    return _raw_record(_own_raw(session, tenant_id, raw_id), False)


def _count_up_to_limit(session: Session, query) -> int:
    """Rows the query selects, counted no further than one past ETL_MAX_REPROCESS_RECORDS."""
    return session.scalar(select(func.count()).select_from(
        query.limit(get_settings().max_reprocess_records + 1).subquery()))


def _refuse_oversized_reprocess(selected: int, integration_id: uuid.UUID) -> None:
    """One request may not set the shared transform and load workers on more than this."""
    limit = get_settings().max_reprocess_records
    if selected > limit:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, (
            f"this selects more than {limit} raw records of integration {integration_id} "
            f"(ETL_MAX_REPROCESS_RECORDS); narrow it with `filter` (entity_type, status) or send `raw_ids` in "
            f"parts, listed by GET /api/v1/etl/raw-data"))


@router.post(
    "/reprocess",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReprocessResponse,
    summary="Transform and load raw records again (no source call)",
    description="Give `raw_ids`, or a `filter` on entity type and status, or neither for every raw record of "
                "the integration (after a mapping change).",
    responses={
        404: {"model": Message, "description": "no such integration, or raw ids that are not the integration's"},
        409: {"model": ActiveJobConflict, "description": "the integration already has a queued or running job"},
        422: {"model": Message, "description": "nothing matches, or more than ETL_MAX_REPROCESS_RECORDS"},
        503: {"model": Message, "description": "the message broker is unreachable; the job is recorded as failed"},
    },
)
def reprocess(body: ReprocessRequest, tenant_id: TenantId, session: SessionDep, request: Request):
    integration = _integration(session, tenant_id, body.integration_id)
    query = select(RawRow.id).where(RawRow.tenant_id == tenant_id, RawRow.integration_id == integration.id)
    if body.raw_ids is not None:
        wanted = set(body.raw_ids)
        _refuse_oversized_reprocess(len(wanted), integration.id)
        ids = list(session.scalars(query.where(RawRow.id.in_(wanted)).order_by(RawRow.id)))
        missing = sorted(wanted - set(ids))
        if missing:
            shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"raw records not found for integration {integration.id}: {shown}")
        count = len(ids)
    elif body.filter is not None:
        if body.filter.entity_type is not None:
            query = query.where(RawRow.entity_type == body.filter.entity_type)
        if body.filter.status is not None:
            query = query.where(RawRow.processing_status == body.filter.status)
        _refuse_oversized_reprocess(_count_up_to_limit(session, query), integration.id)
        ids = list(session.scalars(query.order_by(RawRow.id)))
        count = len(ids)
    else:  # everything: start_reprocess selects the ids itself
        ids, count = None, _count_up_to_limit(session, query)
        _refuse_oversized_reprocess(count, integration.id)
    if not count:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"nothing to reprocess: no raw record of integration {integration.id} matches")
    integration_id = integration.id
    session.close()
    try:
        job_id = start_reprocess(get_sessionmaker(), integration_id, tenant_id, ids, trigger="api")
    except ActiveJobExists as exc:  # BrokerUnavailable (503) is answered by api.errors
        return _conflict(integration_id, exc.job_id)
    return ReprocessResponse(job_id=job_id, status="running", records=count, status_url=_job_url(request, job_id))
