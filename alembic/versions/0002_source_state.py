"""source state: rate-limit pause per integration, 304 counters, HTTP validators cache

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("etl_jobs", sa.Column("not_modified", sa.Integer(), server_default="0", nullable=False))
    op.add_column("etl_batches", sa.Column("not_modified", sa.Integer(), server_default="0", nullable=False))
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


def downgrade() -> None:
    op.drop_table("http_cache")
    op.drop_column("etl_batches", "not_modified")
    op.drop_column("etl_jobs", "not_modified")
    op.drop_column("integrations", "paused_until")
