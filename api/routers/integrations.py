"""Integrations of the caller's tenant. Credentials are write-only: validated and encrypted by
etl.tenancy.integrations, never returned nor logged."""
from __future__ import annotations

import asyncio
import logging
import math
import threading
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import SessionDep, TenantId
from api.schemas.common import Message
from api.schemas.integrations import (
    ConnectionTest,
    ConnectionTestChanges,
    ConnectionTestIn,
    Integration,
    IntegrationCreate,
    IntegrationUpdate,
    ScheduleIn,
    SchedulePreview,
)
from api.schemas.jobs import ActiveJobConflict
from etl.config import get_settings
from etl.crypto import CredentialsError
from etl.db import get_sessionmaker, scope_to_tenant
from etl.errors import NotFound
from etl.jobs.breaker import close_after_passing_test, is_open, refuse_failed_test
from etl.jobs.lifecycle import active_job_id
from etl.models import Integration as IntegrationRow
from etl.ops.scheduling import InvalidSchedule, Schedule, first_due, parse_schedule, set_schedule
from etl.tenancy.integrations import (
    LOGO_TYPES,
    UnsupportedLogo,
    check_connection,
    create_integration,
    credentials_of,
    delete_logo,
    logo_of,
    logo_times,
    merged_for_test,
    set_logo,
    update_integration,
    validate_new_integration,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/integrations", tags=["integrations"])


def _answer(session, row: IntegrationRow) -> Integration:
    """The integration as the API shows it, with when its logo last changed."""
    return Integration.from_row(row, logo_times(session, row.tenant_id, [row.id]).get(row.id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Integration,
    summary="Add an integration (credentials are stored encrypted and never returned)",
    responses={409: {"model": Message, "description": "the tenant already has an integration with this name, or "
                                                      "as many as ETL_MAX_INTEGRATIONS_PER_TENANT allows"},
               422: {"description": "invalid settings, URL or credentials; the message says which"}},
)
def create(body: IntegrationCreate, session: SessionDep, tenant_id: TenantId) -> Integration:
    # InvalidIntegration (422) and TooManyIntegrations (409) are answered by api.errors.
    try:
        row = create_integration(
            session, tenant_id, body.provider, body.name, body.base_url, body.credentials_dict(),
            body.settings.model_dump(exclude_none=True, exclude_defaults=True),
        )
        session.commit()
    except IntegrityError:  # the only unique key a new row can hit is (tenant_id, name)
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"an integration named {body.name.strip()!r} already exists"
        ) from None
    return Integration.from_row(row)  # a new integration has no logo


@router.get("", response_model=list[Integration], summary="All integrations of the tenant")
def list_integrations(session: SessionDep, tenant_id: TenantId) -> list[Integration]:
    rows = session.scalars(
        select(IntegrationRow).where(IntegrationRow.tenant_id == tenant_id).order_by(IntegrationRow.created_at)
    )
    logos = logo_times(session, tenant_id)
    return [Integration.from_row(row, logos.get(row.id)) for row in rows]


@router.get("/{integration_id}", response_model=Integration, responses={404: {"model": Message}})
def get_integration(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Integration:
    row = session.scalar(
        select(IntegrationRow).where(IntegrationRow.id == integration_id, IntegrationRow.tenant_id == tenant_id)
    )
    if row is None:
        raise NotFound(f"integration {integration_id} not found")
    return _answer(session, row)


def _locked(session, integration_id: uuid.UUID, tenant_id: uuid.UUID) -> IntegrationRow:
    row = session.scalar(
        select(IntegrationRow).where(IntegrationRow.id == integration_id, IntegrationRow.tenant_id == tenant_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"integration {integration_id} not found")
    return row


@router.patch(
    "/{integration_id}",
    response_model=Integration,
    summary="Change an integration: name, base URL, settings, credentials (write-only), schedule, enabled",
    responses={404: {"model": Message},
               409: {"model": Message, "description": "the tenant already has an integration with the new name"},
               422: {"model": Message, "description": "invalid schedule, settings, URL or credentials; "
                                                      "the message says what is wrong"}},
)
def update(integration_id: uuid.UUID, body: IntegrationUpdate, session: SessionDep,
           tenant_id: TenantId) -> Integration:
    row = _locked(session, integration_id, tenant_id)
    changes: dict = {}
    try:
        if "schedule" in body.model_fields_set:
            sched = body.schedule
            changes["schedule"] = parse_schedule(sched.cron, sched.every_minutes, sched.timezone) if sched else None
            if sched is not None and changes["schedule"] is None:
                raise InvalidSchedule('schedule needs "cron" or "every_minutes" (or null to remove it)')
    except InvalidSchedule as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"schedule: {exc}") from None
    for field in ("name", "base_url", "settings", "credentials"):
        if field in body.model_fields_set and getattr(body, field) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} cannot be null; omit it to keep it")
    changed: list[str] = []
    if body.model_fields_set & {"name", "base_url", "settings", "credentials"}:
        try:
            changed = update_integration(session, row, name=body.name, base_url=body.base_url,
                                         settings=body.settings_changes(), credentials=body.credentials_dict())
        except CredentialsError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{exc}; send new credentials with this change") from None
        except IntegrityError:  # the only unique key a rename can hit is (tenant_id, name)
            session.rollback()
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"an integration named {body.name.strip()!r} already exists"
            ) from None
    set_schedule(session, row, **changes, enabled=body.enabled)
    session.commit()
    if changed:  # field names only, never values
        log.info("integration %s of tenant %s changed: %s", row.id, tenant_id, ", ".join(changed))
    return _answer(session, row)


