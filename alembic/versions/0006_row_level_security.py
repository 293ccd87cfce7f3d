"""row-level security: tenant isolation as a second wall

Every table with a tenant_id column gets a policy that shows and accepts only the rows of the
tenant named by the `app.tenant_id` setting, for the unprivileged role `pulse_app`. The API runs
each tenant request as that role with the setting made from the caller's key; workers switch to it
for each stage transaction once they know the batch's tenant. Superusers, roles with BYPASSRLS and
the tables' owner are not subject to RLS (FIELD-NOTES), which is why the role switch matters.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROLE = "pulse_app"
TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"


def tenant_tables(conn) -> list[str]:
    return [r[0] for r in conn.exec_driver_sql(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name"
    )]


def upgrade() -> None:
    conn = op.get_bind()
    # Roles are cluster-wide: create it once; every database that migrates grants to it.
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
            END IF;
        END $$;
    """)
    op.execute(f"GRANT {ROLE} TO CURRENT_USER")  # so a non-superuser owner can SET ROLE
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}")
    for table in tenant_tables(conn):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} TO {ROLE} "
                   f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})")
    # tenants has no tenant_id: its own id is the tenant.
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON tenants TO {ROLE} USING (id = {TENANT}) WITH CHECK (id = {TENANT})")


def downgrade() -> None:
    conn = op.get_bind()
    for table in [*tenant_tables(conn), "tenants"]:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
