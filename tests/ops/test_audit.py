"""The consistency audit on real services: a fake Jira (and GitHub) synced through the workers, then
audited through the API (the task on the workers) and in this process (to watch its notification).
Corruptions are made the way they happen: a final row changed behind the pipeline's back, a raw
object changed, a final row lost, a raw object lost."""
from __future__ import annotations

import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from etl.broker.app import app
from etl.models import ConsistencyAudit, Integration, RawExtractionData, WorkItem, WorkItemTransition
from etl.ops import audit_runs, tasks
from tests.cli.test_cli import etl, etl_command
from tests.scopes import session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def audit_here(integration_id, full: bool = False, repair: bool = False) -> dict:
    """Record an audit and run it in this process, as `etl audit` does."""
    with session_scope() as s:
        audit_id = audit_runs.request_audit(s, s.get(Integration, integration_id), "cli", full, repair).id
    return audit_runs.run_audit(integration_id, audit_id)


def audit_through_api(api_client, key, integration_id, timeout: float = 60, **body) -> dict:
    headers = {"Authorization": f"Bearer {key}"}
    r = api_client.post(f"/api/v1/integrations/{integration_id}/audit", json=body, headers=headers)
    assert r.status_code == 202, r.text
    audit_id, url = r.json()["audit_id"], r.json()["status_url"]
    deadline = time.monotonic() + timeout
    while True:
        latest = api_client.get(url, headers=headers).json()
        if latest["id"] == audit_id and latest["status"] in ("finished", "failed"):
            return latest
        assert time.monotonic() < deadline, f"audit {audit_id} not finished in {timeout}s: {latest}"
        time.sleep(0.2)


def entity(audit: dict, entity_type: str) -> dict:
    return next(e for e in audit["summary"]["entities"] if e["entity_type"] == entity_type)


def differing(audit: dict, entity_type: str) -> dict[str, list[str]]:
    return {d["external_id"]: sorted(d["columns"]) for d in entity(audit, entity_type)["differing"]["listed"]}


