"""lz4 for the wide JSONB columns: raw payloads and a batch's staged rows

PostgreSQL compresses a value over ~2 KB before it goes to TOAST, with pglz by default. A Jira
issue's payload (7.6 KB on average in bench/compare.py) is compressed once on every write and
decompressed on every read of the transform, the audit and the raw-data page; lz4 does both at a
fraction of the CPU (the benchmark's raw-COPY limit: 0.26 CPU ms per issue with pglz, 0.14 with
lz4, at a similar size: 65 MB against 68 MB). Only values written from now on use it; existing ones
stay readable as they are. A server built without lz4 keeps pglz (a notice, not a failure).

Revision ID: 0018
Revises: 0017
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = (("raw_extraction_data", "raw_data"), ("etl_batches", "staged"))


def _set_compression(method: str) -> None:
    for table, column in COLUMNS:
        op.execute(f"""
            DO $$ BEGIN
                ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method};
            EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
                RAISE NOTICE '{table}.{column} keeps its compression: %', SQLERRM;
            END $$
        """)


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
