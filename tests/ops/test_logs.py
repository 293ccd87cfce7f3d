"""Structured logs (etl/logs.py, issue 13): with ETL_LOG_FORMAT=json every line a worker, beat or
the API writes is one JSON object; a task's lines carry its job, tenant, integration, batch, stage
and task ids; the API's carry a request id (echoed in X-Request-ID); credentials never appear.
The text format stays what people read today, with the ids after the message."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from etl import logs
from etl.models import EtlBatch
from tests.scopes import session_scope
from tests.servers import running_api

ROOT = Path(__file__).resolve().parents[2]
GH_TOKEN = "ghp_" + uuid.uuid4().hex + "AbCd"
GH_PAT = "github_pat_11" + uuid.uuid4().hex.upper()[:20] + "_" + uuid.uuid4().hex
API_KEY = "pk_" + uuid.uuid4().hex + "Zz-_09"
FERNET = "Q" * 42 + "A="
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnRfaWQiOiJ4In0.c2lnbmF0dXJl"


# --- redaction (no services) ----------------------------------------------------------------------


@pytest.mark.parametrize("secret, shown", [
    (API_KEY, "pk_***"),
    (GH_TOKEN, "ghp_***"),
    ("gho_" + uuid.uuid4().hex, "gho_***"),
    ("ghs_" + uuid.uuid4().hex, "ghs_***"),
    ("ghu_" + uuid.uuid4().hex, "ghu_***"),
    ("ghr_" + uuid.uuid4().hex, "ghr_***"),
    (GH_PAT, "github_pat_***"),
    ("ATATT3xFfGF0" + uuid.uuid4().hex, "ATATT***"),
    (JWT, "eyJ***"),
    (FERNET, "***"),
])
def test_each_kind_of_credential_is_masked_and_named(secret, shown):
    masked = logs.redact(f"calling with {secret}, then ({secret}).")
    assert secret not in masked
    assert masked == f"calling with {shown}, then ({shown})."


def test_authorization_values_and_url_passwords_are_masked():
    assert logs.redact("Authorization: Bearer abc.DEF-123") == "Authorization: ***"
    assert logs.redact('{"authorization": "token ' + GH_TOKEN + '"}') == '{"authorization": "***"}'
    assert logs.redact("sent Bearer s3cr3t-value and Basic dXNlcjpwYXNz") == "sent Bearer *** and Basic ***"
    assert (logs.redact("postgresql+psycopg2://etl:Pa55w0rd!@db:5432/pulse and amqp://guest:guest@mq//")
            == "postgresql+psycopg2://etl:***@db:5432/pulse and amqp://guest:***@mq//")


def test_ordinary_words_and_ids_are_left_alone():
    text = ("Jira Cloud uses basic authentication; a Bearer Token; key prefix pk_AbCdEfG; the fake's ghp_test; "
            f"job {uuid.uuid4()} batch 3; https://jira.example.com/rest/api/3/search/jql?x=1; sha {'a' * 64}")
    assert logs.redact(text) == text


def test_configured_secrets_are_masked_wherever_they_appear(settings_env):
    settings_env(ETL_SECRET_KEY="a-passphrase-of-ours,older-passphrase", ETL_METRICS_TOKEN="metrics-token-value",
                 ETL_DATABASE_URL="postgresql://etl:db-password-1@127.0.0.1/pulse")
    secrets = logs.configured_secrets()
    for value in ("a-passphrase-of-ours", "older-passphrase", "metrics-token-value", "db-password-1"):
        assert value in secrets
        assert value not in logs.redact(f"x {value} y", secrets)


def capture(fmt: str, base: logging.Formatter | None = None) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    if base:
        handler.setFormatter(base)
    logs.install(handler, fmt, literals=["literal-secret-value"])
    logger = logging.getLogger(f"test-logs-{uuid.uuid4().hex[:6]}")
    logger.propagate, logger.level = False, logging.DEBUG
    logger.addHandler(handler)
    return logger, stream


def test_json_lines_carry_the_context_and_no_secret_in_message_args_or_traceback():
    logger, stream = capture("json")
    job_id, tenant_id = str(uuid.uuid4()), uuid.uuid4()
    with logs.log_context(job_id=job_id, tenant_id=tenant_id, batch_id=7, stage="load", task_id="t-1"):
        logger.info("plain line")
        try:
            raise RuntimeError(f"refused {GH_TOKEN} with literal-secret-value")
        except RuntimeError:
            logger.exception("failed with %s and %r", API_KEY, {"token": GH_PAT})
    logger.warning("outside the task")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    plain, failed, outside = lines
    assert plain["message"] == "plain line" and plain["level"] == "INFO" and plain["logger"] == logger.name
    assert plain["ts"].endswith("Z") and "T" in plain["ts"]
    assert {k: plain[k] for k in ("job_id", "tenant_id", "batch_id", "stage", "task_id")} == {
        "job_id": job_id, "tenant_id": str(tenant_id), "batch_id": 7, "stage": "load", "task_id": "t-1"}
    assert failed["message"] == "failed with pk_*** and {'token': 'github_pat_***'}"
    assert "RuntimeError: refused ghp_*** with ***" in failed["exc_info"]
    assert "job_id" not in outside and "exc_info" not in outside
    for secret in (GH_TOKEN, API_KEY, GH_PAT, "literal-secret-value"):
        assert secret not in stream.getvalue()


def test_text_format_is_unchanged_without_context_and_gains_the_ids_with_one():
    base = logging.Formatter("[%(levelname)s/%(name)s] %(message)s")
    logger, stream = capture("text", base)
    logger.info("no context: %s", "as before")
    with logs.log_context(job_id="j-1", tenant_id="t-9", stage="extract", request_id="r-5", method="GET"):
        logger.info("in a task")
    assert stream.getvalue().splitlines() == [
        f"[INFO/{logger.name}] no context: as before",
        f"[INFO/{logger.name}] in a task [job_id=j-1 tenant_id=t-9 stage=extract request_id=r-5]",
    ]


# --- real processes -------------------------------------------------------------------------------


# Celery prints these from its signal handlers, outside logging, on stdout (README "Logs").
CELERY_SHUTDOWN_PRINTS = {"worker: Warm shutdown (MainProcess)"}


def parse_json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip() and line not in CELERY_SHUTDOWN_PRINTS]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    assert all(isinstance(p, dict) and {"ts", "level", "logger", "message"} <= p.keys() for p in parsed)
    return parsed


@pytest.fixture
def own_vhost(database):
    """A RabbitMQ vhost of this test's own, so that only its workers take its tasks (the session's
    text-format workers may be running)."""
    from tests.conftest import _rabbitmqctl

    vhost = f"pulse_logs_{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    _rabbitmqctl("delete_vhost", vhost)


def test_a_json_worker_writes_only_json_and_every_task_line_has_its_six_ids(jira_integration, make_workers,
                                                                           own_vhost):
    tenant_id, _, integration_id, _ = jira_integration(issues=120, projects=("ABC",))
    env = {**os.environ, "ETL_LOG_FORMAT": "json", "ETL_BROKER_URL": own_vhost, "ETL_JIRA_PAGE_SIZE": "50",
           "ETL_PAGES_PER_BATCH": "1"}  # a batch per page: three batches, each through three stages
    workers = make_workers()
    workers.start("extract,transform,load", name="json", env=env)

    sync = subprocess.run([sys.executable, "-m", "etl.cli", "sync", str(integration_id), "--wait", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    job_id = json.loads(sync.stdout)["job_id"]
    workers.stop_all()  # its last lines are written

    lines = parse_json_lines((workers.logdir / "worker-json.log").read_text())
    task_lines = [line for line in lines if "task_id" in line]
    ours = [line for line in task_lines if line.get("job_id") == job_id]
    assert ours, "no line of the job in the worker's log"
    assert {line["stage"] for line in ours} == {"extract", "transform", "load"}
    with session_scope() as s:
        batch_ids = set(s.scalars(select(EtlBatch.id).where(EtlBatch.job_id == uuid.UUID(job_id))))
    assert len(batch_ids) == 3  # 120 issues, 50 a page
    assert {line["batch_id"] for line in ours if line["stage"] == "load"} == batch_ids
    for line in ours:
        assert line["tenant_id"] == str(tenant_id) and line["integration_id"] == str(integration_id)
        assert {"batch_id", "stage", "task_id"} <= line.keys()
    # Celery's own line about each task ("Task ... succeeded") is inside the task's context.
    assert any(line["logger"] == "celery.app.trace" and "succeeded" in line["message"] for line in ours)
    assert any(line["message"].endswith(" ready.") for line in lines)


def test_beat_in_json_prints_no_banner_and_no_secret(tmp_path, own_vhost):
    secret_key = "beat-secret-passphrase-" + uuid.uuid4().hex
    env = {**os.environ, "ETL_LOG_FORMAT": "json", "ETL_BROKER_URL": own_vhost, "ETL_SECRET_KEY": secret_key}
    log = tmp_path / "beat.log"
    with open(log, "wb") as out:
        beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "etl", "beat", "--loglevel", "DEBUG",
                                 "--schedule", str(tmp_path / "schedule")],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while b"beat: Starting" not in log.read_bytes() and beat.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)  # polling its log, as an operator tails it
        finally:
            beat.terminate()
            beat.wait(20)
    text = log.read_text()
    lines = parse_json_lines(text)
    assert any(line["message"].startswith("beat: Starting") for line in lines), text[-2000:]
    assert secret_key not in text


def test_the_api_logs_json_access_lines_with_the_request_id_and_no_credential(make_tenant, database, tmp_path):
    tenant_id, key = make_tenant()
    env = {**os.environ, "ETL_LOG_FORMAT": "json"}
    log = tmp_path / "uvicorn.log"
    with running_api(env, log) as base:
        echoed = httpx.get(f"{base}/health", headers={"X-Request-ID": "proxy-id.42"})
        listed = httpx.get(f"{base}/api/v1/integrations?limit=5&note={GH_TOKEN}",
                           headers={"Authorization": f"Bearer {key}"})
        forged = httpx.get(f"{base}/health", headers={"X-Request-ID": "x" * 65})
        refused = httpx.get(f"{base}/api/v1/integrations", headers={"Authorization": f"Bearer {GH_TOKEN}"})
        unknown_key = httpx.get(f"{base}/api/v1/integrations", headers={"Authorization": f"Bearer {API_KEY}"})
        created = httpx.post(f"{base}/api/v1/integrations", headers={"Authorization": f"Bearer {key}"}, json={
            "provider": "github", "name": "gh", "base_url": "http://127.0.0.1:1",
            "credentials": {"token": GH_TOKEN}, "settings": {"repos": ["not a repo"]}})
    assert echoed.headers["X-Request-ID"] == "proxy-id.42"
    assert listed.status_code == 200
    assert len(forged.headers["X-Request-ID"]) == 32 and forged.headers["X-Request-ID"] != "x" * 65
    assert refused.status_code == 401 and unknown_key.status_code == 401
    assert created.status_code == 422

    text = log.read_text()
    lines = parse_json_lines(text)
    access = {line["request_id"]: line for line in lines if line["logger"] == "api.access"}
    health = access["proxy-id.42"]
    assert (health["method"], health["path"], health["status"]) == ("GET", "/health", 200)
    assert isinstance(health["duration_ms"], (int, float)) and "tenant_id" not in health
    mine = access[listed.headers["X-Request-ID"]]
    assert mine["path"] == "/api/v1/integrations" and mine["tenant_id"] == str(tenant_id)
    assert access[refused.headers["X-Request-ID"]]["status"] == 401
    assert access[created.headers["X-Request-ID"]]["status"] == 422
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own lines, in JSON too
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    for secret in (GH_TOKEN, API_KEY, key):
        assert secret not in text
