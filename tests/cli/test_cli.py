"""The `etl` console command, driven as an operator does: a subprocess with --json, against the
test database and broker that conftest put in the environment. `etl demo` is not run here (slow);
it is exercised by hand."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def etl_command() -> list[str]:
    """The installed console script (`pip install -e .`), else the same entry point via -m."""
    script = Path(sys.executable).parent / "etl"
    if script.exists():
        return [str(script)]
    found = shutil.which("etl")
    return [found] if found else [sys.executable, "-m", "etl.cli"]


def etl(*args: str, timeout: float = 60) -> tuple[int, dict, str]:
    """Run `etl ARGS --json`; return (exit status, the one JSON object on stdout, stderr)."""
    proc = subprocess.run([*etl_command(), *args, "--json"], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got {proc.stdout!r} (stderr {proc.stderr!r})"
    return proc.returncode, json.loads(lines[0]), proc.stderr


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def add_jira(tenant: str, fake, *extra: str, name: str | None = None) -> tuple[int, dict, str]:
    creds = ["--email", fake.email, "--token", fake.token] if fake.flavor == "cloud" else ["--token", fake.token]
    projects = [a for p in fake.projects for a in ("--project", p)]
    return etl("integrations", "add", "--tenant", tenant, "--name", name or unique("jira"),
               "--base-url", fake.url, *creds, *projects, *extra)


@pytest.fixture
def tenant(database):
    name = unique("cli")
    code, out, err = etl("tenants", "create", name)
    assert code == 0, err
    return name


def test_db_upgrade_is_idempotent(database):
    code, out, err = etl("db", "upgrade")
    assert code == 0, err
    assert out["status"] == "ok" and out["revision"]


def test_tenants_create_prints_id_and_key_once(database):
    name = unique("acme")
    code, out, err = etl("tenants", "create", name)
    assert code == 0, err
    assert out["name"] == name
    uuid.UUID(out["tenant_id"])
    assert out["api_key"].startswith("pk_")

    code, listed, _ = etl("tenants", "list")
    assert code == 0
    assert {"tenant_id": out["tenant_id"], "name": name} in [
        {"tenant_id": t["tenant_id"], "name": t["name"]} for t in listed["tenants"]]
    assert all("api_key" not in t for t in listed["tenants"])

    code, again, err = etl("tenants", "create", name)
    assert code == 1
    assert "already exists" in again["error"]
    assert "already exists" in err


def test_integrations_add_cloud_and_dc(tenant, fake_jira):
    cloud = fake_jira(issues=5, projects=("ABC",))
    code, out, err = add_jira(tenant, cloud, name="cloud")
    assert code == 0, err
    uuid.UUID(out["integration_id"])
    assert out["flavor"] == "cloud" and out["projects"] == ["ABC"]

    dc = fake_jira(issues=5, projects=("OPS",), flavor="dc")
    code, out, err = add_jira(tenant, dc, "--story-points-field", "customfield_10016", name="dc")
    assert code == 0, err
    assert out["flavor"] == "dc"  # a token alone is a Data Center PAT

    code, listed, _ = etl("integrations", "list", "--tenant", tenant)
    assert code == 0
    assert sorted(i["name"] for i in listed["integrations"]) == ["cloud", "dc"]
    assert "token" not in json.dumps(listed)  # credentials are never shown

    code, out, err = add_jira(tenant, dc, name="dc")
    assert code == 1 and "already has an integration named 'dc'" in err


@pytest.mark.parametrize("bad_args, message", [
    (["--project", "abc-1"], "not a Jira project key"),          # not even shaped like a key
    (["--project", "XYZ"], "project XYZ not found"),             # Jira says it does not exist
    (["--token", "wrong-token"], "rejected the credentials"),
])
def test_integrations_add_rejects_what_jira_would_reject(tenant, fake_jira, bad_args, message):
    fake = fake_jira(issues=5, projects=("ABC",))
    args = {"--email": fake.email, "--token": fake.token, "--project": "ABC"}
    args.update(dict(zip(bad_args[::2], bad_args[1::2])))
    code, out, err = etl("integrations", "add", "--tenant", tenant, "--name", unique("bad"),
                         "--base-url", fake.url, *[x for kv in args.items() for x in kv])
    assert code != 0
    assert message in out["error"]
    assert message in err


def test_integrations_add_needs_a_token(tenant, fake_jira):
    fake = fake_jira(issues=5)
    code, out, err = etl("integrations", "add", "--tenant", tenant, "--name", unique("j"),
                         "--base-url", fake.url, "--email", fake.email, "--project", "ABC")
    assert code != 0
    assert "--token" in out["error"] and "--token" in err


def test_integrations_add_unknown_tenant(database, fake_jira):
    fake = fake_jira(issues=5)
    code, out, err = add_jira(unique("nobody"), fake)
    assert code == 1
    assert "etl tenants create" in out["error"]


def test_sync_wait_runs_the_pipeline_to_success(tenant, fake_jira, workers):
    fake = fake_jira(issues=300, projects=("ABC",))
    code, added, err = add_jira(tenant, fake)
    assert code == 0, err
    integration_id = added["integration_id"]

    code, job, err = etl("sync", integration_id, "--wait", "--timeout", "240", timeout=300)
    assert code == 0, (job, err)
    assert job["status"] == "succeeded"
    assert job["extracted"] == 300 and job["transformed"] == 300 and job["loaded"] == 300
    assert job["failed"] == 0 and job["pages"] >= 3
    assert job["trigger"] == "cli" and job["kind"] == "incremental"

    code, listed, _ = etl("jobs", "list", "--tenant", tenant, "--limit", "5")
    assert code == 0
    assert [j["job_id"] for j in listed["jobs"]] == [job["job_id"]]
    assert listed["jobs"][0]["integration"] == added["name"]

    code, shown, _ = etl("jobs", "show", job["job_id"])
    assert code == 0
    assert shown["status"] == "succeeded" and shown["loaded"] == 300
    runs = shown["task_runs"]
    assert {r["stage"] for r in runs} == {"extract", "transform", "load"}
    assert all(r["state"] == "succeeded" for r in runs)

    # A second sync with nothing changed at the source loads nothing new and still succeeds.
    code, again, err = etl("sync", integration_id, "--wait", "--timeout", "120", timeout=180)
    assert code == 0, (again, err)
    assert again["status"] == "succeeded" and again["loaded"] == 0


def test_sync_refuses_a_second_active_job(tenant, fake_jira):
    from etl.models import EtlJob
    from tests.scopes import session_scope

    fake = fake_jira(issues=5)
    code, added, err = add_jira(tenant, fake)
    assert code == 0, err
    # An active job, as if a worker were busy with it (no message is published for it).
    with session_scope() as s:
        integ_id = uuid.UUID(added["integration_id"])
        active = EtlJob(tenant_id=uuid.UUID(added["tenant_id"]), integration_id=integ_id, status="running",
                        trigger="api")
        s.add(active)
        s.flush()
        active_id = str(active.id)
    try:
        code, out, err = etl("sync", added["integration_id"], "--wait")
        assert code == 2
        assert out["active_job_id"] == active_id
        assert active_id in out["error"] and active_id in err
    finally:
        with session_scope() as s:
            s.get(EtlJob, uuid.UUID(active_id)).status = "cancelled"


def test_jobs_cancel_then_retry_completes_the_data(tenant, fake_jira, workers):
    from sqlalchemy import func, select

    from etl.models import WorkItem
    from tests.scopes import session_scope

    fake = fake_jira(issues=1000, projects=("ABC",))
    # A page a second: the sync outlasts the CLI's start-up for the cancel many times over.
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=1.0)
    code, added, err = add_jira(tenant, fake)
    assert code == 0, err
    code, started, err = etl("sync", added["integration_id"])
    assert code == 0, err

    code, cancelled, err = etl("jobs", "cancel", started["job_id"])
    assert code == 0, err
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"]
    assert cancelled["error_details"] == {"stage": "cancel", "message": "cancelled from the CLI"}
    code, again, _ = etl("jobs", "cancel", started["job_id"])
    assert code == 2 and again["error"] == f"job {started['job_id']} already ended: cancelled"

    fake.faults.clear()
    code, retried, err = etl("jobs", "retry", started["job_id"], "--wait", "--timeout", "120", timeout=180)
    assert code == 0, (retried, err)
    assert retried["job_id"] != started["job_id"]
    assert retried["status"] == "succeeded" and retried["trigger"] == "cli" and retried["kind"] == "incremental"
    with session_scope() as s:
        loaded = s.scalar(select(func.count()).select_from(WorkItem)
                          .where(WorkItem.integration_id == uuid.UUID(added["integration_id"])))
    assert loaded == 1000
    code, out, _ = etl("jobs", "retry", retried["job_id"])
    assert code == 1 and out["error"] == f"job {retried['job_id']} succeeded: nothing to retry"


def test_sync_and_jobs_show_report_unknown_ids(database):
    code, out, _ = etl("sync", str(uuid.uuid4()))
    assert code == 1 and "no integration" in out["error"]
    code, out, _ = etl("sync", "not-a-uuid")
    assert code == 1 and "not a valid integration id" in out["error"]
    code, out, _ = etl("jobs", "show", str(uuid.uuid4()))
    assert code == 1 and "no job" in out["error"]


def test_usage_errors_are_json_too(database):
    code, out, err = etl("tenants", "create")
    assert code == 2
    assert "Missing argument" in out["error"]


def test_fake_sources_serves_the_fake_jira(database):
    proc = subprocess.Popen([*etl_command(), "fake-sources", "--port", "0", "--issues", "20",
                             "--projects", "ABC,DEF", "--json"],
                            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["projects"] == ["ABC", "DEF"]
        resp = requests.get(f"{info['url']}/rest/api/3/search/jql",
                            params={"jql": "project = DEF", "fields": "summary", "maxResults": 50},
                            auth=(info["email"], info["token"]), timeout=10)
        assert resp.status_code == 200
        assert resp.json()["issues"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_github_integration_added_checked_and_synced(tenant, workers):
    from etl.fakes.github import FakeGitHub

    fake = FakeGitHub(repos={"acme/api": 30, "acme/web": 20})
    fake.serve()
    try:
        code, out, err = etl("integrations", "add", "--tenant", tenant, "--provider", "github", "--name", unique("gh"),
                             "--base-url", fake.url, "--token", "wrong-token", "--repo", "acme/api")
        assert code != 0 and "Bad credentials" in out["error"]
        code, out, err = etl("integrations", "add", "--tenant", tenant, "--provider", "github", "--name", unique("gh"),
                             "--base-url", fake.url, "--token", fake.token, "--repo", "acme/nope")
        assert code != 0 and "acme/nope" in out["error"]
        code, out, err = etl("integrations", "add", "--tenant", tenant, "--provider", "github", "--name", unique("gh"),
                             "--base-url", fake.url, "--token", fake.token, "--repo", "acme/api", "--repo", "acme/web")
        assert code == 0, err
        assert fake.token not in json.dumps(out)
        code, job, err = etl("sync", str(out["integration_id"]), "--wait", timeout=180)
        assert code == 0, (job, err)
        assert job["status"] == "succeeded" and job["failed"] == 0
        assert job["loaded"] == job["extracted"] > 50
    finally:
        fake.stop()