@router.delete(
    "/{integration_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an integration with everything synced from it (raw data, jobs, work items, pull requests)",
    responses={404: {"model": Message},
               409: {"model": ActiveJobConflict, "description": "the integration has a queued or running job"}},
)
def delete(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId):
    # The row lock makes a concurrent trigger wait for this delete (its job references the row).
    row = _locked(session, integration_id, tenant_id)
    job_id = active_job_id(session, row.id)
    if job_id is not None:
        conflict = ActiveJobConflict(
            detail=f"integration {integration_id} has an active job {job_id}; cancel it or wait for it to end, "
                   "then delete", job_id=job_id)
        return JSONResponse(conflict.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)
    session.delete(row)
    session.commit()
    log.info("integration %s of tenant %s deleted", integration_id, tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class ConnectionTests:
    """Connection tests run on a small thread pool of their own (ETL_CONNECTION_TEST_WORKERS), never
    on the one that serves API requests: a source that never answers holds one of these threads,
    for at most ETL_CONNECTION_TEST_TIMEOUT, instead of one every tenant's requests need. A tenant
    runs at most ETL_CONNECTION_TESTS_PER_TENANT at once (per API process); more are refused."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: Counter[uuid.UUID] = Counter()
        self._pool: ThreadPoolExecutor | None = None

    def start(self, tenant_id: uuid.UUID, check, *args) -> Future | None:
        """The running check, or None when the tenant already runs as many as it may."""
        settings = get_settings()
        with self._lock:
            if self._running[tenant_id] >= settings.connection_tests_per_tenant:
                return None
            self._running[tenant_id] += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(settings.connection_test_workers, thread_name_prefix="connection-test")
        future = self._pool.submit(check, *args)
        # Counted until the check itself ends (or is cancelled before it starts), not until the
        # request does: a client that hangs up does not free its slot early.
        future.add_done_callback(lambda _: self._finished(tenant_id))
        return future

    def _finished(self, tenant_id: uuid.UUID) -> None:
        with self._lock:
            self._running[tenant_id] -= 1
            if self._running[tenant_id] <= 0:
                del self._running[tenant_id]


CONNECTION_TESTS = ConnectionTests()


def _connection_test_input(session, integration_id: uuid.UUID, tenant_id: uuid.UUID,
                           changes: ConnectionTestChanges | None = None) -> tuple | ConnectionTest:
    """(provider, base URL, credentials, settings) of the integration, with `changes` merged in as
    PATCH would merge them, or the answer when its credentials cannot be read. Closes the session:
    the source may be slow, and the database connection goes back to the pool before it is asked."""
    try:
        row = session.scalar(
            select(IntegrationRow).where(IntegrationRow.id == integration_id, IntegrationRow.tenant_id == tenant_id)
        )
        if row is None:
            raise NotFound(f"integration {integration_id} not found")
        if changes is not None:
            # InvalidIntegration (422, PATCH's messages) when the changes break a rule.
            return merged_for_test(row, base_url=changes.base_url, settings=changes.settings_changes(),
                                   credentials=changes.credentials_dict())
        return row.provider, row.base_url, credentials_of(row), dict(row.settings or {})
    except CredentialsError as exc:
        return ConnectionTest(ok=False, error=f"{exc}; send the credentials again (PATCH)")
    finally:
        session.close()


def _new_connection_test_input(session, body: ConnectionTestIn) -> tuple:
    """What create would store, checked with create's messages (InvalidIntegration: 422)."""
    session.close()  # nothing to read: the connection goes back to the pool before the source is asked
    credentials = body.credentials_dict()
    settings = body.settings.model_dump(exclude_none=True, exclude_defaults=True)
    base_url = validate_new_integration(body.provider, body.name, body.base_url, credentials, settings)
    return body.provider, base_url, credentials, settings


async def _run_connection_test(tenant_id: uuid.UUID, what: str, check_input: tuple) -> ConnectionTest:
    """Run one check on the connection-test pool, within the tenant's cap (429) and the deadline."""
    future = CONNECTION_TESTS.start(tenant_id, check_connection, *check_input)
    if future is None:
        settings = get_settings()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"{settings.connection_tests_per_tenant} connection test(s) of this tenant are already running; "
            "wait for them to finish (each ends within "
            f"{settings.connection_test_timeout:g} s), then try again",
            headers={"Retry-After": str(math.ceil(settings.connection_test_timeout))})
    result = await asyncio.wrap_future(future)
    log.info("%s of tenant %s tested: %s", what, tenant_id,
             "ok" if result["ok"] else f"failed ({result.get('problem')})")
    return ConnectionTest(ok=result["ok"], account=result.get("account"), checked=result.get("checked"),
                          error=result.get("error"))


