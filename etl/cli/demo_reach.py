"""How another shell reaches a running demo: the `export ...` line the CLI needs (database,
broker, and what else the demo set), and the psql command, as the demo prints them.

The database URL is printed bare (`postgresql://`), the form psql takes: the CLI reads it as
psycopg2 (etl.config), so one URL serves both.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from kombu.utils.url import maybe_sanitize_url
from sqlalchemy.engine import make_url

from etl.cli.embedded_pg import psql_path
from etl.config import DEV_SECRET_KEY, Settings

PSQL_QUERY = ("SELECT key, wit, status, status_category, story_points, cycle_time_seconds "
              "FROM work_items WHERE tenant_id = '{tenant_id}' ORDER BY updated_at DESC LIMIT 10;")
HIDDEN = "***"


def libpq_url(sqlalchemy_url: str) -> str:
    """What psql takes: no driver name, no password, a socket directory left readable."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    host = url.query.get("host")
    if isinstance(host, str) and host.startswith("/") and not url.host:
        params = "&".join(f"{k}={v}" for k, v in url.query.items() if isinstance(v, str))
        return f"postgresql://{url.username or ''}@/{url.database or ''}?{params}"
    return url.render_as_string(hide_password=True)


def reach_env(settings: Settings, origin: Path) -> dict[str, str]:
    """The ETL_* variables a CLI in another shell (any folder) needs to work on this demo: the
    database, the broker (and its folder, absolute, for the file-based one), and the loopback
    allowance the demo gave itself so that the CLI's connection tests reach the fakes too.
    Passwords are replaced by *** (see hidden_secrets)."""
    env = {"ETL_DATABASE_URL": libpq_url(settings.database_url)}
    if settings.broker_url.startswith("filesystem://"):
        env["ETL_BROKER_URL"] = settings.broker_url
        env["ETL_BROKER_FOLDER"] = str((origin / settings.broker_folder).resolve())
    else:
        env["ETL_BROKER_URL"] = maybe_sanitize_url(settings.broker_url, mask=HIDDEN)
    if settings.source_allow.strip():
        env["ETL_SOURCE_ALLOW"] = settings.source_allow
    return env


def export_line(env: dict[str, str]) -> str:
    """`export A=... B=...`, each value quoted for a POSIX shell (the URL has ? and &)."""
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())


def hidden_secrets(env: dict[str, str], settings: Settings) -> list[str]:
    """What the export line could not carry as printed, one sentence each: a password (never
    printed) and a non-default ETL_SECRET_KEY (needed only for the integrations' credentials)."""
    notes = [f"{name} has its password replaced by {HIDDEN}: put yours in its place"
             for name, value in env.items() if HIDDEN in value]
    if settings.secret_key.get_secret_value() != DEV_SECRET_KEY:
        notes.append("set the ETL_SECRET_KEY this demo runs with too (not printed: it is a secret) for commands that "
                     "use the integrations' credentials")
    return notes


def psql_command(embedded: bool, tenant_id, url: str = '"$ETL_DATABASE_URL"') -> str:
    """A sample query; by default on the URL the export line sets. The embedded server's own psql
    when the demo started it (the machine may have none)."""
    psql = shlex.quote(str(psql_path())) if embedded else "psql"
    return f'{psql} {url} -c "{PSQL_QUERY.format(tenant_id=tenant_id)}"'