def test_an_audit_finds_corrupted_and_lost_rows_by_external_id_and_the_repair_makes_it_clean(
        jira_integration, api_client, monkeypatch):
    tenant_id, key, integration_id, fake = jira_integration(issues=60)
    assert run_sync(tenant_id, integration_id).status == "succeeded"

    clean = audit_through_api(api_client, key, integration_id)  # sampled, on the workers
    assert clean["status"] == "finished" and clean["differences"] == 0, clean
    issues = entity(clean, "jira_issue")
    assert issues["raw_by_status"] == {"completed": 60} and issues["final_rows"] == 60
    assert issues["compared"] == 60 and issues["child_rows"]["work_item_transitions"] > 0

    with session_scope() as s:
        ids = list(s.scalars(select(WorkItem.external_id).where(WorkItem.integration_id == integration_id)
                             .order_by(WorkItem.external_id)))
        tampered, changed_raw, lost_row, lost_raw = ids[:4]
        in_integration = (WorkItem.integration_id == integration_id,)
        s.execute(update(WorkItem).where(*in_integration, WorkItem.external_id == tampered)
                  .values(status="Tampered", story_points=99))
        s.execute(text("UPDATE raw_extraction_data SET raw_data = jsonb_set(raw_data, '{fields,summary}', "
                       "'\"changed in the raw layer\"') WHERE integration_id = :i AND external_id = :e"),
                  {"i": integration_id, "e": changed_raw})
        s.execute(delete(WorkItem).where(*in_integration, WorkItem.external_id == lost_row))
        s.execute(delete(RawExtractionData).where(RawExtractionData.integration_id == integration_id,
                                                  RawExtractionData.external_id == lost_raw))
        # one transition of another item lost too: found as a difference of its work item
        victim = s.scalar(select(WorkItemTransition.id).where(
            WorkItemTransition.integration_id == integration_id,
            WorkItemTransition.work_item_external_id.not_in([tampered, changed_raw, lost_row, lost_raw]))
            .order_by(WorkItemTransition.id).limit(1))
        lost_transition_of = s.scalar(select(WorkItemTransition.work_item_external_id)
                                      .where(WorkItemTransition.id == victim))
        s.execute(delete(WorkItemTransition).where(WorkItemTransition.id == victim))

    events = []
    monkeypatch.setattr(audit_runs, "emit", lambda session, tenant, kind, subject: events.append((tenant, kind, subject)))
    found = audit_here(integration_id, repair=True)
    issues = entity(found, "jira_issue")
    assert differing(found, "jira_issue") == {
        tampered: ["status", "story_points"], changed_raw: ["title"],
        lost_transition_of: ["work_item_transitions"]}
    assert issues["raw_without_final"] == {"count": 1, "listed": [lost_row]}
    assert issues["final_without_raw"] == {"count": 1, "listed": [lost_raw]}
    assert found["differences"] == 5
    name = api_client.get(f"/api/v1/integrations/{integration_id}",
                          headers={"Authorization": f"Bearer {key}"}).json()["name"]
    assert events == [(tenant_id, "audit.differences", {
        "integration_id": str(integration_id), "integration_name": name, "differences": 5,
        "link": f"/integrations/{integration_id}",
        "reason": "5 row(s) differ from what the raw layer says; a repair job is reprocessing them"})]

    repair = found["summary"]["repair"]
    assert (repair["raw_objects"], repair["deleted_rows"], repair["refused"]) == (4, 1, None)
    job = wait_for_job(found["repaired_job_id"])
    assert (job.status, job.kind, job.loaded) == ("succeeded", "reprocess", 4)

    after = audit_through_api(api_client, key, integration_id, full=True)
    assert after["differences"] == 0, after["summary"]
    assert entity(after, "jira_issue")["final_rows"] == 59
    with session_scope() as s:
        title = s.scalar(select(WorkItem.title).where(WorkItem.integration_id == integration_id,
                                                      WorkItem.external_id == changed_raw))
        orphan_transitions = s.scalar(select(func.count()).select_from(WorkItemTransition).where(
            WorkItemTransition.integration_id == integration_id, WorkItemTransition.work_item_external_id == lost_raw))
    assert (title, orphan_transitions) == ("changed in the raw layer", 0)


def test_a_clean_github_integration_audits_clean_for_every_entity_type(github_integration):
    tenant_id, _, integration_id, _ = github_integration(repos={"acme/api": 12, "acme/web": 8})
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    found = audit_here(integration_id, full=True)
    assert found["differences"] == 0, found["summary"]
    pulls = entity(found, "github_pull_request")
    assert (pulls["table"], pulls["final_rows"], pulls["compared"]) == ("pull_requests", 20, 20)
    assert {e["entity_type"] for e in found["summary"]["entities"]} == {
        "github_pull_request", "github_pr_review", "github_pr_commit"}
    assert all(e["compared"] == e["final_rows"] > 0 for e in found["summary"]["entities"])


def test_the_daily_check_audits_each_synced_integration_once_and_the_last_audits_are_kept(
        jira_integration, settings_env):
    tenant_id, _, integration_id, _ = jira_integration(issues=5)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    _, _, never_synced, _ = jira_integration(issues=5)

    assert app.conf.beat_schedule["audit-consistency"]["task"] == tasks.audit_due.name
    asked = dict(audit_runs.request_due())
    assert integration_id in asked and never_synced not in asked
    assert integration_id not in dict(audit_runs.request_due()), "not asked again while under way"
    _wait_finished(asked[integration_id])
    assert integration_id not in dict(audit_runs.request_due()), "nor once done, within the interval"

    settings_env(ETL_AUDIT_KEEP="2")
    for _ in range(3):
        audit_here(integration_id)
    with session_scope() as s:
        kept = s.scalar(select(func.count()).select_from(ConsistencyAudit)
                        .where(ConsistencyAudit.integration_id == integration_id))
    assert kept == 2


