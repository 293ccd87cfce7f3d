"""An operator's first steps after the demo (issue 13): the CLI with the database URL psql uses, a
`.env` copied from `.env.example`, and a server without the database. Each answers in one line that
says what to fix, never a traceback."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid

from tests.cli.test_cli import ROOT, etl_command


def run(args: list[str], env: dict[str, str], cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*etl_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def fresh_shell() -> dict[str, str]:
    """This process's environment without any ETL_* variable, as in a new terminal."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ETL_")}


def test_a_dotenv_copied_from_the_example_keeps_help_working_and_names_the_variable(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    helped = run(["--help"], fresh_shell(), cwd=tmp_path)
    assert helped.returncode == 0 and "Usage: etl" in helped.stdout, helped.stderr
    failed = run(["tenants", "list"], fresh_shell(), cwd=tmp_path)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and "ETL_SECRET_KEY" in lines[0], failed.stderr


def test_the_cli_takes_the_bare_postgresql_url_psql_takes(database):
    bare = "postgresql://" + database.split("://", 1)[1]
    done = run(["tenants", "list", "--json"], {**os.environ, "ETL_DATABASE_URL": bare})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("{")


def test_a_missing_database_is_told_apart_from_a_stopped_server(database):
    url = database.rsplit("/", 1)[0] + f"/no_such_db_{uuid.uuid4().hex[:6]}"
    done = run(["tenants", "list"], {**os.environ, "ETL_DATABASE_URL": url})
    assert done.returncode == 1
    assert "createdb" in done.stderr and "Start PostgreSQL" not in done.stderr, done.stderr


def test_a_base_url_without_a_scheme_says_so_and_does_not_suggest_skipping_the_check(database):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    assert run(["tenants", "create", tenant], dict(os.environ)).returncode == 0
    done = run(["integrations", "add", "--tenant", tenant, "--name", "j", "--base-url", "acme.atlassian.net",
                "--email", "bot@example.com", "--token", "t", "--project", "ABC"], dict(os.environ))
    assert done.returncode == 1
    assert "must start with http:// or https://" in done.stderr and "--no-verify" not in done.stderr, done.stderr


def test_listings_show_a_demo_tenants_name_whole(database):
    tenant = f"demo-20261201-215358-{uuid.uuid4().hex[:6]}"
    assert run(["tenants", "create", tenant], dict(os.environ)).returncode == 0
    listed = run(["tenants", "list"], dict(os.environ))
    assert tenant in listed.stdout
    keys = run(["keys", "list", "--tenant", tenant], dict(os.environ))
    header, row = keys.stdout.splitlines()[:2]
    assert header.split() == ["ID", "PREFIX", "NAME", "ROLE", "SCOPES", "CREATED", "(UTC)", "REVOKED", "(UTC)"]
    assert row.index("default") == header.index("NAME")  # columns line up under their headers