TEST_429 = {429: {"model": Message, "description": "the tenant already runs as many connection tests as it may; "
                                                   "retry after Retry-After seconds"}}


@router.post(
    "/test",
    response_model=ConnectionTest,
    response_model_exclude_none=True,
    summary="Check an integration before saving it: the body POST /integrations takes (name optional); "
            "nothing is stored",
    description="Validated as create validates (the same 422 messages), then asked of the source exactly as "
                "POST /integrations/{id}/test asks it: the same outbound guard, the same per-tenant limit on "
                "concurrent tests (429) and the same deadline (ETL_CONNECTION_TEST_TIMEOUT). 200 whenever the "
                "source was asked: `ok` says whether it accepted everything. Credentials are never echoed or "
                "logged.",
    responses={**TEST_429,
               422: {"description": "invalid provider, URL, settings or credentials; the message says which"}},
)
async def check_new_connection(body: ConnectionTestIn, session: SessionDep, tenant_id: TenantId) -> ConnectionTest:
    check_input = await anyio.to_thread.run_sync(_new_connection_test_input, session, body)
    return await _run_connection_test(tenant_id, f"a new {body.provider} integration", check_input)


@router.post(
    "/{integration_id}/test",
    response_model=ConnectionTest,
    response_model_exclude_none=True,
    summary="Check the credentials and settings with the source (Jira /myself and each project, "
            "GitHub /user and each repository)",
    description="Always 200 when the source was asked: `ok` says whether it accepted everything; when not, "
                "`error` carries the source's message and what to fix. The whole check ends within "
                "ETL_CONNECTION_TEST_TIMEOUT seconds. An optional body of changes (base_url, settings, "
                "credentials) is tested merged with the stored values, as PATCH would merge them, and nothing "
                "is saved; a base URL on another host needs new credentials in the same body (422 otherwise): "
                "the stored ones are only ever sent to the current host.",
    responses={404: {"model": Message}, **TEST_429,
               422: {"description": "the changes break a rule (PATCH's messages)"}},
)
async def check_integration_connection(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId,
                                       body: ConnectionTestChanges | None = None) -> ConnectionTest:
    loaded = await anyio.to_thread.run_sync(_connection_test_input, session, integration_id, tenant_id, body)
    if isinstance(loaded, ConnectionTest):
        return loaded
    result = await _run_connection_test(tenant_id, f"integration {integration_id}", loaded)
    if result.ok and body is None:  # what is stored works now (new credentials saved): a pause is over
        await anyio.to_thread.run_sync(_close_breaker, integration_id, tenant_id,
                                       "a connection test of the stored settings passed")
    return result


def _close_breaker(integration_id: uuid.UUID, tenant_id: uuid.UUID, why: str) -> IntegrationRow | None:
    """Close the integration's circuit breaker after a passing connection test (a session of its
    own: the request's went back to the pool before the source was asked)."""
    with get_sessionmaker()() as session:
        scope_to_tenant(session, tenant_id)
        row = close_after_passing_test(session, integration_id, why)
        session.commit()
        return row


def _paused_row(session, integration_id: uuid.UUID, tenant_id: uuid.UUID) -> Integration | None:
    """None when the integration is paused (a resume has work to do), else its answer as it is."""
    row = session.scalar(
        select(IntegrationRow).where(IntegrationRow.id == integration_id, IntegrationRow.tenant_id == tenant_id))
    if row is None:
        raise NotFound(f"integration {integration_id} not found")
    return None if is_open(row) else _answer(session, row)


