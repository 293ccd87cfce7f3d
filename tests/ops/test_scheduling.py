"""Schedules, the dispatcher beat runs, the reaper, incremental correctness and deletions, against
the real database, RabbitMQ and worker processes. Beat itself is not run: the tests call the
functions its tasks call (dispatch_due, reap, request_due, reconcile) with a chosen `now`."""
from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from etl.broker.publish import publish_extract
from etl.config import get_settings
from etl.db import get_sessionmaker, tenant_context
from etl.jobs.lifecycle import create_job, start_job
from etl.models import EtlJob, Integration, SyncState, WorkItem
from etl.ops.reaper import reap
from etl.ops.reconcile import ReconcileRefused, reconcile, request_due
from etl.ops.scheduling import Schedule, dispatch_due, set_schedule
from etl.pipeline.extract import extract_page
from etl.sources.http import RetriableError
from etl.sources.jira import client as jira_client
from tests.cli.test_cli import add_jira, etl, etl_command, unique
from tests.scopes import session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")
ISSUE = "jira_issue"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)






def items(integration_id, include_deleted=True) -> dict[str, WorkItem]:
    with session_scope() as s:
        q = select(WorkItem).where(WorkItem.integration_id == integration_id)
        if not include_deleted:
            q = q.where(WorkItem.deleted_at.is_(None))
        return {w.key: w for w in s.scalars(q)}


def jobs_of(integration_id) -> list[EtlJob]:
    with session_scope() as s:
        return list(s.scalars(select(EtlJob).where(EtlJob.integration_id == integration_id)
                              .order_by(EtlJob.created_at)))


def watermark(integration_id) -> datetime | None:
    with session_scope() as s:
        state = s.get(SyncState, (integration_id, ISSUE))
        return state.watermark if state else None


def schedule_every_minute(integration_id, due_at: datetime) -> None:
    with session_scope() as s:
        integ = s.get(Integration, integration_id)
        set_schedule(s, integ, Schedule(every_minutes=1))
        integ.next_sync_at = due_at


def next_sync_at(integration_id) -> datetime | None:
    with session_scope() as s:
        return s.get(Integration, integration_id).next_sync_at


def race(fn, *args, threads=2) -> list:
    """Call fn(*args) from several threads released at the same instant; their results."""
    barrier = threading.Barrier(threads)
    results: list = [None] * threads
    errors: list = []

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    assert not errors, errors
    return results


# --- the dispatcher ------------------------------------------------------------------------------


def test_two_racing_dispatchers_create_exactly_one_job_per_due_time(jira_integration):
    made = [jira_integration(issues=40) for _ in range(3)]
    mine = {integration_id for _, _, integration_id, _ in made}
    t0 = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
    for integration_id in mine:
        schedule_every_minute(integration_id, t0)

    for due in (t0, t0 + timedelta(minutes=1)):
        results = race(dispatch_due, due + timedelta(seconds=3))  # a dispatcher running 3 s late
        with session_scope() as s:
            by_integration: dict[uuid.UUID, list] = {}
            for job_id in [j for r in results for j in r]:
                by_integration.setdefault(s.get(EtlJob, job_id).integration_id, []).append(job_id)
        assert {i: len(j) for i, j in by_integration.items() if i in mine} == {i: 1 for i in mine}
        for integration_id in mine:  # on the grid, not drifted by the late run
            assert next_sync_at(integration_id) == due + timedelta(minutes=1)
        for integration_id, jobs in by_integration.items():
            if integration_id in mine:  # the shared database may hold other tests' due integrations
                assert wait_for_job(jobs[0]).status == "succeeded"
        # not due again until the next minute
        again = dispatch_due(due + timedelta(seconds=30))
        assert not mine & {_job(j).integration_id for j in again}

    for integration_id in mine:
        jobs = jobs_of(integration_id)
        assert [(j.trigger, j.status) for j in jobs] == [("schedule", "succeeded")] * 2


def _job(job_id) -> EtlJob:
    with session_scope() as s:
        return s.get(EtlJob, job_id)


