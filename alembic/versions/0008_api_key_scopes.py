"""api_keys.scopes: {read} (read-only keys) or {read,write}; existing keys keep full access

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHECK = "'read' = ANY (scopes) AND scopes <@ ARRAY['read', 'write']::text[]"


def upgrade() -> None:
    # Nothing read scopes before: every key could do everything. Keys that would fail the check
    # (in practice the default '{}') keep that full access.
    op.execute(f"UPDATE api_keys SET scopes = '{{read,write}}' WHERE NOT ({CHECK})")
    op.alter_column("api_keys", "scopes", server_default="{read,write}")
    op.create_check_constraint("ck_api_keys_scopes", "api_keys", CHECK)


def downgrade() -> None:
    # Before 0008 scopes is ignored, so a read-only key ({read}) can write again after a downgrade.
    op.drop_constraint("ck_api_keys_scopes", "api_keys", type_="check")
    op.alter_column("api_keys", "scopes", server_default="{}")
    op.execute("UPDATE api_keys SET scopes = '{}' WHERE scopes = '{read,write}'")
