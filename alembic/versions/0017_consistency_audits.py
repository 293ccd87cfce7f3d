"""consistency audits: one row per audit of an integration (raw objects vs final rows)

A tenant table like every other: tenant_id, the grants to pulse_app and pulse_system, and the two
row-level security policies (0006 tenant_isolation, 0010 all_tenants), as in 0013.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

APP_ROLE = "pulse_app"
SYSTEM_ROLE = "pulse_system"
TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"


def upgrade() -> None:
    op.create_table(
        "consistency_audits",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("integration_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("repair", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("differences", sa.Integer()),
        sa.Column("summary", postgresql.JSONB()),
        sa.Column("repaired_job_id", postgresql.UUID(as_uuid=True)),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_consistency_audits_integration", "consistency_audits", ["integration_id", "requested_at"])
    op.create_index("uq_consistency_audits_under_way", "consistency_audits", ["integration_id"], unique=True,
                    postgresql_where=sa.text("finished_at IS NULL"))
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON consistency_audits TO {APP_ROLE}, {SYSTEM_ROLE}")
    op.execute("ALTER TABLE consistency_audits ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON consistency_audits TO {APP_ROLE} "
               f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})")
    op.execute(f"CREATE POLICY all_tenants ON consistency_audits TO {SYSTEM_ROLE} USING (true) WITH CHECK (true)")


def downgrade() -> None:
    op.drop_table("consistency_audits")  # its indexes and policies go with it