def test_an_audit_of_another_tenants_integration_is_not_found(jira_integration, api_client, make_tenant):
    _, _, integration_id, _ = jira_integration(issues=1)
    _, other_key = make_tenant()
    headers = {"Authorization": f"Bearer {other_key}"}
    url = f"/api/v1/integrations/{integration_id}/audit"
    assert api_client.post(url, json={}, headers=headers).status_code == 404
    assert api_client.get(url, headers=headers).status_code == 404
    assert api_client.get(f"/api/v1/integrations/{uuid.uuid4()}/audit", headers=headers).status_code == 404


def test_one_audit_at_a_time_and_a_failed_one_says_why(jira_integration, api_client, monkeypatch):
    _, key, integration_id, _ = jira_integration(issues=1)
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/integrations/{integration_id}/audit"
    with session_scope() as s:
        audit_id = audit_runs.request_audit(s, s.get(Integration, integration_id), "api").id  # not published
    r = api_client.post(url, json={"full": True}, headers=headers)
    assert r.status_code == 409 and str(audit_id) in r.json()["detail"]
    assert api_client.get(url, headers=headers).json()["status"] == "queued"

    def broken(*args):
        raise ValueError("the audit broke")

    task = tasks.audit._get_current_object()
    task.push_request(id="t-audit", args=(str(integration_id), str(audit_id)), kwargs={}, retries=0,
                      delivery_info={"routing_key": "extract"})
    monkeypatch.setattr(tasks.audit_runs, "run_audit", broken)
    try:
        with pytest.raises(ValueError):
            task.run(str(integration_id), str(audit_id))
    finally:
        task.pop_request()
    latest = api_client.get(url, headers=headers).json()
    assert latest["status"] == "failed" and latest["error"] and latest["finished_at"], latest

    # an audit asked for long ago and never finished (its message lost) does not block the next one
    with session_scope() as s:
        lost = audit_runs.request_audit(s, s.get(Integration, integration_id), "schedule")
        lost.requested_at = audit_runs.now() - audit_runs.REQUEST_LEASE - timedelta(minutes=1)
    assert api_client.post(url, json={}, headers=headers).status_code == 202
    with session_scope() as s:
        assert s.get(ConsistencyAudit, lost.id).error.startswith("lost: not finished within")


def _wait_finished(audit_id, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as s:
            audit = s.get(ConsistencyAudit, audit_id)
        if audit.finished_at is not None:
            assert audit.error is None and audit.differences == 0, audit.error
            return
        assert time.monotonic() < deadline, f"audit {audit_id} not finished in {timeout}s"
        time.sleep(0.2)


def test_etl_audit_reports_and_repairs_from_the_command_line(jira_integration):
    tenant_id, _, integration_id, _ = jira_integration(issues=10)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    with session_scope() as s:
        target = s.scalar(select(WorkItem.external_id).where(WorkItem.integration_id == integration_id)
                          .order_by(WorkItem.external_id).limit(1))
        s.execute(update(WorkItem).where(WorkItem.integration_id == integration_id, WorkItem.external_id == target)
                  .values(labels=["tampered"]))

    code, out, _ = etl("audit", str(integration_id), "--full", "--repair")
    assert code == 0, out
    [found] = out["audits"]
    assert (found["differences"], found["full"], differing(found, "jira_issue")) == (1, True, {target: ["labels"]})
    assert wait_for_job(uuid.UUID(found["repaired_job_id"])).status == "succeeded"
    shown = subprocess.run([*etl_command(), "audit", str(integration_id)], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
    assert shown.returncode == 0, shown.stderr
    assert "0 difference(s), sampled (200 per entity type) audit" in shown.stdout
    assert "jira_issue -> work_items: raw objects 10 completed; 10 rows; 10 compared" in shown.stdout

    code, out, _ = etl("audit", str(uuid.uuid4()))
    assert code == 1 and "etl integrations list" in out["error"]
