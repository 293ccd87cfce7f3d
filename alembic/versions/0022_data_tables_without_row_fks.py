"""the synced data tables lose their per-row foreign keys; deleting an integration deletes its data

raw_extraction_data, work_items, work_item_transitions, pull_requests, pr_reviews and pr_commits
referenced tenants and integrations with ON DELETE CASCADE. PostgreSQL checks a foreign key row by
row: two checks per inserted row, 12 us each, were 45% of the transitions upsert and about a sixth
of the database's time on a first sync (issue 12). Those rows are only ever written by a stage of a
job of their integration (the job references it, and an integration with an active job cannot be
deleted) or by the raw-data API for an integration it has just read under lock, so the check
proved nothing the writers do not already guarantee.

What the cascade did stays: an AFTER DELETE trigger on integrations deletes the integration's rows
from each of these tables (a deleted tenant deletes its integrations, whose trigger does the rest).
It is named to fire after the foreign-key cascades of the same delete, and it deletes by
(tenant_id, integration_id), the leading columns of each table's unique index, under the row-level
security of whoever deletes (that integration's tenant, or the operator's all-tenants role).

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("raw_extraction_data", "work_items", "work_item_transitions", "pull_requests", "pr_reviews", "pr_commits")
DELETES = "\n".join(f"    DELETE FROM {t} WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;" for t in TABLES)


def upgrade() -> None:
    for table in TABLES:
        op.drop_constraint(f"{table}_tenant_id_fkey", table, type_="foreignkey")
        op.drop_constraint(f"{table}_integration_id_fkey", table, type_="foreignkey")
    op.execute(f"""
CREATE FUNCTION delete_integration_data() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{DELETES}
    RETURN NULL;
END $$
""")
    # "zz_": triggers of one event fire in name order, after PostgreSQL's RI_ConstraintTrigger_*.
    op.execute("""
CREATE TRIGGER zz_delete_integration_data AFTER DELETE ON integrations
FOR EACH ROW EXECUTE FUNCTION delete_integration_data()
""")


def downgrade() -> None:
    op.execute("DROP TRIGGER zz_delete_integration_data ON integrations")
    op.execute("DROP FUNCTION delete_integration_data()")
    for table in TABLES:
        op.create_foreign_key(f"{table}_tenant_id_fkey", table, "tenants", ["tenant_id"], ["id"], ondelete="CASCADE")
        op.create_foreign_key(f"{table}_integration_id_fkey", table, "integrations", ["integration_id"], ["id"],
                              ondelete="CASCADE")
