"""pulse_system: a non-owner role for the system's own cross-tenant work

Until now the sessions that work across tenants (the dispatcher, the reaper, reconcile, metrics,
retention, tenant management, the CLI) and a few tenant paths ran as the tables' owner, which
row-level security ignores. From now on no application session runs as the owner (etl.db): a
tenant's work runs as pulse_app with `app.tenant_id` (policy tenant_isolation, 0006), and
cross-tenant work as pulse_system, a role of its own whose policy all_tenants shows every row.
A separate role rather than an `OR all-tenants` clause in tenant_isolation: a tenant's queries keep
the exact policy and plans they have, and pg_stat_activity tells cross-tenant work apart. Neither
role owns anything or bypasses RLS: no DDL, no way around the policies.

API keys are looked up before the tenant is known: api_key_by_hash(hash) is a SECURITY DEFINER
function that returns the one active key with that hash and nothing else, so authentication needs
no all-tenants scope on the request's session.

Migrations still run as the owner (alembic's own connection, not an application session).

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ROLE = "pulse_system"
APP_ROLE = "pulse_app"


def tenant_tables(conn) -> list[str]:
    return [r[0] for r in conn.exec_driver_sql(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name"
    )]


def upgrade() -> None:
    conn = op.get_bind()
    # Roles are cluster-wide: create it once (another database may be migrating at the same moment).
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
    """)
    op.execute(f"GRANT {ROLE} TO CURRENT_USER")  # so a non-superuser owner can SET ROLE
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}")
    for table in [*tenant_tables(conn), "tenants"]:
        op.execute(f"CREATE POLICY all_tenants ON {table} TO {ROLE} USING (true) WITH CHECK (true)")
    op.execute("""
        CREATE FUNCTION api_key_by_hash(hash text) RETURNS SETOF api_keys
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT * FROM api_keys WHERE key_hash = hash AND revoked_at IS NULL $$
    """)
    op.execute("REVOKE ALL ON FUNCTION api_key_by_hash(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION api_key_by_hash(text) TO {APP_ROLE}, {ROLE}")


def downgrade() -> None:
    conn = op.get_bind()
    op.execute("DROP FUNCTION IF EXISTS api_key_by_hash(text)")
    for table in [*tenant_tables(conn), "tenants"]:
        op.execute(f"DROP POLICY IF EXISTS all_tenants ON {table}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