def test_due_integration_still_running_is_skipped_and_runs_at_the_next_due_time(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=60)
    with session_scope() as s:  # a job already active (triggered by hand, its tasks not yet published)
        running, batch_ids = create_job(s, s.get(Integration, integration_id), trigger="api")
    t0 = utcnow().replace(second=0, microsecond=0)
    schedule_every_minute(integration_id, t0)

    created = dispatch_due(t0 + timedelta(seconds=1))
    assert not [j for j in created if _job(j).integration_id == integration_id], "skipped, not queued behind"
    assert next_sync_at(integration_id) == t0 + timedelta(minutes=1), "the next due time still advances"
    assert [j.id for j in jobs_of(integration_id)] == [running.id]

    publish_extract(running.id, batch_ids)
    assert wait_for_job(running.id).status == "succeeded"
    created = [j for j in dispatch_due(t0 + timedelta(minutes=1, seconds=1)) if _job(j).integration_id == integration_id]
    assert len(created) == 1
    job = wait_for_job(created[0])
    assert (job.trigger, job.status) == ("schedule", "succeeded")


# --- incremental correctness ---------------------------------------------------------------------


def test_update_inside_the_overlap_window_between_syncs_is_picked_up(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=300)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    mark = watermark(integration_id)
    assert mark == max(fake.expected(k)["updated"] for k in fake.issue_keys())

    # Updated after the first sync read it, but stamped before the watermark (Jira's search index
    # lags, clocks differ): only the overlap finds it.
    overlap = get_settings().sync_overlap_seconds
    key = next(k for k in fake.issue_keys() if fake.expected(k)["updated"] < mark - timedelta(seconds=overlap))
    at = mark - timedelta(seconds=overlap // 2)
    fake.touch(key, at=at)

    second = run_sync(tenant_id, integration_id)
    assert second.status == "succeeded"
    assert (second.extracted, second.loaded) == (1, 1)
    got = items(integration_id)[key]
    assert (got.updated_at, got.source_status) == (at, fake.expected(key)["status"])
    assert watermark(integration_id) == mark, "an older update never moves the watermark back"


def test_update_made_while_a_sync_runs_is_picked_up_by_the_next_sync(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=400)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    fake.touch(300)  # the next sync has 3+ pages
    fake.faults.add("slow", path_contains="/search/jql", delay=0.3, times=None)

    job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "incremental", trigger="api")
    deadline = time.monotonic() + 60
    while _job(job_id).pages < 1:
        assert time.monotonic() < deadline, "the sync did not start"
        time.sleep(0.05)
    # While it runs: some issues change now; one change lands behind the sync's cursor (stamped a
    # little earlier, as a lagging search index or a skewed clock would), so this sync cannot see it.
    during = fake.touch(4)
    newest = fake.expected(during[0])["updated"]
    lagged = next(k for k in fake.issue_keys() if k not in during)
    fake.touch(lagged, at=newest - timedelta(seconds=20))
    added = fake.add_issues(2)
    second = wait_for_job(job_id)
    assert second.status == "succeeded"
    assert items(integration_id)[lagged].updated_at != fake.expected(lagged)["updated"], \
        "precondition: the running sync did not see the lagged update"

    fake.faults.clear()
    third = run_sync(tenant_id, integration_id)
    assert third.status == "succeeded"
    got = items(integration_id)
    for key in [*during, lagged, *added]:
        exp = fake.expected(key)
        assert (got[key].updated_at, got[key].source_status) == (exp["updated"], exp["status"]), key
    assert len(got) == 402


def test_full_sync_rereads_everything_and_replaces_the_watermark(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=250)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    true_mark = watermark(integration_id)
    with session_scope() as s:  # a watermark from the future (a source clock that was wrong)
        s.execute(update(SyncState).where(SyncState.integration_id == integration_id)
                  .values(watermark=true_mark + timedelta(days=30)))
    touched = fake.touch(3)

    blind = run_sync(tenant_id, integration_id)
    assert (blind.status, blind.extracted) == ("succeeded", 0), "incremental reads from the (bad) watermark"

    full = run_sync(tenant_id, integration_id, kind="full")
    assert full.status == "succeeded"
    assert (full.extracted, full.unchanged, full.loaded) == (3, 247, 3), "every issue read again"
    assert watermark(integration_id) == max(fake.expected(k)["updated"] for k in fake.issue_keys())
    got = items(integration_id)
    for key in touched:
        assert got[key].source_status == fake.expected(key)["status"]


# --- the reaper ----------------------------------------------------------------------------------