def _resumed_answer(integration_id: uuid.UUID, tenant_id: uuid.UUID) -> Integration:
    with get_sessionmaker()() as session:
        scope_to_tenant(session, tenant_id)
        row = close_after_passing_test(session, integration_id, "resumed after a passing connection test")
        if row is None:
            raise NotFound(f"integration {integration_id} not found")
        session.commit()
        return _answer(session, row)


@router.post(
    "/{integration_id}/resume",
    response_model=Integration,
    summary="Resume an integration paused by the circuit breaker, once its connection test passes",
    description="Runs the connection test (POST /integrations/{id}/test, on the stored settings) and closes the "
                "breaker only if it passes: schedules run it again and manual syncs are accepted. Fix the cause "
                "first (new credentials: PATCH /integrations/{id}). An integration that is not paused is answered "
                "as it is.",
    responses={404: {"model": Message}, **TEST_429,
               409: {"model": Message, "description": "the connection test did not pass (its words); the "
                                                      "integration stays paused"}},
)
async def resume(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Integration:
    unchanged = await anyio.to_thread.run_sync(_paused_row, session, integration_id, tenant_id)
    if unchanged is not None:
        return unchanged
    loaded = await anyio.to_thread.run_sync(_connection_test_input, session, integration_id, tenant_id, None)
    result = loaded if isinstance(loaded, ConnectionTest) else await _run_connection_test(
        tenant_id, f"integration {integration_id} (resume)", loaded)
    if not result.ok:
        raise await anyio.to_thread.run_sync(_refusal, integration_id, tenant_id, result.error)
    return await anyio.to_thread.run_sync(_resumed_answer, integration_id, tenant_id)


def _refusal(integration_id: uuid.UUID, tenant_id: uuid.UUID, error: str | None) -> Exception:
    """ResumeRefused (409) in the test's words, or NotFound when the integration went meanwhile."""
    with get_sessionmaker()() as session:
        scope_to_tenant(session, tenant_id)
        row = session.get(IntegrationRow, integration_id)
        return refuse_failed_test(row, error) if row is not None else NotFound(f"integration {integration_id} not found")


# --- schedule preview ----------------------------------------------------------------------------

_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NUMBERS = {name.lower(): i for i, name in enumerate(_DAY_NAMES[:7])}


def _day(text: str) -> str | None:
    value = _DAY_NUMBERS.get(text.lower()) if not text.isdigit() else int(text)
    return _DAY_NAMES[value] if value is not None and 0 <= value <= 7 else None


def _days_in_words(field: str) -> str | None:
    if field == "*":
        return "every day"
    parts = []
    for item in field.split(","):
        bounds = [_day(b) for b in item.split("-")]
        if "/" in item or None in bounds or len(bounds) > 2:
            return None
        parts.append("-".join(bounds))
    return ", ".join(parts)


def schedule_summary(schedule: Schedule) -> str:
    """The schedule in words: "every 30 minutes", "at 06:00 Mon-Fri Europe/Paris"; a cron
    expression words cannot say simply is shown as it is, with its zone."""
    if not schedule.cron:
        minutes = schedule.every_minutes
        return "every minute" if minutes == 1 else f"every {minutes} minutes"
    zone = schedule.timezone or "UTC"
    minute, hour, dom, month, dow = schedule.cron.split()
    if dom == "*" and month == "*":
        days = _days_in_words(dow)
        if minute.isdigit() and hour.isdigit() and days:
            return f"at {int(hour):02d}:{int(minute):02d} {days} {zone}"
        if minute.startswith("*/") and hour == "*" and dow == "*":
            step = minute[2:]
            return "every minute" if step == "1" else f"every {step} minutes"
        if minute == "*" and hour == "*" and dow == "*":
            return "every minute"
    return f"cron {schedule.cron} ({zone})"


@router.post(
    "/schedule-preview",
    response_model=SchedulePreview,
    summary="When a schedule would run: its next three due times and the schedule in words; nothing is saved",
    description="Validated exactly as PATCH /integrations/{id} validates a schedule (the same 422 messages); the "
                "times are computed by the code the dispatcher uses. With `integration_id`, an interval counts "
                "from that integration's last sync, as saving it there would.",
    responses={404: {"model": Message},
               422: {"model": Message, "description": "invalid schedule; the message says what is wrong"}},
)
def schedule_preview(body: ScheduleIn, session: SessionDep, tenant_id: TenantId,
                     integration_id: uuid.UUID | None = Query(
                         None, description="count an interval from this integration's last sync")) -> SchedulePreview:
    try:
        schedule = parse_schedule(body.cron, body.every_minutes, body.timezone)
        if schedule is None:
            raise InvalidSchedule('schedule needs "cron" or "every_minutes" (or null to remove it)')
    except InvalidSchedule as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"schedule: {exc}") from None
    row = IntegrationRow(last_sync_at=None)
    if integration_id is not None:
        stored = session.scalar(select(IntegrationRow).where(IntegrationRow.id == integration_id,
                                                             IntegrationRow.tenant_id == tenant_id))
        if stored is None:
            raise NotFound(f"integration {integration_id} not found")
        row = IntegrationRow(last_sync_at=stored.last_sync_at)
    now = datetime.now(timezone.utc)
    runs = [first_due(schedule, row, now)]
    while len(runs) < 3:  # as the dispatcher moves a served due time to the next one
        runs.append(schedule.next_after(runs[-1], anchor=runs[-1]))
    return SchedulePreview(next_runs=[run.astimezone(timezone.utc) for run in runs],
                           timezone=(schedule.timezone or "UTC") if schedule.cron else None,
                           summary=schedule_summary(schedule))


