"""completeness: what a sync's pages held (etl_jobs.seen) against what the source said it would
find (etl_jobs.expected, from the first page's etl_batches.source_total)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("etl_jobs", sa.Column("seen", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("etl_jobs", sa.Column("expected", sa.Integer(), nullable=True))
    op.add_column("etl_jobs", sa.Column("listed", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("etl_batches", sa.Column("source_total", sa.Integer(), nullable=True))
    op.add_column("etl_batches", sa.Column("listed", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("etl_batches", "listed")
    op.drop_column("etl_batches", "source_total")
    op.drop_column("etl_jobs", "listed")
    op.drop_column("etl_jobs", "expected")
    op.drop_column("etl_jobs", "seen")
