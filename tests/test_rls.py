"""Row-level security, the second wall: no application session runs as the tables' owner (who
ignores RLS). A session scoped to a tenant cannot read or write another tenant's rows, even with a
query that has no tenant filter at all; a session nobody scoped sees no tenant rows; the system's
cross-tenant work runs as pulse_system, which sees every tenant but owns nothing. Every path that
used to run as the owner (the API key routes, job start, live progress, the workers' bookkeeping,
the reaper, reconcile, metrics, the dispatcher, retention, tenant management, the CLI) is run
here and watched: each statement it sends that names a tenant table is checked for the role it
ran as (in this process), and each write to a tenant table by any process (workers included) is
recorded with its role by a trigger."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text
from sqlalchemy.exc import ProgrammingError

from alembic import command
from etl import db as etl_db
from etl.db import get_engine, get_sessionmaker, scope_to_all_tenants, scope_to_tenant
from etl.migrations import alembic_config
from etl.tenancy.keys import authenticate, issue_api_key
from tests.scopes import session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")

TABLES = ("work_items", "work_item_transitions", "integrations", "etl_jobs", "raw_extraction_data", "api_keys",
          "statuses", "sync_state")
NON_OWNER_ROLES = {"pulse_app", "pulse_system"}


def tenants_seen(session, table: str) -> set:
    return set(session.scalars(text(f"SELECT DISTINCT tenant_id FROM {table}")))


def tenant_tables(session) -> list[str]:
    return sorted(session.scalars(text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'")))


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


# --- the policies ---------------------------------------------------------------------------------


def test_every_tenant_table_has_both_policies(db):
    tables = {*tenant_tables(db), "tenants"}
    policies = {(t, name): roles for t, name, roles in db.execute(text(
        "SELECT p.tablename, p.policyname, p.roles FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename "
        "WHERE c.relrowsecurity AND p.schemaname = 'public'"))}
    missing = sorted((t, name) for t in tables for name in ("tenant_isolation", "all_tenants") if (t, name) not in policies)
    assert len(tables) > 10 and not missing, f"tables without their row-level security policy: {missing}"
    assert {tuple(policies[t, "tenant_isolation"]) for t in tables} == {("pulse_app",)}
    assert {tuple(policies[t, "all_tenants"]) for t in tables} == {("pulse_system",)}


def test_the_migration_goes_down_and_up(empty_database):
    cfg = alembic_config()
    with empty_database.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "0009")
        assert conn.scalar(text("SELECT count(*) FROM pg_policies WHERE policyname = 'all_tenants'")) == 0
        assert conn.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'api_key_by_hash'")) == 0
        command.upgrade(cfg, "head")
        assert conn.scalar(text("SELECT count(*) FROM pg_policies WHERE policyname = 'all_tenants'")) > 10


# --- the scopes -----------------------------------------------------------------------------------


def test_a_scoped_session_sees_only_its_tenant(jira_integration, api_client):
    a, _, integ_a, _ = jira_integration(issues=120)
    b, key_b, integ_b, _ = jira_integration(issues=80)
    assert run_sync(a, integ_a).status == "succeeded" and run_sync(b, integ_b).status == "succeeded"

    with get_sessionmaker()() as session:
        scope_to_tenant(session, a)
        assert session.scalar(text("SELECT current_user")) == "pulse_app"
        for table in TABLES:
            assert tenants_seen(session, table) == {a}, table
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 120
        assert session.scalar(text("SELECT count(*) FROM tenants")) == 1
    with get_sessionmaker()() as session:  # an unknown tenant sees nothing
        scope_to_tenant(session, uuid.uuid4())
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 0
    # The API's request session is scoped by the caller's key.
    items = api_client.get("/api/v1/work-items", params={"limit": 200}, headers=auth(key_b)).json()["items"]
    assert len(items) == 80


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


def test_a_session_nobody_scoped_sees_no_tenant_rows(jira_integration):
    a, _, integ_a, _ = jira_integration(issues=30)
    assert run_sync(a, integ_a).status == "succeeded"
    with get_sessionmaker()() as session:  # opened the normal way, no scope asked for
        assert session.scalar(text("SELECT current_user")) == "pulse_app"
        seen = {table: session.scalar(text(f"SELECT count(*) FROM {table}")) for table in tenant_tables(session)}
        assert seen and set(seen.values()) == {0}, seen
        assert session.scalar(text("SELECT count(*) FROM tenants")) == 0
        with pytest.raises(ProgrammingError, match="row-level security"):
            session.execute(text("INSERT INTO statuses (tenant_id, name, category) VALUES (:t, 'Sneaky', 'done')"),
                            {"t": a})
    with etl_db.tenant_context(a), etl_db.session_scope() as session:  # what a worker task about a's job opens
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 30
    with etl_db.session_scope() as session:  # and once the task is over, nothing again
        assert session.scalar(text("SELECT count(*) FROM work_items")) == 0


def test_the_all_tenants_scope_sees_every_tenant_but_is_not_the_owner(jira_integration):
    a, _, integ_a, _ = jira_integration(issues=20)
    b, _, integ_b, _ = jira_integration(issues=20)
    assert run_sync(a, integ_a).status == "succeeded" and run_sync(b, integ_b).status == "succeeded"
    with get_sessionmaker()() as session:
        scope_to_all_tenants(session, "test")
        assert session.scalar(text("SELECT current_user")) == "pulse_system"
        assert {a, b} <= tenants_seen(session, "work_items")
        with pytest.raises(ProgrammingError, match="must be owner"):
            session.execute(text("ALTER TABLE work_items DISABLE ROW LEVEL SECURITY"))


def test_an_api_key_is_found_before_its_tenant_is_known(make_tenant):
    tenant_id, secret = make_tenant()
    with get_sessionmaker()() as session:  # unscoped: api_keys shows nothing
        assert session.scalar(text("SELECT count(*) FROM api_keys")) == 0
        key = authenticate(session, secret)
        assert key is not None and key.tenant_id == tenant_id
        assert authenticate(session, secret + "x") is None
        assert session.scalar(text("SELECT count(*) FROM api_keys")) == 0  # and still nothing else


# --- who runs each path ---------------------------------------------------------------------------


@dataclass
class Roles:
    """reads: (role, statement) of each statement naming a tenant table sent by this process;
    writes(): (table, operation, role) of each write to a tenant table by any process."""

    reads: list[tuple[str, str]] = field(default_factory=list)

    def take_reads(self) -> set[str]:
        roles = {role for role, _ in self.reads}
        self.reads.clear()
        return roles

    def writes(self) -> set[tuple[str, str, str]]:
        with session_scope() as s:
            rows = s.execute(text("DELETE FROM rls_audit RETURNING tbl, op, role")).all()
        return {tuple(r) for r in rows}


_AUDIT_FUNCTION = """
    CREATE FUNCTION rls_audit_record() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- depth 1: the statement itself, not a foreign key's cascade (which runs as the owner)
        IF pg_trigger_depth() = 1 THEN
            INSERT INTO rls_audit (tbl, op, role) VALUES (TG_TABLE_NAME, TG_OP, current_user);
        END IF;
        RETURN NULL;
    END $$"""


@pytest.fixture
def roles(database):
    with get_sessionmaker()() as s:
        s.connection().exec_driver_sql("RESET ROLE")  # the owner installs the watch (DDL)
        tables = [*tenant_tables(s), "tenants"]
        s.execute(text("CREATE TABLE rls_audit (tbl text, op text, role text)"))
        s.execute(text("GRANT SELECT, INSERT, DELETE ON rls_audit TO PUBLIC"))
        s.execute(text(_AUDIT_FUNCTION))
        for table in tables:
            s.execute(text(f"CREATE TRIGGER rls_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                           "FOR EACH STATEMENT EXECUTE FUNCTION rls_audit_record()"))
        s.commit()
    watched = Roles()
    names = re.compile(r"\b(" + "|".join(tables) + r")\b")

    def record(conn, cursor, statement, parameters, context, executemany):
        if names.search(statement):
            with cursor.connection.cursor() as probe:
                probe.execute("SELECT current_user")
                watched.reads.append((probe.fetchone()[0], statement))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    yield watched
    event.remove(engine, "before_cursor_execute", record)
    with get_sessionmaker()() as s:
        s.connection().exec_driver_sql("RESET ROLE")
        for table in tables:
            s.execute(text(f"DROP TRIGGER rls_audit ON {table}"))
        s.execute(text("DROP FUNCTION rls_audit_record()"))
        s.execute(text("DROP TABLE rls_audit"))
        s.commit()


def test_api_key_routes_job_start_progress_and_worker_bookkeeping_run_as_the_tenant(roles, api_client,
                                                                                      jira_integration):
    tenant_id, key, integration_id, _ = jira_integration(issues=60)
    roles.writes(), roles.take_reads()

    created = api_client.post("/api/v1/api-keys", json={"name": "ci"}, headers=auth(key))
    assert created.status_code == 201, created.text
    assert {k["name"] for k in api_client.get("/api/v1/api-keys", headers=auth(key)).json()} == {"default", "ci"}
    assert api_client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=auth(key)).status_code == 200
    assert roles.take_reads() == {"pulse_app"}
    assert roles.writes() == {("api_keys", "INSERT", "pulse_app"), ("api_keys", "UPDATE", "pulse_app")}

    started = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)},
                              headers=auth(key))
    assert started.status_code in (200, 201, 202), started.text
    job_id = started.json()["job_id"]
    assert roles.take_reads() == {"pulse_app"}
    with api_client.stream("GET", f"/api/v1/etl/jobs/{job_id}/events", headers=auth(key)) as events:
        body = "".join(events.iter_text())
    assert "event: end" in body and '"succeeded"' in body
    assert roles.take_reads() == {"pulse_app"}

    writes = roles.writes()  # the job's start here, its stages and their run records in the workers
    assert {(t, op) for t, op, _ in writes} >= {("etl_jobs", "INSERT"), ("etl_task_runs", "INSERT"),
                                                ("etl_task_runs", "UPDATE"), ("work_items", "INSERT")}
    assert {role for _, _, role in writes} == {"pulse_app"}, sorted(writes)


def test_tenant_management_and_the_cli_run_across_tenants_not_as_the_owner(roles, api_client, make_tenant):
    from etl.cli.main import cli

    tenant_id, _ = make_tenant()
    with session_scope() as s:
        admin = issue_api_key(s, tenant_id, name="ops", is_admin=True).secret
    roles.writes(), roles.take_reads()

    name = f"t-{uuid.uuid4().hex[:8]}"
    assert api_client.post("/api/v1/tenants", json={"name": name}, headers=auth(admin)).status_code == 201
    assert name in {t["name"] for t in api_client.get("/api/v1/tenants", headers=auth(admin)).json()}
    assert roles.take_reads() == {"pulse_system"}
    assert {role for _, _, role in roles.writes()} == {"pulse_system"}

    runner = CliRunner()
    for args in (["tenants", "list"], ["keys", "create", "--tenant", name, "--name", "cli"],
                 ["keys", "list", "--tenant", name], ["jobs", "list"], ["integrations", "list"]):
        result = runner.invoke(cli, [*args, "--json"])
        assert result.exit_code == 0, (args, result.output)
    assert roles.take_reads() == {"pulse_system"}
    assert roles.writes() == {("api_keys", "INSERT", "pulse_system")}


def test_system_work_runs_across_tenants_and_reconcile_as_the_tenant(roles, api_client, jira_integration):
    from etl.ops import reaper, reconcile, retention, scheduling

    tenant_id, _, integration_id, _ = jira_integration(issues=40)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    roles.writes(), roles.take_reads()

    for run in (reaper.reap, scheduling.dispatch_due, reconcile.request_due, retention.prune_history):
        run()
        assert roles.take_reads() == {"pulse_system"}, run
    assert api_client.get("/metrics").status_code == 200
    assert roles.take_reads() == {"pulse_system"}
    # Writes come from the workers too (the reconcile tasks request_due published): never the owner.
    assert {role for _, _, role in roles.writes()} <= NON_OWNER_ROLES

    result = reconcile.reconcile(integration_id)  # one tenant's integration: that tenant's scope
    assert result.listed == 40
    assert roles.take_reads() == {"pulse_system", "pulse_app"}  # pulse_system: whose integration it is
    writes = roles.writes()
    assert ("integrations", "UPDATE", "pulse_app") in writes and {role for _, _, role in writes} <= NON_OWNER_ROLES
