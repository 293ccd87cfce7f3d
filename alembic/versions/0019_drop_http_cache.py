"""drop the HTTP validators: http_cache, the stream ETags and the 304 counters

Since GitHub pull requests come from GraphQL (etl/sources/github/graphql.py), no source sends a
conditional request: http_cache (0002), etl_batches.stream_etag and sync_state.stream_etag (0004)
are never written, and etl_jobs/etl_batches.not_modified (0002) are always 0. Dropping a column is
a catalog change in PostgreSQL (no table rewrite), so this is quick on a large etl_batches.

The downgrade re-creates them as they were: the columns empty (their values were never read back),
http_cache empty, with its grants and the two row-level security policies every tenant table has
(0006 tenant_isolation for pulse_app, 0010 all_tenants for pulse_system), as in 0013.

Revision ID: 0019
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

APP_ROLE = "pulse_app"
SYSTEM_ROLE = "pulse_system"
TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"


def upgrade() -> None:
    op.drop_table("http_cache")  # its policies go with it
    op.drop_column("sync_state", "stream_etag")
    op.drop_column("etl_batches", "stream_etag")
    op.drop_column("etl_batches", "not_modified")
    op.drop_column("etl_jobs", "not_modified")


def downgrade() -> None:
    op.add_column("etl_jobs", sa.Column("not_modified", sa.Integer(), server_default="0", nullable=False))
    op.add_column("etl_batches", sa.Column("not_modified", sa.Integer(), server_default="0", nullable=False))
    op.add_column("etl_batches", sa.Column("stream_etag", sa.Text(), nullable=True))
    op.add_column("sync_state", sa.Column("stream_etag", sa.Text(), nullable=True))
    op.create_table(
        "http_cache",
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("integration_id", "url"),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON http_cache TO {APP_ROLE}, {SYSTEM_ROLE}")
    op.execute("ALTER TABLE http_cache ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON http_cache TO {APP_ROLE} "
               f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})")
    op.execute(f"CREATE POLICY all_tenants ON http_cache TO {SYSTEM_ROLE} USING (true) WITH CHECK (true)")
