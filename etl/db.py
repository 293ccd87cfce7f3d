"""Engine and sessions. One engine per process; one session per unit of work, never module-global."""
from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Iterator

import orjson
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from etl.config import get_settings

log = logging.getLogger(__name__)


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


# A replica that is down must answer the API's reads with a 503 quickly, not hold a request for
# libpq's default connect wait (forever on a host that drops packets).
READ_CONNECT_TIMEOUT = 5  # seconds
# A connection back in the pool for less than this is not pinged before its next use: a stage
# checks out a connection several times a second, and a ping on each checkout was a round trip per
# transaction (issue 12). One idle longer (the server restarted, a firewall dropped it) is pinged.
PING_AFTER_IDLE_SECONDS = 5.0


@lru_cache
def _engine_for(url: str, pid: int, connect_timeout: int | None = None) -> Engine:
    # Keyed by pid: a forked Celery child must not reuse its parent's connections.
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"connect_timeout": connect_timeout} if connect_timeout else {},
    )
    event.listen(engine, "checkin", _stamp_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _stamp_checkin(dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections idle a while: a dead one
    raises DisconnectionError and the pool retries the checkout on a fresh connection."""
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as exc:
        raise DisconnectionError(f"connection idle and dead: {exc.__class__.__name__}") from exc


def get_engine() -> Engine:
    return _engine_for(get_settings().database_url, os.getpid())


def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def has_read_replica() -> bool:
    return get_settings().database_read_url is not None


def get_read_engine() -> Engine:
    """The engine of ETL_DATABASE_READ_URL (a streaming replica), else the primary's."""
    url = get_settings().database_read_url
    return _engine_for(url, os.getpid(), READ_CONNECT_TIMEOUT) if url else get_engine()


def get_read_sessionmaker() -> sessionmaker[Session]:
    """Sessions for reads that may lag the primary by the replica's replay delay: the API's
    read-only routes. Scoped to a tenant exactly as the primary's (scope_to_tenant below: the role
    and app.tenant_id are per transaction, which a hot standby allows). Never for a write, nor for
    a read that must see a write just made (the replica has not replayed it yet)."""
    return sessionmaker(bind=get_read_engine(), expire_on_commit=False)


def tenant_sessionmaker(tenant_id) -> sessionmaker[Session]:
    """A factory of sessions scoped to one tenant from their first transaction (see the tenant
    scope below), for helpers that open sessions of their own."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False, info={_SCOPE: str(tenant_id)})


@contextmanager
def session_scope(sessions=None) -> Iterator[Session]:
    """A session (from `sessions`, a session factory, else this process's) that commits when the
    block succeeds and rolls back when it raises."""
    session = (sessions or get_sessionmaker())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- tenant scope (row-level security, migrations 0006 and 0010) -------------------------------
#
# No session runs as the tables' owner (who ignores row-level security). Every transaction starts
# with one statement that switches to a role without ownership or BYPASSRLS:
# - pulse_app with `app.tenant_id`: one tenant's rows (scope_to_tenant, the API per request and
#   the workers per task);
# - pulse_system: every tenant's rows, for the system's own cross-tenant work (the dispatcher, the
#   reaper, metrics, retention, tenant management, the CLI), asked for by scope_to_all_tenants only;
# - pulse_app without a tenant, when nothing asked for a scope: no tenant rows at all, so a
#   forgotten scope finds nothing instead of everything.
# Both are SET LOCAL (set_config(..., true)): nothing outlives the transaction on a pooled connection.

APP_ROLE = "pulse_app"
SYSTEM_ROLE = "pulse_system"
_SCOPE = "pulse_scope"  # session.info key: a tenant id (str), or _ALL_TENANTS
_APPLIED = "pulse_scope_applied"  # session.info key: the scope of the transaction under way
_ALL_TENANTS = "*"
_APPLY_SCOPE = text("SELECT set_config('role', :role, true), set_config('app.tenant_id', :tenant, true)")
_task_tenant: ContextVar[str | None] = ContextVar("pulse_task_tenant", default=None)


def scope_to_tenant(session: Session, tenant_id) -> None:
    """From now on, every transaction of this session runs as the unprivileged role with the
    tenant set: PostgreSQL's policies then hide and refuse other tenants' rows, even for a query
    that forgets its tenant filter."""
    _set_scope(session, str(tenant_id))


def scope_to_all_tenants(session: Session, reason: str) -> None:
    """From now on, every transaction of this session sees and writes every tenant's rows, as
    pulse_system (still no DDL, still not the owner). Only for the system's own cross-tenant work;
    `reason` says which, at the call site and in the debug log."""
    log.debug("session scoped to all tenants: %s", reason)
    _set_scope(session, _ALL_TENANTS)


@contextmanager
def tenant_context(tenant_id) -> Iterator[None]:
    """Sessions that begin inside this block without a scope of their own are scoped to this
    tenant: a worker task about one job opens several sessions (etl.pipeline), all of them
    under the job's tenant. None leaves them unscoped."""
    token = _task_tenant.set(str(tenant_id) if tenant_id else None)
    try:
        yield
    finally:
        _task_tenant.reset(token)


def _set_scope(session: Session, scope: str) -> None:
    session.info[_SCOPE] = scope
    # A stage's claim scopes to the tenant its task is already under: no second round trip.
    if session.in_transaction() and session.info.get(_APPLIED) != scope:
        _apply_scope(session, session.connection(), scope)


def _apply_scope(session: Session, connection, scope: str | None) -> None:
    """One round trip: the role and the tenant in a single statement."""
    role = SYSTEM_ROLE if scope == _ALL_TENANTS else APP_ROLE
    tenant = scope if scope not in (None, _ALL_TENANTS) else ""
    connection.execute(_APPLY_SCOPE, {"role": role, "tenant": tenant})
    session.info[_APPLIED] = scope


@event.listens_for(Session, "after_begin")
def _scope_new_transaction(session, transaction, connection) -> None:
    _apply_scope(session, connection, session.info.get(_SCOPE) or _task_tenant.get())


def database_hint(url: str, message: str) -> str:
    """What to do, from PostgreSQL's own words."""
    if "does not exist" in message and "database" in message:
        u = make_url(url)
        return (f"the server is up but has no database {u.database}: create it (createdb -h {u.host or '127.0.0.1'} "
                f"-p {u.port or 5432} -U {u.username or 'postgres'} {u.database}), then run `etl db upgrade`")
    if "password authentication failed" in message or ("role" in message and "does not exist" in message):
        return "check the user and password in ETL_DATABASE_URL"
    return "start PostgreSQL or point ETL_DATABASE_URL at a running server"