def test_job_whose_messages_were_lost_is_redriven_to_success(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=250)
    with session_scope() as s:
        job, batch_ids = create_job(s, s.get(Integration, integration_id), trigger="api")
    # The first page is extracted but its transform/load messages and the next page's are lost
    # (the follow-ups are never published), as when a worker dies and the queue is purged.
    with tenant_context(tenant_id):  # as the extract task runs it: under the job's tenant
        follow = extract_page(batch_ids[0])
    assert follow.extract and follow.process

    stalled_at = utcnow() + timedelta(seconds=get_settings().reaper_stall_seconds + 5)
    results = race(reap, stalled_at)  # two reapers at once re-drive it once
    assert sum(r.redriven.count(job.id) for r in results) == 1

    done = wait_for_job(job.id)
    assert done.status == "succeeded", done.error_details
    assert (done.extracted, done.loaded, done.redrives) == (250, 250, 1)
    assert len(items(integration_id)) == 250


def test_job_never_started_is_redriven_and_one_that_never_moves_is_failed_with_the_reason(jira_integration):
    settings = get_settings()
    tenant_id, _, integration_id, fake = jira_integration(issues=30)
    with session_scope() as s:  # queued, its first extract task never published
        job, _ = create_job(s, s.get(Integration, integration_id), trigger="schedule")
    result = reap(utcnow() + timedelta(seconds=settings.reaper_stall_seconds + 1))
    assert job.id in result.redriven
    assert wait_for_job(job.id).status == "succeeded"

    with session_scope() as s:  # a job already re-driven to the limit without any progress since
        stuck, _ = create_job(s, s.get(Integration, integration_id), trigger="schedule")
        stuck.redrives = stuck.stalled_redrives = settings.reaper_max_redrives
        stuck.redriven_at = utcnow() + timedelta(seconds=1)  # re-driven after it was created
    result = reap(utcnow() + timedelta(seconds=settings.reaper_stall_seconds + 5))
    assert stuck.id in result.failed
    failed = _job(stuck.id)
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.error_details["stage"] == "reaper"
    message = failed.error_details["message"]
    assert f"after {settings.reaper_max_redrives} re-drive(s)" in message
    assert "no progress for" in message and "last stage extract (1 batch pending)" in message


# --- deletions -----------------------------------------------------------------------------------


def test_reconcile_marks_exactly_the_deleted_issues_and_never_on_a_failed_listing(
        jira_integration, api_client, monkeypatch):
    tenant_id, api_key, integration_id, fake = jira_integration(issues=300)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    gone = fake.issue_keys()[10:15]
    fake.delete(gone)

    monkeypatch.setitem(jira_client.LIST_PAGE_SIZE, "cloud", 100)  # three pages; the second fails
    fake.faults.add("500", path_contains="/search/jql", every=2, times=None)
    with pytest.raises(RetriableError):
        reconcile(integration_id)
    assert not [k for k, w in items(integration_id).items() if w.deleted_at], "nothing marked on a partial listing"
    fake.faults.clear()

    result = reconcile(integration_id)
    assert (result.listed, result.deleted, result.restored) == (295, 5, 0)
    got = items(integration_id)
    assert {k for k, w in got.items() if w.deleted_at} == set(gone)

    headers = {"Authorization": f"Bearer {api_key}"}
    listed, cursor = [], None
    while True:
        r = api_client.get("/api/v1/work-items", params={"limit": 200, **({"cursor": cursor} if cursor else {})},
                           headers=headers)
        assert r.status_code == 200, r.text
        listed += [i["key"] for i in r.json()["items"]]
        cursor = r.json()["next"]
        if not cursor:
            break
    assert len(listed) == 295 and not set(gone) & set(listed)
    r = api_client.get("/api/v1/work-items", params={"limit": 200, "include_deleted": True}, headers=headers)
    assert len(r.json()["items"]) == 200 and r.json()["next"]

    # A row marked deleted that the source still lists is restored; a second run changes nothing.
    alive = fake.issue_keys()[0]
    with session_scope() as s:
        s.execute(update(WorkItem).where(WorkItem.integration_id == integration_id, WorkItem.key == alive)
                  .values(deleted_at=utcnow()))
    first, second = reconcile(integration_id), reconcile(integration_id)
    assert (first.deleted, first.restored, second.deleted, second.restored) == (0, 1, 0, 0)
    assert items(integration_id)[alive].deleted_at is None

    # Losing most of the issues at once looks like a lost permission: refused, nothing marked.
    fake.delete(fake.issue_keys()[:200])
    with pytest.raises(ReconcileRefused, match="would mark 200 of 295"):
        reconcile(integration_id)
    assert len([w for w in items(integration_id).values() if w.deleted_at]) == 5


