"""etl_batches.pages: a batch may hold several source pages

An extract task fetches up to ETL_PAGES_PER_BATCH pages into one batch (issue 12: every batch costs
three tasks and their bookkeeping whatever its size). The job's `pages` counter sums this column,
so it still counts the source's pages. Existing batches held one page each.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("etl_batches", sa.Column("pages", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.drop_column("etl_batches", "pages")
