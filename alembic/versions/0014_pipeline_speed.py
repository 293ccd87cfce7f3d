"""pipeline speed: the job's completeness checks read only what is unfinished, and raw payloads and
staged rows are compressed with lz4

- ix_etl_batches_unfinished (job_id) WHERE status <> 'loaded', and ix_etl_batches_last (job_id,
  stream) WHERE is_last: every stage asks whether its job is complete (is any batch not loaded? has
  every stream fetched its last page?); through the (job_id, stream, seq) key that read grew with
  the job's batches, 1,000 for a 100,000-issue sync.
- raw_extraction_data.raw_data and etl_batches.staged: lz4 instead of pglz, several times cheaper
  to compress for about the same size (issue 12: a COPY of the same payloads runs about 1.6x faster).
  Only values written from now on use it. A server built without lz4 keeps pglz (the migration
  checks, in a savepoint).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COMPRESSED = (("raw_extraction_data", "raw_data"), ("etl_batches", "staged"))


def upgrade() -> None:
    op.create_index("ix_etl_batches_unfinished", "etl_batches", ["job_id"],
                    postgresql_where=sa.text("status <> 'loaded'"))
    op.create_index("ix_etl_batches_last", "etl_batches", ["job_id", "stream"], postgresql_where=sa.text("is_last"))
    _compression("lz4")


def downgrade() -> None:
    _compression("pglz")
    op.drop_index("ix_etl_batches_last", table_name="etl_batches")
    op.drop_index("ix_etl_batches_unfinished", table_name="etl_batches")


def _compression(method: str) -> None:
    bind = op.get_bind()
    for table, column in COMPRESSED:
        savepoint = bind.begin_nested()
        try:
            bind.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}"))
            savepoint.commit()
        except sa.exc.DBAPIError:  # "compression method lz4 not supported": this server keeps pglz
            savepoint.rollback()
