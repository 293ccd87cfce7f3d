"""github: pull_requests, pr_reviews, pr_commits; first-page validators per stream

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _common() -> list:
    return [
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
    ]


def _constraints() -> list:
    return [
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "integration_id", "external_id"),
    ]


def upgrade() -> None:
    op.add_column("etl_batches", sa.Column("stream_etag", sa.Text(), nullable=True))
    op.add_column("sync_state", sa.Column("stream_etag", sa.Text(), nullable=True))
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "pull_requests", *_common(),
        sa.Column("repo", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("draft", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("author_is_bot", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("base_ref", sa.Text(), nullable=True),
        sa.Column("head_ref", sa.Text(), nullable=True),
        sa.Column("created", ts, nullable=True),
        sa.Column("updated", ts, nullable=True),
        sa.Column("merged", ts, nullable=True),
        sa.Column("closed", ts, nullable=True),
        sa.Column("additions", sa.Integer(), nullable=True),
        sa.Column("deletions", sa.Integer(), nullable=True),
        sa.Column("changed_files", sa.Integer(), nullable=True),
        sa.Column("commits_count", sa.Integer(), nullable=True),
        sa.Column("review_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_review_at", ts, nullable=True),
        sa.Column("time_to_first_review_seconds", sa.BigInteger(), nullable=True),
        sa.Column("lead_time_seconds", sa.BigInteger(), nullable=True),
        sa.Column("work_item_keys", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("raw_id", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", ts, nullable=True),
        sa.Column("loaded_at", ts, server_default=sa.text("now()"), nullable=False),
        *_constraints(),
    )
    op.create_index("ix_pull_requests_tenant_updated", "pull_requests", ["tenant_id", "updated"])
    op.create_index("ix_pull_requests_work_item_keys", "pull_requests", ["work_item_keys"], postgresql_using="gin")
    op.create_table(
        "pr_reviews", *_common(),
        sa.Column("pr_external_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("author_is_bot", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("submitted_at", ts, nullable=True),
        *_constraints(),
    )
    op.create_index("ix_pr_reviews_pr", "pr_reviews", ["tenant_id", "integration_id", "pr_external_id"])
    op.create_table(
        "pr_commits", *_common(),
        sa.Column("pr_external_id", sa.Text(), nullable=False),
        sa.Column("sha", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("committed_at", ts, nullable=True),
        *_constraints(),
    )
    op.create_index("ix_pr_commits_pr", "pr_commits", ["tenant_id", "integration_id", "pr_external_id"])


def downgrade() -> None:
    op.drop_table("pr_commits")
    op.drop_table("pr_reviews")
    op.drop_table("pull_requests")
    op.drop_column("sync_state", "stream_etag")
    op.drop_column("etl_batches", "stream_etag")