def test_daily_check_and_full_sync_reconcile_through_the_workers(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=120)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    first = fake.issue_keys()[:2]
    fake.delete(first)

    requested = race(request_due, None)
    assert sum(r.count(integration_id) for r in requested) == 1, "two checks at once ask once"
    assert integration_id not in request_due(), "not asked again while the request is under way"
    _wait_deleted(integration_id, set(first))
    with session_scope() as s:
        assert s.get(Integration, integration_id).last_reconciled_at is not None

    second = fake.issue_keys()[:3]
    fake.delete(second)
    assert run_sync(tenant_id, integration_id, kind="full").status == "succeeded"
    _wait_deleted(integration_id, set(first) | set(second))  # reconciled at the end of the full sync


def _wait_deleted(integration_id, expected: set[str], timeout=30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        deleted = {k for k, w in items(integration_id).items() if w.deleted_at}
        if deleted == expected:
            return
        assert time.monotonic() < deadline, f"deleted {sorted(deleted)}, expected {sorted(expected)}"
        time.sleep(0.2)


# --- editing schedules -----------------------------------------------------------------------------


def test_patch_schedule_stores_it_and_computes_the_next_run(jira_integration, api_client, make_tenant):
    tenant_id, api_key, integration_id, fake = jira_integration(issues=5)
    headers = {"Authorization": f"Bearer {api_key}"}
    url = f"/api/v1/integrations/{integration_id}"

    before = utcnow()
    r = api_client.patch(url, json={"schedule": {"cron": "*/15 * * * *"}}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["schedule_cron"], body["schedule_interval_minutes"], body["enabled"]) == ("*/15 * * * *", None, True)
    nxt = datetime.fromisoformat(body["next_sync_at"])
    assert before < nxt <= before + timedelta(minutes=15) and nxt.minute % 15 == 0 and nxt.second == 0
    assert api_client.get(url, headers=headers).json()["schedule_cron"] == "*/15 * * * *"

    r = api_client.patch(url, json={"schedule": {"every_minutes": 30}}, headers=headers)
    body = r.json()
    assert (body["schedule_cron"], body["schedule_interval_minutes"]) == (None, 30)
    # never synced: due at once
    assert before <= datetime.fromisoformat(body["next_sync_at"]) <= utcnow()

    for cron, words in (("0 25 * * *", ("hour", "25", "0-23")), ("* * * *", ("4 field",)),
                        ("*/15 * * * * *", ("6 field",)), ("0 9 * * funday", ("day of week", "funday")),
                        ("0 0 31 2 *", ("never fires",))):
        r = api_client.patch(url, json={"schedule": {"cron": cron}}, headers=headers)
        assert r.status_code == 422, (cron, r.text)
        assert all(w in r.json()["detail"] for w in words), (cron, r.json())
    r = api_client.patch(url, json={"schedule": {"cron": "* * * * *", "every_minutes": 5}}, headers=headers)
    assert r.status_code == 422 and "not both" in r.json()["detail"]
    assert api_client.get(url, headers=headers).json()["schedule_interval_minutes"] == 30, "unchanged by errors"

    body = api_client.patch(url, json={"enabled": False}, headers=headers).json()
    assert (body["enabled"], body["next_sync_at"], body["schedule_interval_minutes"]) == (False, None, 30)
    body = api_client.patch(url, json={"enabled": True}, headers=headers).json()
    assert body["enabled"] and body["next_sync_at"]
    body = api_client.patch(url, json={"schedule": None}, headers=headers).json()
    assert (body["schedule_cron"], body["schedule_interval_minutes"], body["next_sync_at"]) == (None, None, None)

    _, other_key = make_tenant()
    r = api_client.patch(url, json={"enabled": False}, headers={"Authorization": f"Bearer {other_key}"})
    assert r.status_code == 404


def test_cron_in_a_time_zone_keeps_local_time_across_daylight_saving(jira_integration, api_client):
    tenant_id, api_key, integration_id, fake = jira_integration(issues=5)
    headers = {"Authorization": f"Bearer {api_key}"}
    url = f"/api/v1/integrations/{integration_id}"
    r = api_client.patch(url, json={"schedule": {"cron": "0 6 * * *", "timezone": "Europe/Paris"}}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["schedule_cron"], body["schedule_timezone"]) == ("0 6 * * *", "Europe/Paris")
    local = datetime.fromisoformat(body["next_sync_at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (6, 0)

    # Paris moves to summer time on 2026-03-29: 06:00 local is 05:00 UTC before, 04:00 UTC after.
    with session_scope() as s:
        integ = s.get(Integration, integration_id)
        integ.next_sync_at = datetime(2026, 3, 28, 5, 0, tzinfo=timezone.utc)
    created = [j for j in dispatch_due(datetime(2026, 3, 28, 5, 0, 20, tzinfo=timezone.utc))
               if _job(j).integration_id == integration_id]
    assert len(created) == 1
    assert next_sync_at(integration_id) == datetime(2026, 3, 29, 4, 0, tzinfo=timezone.utc)
    assert wait_for_job(created[0]).status == "succeeded"

    for schedule, words in (({"cron": "0 6 * * *", "timezone": "Europe/Pariss"}, ("unknown time zone", "Pariss")),
                            ({"every_minutes": 30, "timezone": "Europe/Paris"}, ("cron schedule only",))):
        r = api_client.patch(url, json={"schedule": schedule}, headers=headers)
        assert r.status_code == 422, r.text
        assert all(w in r.json()["detail"] for w in words), r.json()
    assert api_client.get(url, headers=headers).json()["schedule_timezone"] == "Europe/Paris", "unchanged by errors"

    body = api_client.patch(url, json={"schedule": {"every_minutes": 30}}, headers=headers).json()
    assert (body["schedule_cron"], body["schedule_timezone"], body["schedule_interval_minutes"]) == (None, None, 30)


def test_cli_schedule_sets_changes_and_refuses_invalid_cron(fake_jira, database):
    tenant = unique("sched")
    assert etl("tenants", "create", tenant)[0] == 0
    fake = fake_jira(issues=5)
    code, added, err = add_jira(tenant, fake, "--schedule", "0 6 * * mon-fri")
    assert code == 0, err
    assert added["schedule"]["cron"] == "0 6 * * mon-fri" and added["schedule"]["next_sync_at"]
    integration_id = added["integration_id"]

    code, out, err = add_jira(tenant, fake, "--schedule", "0 6 * *")
    assert code != 0 and "4 field" in out["error"] and "4 field" in err

    code, out, err = etl("integrations", "schedule", integration_id, "--every", "45")
    assert code == 0, err
    assert (out["schedule"]["cron"], out["schedule"]["every_minutes"]) == (None, 45)
    assert out["schedule"]["next_sync_at"]

    code, out, err = etl("integrations", "schedule", integration_id, "--schedule", "61 * * * *")
    assert code != 0
    assert "minute" in out["error"] and "61" in out["error"] and "out of range" in err

    code, out, err = etl("integrations", "schedule", integration_id)
    assert (code, out["schedule"]["every_minutes"]) == (0, 45), "unchanged by the refused one"

    code, out, err = etl("integrations", "schedule", integration_id, "--schedule", "30 7 * * *",
                         "--timezone", "America/New_York")
    assert code == 0, err
    assert (out["schedule"]["cron"], out["schedule"]["timezone"]) == ("30 7 * * *", "America/New_York")
    local = datetime.fromisoformat(out["schedule"]["next_sync_at"]).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (7, 30)
    listing = subprocess.run([*etl_command(), "integrations", "list", "--tenant", tenant], capture_output=True,
                             text=True, timeout=60, env=os.environ.copy())
    line = next(x for x in listing.stdout.splitlines() if x.startswith(integration_id))
    assert line.split()[4] == "never" and line.endswith("  cron 30 7 * * * America/New_York"), listing.stdout
    code, out, err = etl("integrations", "schedule", integration_id, "--every", "5", "--timezone", "UTC")
    assert code == 2 and "--timezone goes with --schedule" in out["error"]
    code, out, err = etl("integrations", "schedule", integration_id, "--schedule", "* * * * *", "--timezone", "Mars/Base")
    assert code == 2 and "unknown time zone 'Mars/Base'" in out["error"]

    code, out, err = etl("integrations", "schedule", integration_id, "--off")
    assert code == 0, err
    assert (out["schedule"]["cron"], out["schedule"]["every_minutes"], out["schedule"]["next_sync_at"]) == \
        (None, None, None)
