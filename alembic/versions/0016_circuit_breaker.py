"""integrations: the circuit breaker's state (issue 14)

- breaker_open_at, breaker_reason, breaker_kind ('fatal' | 'failures'): the integration is paused
  since then, in words, and why (the source refused it, or too many failures of any kind).
- breaker_probe_at: when the dispatcher runs its one half-open probe sync ('failures' only).
- consecutive_failures, consecutive_fatal_failures: failed syncs in a row (reset by a success).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("breaker_open_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("integrations", sa.Column("breaker_reason", sa.Text(), nullable=True))
    op.add_column("integrations", sa.Column("breaker_kind", sa.Text(), nullable=True))
    op.add_column("integrations", sa.Column("breaker_probe_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("integrations", sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False))
    op.add_column("integrations",
                  sa.Column("consecutive_fatal_failures", sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint("ck_integrations_breaker_kind", "integrations",
                               "breaker_kind IS NULL OR breaker_kind IN ('fatal', 'failures')")
    # What the dispatcher scans every minute for half-open probes.
    op.create_index("ix_integrations_breaker_probe", "integrations", ["breaker_probe_at"],
                    postgresql_where=sa.text("breaker_probe_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_integrations_breaker_probe", table_name="integrations")
    op.drop_constraint("ck_integrations_breaker_kind", "integrations", type_="check")
    for column in ("consecutive_fatal_failures", "consecutive_failures", "breaker_probe_at", "breaker_kind",
                   "breaker_reason", "breaker_open_at"):
        op.drop_column("integrations", column)
