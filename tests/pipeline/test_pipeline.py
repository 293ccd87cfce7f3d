"""The Jira pipeline end to end: fake Jira over HTTP -> extract/transform/load queues on RabbitMQ
-> real worker processes -> PostgreSQL. Assertions compare the final tables with what the fake
served."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import func, select, text

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job, start_reprocess
from etl.models import (
    EtlBatch,
    EtlJob,
    EtlTaskRun,
    RawExtractionData,
    Status,
    StatusMapping,
    Wit,
    WitMapping,
    WorkItem,
    WorkItemTransition,
)
from tests.scopes import server_connection, session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")






def work_items_by_key(integration_id) -> dict[str, WorkItem]:
    with session_scope() as s:
        return {w.key: w for w in s.scalars(select(WorkItem).where(WorkItem.integration_id == integration_id))}


def transitions_by_key(integration_id) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    with session_scope() as s:
        rows = s.execute(
            select(WorkItemTransition.work_item_key, WorkItemTransition.from_status, WorkItemTransition.to_status,
                   WorkItemTransition.transitioned_at)
            .where(WorkItemTransition.integration_id == integration_id)
            .order_by(WorkItemTransition.transitioned_at, WorkItemTransition.external_id)
        )
        for key, frm, to, at in rows:
            out.setdefault(key, []).append((frm, to, at))
    return out


DEFAULT_STATUS = {"Backlog": "To Do", "To Do": "To Do", "In Progress": "In Progress", "In Review": "In Progress",
                  "Done": "Done"}
CATEGORY = {"To Do": "to_do", "In Progress": "in_progress", "Done": "done"}


def test_sync_lands_every_issue_as_the_source_served_it(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=2500, projects=("ABC", "XYZ"))
    job = run_sync(tenant_id, integration_id)

    assert job.status == "succeeded", job.error_details
    assert (job.extracted, job.transformed, job.loaded, job.failed) == (2500, 2500, 2500, 0)
    assert job.pages >= 25 and job.finished_at is not None

    items = work_items_by_key(integration_id)
    transitions = transitions_by_key(integration_id)
    assert len(items) == 2500
    seen_types, seen_fallback_status = set(), False
    for key in fake.issue_keys():
        exp, got = fake.expected(key), items[key]
        seen_types.add(exp["issuetype"])
        assert got.title == exp["summary"]
        assert got.project == exp["project"]
        assert got.source_type == exp["issuetype"]
        if exp["issuetype"] == "Spike":  # no default mapping: keep the source name and Jira's level
            assert (got.wit, got.hierarchy_level) == ("Spike", exp["hierarchy_level"])
        else:
            assert got.wit == exp["issuetype"] and got.hierarchy_level == exp["hierarchy_level"]
        if exp["status"] in DEFAULT_STATUS:
            assert got.status == DEFAULT_STATUS[exp["status"]]
            assert got.status_category == CATEGORY[got.status]
        else:  # unmapped status: Jira's statusCategory decides
            seen_fallback_status = True
            assert got.status == exp["status"]
            assert got.status_category == {"new": "to_do", "done": "done"}.get(exp["status_category"], "in_progress")
        assert got.story_points == exp["story_points"]
        assert got.parent_key == exp["parent_key"]
        assert got.assignee == exp["assignee_display_name"] and got.reporter == exp["reporter_display_name"]
        assert sorted(got.labels) == sorted(exp["labels"])
        assert got.created_at == exp["created"] and got.resolved_at == exp["resolved"]
        if exp["resolved"]:
            assert got.lead_time_seconds == int((exp["resolved"] - exp["created"]).total_seconds())
        assert transitions.get(key, []) == list(exp["transitions"]), key
    assert {"Epic", "Story", "Task", "Bug", "Sub-task", "Spike"} <= seen_types
    assert seen_fallback_status
    # every raw object ends completed
    with session_scope() as s:
        statuses = dict(s.execute(
            select(RawExtractionData.processing_status, func.count())
            .where(RawExtractionData.integration_id == integration_id).group_by(RawExtractionData.processing_status)
        ).all())
    assert statuses == {"completed": 2500}


def test_long_changelogs_are_complete_and_cycle_time_is_computed(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=600)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    transitions = transitions_by_key(integration_id)
    items = work_items_by_key(integration_id)
    long_ones = [k for k in fake.issue_keys() if len(fake.issue(k)["changelog"]["histories"]) > 40]
    assert long_ones, "the fake should serve some changelogs longer than the embedded limit"
    for key in long_ones:
        assert transitions.get(key, []) == list(fake.expected(key)["transitions"])
    done = [w for w in items.values() if w.status_category == "done" and w.cycle_time_seconds is not None]
    assert done, "done items that passed In Progress have a cycle time"
    for w in done:
        assert 0 <= w.cycle_time_seconds <= w.lead_time_seconds


def test_resync_writes_nothing_and_incremental_picks_up_exactly_the_changes(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=800)
    assert run_sync(tenant_id, integration_id).status == "succeeded"

    def snapshot():
        with session_scope() as s:
            raw = s.execute(text("SELECT max(updated_at), count(*), max(xmin::text::bigint) FROM raw_extraction_data "
                                 "WHERE integration_id = :i"), {"i": integration_id}).one()
            final = s.execute(text("SELECT max(loaded_at), count(*), max(xmin::text::bigint) FROM work_items "
                                   "WHERE integration_id = :i"), {"i": integration_id}).one()
        return tuple(raw), tuple(final)

    before = snapshot()
    second = run_sync(tenant_id, integration_id)
    assert second.status == "succeeded"
    assert second.extracted == 0 and second.loaded == 0 and second.transformed == 0
    assert snapshot() == before, "an unchanged re-sync must rewrite no raw or final row"

    touched = fake.touch(10)
    third = run_sync(tenant_id, integration_id)
    assert third.status == "succeeded"
    assert (third.extracted, third.loaded) == (10, 10)
    items = work_items_by_key(integration_id)
    for key in touched:
        assert items[key].source_status == fake.expected(key)["status"]
        assert items[key].updated_at == fake.expected(key)["updated"]
    assert transitions_by_key(integration_id)[touched[0]] == list(fake.expected(touched[0])["transitions"])


def test_batches_grow_while_their_pages_hold_nothing_changed(jira_integration):
    """A full re-sync's unchanged pages stop at the extract, so its batches double (4, 8, 16 ...
    pages) instead of paying three tasks and their bookkeeping every 4 pages; a changed issue
    still loads (the fake puts touched issues last: updated ascending)."""
    tenant_id, _, integration_id, fake = jira_integration(issues=2500)

    def pages_by_batch(job) -> list[tuple[int, int]]:
        with session_scope() as s:
            return [tuple(r) for r in s.execute(select(EtlBatch.pages, EtlBatch.extracted)
                                                .where(EtlBatch.job_id == job.id).order_by(EtlBatch.seq))]

    first = run_sync(tenant_id, integration_id, kind="full")
    assert first.status == "succeeded" and first.loaded == 2500
    assert [p for p, _ in pages_by_batch(first)] == [1, 4, 4, 4, 4, 4, 4]  # 25 pages of 100

    second = run_sync(tenant_id, integration_id, kind="full")
    assert second.status == "succeeded" and second.extracted == 0
    assert pages_by_batch(second) == [(1, 0), (4, 0), (8, 0), (12, 0)]

    touched = fake.touch(5)
    third = run_sync(tenant_id, integration_id, kind="full")
    assert third.status == "succeeded" and third.loaded == third.extracted >= 5  # a sub-task embeds its parent
    assert pages_by_batch(third) == [(1, 0), (4, 0), (8, 0), (12, third.extracted)]
    items = work_items_by_key(integration_id)
    assert all(items[key].updated_at == fake.expected(key)["updated"] for key in touched)


def test_tenant_mapping_sends_a_type_to_another_wit(jira_integration, db):
    tenant_id, _, integration_id, fake = jira_integration(issues=400)
    story = db.scalar(select(Wit).where(Wit.tenant_id == tenant_id, Wit.name == "Story"))
    db.execute(
        WitMapping.__table__.update()
        .where(WitMapping.tenant_id == tenant_id, WitMapping.source_name == "bug")
        .values(wit_id=story.id)
    )
    db.add(WitMapping(tenant_id=tenant_id, integration_id=integration_id, source_name="Spike", wit_id=story.id))
    db.commit()
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    items = work_items_by_key(integration_id)
    bugs = [k for k in fake.issue_keys() if fake.expected(k)["issuetype"] in ("Bug", "Spike")]
    assert bugs
    for key in bugs:
        assert (items[key].wit, items[key].source_type) == ("Story", fake.expected(key)["issuetype"])


def test_malformed_issue_fails_alone_and_the_job_says_so(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=500)
    bad = fake.issue_keys()[7], fake.issue_keys()[300]
    for key in bad:
        fake.make_malformed(key)
    job = run_sync(tenant_id, integration_id)
    assert job.status == "partial"
    assert (job.failed, job.loaded) == (2, 498)
    assert "2 record(s) failed" in job.error_details["message"]
    items = work_items_by_key(integration_id)
    assert len(items) == 498 and not set(bad) & set(items)
    with session_scope() as s:
        failed = s.execute(
            select(RawExtractionData.external_id, RawExtractionData.error_details)
            .where(RawExtractionData.integration_id == integration_id, RawExtractionData.processing_status == "failed")
        ).all()
    assert {ext for ext, _ in failed} == {fake.expected(k)["id"] for k in bad}
    for _, details in failed:
        assert details["stage"] == "transform" and details["error"]


def test_an_emoji_cut_in_half_by_the_source_does_not_stop_the_sync(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=150)
    cut = fake.issue_keys()[42]
    fake.make_half_emoji(cut)
    job = run_sync(tenant_id, integration_id, timeout=60)
    assert (job.status, job.loaded, job.failed) == ("succeeded", 150, 0), job.error_details
    items = work_items_by_key(integration_id)
    assert items[cut].title == fake.expected(cut)["summary"] + "\ufffd"  # the replacement character


def test_a_job_whose_first_page_retries_shows_running_with_the_error(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=150)
    fake.faults.add("500", path_contains="/search/jql", times=2)
    job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "incremental", trigger="api")

    def retrying_run():
        with session_scope() as s:
            return s.scalar(select(EtlTaskRun).where(EtlTaskRun.job_id == job_id, EtlTaskRun.state == "retrying"))
    deadline = time.monotonic() + 30
    while (run := retrying_run()) is None:
        assert time.monotonic() < deadline, "the first page was not retried"
        time.sleep(0.1)
    assert "500" in run.error
    with session_scope() as s:
        job = s.get(EtlJob, job_id)
        assert (job.status, job.started_at is not None) == ("running", True), "not `queued` as if no worker had it"
    job = wait_for_job(job_id, timeout=60)
    assert (job.status, job.loaded) == ("succeeded", 150)


def test_rate_limits_and_server_errors_are_retried_until_complete(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=600)
    fake.faults.add("429", path_contains="/search/jql", every=2, times=3, retry_after=1)
    fake.faults.add("500", path_contains="/search/jql", every=5, times=1)
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded", job.error_details
    assert job.loaded == 600 and len(work_items_by_key(integration_id)) == 600
    with session_scope() as s:
        retried = s.scalars(select(EtlTaskRun).where(EtlTaskRun.job_id == job.id, EtlTaskRun.state == "retrying")).all()
    assert len(retried) == 4
    assert any("429" in r.error for r in retried) and any("500" in r.error for r in retried)


def test_bad_credentials_fail_the_job_with_the_sources_message(jira_integration, db):
    tenant_id, _, integration_id, fake = jira_integration(issues=50)
    fake.faults.add("401", times=None)
    job = run_sync(tenant_id, integration_id)
    assert job.status == "failed"
    assert job.error_details["stage"] == "extract"
    assert "401" in job.error_details["message"] and "not authenticated" in job.error_details["message"]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_worker_killed_mid_load_loses_and_duplicates_nothing(jira_integration, workers, database):
    tenant_id, _, integration_id, fake = jira_integration(issues=1500)
    # Hold every load at its first write, so the kill lands while loads are in progress.
    blocker = psycopg2.connect(database.replace("postgresql+psycopg2", "postgresql"))
    blocker.cursor().execute("LOCK TABLE work_items IN SHARE ROW EXCLUSIVE MODE")
    job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "incremental", trigger="api")
    try:
        deadline = time.monotonic() + 60
        waiting = 0
        while time.monotonic() < deadline and waiting == 0:
            with server_connection() as s:
                waiting = s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND query LIKE '%INSERT INTO work_items%'"))
            time.sleep(0.2)
        assert waiting, "loads should be blocked on the lock"
        children = _children(workers.procs["load"].pid)
        assert children
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)
    finally:
        blocker.rollback()
        blocker.close()
    job = wait_for_job(job_id)
    assert job.status == "succeeded", job.error_details
    assert (job.extracted, job.loaded, job.failed) == (1500, 1500, 0)
    items = work_items_by_key(integration_id)
    assert len(items) == 1500
    expected_transitions = sum(len(fake.expected(k)["transitions"]) for k in fake.issue_keys())
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(WorkItemTransition)
                        .where(WorkItemTransition.integration_id == integration_id)) == expected_transitions
        redelivered = s.scalar(select(func.count()).select_from(EtlTaskRun)
                               .where(EtlTaskRun.job_id == job_id, EtlTaskRun.deliveries > 1))
    assert redelivered >= 1, "the killed loads were redelivered and recorded"


def test_jira_data_center_offset_pagination_and_bearer_token(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=450, flavor="dc")
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded", job.error_details
    assert job.loaded == 450 and job.pages == 5
    items = work_items_by_key(integration_id)
    transitions = transitions_by_key(integration_id)
    for key in fake.issue_keys():
        assert items[key].status_category in ("to_do", "in_progress", "done")
        assert transitions.get(key, []) == list(fake.expected(key)["transitions"])
    assert any(path.startswith("/rest/api/2/search") for _, path, _ in fake.requests)


def test_reprocess_applies_a_changed_mapping_without_calling_the_source(jira_integration, db):
    tenant_id, _, integration_id, fake = jira_integration(issues=600)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    blocked = [k for k in fake.issue_keys() if fake.expected(k)["status"] == "Blocked"]
    assert blocked and all(w.status == "Blocked" for k, w in work_items_by_key(integration_id).items() if k in blocked)

    todo = db.scalar(select(Status).where(Status.tenant_id == tenant_id, Status.name == "To Do"))
    db.add(StatusMapping(tenant_id=tenant_id, source_name="Blocked", status_id=todo.id))
    db.commit()
    fake.reset_requests()
    job = wait_for_job(start_reprocess(get_sessionmaker(), integration_id, tenant_id))
    assert job.status == "succeeded" and job.kind == "reprocess"
    assert job.loaded == 600 and job.extracted == 0
    assert fake.requests == [], "a reprocess never calls the source"
    items = work_items_by_key(integration_id)
    assert all((items[k].status, items[k].status_category) == ("To Do", "to_do") for k in blocked)
