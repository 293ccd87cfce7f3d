"""webhook URLs are secrets: stored encrypted, shown masked

A Slack incoming-webhook URL is a credential: whoever has it posts to the channel. The clear
`webhook_subscriptions.url` becomes:
- url_encrypted: Fernet, with ETL_SECRET_KEY's first key, by the app's own helper (etl.crypto),
  as integration credentials and the webhook's signing secret are;
- url_display: what the API, the CLI and the console show instead, scheme://host/ with the path
  hidden but for its last 4 characters when it is long (https://hooks.slack.com/…Xk9Q).
Existing rows are converted here, in Python (Fernet is not something PostgreSQL can do); the
downgrade decrypts them back, and needs a key that decrypts every one of them.

The masking rule is copied here rather than imported: a migration must keep doing what it did
when it was written, whatever etl.notify.secrets becomes.

Revision ID: 0020
Revises: 0019
"""
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

from etl.crypto import decrypt_credentials, encrypt_credentials

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _masked(url: str) -> str:
    parts = urlsplit(url)
    hidden = url[len(f"{parts.scheme}://{parts.netloc}"):].lstrip("/")
    origin = f"{parts.scheme.lower()}://{parts.netloc}/"
    if not hidden:
        return origin
    return origin + "…" + (hidden[-4:] if len(hidden) >= 16 else "")


def upgrade() -> None:
    op.add_column("webhook_subscriptions", sa.Column("url_encrypted", sa.Text()))
    op.add_column("webhook_subscriptions", sa.Column("url_display", sa.Text()))
    bind = op.get_bind()
    for id_, url in bind.execute(sa.text("SELECT id, url FROM webhook_subscriptions")).all():
        bind.execute(sa.text("UPDATE webhook_subscriptions SET url_encrypted = :encrypted, url_display = :display "
                             "WHERE id = :id"),
                     {"id": id_, "encrypted": encrypt_credentials({"url": url}), "display": _masked(url)})
    op.alter_column("webhook_subscriptions", "url_encrypted", nullable=False)
    op.alter_column("webhook_subscriptions", "url_display", nullable=False)
    op.drop_column("webhook_subscriptions", "url")


def downgrade() -> None:
    op.add_column("webhook_subscriptions", sa.Column("url", sa.Text()))
    bind = op.get_bind()
    for id_, encrypted in bind.execute(sa.text("SELECT id, url_encrypted FROM webhook_subscriptions")).all():
        bind.execute(sa.text("UPDATE webhook_subscriptions SET url = :url WHERE id = :id"),
                     {"id": id_, "url": decrypt_credentials(encrypted)["url"]})
    op.alter_column("webhook_subscriptions", "url", nullable=False)
    op.drop_column("webhook_subscriptions", "url_display")
    op.drop_column("webhook_subscriptions", "url_encrypted")
