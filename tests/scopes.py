"""The tests' own sessions. A test sets up rows for several tenants and looks at all of them
afterwards, as an operator would, so its sessions are scoped to all tenants (pulse_system, under
row-level security like everything else; etl.db). The code under test opens and scopes its own."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from etl import db


@contextmanager
def session_scope() -> Iterator[Session]:
    """etl.db.session_scope, across tenants: commits when the block succeeds."""
    with db.session_scope() as session:
        db.scope_to_all_tenants(session, "a test sets up and inspects rows")
        yield session


@contextmanager
def server_connection() -> Iterator[Connection]:
    """A plain connection as the login user, outside any scope, for looking at the server itself:
    pg_stat_activity shows another backend's query only to the same user."""
    with db.get_engine().connect() as connection:
        yield connection
