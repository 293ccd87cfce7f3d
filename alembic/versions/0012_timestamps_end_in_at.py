"""names: timestamp columns end in _at (issue 10)

work_items.created/updated/resolved, pull_requests.created/updated/merged/closed and
etl_batches.max_updated read like states (is it merged? closed?); renamed so that every timestamp of
a source event ends in `_at`, as the other timestamp columns do. A rename keeps the data, and the
indexes on the columns follow it (ix_work_items_tenant_updated and ix_pull_requests_tenant_updated
keep their names).

Rows staged on a batch between transform and load (etl_batches.staged, a batch in `transformed`)
carry the column names as JSON keys, and the load reads them by name (jsonb_to_recordset): an absent
key would load as NULL. Their keys are renamed with the columns, both ways.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RENAMES = {
    "work_items": {"created": "created_at", "updated": "updated_at", "resolved": "resolved_at"},
    "pull_requests": {"created": "created_at", "updated": "updated_at", "merged": "merged_at", "closed": "closed_at"},
    "etl_batches": {"max_updated": "max_updated_at"},
}
STAGED_TABLES = ("work_items", "pull_requests")


def _rename(forward: bool) -> None:
    for table, columns in RENAMES.items():
        for old, new in columns.items():
            frm, to = (old, new) if forward else (new, old)
            op.alter_column(table, frm, new_column_name=to)
    for table in STAGED_TABLES:
        pairs = [(old, new) if forward else (new, old) for old, new in RENAMES[table].items()]
        dropped = ", ".join(f"'{frm}'" for frm, _ in pairs)
        added = ", ".join(f"'{to}', r -> '{frm}'" for frm, to in pairs)
        # Only rows that have one of the old keys change: a row without them stays as it was.
        op.execute(f"""
            UPDATE etl_batches SET staged = jsonb_set(staged, '{{{table}}}', (
                SELECT coalesce(jsonb_agg(CASE WHEN r ?| ARRAY[{dropped}]
                                               THEN (r - ARRAY[{dropped}]) || jsonb_build_object({added})
                                               ELSE r END ORDER BY n), '[]'::jsonb)
                FROM jsonb_array_elements(staged -> '{table}') WITH ORDINALITY AS e(r, n)))
            WHERE jsonb_typeof(staged -> '{table}') = 'array'
        """)


def upgrade() -> None:
    _rename(forward=True)


def downgrade() -> None:
    _rename(forward=False)