# --- logo ----------------------------------------------------------------------------------------

LOGO_MAX_AGE = 3600  # the console asks again when logo_updated_at changes


def _logo_too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                         f"the logo is larger than {limit // 1024} KiB (ETL_MAX_LOGO_BYTES); send a smaller image")


async def _read_logo(request: Request) -> bytes:
    """The body, refused with 413 as soon as it is known to pass ETL_MAX_LOGO_BYTES: by its declared
    length before anything is read, else while it arrives."""
    limit = get_settings().max_logo_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _logo_too_large(limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _logo_too_large(limit)
    return bytes(data)


def _store_logo(session, integration_id: uuid.UUID, tenant_id: uuid.UUID, data: bytes) -> Integration:
    row = _locked(session, integration_id, tenant_id)
    try:
        set_logo(session, row, data)
    except UnsupportedLogo as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    session.commit()
    log.info("integration %s of tenant %s: logo set (%d bytes)", integration_id, tenant_id, len(data))
    return _answer(session, row)


ACCEPTED = ", ".join(LOGO_TYPES)


@router.put(
    "/{integration_id}/logo",
    response_model=Integration,
    summary="Set the integration's logo: the image's bytes as the body (PNG, JPEG or WebP)",
    description=f"The type is told by the bytes themselves, not by the Content-Type header ({ACCEPTED} only). "
                "At most ETL_MAX_LOGO_BYTES (256 KiB by default): a larger body is refused before it is read "
                "whole. Answers the integration with its new `logo_updated_at`.",
    openapi_extra={"requestBody": {"required": True, "content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in LOGO_TYPES}}},
    responses={404: {"model": Message},
               413: {"model": Message, "description": "larger than ETL_MAX_LOGO_BYTES"},
               415: {"model": Message, "description": f"not an image of an accepted type ({ACCEPTED})"}},
)
async def put_logo(integration_id: uuid.UUID, request: Request, session: SessionDep,
                   tenant_id: TenantId) -> Integration:
    data = await _read_logo(request)
    return await anyio.to_thread.run_sync(_store_logo, session, integration_id, tenant_id, data)


@router.get(
    "/{integration_id}/logo",
    summary="The integration's logo, as stored",
    description="Served with its detected type, `X-Content-Type-Options: nosniff`, `Content-Security-Policy: "
                "default-src 'none'`, an ETag (its SHA-256) and `Cache-Control: private`; If-None-Match gives 304.",
    response_class=Response,
    responses={200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in LOGO_TYPES},
                     "description": "the image"},
               304: {"description": "unchanged since the ETag given in If-None-Match"},
               404: {"model": Message, "description": "no such integration, or it has no logo"}},
)
def get_logo(integration_id: uuid.UUID, request: Request, session: SessionDep, tenant_id: TenantId) -> Response:
    logo = logo_of(session, integration_id, tenant_id)
    if logo is None:
        raise NotFound(f"integration {integration_id} has no logo (or does not exist)")
    etag = f'"{logo.sha256}"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={LOGO_MAX_AGE}",
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'",
               "Content-Disposition": 'inline; filename="logo"'}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=logo.data, media_type=logo.content_type, headers=headers)


@router.delete(
    "/{integration_id}/logo",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the integration's logo",
    responses={404: {"model": Message, "description": "no such integration, or it has no logo"}},
)
def remove_logo(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Response:
    row = _locked(session, integration_id, tenant_id)
    if not delete_logo(session, row):
        raise NotFound(f"integration {integration_id} has no logo")
    session.commit()
    log.info("integration %s of tenant %s: logo removed", integration_id, tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
