"""notifications: webhook subscriptions, their deliveries, and the staleness episodes already told

Three tenant tables, each with tenant_id and the two row-level security policies of every tenant
table (tenant_isolation for pulse_app, all_tenants for pulse_system), as 0013:
- webhook_subscriptions: where a tenant wants events sent; the signing secret is Fernet-encrypted
  (etl/crypto.py), as integration credentials are.
- webhook_deliveries: one row per event per subscription, the outbox the `notify` queue works
  from (status, attempts, the last answer) and what the console shows; pruned per subscription.
- webhook_stale_notices: per subscription and integration, the sync time the last "data stale"
  event was about, so one staleness episode is told once (a newer sync starts a new episode).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

APP_ROLE = "pulse_app"
SYSTEM_ROLE = "pulse_system"
TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("webhook_subscriptions", "webhook_deliveries", "webhook_stale_notices")


def _tenant_fk() -> sa.Column:
    return sa.Column("tenant_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                     nullable=False)


def _subscription_fk() -> sa.Column:
    return sa.Column("subscription_id", postgresql.UUID(as_uuid=True),
                     sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        _tenant_fk(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False, server_default="json"),
        sa.Column("events", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("stale_after_minutes", sa.Integer()),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("format IN ('json', 'slack')", name="ck_webhook_subscriptions_format"),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        _tenant_fk(),
        _subscription_fk(),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="ck_webhook_deliveries_status"),
    )
    op.create_index("ix_webhook_deliveries_subscription", "webhook_deliveries", ["subscription_id", "created_at"])
    # What the outbox scans every minute.
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "webhook_stale_notices",
        _subscription_fk(),
        sa.Column("integration_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
        _tenant_fk(),
        sa.Column("stale_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("subscription_id", "integration_id"),
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}, {SYSTEM_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} TO {APP_ROLE} "
                   f"USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT})")
        op.execute(f"CREATE POLICY all_tenants ON {table} TO {SYSTEM_ROLE} USING (true) WITH CHECK (true)")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)  # their policies go with them
