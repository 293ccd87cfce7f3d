"""Row-level security, the second wall: a session scoped to a tenant cannot read or write another
tenant's rows, even with a query that has no tenant filter at all."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from api.deps import Principal, current_tenant
from etl.db import get_sessionmaker, scope_to_tenant
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")

TABLES = ("work_items", "work_item_transitions", "integrations", "etl_jobs", "raw_extraction_data", "api_keys",
          "statuses", "sync_state")


def tenants_seen(session, table: str) -> set:
    return set(session.scalars(text(f"SELECT DISTINCT tenant_id FROM {table}")))


def test_a_scoped_session_sees_only_its_tenant(jira_integration):
    a, _, integ_a, _ = jira_integration(issues=120)
    b, _, integ_b, _ = jira_integration(issues=80)
    assert run_sync(a, integ_a).status == "succeeded" and run_sync(b, integ_b).status == "succeeded"

    with get_sessionmaker()() as session:  # unscoped (the owner): both tenants are there
        assert {a, b} <= tenants_seen(session, "work_items")
    with get_sessionmaker()() as session:
        scope_to_tenant(session, a)
        for table in TABLES:
            assert tenants_seen(session, table) == {a}, table
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 120
        assert session.scalar(text("SELECT count(*) FROM tenants")) == 1
    with get_sessionmaker()() as session:  # the API's request session, scoped by the caller's key
        current_tenant(Principal(b), session)
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 80
        assert tenants_seen(session, "integrations") == {b}
    with get_sessionmaker()() as session:  # an unknown tenant sees nothing
        scope_to_tenant(session, uuid.uuid4())
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 0


def test_a_scoped_session_cannot_write_or_change_another_tenants_rows(jira_integration):
    a, _, integ_a, _ = jira_integration(issues=30)
    b, _, integ_b, _ = jira_integration(issues=30)
    assert run_sync(b, integ_b).status == "succeeded"
    with get_sessionmaker()() as session:
        scope_to_tenant(session, a)
        changed = session.execute(text("UPDATE work_items SET title = 'x' WHERE integration_id = :i"),
                                  {"i": integ_b}).rowcount
        assert changed == 0
        with pytest.raises(ProgrammingError, match="row-level security"):
            session.execute(text("INSERT INTO statuses (tenant_id, name, category) VALUES (:t, 'Sneaky', 'done')"),
                            {"t": b})


def test_every_tenant_table_has_the_policy(db):
    tables = set(db.scalars(text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'")))
    protected = set(db.scalars(text(
        "SELECT c.relname FROM pg_class c JOIN pg_policies p ON p.tablename = c.relname "
        "WHERE c.relrowsecurity AND p.policyname = 'tenant_isolation'")))
    assert tables and tables <= protected, f"tables without row-level security: {sorted(tables - protected)}"
