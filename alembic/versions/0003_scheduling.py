"""scheduling: schedules, dispatcher, reaper, deletions

- integrations: when the ids were last reconciled with the source (deletions), and when a
  reconciliation was last asked for (so two schedulers do not ask twice); a partial index on the
  next due time for the dispatcher.
- etl_jobs: re-drives by the reaper (total, and since the job last made progress) and when.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("last_reconciled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("integrations", sa.Column("reconcile_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_integrations_due", "integrations", ["next_sync_at"], unique=False,
        postgresql_where=sa.text("enabled AND next_sync_at IS NOT NULL"),
    )
    op.add_column("etl_jobs", sa.Column("redrives", sa.Integer(), server_default="0", nullable=False))
    op.add_column("etl_jobs", sa.Column("stalled_redrives", sa.Integer(), server_default="0", nullable=False))
    op.add_column("etl_jobs", sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("etl_jobs", "redriven_at")
    op.drop_column("etl_jobs", "stalled_redrives")
    op.drop_column("etl_jobs", "redrives")
    op.drop_index("ix_integrations_due", table_name="integrations",
                  postgresql_where=sa.text("enabled AND next_sync_at IS NOT NULL"))
    op.drop_column("integrations", "reconcile_requested_at")
    op.drop_column("integrations", "last_reconciled_at")
