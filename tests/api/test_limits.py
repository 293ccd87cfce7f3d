"""Limits on what one tenant can consume (issue 8, finding 5): the request body limit, per-tenant
caps (integrations, active jobs, repositories and projects, settings size, reprocess size) and the
rate limits per key and per client address, in memory and in Redis shared by API processes."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient

from api.main import app
from etl.jobs.lifecycle import create_job
from etl.models import Integration
from etl.tenancy.keys import authenticate
from tests.scopes import session_scope
from tests.waiting import wait_for_job

ROOT = Path(__file__).resolve().parents[2]  # the repository
CLOSED_URL = "http://127.0.0.1:1"  # nothing listens: integrations here are never reached
REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MiB = 1024 * 1024


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def jira_body(name: str, projects=("ABC",), **settings) -> dict:
    return {"provider": "jira", "name": name, "base_url": CLOSED_URL, "credentials": {"token": "t0ken"},
            "settings": {"projects": list(projects), "flavor": "dc", **settings}}


def github_body(name: str, repos) -> dict:
    return {"provider": "github", "name": name, "base_url": CLOSED_URL, "credentials": {"token": "t0ken"},
            "settings": {"repos": list(repos)}}


@pytest.fixture
def own_counters(settings_env):
    """Rate-limit counters of this test alone (its own namespace, in memory or in the shared Redis)."""
    settings_env(ETL_RATE_LIMIT_NAMESPACE=f"pulse-test-{uuid.uuid4().hex}")


# --- request body -----------------------------------------------------------------------------


def test_a_40_mib_settings_object_is_refused_with_413(api_client, make_tenant):
    _, key = make_tenant()
    r = api_client.post("/api/v1/integrations", headers=auth(key),
                        json=jira_body("huge", blob="x" * (40 * MiB)))
    assert r.status_code == 413, r.text[:300]
    assert r.json() == {"detail": "request body over 1 MiB (ETL_MAX_REQUEST_BYTES): send a smaller body"}
    assert api_client.get("/api/v1/integrations", headers=auth(key)).json() == []
    # Under the limit nothing changes.
    r = api_client.post("/api/v1/integrations", headers=auth(key), json=jira_body("small", blob="x" * 1000))
    assert r.status_code == 201, r.text


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(database, make_tenant):
    """No Content-Length to go by: the app stops reading at the limit, not at the end of 40 MiB."""
    _, key = make_tenant()
    chunk, chunks = 256 * 1024, 160  # 40 MiB
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        read += 1
        if read > chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"x" * chunk, "more_body": read < chunks}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/v1/integrations", "raw_path": b"/api/v1/integrations", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"transfer-encoding", b"chunked"), (b"authorization", f"Bearer {key}".encode())]}
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413, body
    assert b"over 1 MiB" in body
    assert read <= MiB // chunk + 1, f"read {read} chunks of {chunks}"


# --- per-tenant caps --------------------------------------------------------------------------


def test_integrations_per_tenant_are_capped_with_a_409_and_the_cli_says_the_same(
        api_client, make_tenant, settings_env):
    settings_env(ETL_MAX_INTEGRATIONS_PER_TENANT="2")
    name = f"capped-{uuid.uuid4().hex[:8]}"
    _, key = make_tenant(name)
    for n in range(2):
        assert api_client.post("/api/v1/integrations", headers=auth(key), json=jira_body(f"j{n}")).status_code == 201
    r = api_client.post("/api/v1/integrations", headers=auth(key), json=jira_body("j2"))
    message = ("the tenant has 2 integrations, the most allowed (ETL_MAX_INTEGRATIONS_PER_TENANT = 2); "
               "delete one it no longer needs, or ask the operator to raise the limit")
    assert r.status_code == 409 and r.json() == {"detail": message}
    # Another tenant has its own count.
    _, other_key = make_tenant()
    assert api_client.post("/api/v1/integrations", headers=auth(other_key), json=jira_body("j0")).status_code == 201

    proc = subprocess.run(
        [sys.executable, "-m", "etl.cli", "integrations", "add", "--tenant", name, "--name", "j3", "--base-url",
         CLOSED_URL, "--token", "t0ken", "--project", "ABC", "--no-verify", "--json"],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert json.loads(proc.stdout)["error"] == message


def test_active_jobs_per_tenant_are_capped_with_a_429(api_client, make_tenant, settings_env):
    settings_env(ETL_MAX_ACTIVE_JOBS_PER_TENANT="1")
    tenant_id, key = make_tenant()
    a, b = (api_client.post("/api/v1/integrations", headers=auth(key), json=jira_body(n)).json()["id"]
            for n in ("a", "b"))
    with session_scope() as s:  # a job that stays queued: nothing is published for it
        job, _ = create_job(s, s.get(Integration, uuid.UUID(a)))
        queued = job.id

    r = api_client.post("/api/v1/etl/pipeline/trigger", headers=auth(key), json={"integration_id": b})
    assert r.status_code == 429, r.text
    assert r.json() == {"detail": "the tenant has 1 queued or running jobs, the most allowed "
                                  "(ETL_MAX_ACTIVE_JOBS_PER_TENANT = 1); wait for one to end "
                                  "(GET /api/v1/etl/jobs?status=running) or cancel one, then try again"}
    # Another tenant is not held back by this one's jobs.
    _, other_key = make_tenant()
    other = api_client.post("/api/v1/integrations", headers=auth(other_key), json=jira_body("c")).json()["id"]
    r = api_client.post("/api/v1/etl/pipeline/trigger", headers=auth(other_key), json={"integration_id": other})
    assert r.status_code == 202, r.text
    api_client.post(f"/api/v1/etl/jobs/{r.json()['job_id']}/cancel", headers=auth(other_key))

    # Once the queued job has ended, the trigger goes through.
    assert api_client.post(f"/api/v1/etl/jobs/{queued}/cancel", headers=auth(key)).status_code == 200
    r = api_client.post("/api/v1/etl/pipeline/trigger", headers=auth(key), json={"integration_id": b})
    assert r.status_code == 202, r.text
    api_client.post(f"/api/v1/etl/jobs/{r.json()['job_id']}/cancel", headers=auth(key))


def test_repositories_projects_and_settings_per_integration_are_capped_with_a_422(
        api_client, make_tenant, settings_env):
    settings_env(ETL_MAX_REPOS_PER_INTEGRATION="3", ETL_MAX_PROJECTS_PER_INTEGRATION="2")
    _, key = make_tenant()
    post = lambda body: api_client.post("/api/v1/integrations", headers=auth(key), json=body)  # noqa: E731

    r = post(github_body("gh", [f"acme/r{n}" for n in range(4)]))
    assert r.status_code == 422 and r.json() == {"detail": (
        "4 repositories in one integration, more than 3 (ETL_MAX_REPOS_PER_INTEGRATION); "
        "split them over several integrations")}
    r = post(jira_body("jira", projects=("ABC", "DEF", "GHI")))
    assert r.status_code == 422 and r.json() == {"detail": (
        "3 Jira project keys in one integration, more than 2 (ETL_MAX_PROJECTS_PER_INTEGRATION); "
        "split them over several integrations")}

    # A change is checked by the same rules.
    gh = post(github_body("gh", ["acme/r0"])).json()["id"]
    r = api_client.patch(f"/api/v1/integrations/{gh}", headers=auth(key),
                         json={"settings": {"repos": [f"acme/r{n}" for n in range(4)]}})
    assert r.status_code == 422 and "more than 3 (ETL_MAX_REPOS_PER_INTEGRATION)" in r.json()["detail"]

    # PATCH merges settings, so each request under the body limit could grow them without end.
    path = f"/api/v1/integrations/{gh}"
    assert api_client.patch(path, headers=auth(key), json={"settings": {"a": "x" * 40_000}}).status_code == 200
    r = api_client.patch(path, headers=auth(key), json={"settings": {"b": "x" * 40_000}})
    assert r.status_code == 422, r.text
    assert "more than 65536 (ETL_MAX_SETTINGS_BYTES)" in r.json()["detail"]
    assert "b" not in api_client.get(path, headers=auth(key)).json()["settings"]


@pytest.mark.usefixtures("workers")
def test_one_reprocess_request_selects_at_most_the_limit(api_client, jira_integration, settings_env):
    tenant_id, key, integration_id, fake = jira_integration(issues=12)
    records = [{"external_id": str(fake.issue(k)["id"]), "payload": fake.issue(k)} for k in fake.issue_keys()[:12]]
    r = api_client.post("/api/v1/etl/raw-data/store", headers=auth(key), json={
        "integration_id": str(integration_id), "entity_type": "jira_issue", "records": records})
    assert r.status_code == 200, r.text
    raw_ids = [rec["id"] for rec in r.json()["records"]]
    settings_env(ETL_MAX_REPROCESS_RECORDS="10")

    expected = (f"this selects more than 10 raw records of integration {integration_id} (ETL_MAX_REPROCESS_RECORDS); "
                "narrow it with `filter` (entity_type, status) or send `raw_ids` in parts, listed by "
                "GET /api/v1/etl/raw-data")
    for selection in ({}, {"filter": {"entity_type": "jira_issue"}}, {"raw_ids": raw_ids[:11]}):
        r = api_client.post("/api/v1/etl/reprocess", headers=auth(key),
                            json={"integration_id": str(integration_id), **selection})
        assert r.status_code == 422 and r.json() == {"detail": expected}, (selection, r.text)

    r = api_client.post("/api/v1/etl/reprocess", headers=auth(key),
                        json={"integration_id": str(integration_id), "raw_ids": raw_ids[:10]})
    assert r.status_code == 202 and r.json()["records"] == 10, r.text
    assert wait_for_job(r.json()["job_id"]).status == "succeeded"


# --- rate limits ------------------------------------------------------------------------------


def test_requests_over_the_per_key_limit_get_429_with_retry_after(api_client, make_tenant, settings_env,
                                                                   own_counters):
    settings_env(ETL_RATE_LIMIT_PER_KEY="5/minute", ETL_REDIS_URL=None)  # counted in this process's memory
    _, key = make_tenant()
    _, other_key = make_tenant()
    for _ in range(5):
        assert api_client.get("/api/v1/integrations", headers=auth(key)).status_code == 200
    r = api_client.get("/api/v1/integrations", headers=auth(key))
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["detail"] == (f"too many requests with this API key (at most 5/minute, ETL_RATE_LIMIT_PER_KEY): "
                                  f"retry after {r.headers['retry-after']} s")
    # Another key keeps its own budget.
    assert api_client.get("/api/v1/integrations", headers=auth(other_key)).status_code == 200


def test_an_address_failing_to_authenticate_20_times_gets_429(database, make_tenant, settings_env, own_counters):
    settings_env(ETL_AUTH_FAILURE_LIMIT_PER_IP="20/minute")  # the default, which the suite raises (conftest.py)
    _, key = make_tenant()
    with TestClient(app, client=("127.0.0.5", 50000)) as guesser, TestClient(app, client=("127.0.0.6", 50000)) as other:
        for n in range(20):
            r = guesser.get("/api/v1/integrations", headers=auth(f"pk_guess{n}"))
            assert r.status_code == 401, (n, r.text)
        r = guesser.get("/api/v1/integrations", headers=auth("pk_guess20"))
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert "too many failed authentications from 127.0.0.5 (at most 20/minute" in r.json()["detail"]
        # Blocked before the key is looked up: a real key answers the same, so guessing learns nothing.
        assert guesser.get("/api/v1/integrations", headers=auth(key)).status_code == 429
        # Other addresses, and requests without any key, are not counted against it.
        assert other.get("/api/v1/integrations", headers=auth(key)).status_code == 200
        for _ in range(25):
            assert other.get("/api/v1/integrations").status_code == 401
        assert other.get("/api/v1/integrations", headers=auth(key)).status_code == 200


def test_the_per_key_limit_is_shared_by_api_processes_through_redis(api_client, make_tenant, settings_env,
                                                                      own_counters, db):
    settings_env(ETL_REDIS_URL=REDIS_URL, ETL_RATE_LIMIT_PER_KEY="5/minute")
    tenant_id, key = make_tenant()
    key_id = authenticate(db, key).id
    # Another API process (a separate interpreter with the same settings) spends 4 of the 5 requests.
    other_process = (
        "import types, uuid\n"
        "from api.limits import count_request\n"
        f"principal = types.SimpleNamespace(api_key_id=uuid.UUID('{key_id}'), tenant_id=uuid.UUID('{tenant_id}'))\n"
        "for _ in range(4):\n"
        "    count_request(principal)\n"
    )
    subprocess.run([sys.executable, "-c", other_process], cwd=ROOT, env=os.environ.copy(), check=True, timeout=60)
    assert api_client.get("/api/v1/integrations", headers=auth(key)).status_code == 200
    r = api_client.get("/api/v1/integrations", headers=auth(key))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text


def test_without_redis_the_api_fails_open_and_says_so(api_client, make_tenant, settings_env, own_counters, caplog):
    settings_env(ETL_REDIS_URL="redis://127.0.0.1:1/0", ETL_RATE_LIMIT_PER_KEY="1/minute")  # nothing listens
    _, key = make_tenant()
    with caplog.at_level(logging.WARNING, logger="api.limits"):
        for _ in range(3):
            assert api_client.get("/api/v1/integrations", headers=auth(key)).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "api.limits"]
    assert len(warnings) == 1 and warnings[0].startswith("rate limits not enforced: Redis unreachable"), warnings


def test_limit_settings_that_cannot_work_are_refused_at_startup(settings_env):
    from pydantic import ValidationError

    from etl.config import Settings

    for name, value, expected in (
            ("ETL_RATE_LIMIT_PER_KEY", "0/minute", "'0/minute' is not a rate limit; write it like 600/minute"),
            ("ETL_AUTH_FAILURE_LIMIT_PER_IP", "twenty", "'twenty' is not a rate limit"),
            ("ETL_REDIS_URL", "http://127.0.0.1:6379", "ETL_REDIS_URL must be a redis, rediss")):
        settings_env(**{name: value})
        with pytest.raises(ValidationError) as refused:
            Settings()
        assert expected in str(refused.value)
        settings_env(**{name: None})
