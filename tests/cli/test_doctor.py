"""`etl doctor` as an operator runs it: a subprocess against the real PostgreSQL, RabbitMQ, worker
processes, Flower and fake sources, with one piece missing or broken at a time (a scratch database
behind on migrations, a broker on a closed port, an integration at a closed port, a schedule nobody
dispatched, production placeholders)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.cli.test_cli import etl_command, unique
from tests.faults import free_port

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict | None = None, timeout: float = 90) -> tuple[int, dict, str]:
    """`etl ARGS --json` with os.environ plus `env`; (exit status, the JSON object, stderr)."""
    proc = subprocess.run([*etl_command(), *args, "--json"], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got {proc.stdout!r} (stderr {proc.stderr!r})"
    return proc.returncode, json.loads(lines[0]), proc.stderr


def doctor(*args: str, env: dict | None = None) -> tuple[int, dict[str, dict], dict]:
    """(exit status, checks by name, the whole JSON)."""
    code, out, err = run("doctor", *args, env=env)
    assert "checks" in out, (out, err)
    return code, {c["name"]: c for c in out["checks"]}, out


def statuses(checks: dict[str, dict]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


@pytest.fixture
def scratch_db(admin_dsn, database):
    """A database of its own (created empty, dropped afterwards): its URL for ETL_DATABASE_URL."""
    name = f"pulse_doctor_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    yield admin_dsn.rsplit("/", 1)[0] + "/" + name
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_from_a_database_behind_on_migrations_to_a_healthy_deployment(scratch_db, workers, fake_jira):
    env = {"ETL_DATABASE_URL": scratch_db}

    code, checks, _ = doctor(env=env)
    assert code == 1
    assert checks["migrations"]["status"] == "fail"
    assert "no pulse-etl schema" in checks["migrations"]["detail"]

    code, out, err = run("db", "upgrade", "--revision", "0012", env=env)
    assert code == 0, err
    code, checks, _ = doctor(env=env)
    assert code == 1
    assert checks["migrations"]["status"] == "fail"
    assert "behind: the database is at 0012" in checks["migrations"]["detail"]
    assert "etl db upgrade" in checks["migrations"]["detail"]
    assert checks["integrations"] == {"status": "warn", "name": "integrations",
                                      "detail": "skipped: the database is not ready"}

    assert run("db", "upgrade", env=env)[0] == 0
    tenant = unique("doc")
    assert run("tenants", "create", tenant, env=env)[0] == 0
    fake = fake_jira(issues=5)
    code, added, err = run("integrations", "add", "--tenant", tenant, "--name", "jira", "--base-url", fake.url,
                           "--email", fake.email, "--token", fake.token, "--project", fake.projects[0], env=env)
    assert code == 0, err

    code, checks, out = doctor(env=env)
    assert code == 0, out
    assert out["failed"] == 0
    assert statuses(checks) == {
        "settings": "ok", "database": "ok", "migrations": "ok", "broker": "ok", "queues": "ok",
        "workers: extract": "ok", "workers: transform": "ok", "workers: load": "ok",
        "beat": "warn", f"integration {tenant}/jira": "ok"}
    assert "unknown: no enabled integration has a schedule" in checks["beat"]["detail"]
    assert "1 consumer(s) on extract, 1 on extract.scheduled" in checks["workers: extract"]["detail"]

    # A schedule due now: the dispatcher has not been late yet.
    assert run("integrations", "schedule", added["integration_id"], "--every", "5", env=env)[0] == 0
    code, checks, _ = doctor("--skip-sources", env=env)
    assert code == 0
    assert checks["beat"]["status"] == "ok"
    assert "keeps 1 schedule(s) on time" in checks["beat"]["detail"]

    # Ten minutes late and never dispatched: beat (or the extract workers) is not running.
    conn = psycopg2.connect(scratch_db)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE integrations SET next_sync_at = now() - interval '10 minutes'")
    conn.close()
    code, checks, _ = doctor("--skip-sources", env=env)
    assert code == 1
    assert checks["beat"]["status"] == "fail"
    assert "the oldest due 10 min ago and not dispatched" in checks["beat"]["detail"]
    assert "celery -A etl beat" in checks["beat"]["detail"]


def test_a_broker_that_does_not_answer_fails_within_seconds(database):
    port = free_port()
    started = time.monotonic()
    code, checks, _ = doctor("--skip-sources", env={"ETL_BROKER_URL": f"amqp://guest:secret-pw@127.0.0.1:{port}//"})
    assert time.monotonic() - started < 30
    assert code == 1
    assert checks["broker"]["status"] == "fail"
    assert f"127.0.0.1:{port}" in checks["broker"]["detail"] and "fix ETL_BROKER_URL" in checks["broker"]["detail"]
    assert "secret-pw" not in json.dumps(checks)
    assert checks["workers"] == {"status": "warn", "name": "workers", "detail": "unknown: the broker did not answer"}
    assert checks["database"]["status"] == "ok"


def test_an_integration_at_a_closed_port_fails_with_the_sources_words(database, workers, jira_integration, make_tenant):
    tenant = unique("doc")
    tenant_ref = make_tenant(tenant)
    _, _, good_id, _ = jira_integration(issues=5, tenant=tenant_ref)
    port = free_port()
    code, out, err = run("integrations", "add", "--tenant", tenant, "--name", "gone", "--base-url",
                         f"http://127.0.0.1:{port}", "--email", "bot@example.com", "--token", "t",
                         "--project", "ABC", "--no-verify")
    assert code == 0, err

    started = time.monotonic()
    code, checks, _ = doctor("--tenant", tenant)
    assert time.monotonic() - started < 60
    assert code == 1
    gone = checks[f"integration {tenant}/gone"]
    assert gone["status"] == "fail"
    assert out["integration_id"] in gone["detail"] and f"127.0.0.1:{port}" in gone["detail"]
    good = [c for name, c in checks.items() if name.startswith(f"integration {tenant}/jira-")]
    assert [c["status"] for c in good] == ["ok"]

    # Human output: one line per check, status first, then the summary.
    proc = subprocess.run([*etl_command(), "doctor", "--tenant", tenant], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=90)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1
    assert any(line.startswith("fail  integration " + tenant + "/gone") for line in lines), lines
    assert re.fullmatch(rf"{len(checks)} checks: [1-9]\d* failed, \d+ warned", lines[-1]), lines[-1]


def test_production_refuses_placeholders_in_one_line_naming_the_variable(database):
    production = {"ETL_ENVIRONMENT": "production", "ETL_SECRET_KEY": "a-real-key-" + uuid.uuid4().hex}
    for variable, url in (
        ("ETL_DATABASE_URL", "postgresql+psycopg2://pulse:change-me-postgres@127.0.0.1:5432/pulse"),
        ("ETL_BROKER_URL", "amqp://pulse:change-me-rabbitmq@127.0.0.1:5672//"),
        ("ETL_DATABASE_READ_URL", "postgresql://pulse:change-me-postgres@postgres-replica:5432/pulse"),
    ):
        code, checks, _ = doctor(env={**production, variable: url})
        assert code == 1
        assert list(checks) == ["settings"]
        assert checks["settings"]["status"] == "fail"
        assert checks["settings"]["detail"].startswith(f"{variable} carries a placeholder password")
        # Every other command says the same in one line.
        proc = subprocess.run([*etl_command(), "tenants", "list"], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, **production, variable: url}, timeout=60)
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
        assert f"{variable} carries a placeholder password" in proc.stderr

    # Real passwords pass; the missing metrics token is the API's refusal, said before it happens.
    code, checks, _ = doctor("--skip-sources", env={**production, "ETL_METRICS_TOKEN": ""})
    assert checks["settings"] == {"status": "ok", "name": "settings", "detail": "valid (production)"}
    assert checks["settings: api"]["status"] == "fail"
    assert "ETL_METRICS_TOKEN is missing" in checks["settings: api"]["detail"]
    assert code == 1


@pytest.fixture
def flower(database):
    """A real Flower with its password from FLOWER_BASIC_AUTH (as compose gives it), not argv."""
    port = free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"flower-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "etl", "flower", f"--port={port}",
                             "--address=127.0.0.1"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "FLOWER_BASIC_AUTH": "admin:a-long-flower-password"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/healthcheck", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "Flower did not start"
        time.sleep(0.2)
    yield url, proc
    proc.terminate()
    proc.wait(20)
    log.close()


def test_flower_reachable_and_protected_by_its_environment_password(flower):
    url, proc = flower
    assert "a-long-flower-password" not in " ".join(proc.args)
    assert requests.get(url + "/", timeout=5).status_code == 401
    assert requests.get(url + "/", auth=("admin", "a-long-flower-password"), timeout=5).status_code == 200

    code, checks, _ = doctor("--skip-sources", env={"ETL_FLOWER_URL": url})
    assert checks["flower"] == {"status": "ok", "name": "flower", "detail": f"{url}/healthcheck answers OK"}

    closed = f"http://127.0.0.1:{free_port()}"
    code, checks, _ = doctor("--skip-sources", "--flower-url", closed)
    assert code == 1
    assert checks["flower"]["status"] == "fail" and "start Flower" in checks["flower"]["detail"]
