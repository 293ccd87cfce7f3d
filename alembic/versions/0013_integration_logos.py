"""integration logos: one image per integration (PNG, JPEG or WebP, type detected from its bytes)

A table of its own rather than a column on integrations: the dispatcher, the workers and every
listing read integrations, and none of them needs the image. It carries tenant_id and gets the same
two row-level security policies as every tenant table (0006 tenant_isolation for pulse_app, 0010
all_tenants for pulse_system); the grants to both roles come from the default privileges those
migrations set, and are repeated here so the table does not depend on who ran them.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APP_ROLE = "pulse_app"
SYSTEM_ROLE = "pulse_system"
TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"


def upgrade() -> None:
    op.create_table(
        "integration_logos",
        sa.Column("integration_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON integration_logos TO {APP_ROLE}, {SYSTEM_ROLE}")
    op.execute("ALTER TABLE integration_logos ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON integration_logos TO {APP_ROLE} "
               f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})")
    op.execute(f"CREATE POLICY all_tenants ON integration_logos TO {SYSTEM_ROLE} USING (true) WITH CHECK (true)")


def downgrade() -> None:
    op.drop_table("integration_logos")  # its policies go with it
