"""mappings: case-insensitive unique source names, each status at most once per workflow

- wit_mappings, status_mappings: the transform matches source names case-insensitively, so the
  unique key on (tenant, integration, source_name) becomes one on lower(source_name) (NULL
  integration = tenant-wide, one scope of its own).
- workflow_steps: a status appears at most once in a workflow.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MAPPING_TABLES = ("wit_mappings", "status_mappings")


def _refuse_duplicates(table: str, key: str, what: str) -> None:
    """Stop with what to fix rather than deleting an admin's rows."""
    rows = op.get_bind().execute(sa.text(
        f"SELECT tenant_id, {key}, array_agg(id ORDER BY id) FROM {table} GROUP BY tenant_id, {key} HAVING count(*) > 1"
    )).all()
    if rows:
        listed = "; ".join(f"tenant {t}: ids {ids}" for t, _, ids in rows[:10])
        raise RuntimeError(f"{table} has {what} ({listed}); delete all but one of each and upgrade again")


def upgrade() -> None:
    for table in MAPPING_TABLES:
        _refuse_duplicates(table, "integration_id, lower(source_name)",
                           "source names that differ only in case within one integration")
        op.drop_constraint(f"{table}_tenant_id_integration_id_source_name_key", table, type_="unique")
        op.create_index(
            f"uq_{table}_source_name", table, ["tenant_id", "integration_id", sa.text("lower(source_name)")],
            unique=True, postgresql_nulls_not_distinct=True,
        )
    _refuse_duplicates("workflow_steps", "workflow_id, status_id", "a status more than once in one workflow")
    op.create_unique_constraint(None, "workflow_steps", ["workflow_id", "status_id"])


def downgrade() -> None:
    op.drop_constraint("workflow_steps_workflow_id_status_id_key", "workflow_steps", type_="unique")
    for table in MAPPING_TABLES:
        op.drop_index(f"uq_{table}_source_name", table_name=table)
        op.create_unique_constraint(
            None, table, ["tenant_id", "integration_id", "source_name"], postgresql_nulls_not_distinct=True
        )
