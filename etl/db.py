"""Engine and sessions. One engine per process; one session per unit of work, never module-global."""
from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import orjson
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from etl.config import get_settings


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


@lru_cache
def _engine_for(url: str, pid: int) -> Engine:
    # Keyed by pid: a forked Celery child must not reuse its parent's connections.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )


def get_engine() -> Engine:
    return _engine_for(get_settings().database_url, os.getpid())


def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- tenant scope (row-level security, migration 0006) -----------------------------------------

APP_ROLE = "pulse_app"
_SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")


def scope_to_tenant(session: Session, tenant_id) -> None:
    """From now on, every transaction of this session runs as the unprivileged role with the
    tenant set: PostgreSQL's policies then hide and refuse other tenants' rows, even for a query
    that forgets its tenant filter. Settings are transaction-local (SET LOCAL), so nothing leaks
    into a pooled connection's next user."""
    session.info["tenant_id"] = str(tenant_id)
    if session.in_transaction():
        _apply_scope(session.connection(), session.info["tenant_id"])


def _apply_scope(connection, tenant_id: str) -> None:
    connection.exec_driver_sql(f"SET LOCAL ROLE {APP_ROLE}")
    connection.execute(_SET_TENANT, {"tenant": tenant_id})


@event.listens_for(Session, "after_begin")
def _scope_new_transaction(session, transaction, connection) -> None:
    tenant_id = session.info.get("tenant_id")
    if tenant_id:
        _apply_scope(connection, tenant_id)
