"""integrations.schedule_timezone: the IANA zone a cron schedule is read in (NULL is UTC)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("schedule_timezone", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("integrations", "schedule_timezone")
