"""`etl db`: the database schema."""
from __future__ import annotations

import click

from etl.cli.output import emit, json_option, masked_db_url
from etl.db import get_engine


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
@json_option
def db_upgrade(revision: str, as_json: bool) -> int:
    """Apply the Alembic migrations (same as `alembic upgrade head`)."""
    from etl import migrations  # alembic: about 0.5 s that no other command should pay at start-up

    migrations.upgrade(revision)
    current = _current_revision()
    emit(as_json, {"status": "ok", "revision": current, "database": masked_db_url()},
         f"database {masked_db_url()} is at revision {current}")
    return 0


def _current_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext  # alembic, as above

    with get_engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
