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

import anyio
from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import SessionDep, TenantId
from api.schemas.common import Message
from api.schemas.integrations import ConnectionTest, Integration, IntegrationCreate, IntegrationUpdate
from api.schemas.jobs import ActiveJobConflict
from etl.config import get_settings
from etl.crypto import CredentialsError
from etl.errors import NotFound
from etl.jobs.lifecycle import active_job_id
from etl.models import Integration as IntegrationRow
from etl.ops.scheduling import InvalidSchedule, parse_schedule, set_schedule
from etl.tenancy.integrations import (
    check_connection,
    create_integration,
    credentials_of,
    update_integration,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/integrations", tags=["integrations"])


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
    return Integration.from_row(row)


@router.get("", response_model=list[Integration], summary="All integrations of the tenant")
def list_integrations(session: SessionDep, tenant_id: TenantId) -> list[Integration]:
    rows = session.scalars(
        select(IntegrationRow).where(IntegrationRow.tenant_id == tenant_id).order_by(IntegrationRow.created_at)
    )
    return [Integration.from_row(row) for row in rows]


@router.get("/{integration_id}", response_model=Integration, responses={404: {"model": Message}})
def get_integration(integration_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Integration:
    row = session.scalar(
        select(IntegrationRow).where(IntegrationRow.id == integration_id, IntegrationRow.tenant_id == tenant_id)
    )
    if row is None:
        raise NotFound(f"integration {integration_id} not found")
    return Integration.from_row(row)


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
    return Integration.from_row(row)


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


def _connection_test_input(session, integration_id: uuid.UUID, tenant_id: uuid.UUID) -> tuple | ConnectionTest:
    """(provider, base URL, credentials, settings) of the integration, or the answer when its
    credentials cannot be read. Closes the session: the source may be slow, and the database
    connection goes back to the pool before it is asked."""
    row = session.scalar(
        select(IntegrationRow).where(IntegrationRow.id == integration_id, IntegrationRow.tenant_id == tenant_id)
    )
    if row is None:
        raise NotFound(f"integration {integration_id} not found")
    provider, base_url, settings = row.provider, row.base_url, dict(row.settings or {})
    try:
        credentials = credentials_of(row)
    except CredentialsError as exc:
        return ConnectionTest(ok=False, error=f"{exc}; send the credentials again (PATCH)")
    finally:
        session.close()
    return provider, base_url, credentials, settings


@router.post(
    "/{integration_id}/test",
    response_model=ConnectionTest,
    response_model_exclude_none=True,
    summary="Check the credentials and settings with the source (Jira /myself and each project, "
            "GitHub /user and each repository)",
    description="Always 200 when the source was asked: `ok` says whether it accepted everything; when not, "
                "`error` carries the source's message and what to fix. The whole check ends within "
                "ETL_CONNECTION_TEST_TIMEOUT seconds.",
    responses={404: {"model": Message},
               429: {"model": Message, "description": "the tenant already runs as many connection tests as it may; "
                                                      "retry after Retry-After seconds"}},
)
async def check_integration_connection(integration_id: uuid.UUID, session: SessionDep,
                                       tenant_id: TenantId) -> ConnectionTest:
    loaded = await anyio.to_thread.run_sync(_connection_test_input, session, integration_id, tenant_id)
    if isinstance(loaded, ConnectionTest):
        return loaded
    future = CONNECTION_TESTS.start(tenant_id, check_connection, *loaded)
    if future is None:
        settings = get_settings()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"{settings.connection_tests_per_tenant} connection test(s) of this tenant are already running; "
            "wait for them to finish (each ends within "
            f"{settings.connection_test_timeout:g} s), then try again",
            headers={"Retry-After": str(math.ceil(settings.connection_test_timeout))})
    result = await asyncio.wrap_future(future)
    log.info("integration %s of tenant %s tested: %s", integration_id, tenant_id,
             "ok" if result["ok"] else f"failed ({result.get('problem')})")
    return ConnectionTest(ok=result["ok"], account=result.get("account"), checked=result.get("checked"),
                          error=result.get("error"))
