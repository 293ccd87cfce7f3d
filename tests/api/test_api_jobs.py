"""The tenant admin's API for the raw layer and for jobs, on real PostgreSQL, RabbitMQ and worker
processes (conftest.py): pushing raw records, listing and moving them, reprocessing, cancelling a
running job, retrying failed and partial jobs, and live progress as server-sent events."""
from __future__ import annotations

import copy
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import anyio
import orjson
import psycopg2
import pytest
from sqlalchemy import func, select, text, update

from etl.broker.app import app
from etl.broker.lanes import all_queues, stage_task_id
from etl.models import EtlBatch, EtlJob, EtlTaskRun, Integration, RawExtractionData, WorkItem
from tests.scopes import server_connection, session_scope
from tests.waiting import wait_for_job

pytestmark = pytest.mark.usefixtures("workers")

T0 = datetime(2025, 9, 1, tzinfo=timezone.utc)


def queue_depth(name: str) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def issue_records(fake, keys) -> list[dict]:
    out = []
    for key in keys:
        issue = fake.issue(key)
        out.append({"external_id": str(issue["id"]), "payload": issue})
    return out


def store(client, key, integration_id, records, entity_type="jira_issue", **extra):
    return client.post("/api/v1/etl/raw-data/store", headers=auth(key),
                       json={"integration_id": str(integration_id), "entity_type": entity_type, "records": records,
                             **extra})


def trigger(client, key, integration_id, **extra) -> uuid.UUID:
    r = client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id), **extra},
                    headers=auth(key))
    assert r.status_code == 202, r.text
    return uuid.UUID(r.json()["job_id"])




def xmins(ids) -> dict[int, str]:
    with session_scope() as s:
        return dict(s.execute(text("SELECT id, xmin::text FROM raw_extraction_data WHERE id = ANY(:ids)"),
                              {"ids": list(ids)}).all())


def raw_rows(integration_id) -> dict[str, RawExtractionData]:
    with session_scope() as s:
        return {r.external_id: r for r in s.scalars(
            select(RawExtractionData).where(RawExtractionData.integration_id == integration_id))}


def work_items(integration_id) -> dict[str, WorkItem]:
    with session_scope() as s:
        return {w.key: w for w in s.scalars(select(WorkItem).where(WorkItem.integration_id == integration_id))}


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def job_row(job_id) -> EtlJob:
    with session_scope() as s:
        return s.get(EtlJob, job_id)


def errors(r) -> list[tuple[list, str]]:
    assert r.status_code == 422, r.text
    return [(e["loc"], e["msg"]) for e in r.json()["detail"]]


# --- storing raw records -----------------------------------------------------------------------


def test_openapi_documents_the_routes_with_examples(api_client):
    spec = api_client.get("/openapi.json").json()
    for path, method in [("/api/v1/etl/raw-data/store", "post"), ("/api/v1/etl/raw-data", "get"),
                         ("/api/v1/etl/raw-data/{raw_id}", "get"), ("/api/v1/etl/raw-data/{raw_id}/status", "put"),
                         ("/api/v1/etl/reprocess", "post"), ("/api/v1/etl/jobs/{job_id}/cancel", "post"),
                         ("/api/v1/etl/jobs/{job_id}/retry", "post"), ("/api/v1/etl/jobs/{job_id}/events", "get")]:
        assert method in spec["paths"][path], path
    schemas = spec["components"]["schemas"]
    for name in ("StoreRawDataRequest", "RawStatusUpdate", "ReprocessRequest"):
        assert schemas[name]["examples"], name
    assert "text/event-stream" in spec["paths"]["/api/v1/etl/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]


def test_store_refuses_what_it_cannot_store_and_says_why(api_client, jira_integration, github_integration):
    tenant_id, key, jira_id, fake = jira_integration(issues=5)
    _, _, github_id, _ = github_integration(repos={"acme/api": 2}, tenant=(tenant_id, key))
    _, other_key, other_jira, _ = jira_integration(issues=1)
    good = issue_records(fake, fake.issue_keys()[:2])

    assert errors(store(api_client, key, jira_id, good, entity_type="github_pr_review")) == [
        (["body", "entity_type"], "a jira integration stores jira_issue; not 'github_pr_review'")]
    assert "github_pull_request, github_pr_review, github_pr_commit" in errors(
        store(api_client, key, github_id, good))[0][1]

    wrong_id = copy.deepcopy(good)
    wrong_id[1]["external_id"] = "99999"
    no_fields = copy.deepcopy(good)
    del no_fields[0]["payload"]["fields"]
    assert errors(store(api_client, key, jira_id, wrong_id)) == [
        (["body", "records", 1, "external_id"], f"external_id '99999' is not the payload's id '{good[1]['external_id']}'")]
    assert errors(store(api_client, key, jira_id, no_fields)) == [
        (["body", "records", 0, "payload", "fields"], "a jira_issue payload needs its `fields` object")]
    assert errors(store(api_client, key, jira_id, [good[0], good[1], good[0]])) == [
        (["body", "records", 2, "external_id"], f"'{good[0]['external_id']}' repeats records[0]")]
    pr = {"number": 7, "base": {"repo": {"full_name": "acme/api"}}}
    assert errors(store(api_client, key, github_id, [{"external_id": "acme/api#8", "payload": pr}],
                        entity_type="github_pull_request")) == [
        (["body", "records", 0, "external_id"], "external_id 'acme/api#8' is not 'acme/api#7' (owner/name#number)")]
    assert errors(store(api_client, key, github_id, [{"external_id": "abc", "payload": {"sha": "abc"}}],
                        entity_type="github_pr_commit"))[0][1] == "external_id 'abc' is not owner/name#number:sha"

    # Shape errors come from the schema, with where they are.
    assert errors(store(api_client, key, jira_id, [{"external_id": "1", "payload": [1, 2]}]))[0][0] == [
        "body", "records", 0, "payload"]
    assert errors(store(api_client, key, jira_id, []))[0][0] == ["body", "records"]
    r = store(api_client, key, jira_id, [{"external_id": str(i), "payload": {"id": str(i)}} for i in range(1001)])
    assert errors(r) == [(["body", "records"], "List should have at most 1000 items after validation, not 1001")]

    # Past the size limit: 413 before the body is read, declared or chunked.
    big = [{"external_id": good[0]["external_id"], "payload": {**good[0]["payload"], "blob": "x" * (9 << 20)}}]
    r = store(api_client, key, jira_id, big)
    assert r.status_code == 413 and "MiB" in r.json()["detail"], r.text
    body = orjson.dumps({"integration_id": str(jira_id), "entity_type": "jira_issue", "records": big})
    r = api_client.post("/api/v1/etl/raw-data/store", headers=auth(key),
                        content=(body[i:i + (1 << 20)] for i in range(0, len(body), 1 << 20)))
    assert r.status_code == 413 and "MiB" in r.json()["detail"], r.text

    # Another tenant's integration does not exist for this key; nothing was stored anywhere.
    assert store(api_client, key, other_jira, good).status_code == 404
    assert store(api_client, other_key, jira_id, good).status_code == 404
    assert raw_rows(jira_id) == {} and raw_rows(github_id) == {}


def test_restoring_writes_nothing_and_a_change_goes_back_to_pending(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=40)
    records = issue_records(fake, fake.issue_keys()[:30])

    r = store(api_client, key, integration_id, records, process=True)
    assert r.status_code == 202, r.text
    first = r.json()
    assert (first["stored"], first["unchanged"]) == (30, 0)
    assert [x["external_id"] for x in first["records"]] == [x["external_id"] for x in records]
    assert first["status_url"] == f"/api/v1/etl/jobs/{first['job_id']}"
    job = wait_for_job(first["job_id"])
    assert (job.status, job.kind, job.loaded) == ("succeeded", "reprocess", 30)
    items = api_client.get(f"/api/v1/work-items?integration_id={integration_id}&limit=200", headers=auth(key)).json()
    assert sorted(i["key"] for i in items["items"]) == sorted(fake.issue_keys()[:30])
    assert {r.processing_status for r in raw_rows(integration_id).values()} == {"completed"}

    ids = [x["id"] for x in first["records"]]
    before = xmins(ids)
    r = store(api_client, key, integration_id, records, process=True)
    assert r.status_code == 200, r.text
    again = r.json()
    assert (again["stored"], again["unchanged"], again["job_id"]) == (0, 30, None)
    assert [x["id"] for x in again["records"]] == ids and {x["result"] for x in again["records"]} == {"unchanged"}
    assert again["detail"] == "nothing to process: every record is unchanged and already processed"
    assert xmins(ids) == before, "an unchanged payload rewrites no row"

    changed = copy.deepcopy(records)
    changed[3]["payload"]["fields"]["summary"] = "renamed at the source"
    r = store(api_client, key, integration_id, changed)
    assert r.status_code == 200 and (r.json()["stored"], r.json()["unchanged"]) == (1, 29), r.text
    after = xmins(ids)
    assert [i for i in ids if after[i] != before[i]] == [ids[3]]
    row = api_client.get(f"/api/v1/etl/raw-data/{ids[3]}", headers=auth(key)).json()
    assert row["processing_status"] == "pending" and row["payload"]["fields"]["summary"] == "renamed at the source"
    assert row["extraction_metadata"]["via"] == "api"

    r = api_client.post("/api/v1/etl/reprocess", headers=auth(key),
                        json={"integration_id": str(integration_id), "filter": {"status": "pending"}})
    assert r.status_code == 202 and r.json()["records"] == 1, r.text
    assert wait_for_job(r.json()["job_id"]).status == "succeeded"
    assert work_items(integration_id)[fake.issue_keys()[3]].title == "renamed at the source"
    r = api_client.post("/api/v1/etl/reprocess", headers=auth(key),
                        json={"integration_id": str(integration_id), "filter": {"status": "pending"}})
    assert r.status_code == 422 and "nothing to reprocess" in r.json()["detail"]


# --- listing and moving raw records ------------------------------------------------------------


def test_nul_characters_are_dropped_and_text_that_mentions_them_is_kept(api_client, jira_integration):
    """PostgreSQL refuses NUL in JSONB and text. A real NUL is dropped; a title that merely writes
    the escape (a developer on C strings) is stored and loaded as written."""
    tenant_id, key, integration_id, fake = jira_integration(issues=3)
    records = issue_records(fake, fake.issue_keys()[:2])
    records[0]["payload"]["fields"]["summary"] = "why \\u0000 ends C strings"
    records[1]["payload"]["fields"]["summary"] = "nul\u0000byte in a title"
    r = store(api_client, key, integration_id, records, process=True)
    assert r.status_code == 202, r.text
    job = wait_for_job(r.json()["job_id"])
    assert (job.status, job.loaded) == ("succeeded", 2), job.error_details
    titles = {w.key: w.title for w in work_items(integration_id).values()}
    assert titles[fake.issue_keys()[0]] == "why \\u0000 ends C strings"
    assert titles[fake.issue_keys()[1]] == "nulbyte in a title"
    stored = api_client.get(f"/api/v1/etl/raw-data/{r.json()['records'][0]['id']}", headers=auth(key)).json()
    assert stored["payload"]["fields"]["summary"] == "why \\u0000 ends C strings"


def test_raw_list_filters_pages_and_status_rules(api_client, jira_integration, github_integration, db):
    tenant_id, key, jira_id, fake = jira_integration(issues=6)
    _, _, github_id, _ = github_integration(repos={"acme/api": 1}, tenant=(tenant_id, key))
    _, other_key, other_jira, other_fake = jira_integration(issues=3)
    h = auth(key)
    records = issue_records(fake, fake.issue_keys())
    assert store(api_client, key, jira_id, records).status_code == 200
    prs = [{"external_id": f"acme/api#{n}", "payload": {"number": n, "base": {"repo": {"full_name": "acme/api"}}}}
           for n in (1, 2)]
    assert store(api_client, key, github_id, prs, entity_type="github_pull_request").status_code == 200
    other = store(api_client, other_key, other_jira, issue_records(other_fake, other_fake.issue_keys())).json()
    other_ids = [x["id"] for x in other["records"]]

    rows = raw_rows(jira_id)
    failed_id, completed_id = rows[records[0]["external_id"]].id, rows[records[1]["external_id"]].id
    db.execute(update(RawExtractionData).where(RawExtractionData.id == failed_id)
               .values(processing_status="failed", error_details={"stage": "transform", "error": "bad"}))
    db.execute(update(RawExtractionData).where(RawExtractionData.id == completed_id)
               .values(processing_status="completed"))
    db.commit()

    def listed(**params):
        r = api_client.get("/api/v1/etl/raw-data", params=params, headers=h)
        assert r.status_code == 200, r.text
        return r.json()

    everything = listed()["items"]
    assert len(everything) == 8 and not set(other_ids) & {x["id"] for x in everything}
    assert [x["id"] for x in everything] == sorted(x["id"] for x in everything)
    assert all(x["payload"] is None for x in everything)
    assert {x["external_id"] for x in listed(entity_type="github_pull_request")["items"]} == {"acme/api#1", "acme/api#2"}
    assert len(listed(integration_id=str(jira_id))["items"]) == 6
    assert [x["id"] for x in listed(status="failed")["items"]] == [failed_id]
    assert listed(status="failed")["items"][0]["error_details"] == {"stage": "transform", "error": "bad"}
    assert len(listed(status="pending", entity_type="jira_issue")["items"]) == 4
    with_payload = listed(integration_id=str(jira_id), include_payload="true")["items"]
    assert {x["external_id"]: x["payload"] for x in with_payload} == {x["external_id"]: x["payload"] for x in records}

    paged, cursor, pages = [], None, 0
    while True:
        page = listed(limit=3, **({"cursor": cursor} if cursor else {}))
        paged += [x["id"] for x in page["items"]]
        pages += 1
        if not (cursor := page["next"]):
            break
    assert pages == 3 and paged == [x["id"] for x in everything]
    for bad in ({"cursor": "abc"}, {"status": "done"}, {"limit": 0}):
        assert api_client.get("/api/v1/etl/raw-data", params=bad, headers=h).status_code == 422

    def put(raw_id, status, **extra):
        return api_client.put(f"/api/v1/etl/raw-data/{raw_id}/status", json={"status": status, **extra}, headers=h)

    r = put(failed_id, "pending")  # retry a failed record
    assert r.status_code == 200 and (r.json()["processing_status"], r.json()["error_details"]) == ("pending", None)
    pending_id = failed_id
    r = put(pending_id, "completed")
    assert r.status_code == 422
    assert r.json()["detail"] == "cannot set status completed on a pending record: only the pipeline sets it"
    r = put(completed_id, "failed")
    assert r.status_code == 422
    assert r.json()["detail"] == "cannot set status failed on a completed record: from completed a record can go to pending"
    assert put(completed_id, "completed").status_code == 200  # what it already is: nothing changes
    r = put(pending_id, "failed", error_details={"error": "test data, do not load"})
    assert r.status_code == 200 and r.json()["error_details"]["error"] == "test data, do not load"
    assert r.json()["error_details"]["stage"] == "manual"
    assert put(pending_id, "bogus").status_code == 422
    db.execute(update(RawExtractionData).where(RawExtractionData.id == completed_id)
               .values(processing_status="processing"))
    db.commit()
    assert put(completed_id, "pending").json()["processing_status"] == "pending"  # stuck, no job active

    # Another tenant's raw records do not exist for this key.
    for path in (f"/api/v1/etl/raw-data/{other_ids[0]}",):
        assert api_client.get(path, headers=h).status_code == 404
    assert put(other_ids[0], "failed").status_code == 404
    r = api_client.post("/api/v1/etl/reprocess", headers=h, json={"integration_id": str(jira_id), "raw_ids": other_ids})
    assert r.status_code == 404 and str(other_ids[0]) in r.json()["detail"]
    r = api_client.post("/api/v1/etl/reprocess", headers=h, json={"integration_id": str(other_jira)})
    assert r.status_code == 404
    r = api_client.post("/api/v1/etl/reprocess", headers=h,
                        json={"integration_id": str(jira_id), "raw_ids": [1], "filter": {"status": "failed"}})
    assert r.status_code == 422 and "not both" in r.json()["detail"][0]["msg"]
    assert {x["id"] for x in api_client.get("/api/v1/etl/raw-data", headers=auth(other_key)).json()["items"]} == set(
        other_ids)

    # Neither ids nor a filter: every raw record of the integration, whatever its status.
    r = api_client.post("/api/v1/etl/reprocess", headers=h, json={"integration_id": str(jira_id)})
    assert r.status_code == 202 and r.json()["records"] == 6, r.text
    job = wait_for_job(r.json()["job_id"])
    assert (job.status, job.kind, job.loaded) == ("succeeded", "reprocess", 6)
    assert len(listed(integration_id=str(jira_id), status="completed")["items"]) == 6


# --- jobs: filters, isolation ------------------------------------------------------------------


def test_jobs_filter_by_trigger_and_creation_and_stay_in_their_tenant(api_client, jira_integration, db):
    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    _, other_key, other_integration, _ = jira_integration(issues=1)
    h = auth(key)

    def add(created_at, integ=integration_id, tenant=tenant_id, **values):
        values = {"status": "failed", "kind": "incremental", "trigger": "api", "entities": ["jira_issue"], **values}
        job = EtlJob(tenant_id=tenant, integration_id=integ, created_at=created_at, updated_at=created_at, **values)
        db.add(job)
        db.commit()
        return str(job.id)

    old = add(T0, trigger="schedule")
    new = add(T0 + timedelta(days=2), trigger="cli", kind="reprocess")
    newest = add(T0 + timedelta(days=3), trigger="schedule", kind="full")
    other_tenant_id = db.get(Integration, other_integration).tenant_id
    theirs = add(T0, integ=other_integration, tenant=other_tenant_id)

    def ids(**params):
        r = api_client.get("/api/v1/etl/jobs", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [j["id"] for j in r.json()["items"]]

    assert ids() == [newest, new, old]
    assert ids(trigger="schedule") == [newest, old]
    assert ids(created_since=(T0 + timedelta(days=1)).isoformat()) == [newest, new]
    assert ids(created_since="2025-09-03T00:00:00Z", trigger="schedule") == [newest]
    assert ids(kind="reprocess") == [new]
    for bad in ({"trigger": "cron"}, {"created_since": "yesterday"}):
        r = api_client.get("/api/v1/etl/jobs", params=bad, headers=h)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", next(iter(bad))]

    for method, path in (("get", ""), ("post", "/cancel"), ("post", "/retry"), ("get", "/events")):
        r = api_client.request(method.upper(), f"/api/v1/etl/jobs/{theirs}{path}", headers=h)
        assert r.status_code == 404, (path, r.text)
    assert theirs not in ids(status="failed")
    assert api_client.request("GET", f"/api/v1/etl/jobs/{theirs}", headers=auth(other_key)).status_code == 200


def test_work_items_filters_for_deleted_integration_and_status(api_client, jira_integration, db):
    tenant_id, key, first, _ = jira_integration(issues=1)
    _, _, second, _ = jira_integration(issues=1, tenant=(tenant_id, key))
    for n, (integ, status, deleted) in enumerate([(first, "In Review", None), (first, "Done", T0),
                                                  (second, "In Review", None), (second, "To Do", T0)]):
        db.add(WorkItem(tenant_id=tenant_id, integration_id=integ, external_id=str(n), key=f"ABC-{n}",
                        status=status, updated_at=T0 + timedelta(hours=n), deleted_at=deleted))
    db.commit()

    def keys(**params):
        r = api_client.get("/api/v1/work-items", params=params, headers=auth(key))
        assert r.status_code == 200, r.text
        return [i["key"] for i in r.json()["items"]]

    assert keys() == ["ABC-2", "ABC-0"]
    assert keys(deleted_only="true") == ["ABC-3", "ABC-1"]
    assert keys(integration_id=str(second), include_deleted="true") == ["ABC-3", "ABC-2"]
    assert keys(status="In Review") == ["ABC-2", "ABC-0"]
    assert keys(status="Done", deleted_only="true") == ["ABC-1"]


# --- cancel ------------------------------------------------------------------------------------


def batches(job_id) -> list[tuple]:
    with session_scope() as s:
        return [tuple(b) for b in s.execute(
            select(EtlBatch.id, EtlBatch.status, EtlBatch.updated_at, EtlBatch.raw_ids, EtlBatch.loaded,
                   EtlBatch.transformed, EtlBatch.staged)
            .where(EtlBatch.job_id == job_id).order_by(EtlBatch.id))]


def loads_waiting_on_a_lock() -> int:
    with server_connection() as s:
        return s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                             "AND query LIKE '%INSERT INTO work_items%'"))


def loaded_or_untouched(integration_id, settled) -> int:
    """Assert every batch of an ended job is either loaded in full or untouched by transform and
    load, with no staged copy left and no raw record stuck in `processing`; return the loaded count."""
    loaded_total = 0
    with session_scope() as s:
        for _, status, _, raw_ids, loaded, transformed, staged in settled:
            in_final = s.scalar(select(func.count()).select_from(WorkItem).where(
                WorkItem.integration_id == integration_id, WorkItem.raw_id.in_(raw_ids)))
            assert staged is None, status  # staging never outlives a load or the job's end
            if status == "loaded":
                assert in_final == loaded == len(raw_ids)
                loaded_total += loaded
            else:
                assert status in ("pending", "extracted") and in_final == 0 and transformed == 0, status
                # written `completed` by the extract ahead of a load that never came: back to pending
                assert set(s.scalars(select(RawExtractionData.processing_status)
                                     .where(RawExtractionData.id.in_(raw_ids)))) <= {"pending"}, status
        raw_statuses = set(s.scalars(select(RawExtractionData.processing_status)
                                     .where(RawExtractionData.integration_id == integration_id)))
    assert "processing" not in raw_statuses
    return loaded_total


def test_cancel_stops_a_running_job_and_leaves_no_half_written_batch(api_client, jira_integration, db, database):
    tenant_id, key, integration_id, fake = jira_integration(issues=3000)
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=0.3)
    h = auth(key)
    job_id = trigger(api_client, key, integration_id)
    wait_until(lambda: job_row(job_id).loaded >= 300, 60, "loads under way")

    r = api_client.post(f"/api/v1/etl/jobs/{job_id}/retry", headers=h)
    assert r.status_code == 409 and r.json()["status"] == "running", r.text
    # Another job of the same integration cannot be retried while this one runs.
    lost = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="failed", kind="incremental",
                  trigger="api", entities=["jira_issue"])
    db.add(lost)
    db.commit()
    r = api_client.post(f"/api/v1/etl/jobs/{lost.id}/retry", headers=h)
    assert r.status_code == 409 and r.json()["job_id"] == str(job_id), r.text

    # Catch loads in the middle of their transaction: they wait on this lock while the job is cancelled.
    blocker = psycopg2.connect(database.replace("postgresql+psycopg2", "postgresql"))
    try:
        blocker.cursor().execute("LOCK TABLE work_items IN SHARE ROW EXCLUSIVE MODE")
        wait_until(loads_waiting_on_a_lock, 30, "a load blocked mid-transaction")
        with ThreadPoolExecutor(1) as pool:
            cancelling = pool.submit(api_client.post, f"/api/v1/etl/jobs/{job_id}/cancel", headers=h)
            wait_until(lambda: job_row(job_id).status == "cancelled", 5, "the job cancelled at once")
            at_cancel = len(work_items(integration_id))
            time.sleep(0.5)
            blocker.rollback()  # the blocked loads go on, find their job cancelled and roll back
            r = cancelling.result(timeout=5)
    finally:
        blocker.close()
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["finished_at"]
    assert r.json()["error_details"] == {"stage": "cancel", "message": "cancelled through the API"}
    r = api_client.post(f"/api/v1/etl/jobs/{job_id}/cancel", headers=h)
    assert r.status_code == 409 and r.json()["status"] == "cancelled"

    def nothing_running():
        with session_scope() as s:
            return not s.scalar(select(func.count()).select_from(EtlTaskRun)
                                .where(EtlTaskRun.job_id == job_id, EtlTaskRun.state == "started"))
    wait_until(nothing_running, 5, "the job's running tasks stopped")
    settled = batches(job_id)

    # Every worker was told to drop the tasks of the batches the job left unfinished.
    unfinished = {stage_task_id(str(job_id), stage, b[0]) for b in settled if b[1] != "loaded"
                  for stage in ("extract", "transform", "load")}
    revoked = app.control.inspect(timeout=5).revoked() or {}
    assert len(revoked) >= 3, revoked.keys()  # the extract, transform and load workers at least
    assert all(unfinished <= set(ids) for ids in revoked.values())
    # Once the queues hold none of its messages and no task of it runs, nothing can move a batch:
    # compare then, rather than after a sleep long enough for a late task to act.
    wait_until(lambda: all(queue_depth(q) == 0 for q in all_queues()) and nothing_running(), 30,
               "the job's queued messages were consumed (dropped as revoked)")
    assert batches(job_id) == settled, "no batch moves after the cancel"

    assert "extracted" in {b[1] for b in settled}, "the loads caught by the cancel left their batches untouched"
    loaded_total = loaded_or_untouched(integration_id, settled)
    assert 300 <= loaded_total < 3000
    assert len(work_items(integration_id)) == loaded_total == at_cancel, "nothing was written after the cancel"
    assert api_client.get(f"/api/v1/etl/jobs/{job_id}", headers=h).json()["counters"]["loaded"] == loaded_total

    fake.faults.clear()
    job = wait_for_job(trigger(api_client, key, integration_id))
    assert job.status == "succeeded", job.error_details
    assert len(work_items(integration_id)) == 3000
    assert {r.processing_status for r in raw_rows(integration_id).values()} == {"completed"}


def test_a_failed_job_leaves_no_staged_batch(api_client, jira_integration, database):
    tenant_id, key, integration_id, fake = jira_integration(issues=3000)
    # A page a second: extraction lasts about 30 s, far longer than the steps below need.
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=1.0)
    job_id = trigger(api_client, key, integration_id)
    wait_until(lambda: job_row(job_id).loaded >= 200, 60, "loads under way")

    blocker = psycopg2.connect(database.replace("postgresql+psycopg2", "postgresql"))
    try:  # hold loads mid-transaction while transforms go on, then make extraction fail
        blocker.cursor().execute("LOCK TABLE work_items IN SHARE ROW EXCLUSIVE MODE")
        wait_until(loads_waiting_on_a_lock, 30, "a load blocked mid-transaction")
        wait_until(lambda: any(b[1] == "transformed" for b in batches(job_id)), 30, "a batch transformed, not loaded")
        fake.faults.add("401", path_contains="/search/jql", times=None)
        wait_until(lambda: job_row(job_id).status == "failed", 30, "the job failed on the 401")
        blocker.rollback()
    finally:
        blocker.close()

    wait_until(lambda: not any(b[1] == "transformed" for b in batches(job_id)), 10, "transformed batches released")
    time.sleep(0.5)
    settled = batches(job_id)
    assert 200 <= loaded_or_untouched(integration_id, settled) < 3000
    assert job_row(job_id).error_details["status"] == 401

    fake.faults.clear()
    job = wait_for_job(trigger(api_client, key, integration_id))
    assert job.status == "succeeded", job.error_details
    assert len(work_items(integration_id)) == 3000


# --- retry -------------------------------------------------------------------------------------


def test_retry_of_a_failed_sync_completes_the_data(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=150)
    h = auth(key)
    fake.faults.add("401", times=None)
    failed = wait_for_job(trigger(api_client, key, integration_id))
    assert failed.status == "failed" and work_items(integration_id) == {}

    fake.faults.clear()
    r = api_client.post(f"/api/v1/etl/jobs/{failed.id}/retry", headers=h)
    assert r.status_code == 202, r.text
    assert (r.json()["kind"], r.json()["retry_of"]) == ("incremental", str(failed.id))
    job = wait_for_job(r.json()["job_id"])
    assert (job.status, job.loaded, job.trigger) == ("succeeded", 150, "api")
    assert sorted(work_items(integration_id)) == sorted(fake.issue_keys())

    r = api_client.post(f"/api/v1/etl/jobs/{job.id}/retry", headers=h)
    assert r.status_code == 422 and r.json()["detail"] == f"job {job.id} succeeded: nothing to retry"


def test_retry_of_a_partial_job_reprocesses_only_its_failed_records(api_client, jira_integration, db):
    tenant_id, key, integration_id, fake = jira_integration(issues=300)
    h = auth(key)
    bad = [fake.issue_keys()[5], fake.issue_keys()[250]]
    for k in bad:
        fake.make_malformed(k)
    partial = wait_for_job(trigger(api_client, key, integration_id))
    assert (partial.status, partial.failed, partial.loaded) == ("partial", 2, 298)
    failed = api_client.get("/api/v1/etl/raw-data", params={"integration_id": str(integration_id), "status": "failed",
                                                             "include_payload": "true"}, headers=h).json()["items"]
    assert len(failed) == 2 and {f["error_details"]["job_id"] for f in failed} == {str(partial.id)}

    # The first record is fixed (say, by a transform fix); the other still cannot be transformed.
    fixed = next(f for f in failed if f["payload"]["key"] == bad[0])
    payload = fixed["payload"]
    payload["fields"]["created"] = "2025-01-02T03:04:05.000+0000"
    payload["fields"]["issuetype"] = {"name": "Story", "hierarchyLevel": 0, "subtask": False}
    db.execute(update(RawExtractionData).where(RawExtractionData.id == fixed["id"]).values(raw_data=payload))
    db.commit()

    r = api_client.post(f"/api/v1/etl/jobs/{partial.id}/retry", headers=h)
    assert r.status_code == 202 and r.json()["kind"] == "reprocess", r.text
    job = wait_for_job(r.json()["job_id"])
    assert (job.status, job.loaded, job.failed, job.extracted) == ("partial", 1, 1, 0)
    with session_scope() as s:
        processed = sorted(i for ids in s.scalars(select(EtlBatch.raw_ids).where(EtlBatch.job_id == job.id))
                           for i in ids)
    assert processed == sorted(f["id"] for f in failed)
    items = work_items(integration_id)
    assert len(items) == 299 and bad[0] in items and bad[1] not in items

    # What failed in the first job has been dealt with: the record still failing is the new job's.
    r = api_client.post(f"/api/v1/etl/jobs/{partial.id}/retry", headers=h)
    assert r.status_code == 422 and "none of its records" in r.json()["detail"]


# --- server-sent events ------------------------------------------------------------------------


def read_events(client, key, job_id) -> list[tuple[str, dict]]:
    events, name = [], None
    with client.stream("GET", f"/api/v1/etl/jobs/{job_id}/events", headers=auth(key)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((name, orjson.loads(line[len("data: "):])))
    return events


def test_events_stream_progress_then_end(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=250)
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=0.2)
    job_id = trigger(api_client, key, integration_id)
    events = read_events(api_client, key, job_id)

    names = [name for name, _ in events]
    assert names[-1] == "end" and names.count("end") == 1 and set(names[:-1]) == {"progress"}
    progress = [data for name, data in events if name == "progress"]
    assert len(progress) >= 2
    loaded = [p["counters"]["loaded"] for p in progress]
    assert loaded == sorted(loaded)
    end = events[-1][1]
    assert (end["status"], end["counters"]["loaded"], end["job_id"]) == ("succeeded", 250, str(job_id))
    assert progress[-1]["counters"] == end["counters"]

    # An ended job: its state once, then the end.
    assert [name for name, _ in read_events(api_client, key, job_id)] == ["progress", "end"]


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
def test_events_stream_stops_when_the_client_goes_away(jira_integration, db, spec_version):
    from api.main import app

    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="running", kind="incremental",
                 trigger="api", entities=["jira_issue"])  # no tasks: it would run forever
    db.add(job)
    db.commit()
    path = f"/api/v1/etl/jobs/{job.id}/events"
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": spec_version}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"test"), (b"authorization", f"Bearer {key}".encode())],
             "client": ("127.0.0.1", 5000), "server": ("test", 80)}

    async def run() -> list[bytes]:
        chunks: list[bytes] = []
        gone = anyio.Event()
        requested = False

        async def receive():
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if not gone.is_set():
                await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.body" and message.get("body"):
                chunks.append(message["body"])
                gone.set()  # the client leaves after the first event

        with anyio.fail_after(5):
            await app(scope, receive, send)
        return chunks

    try:
        chunks = anyio.run(run)
    finally:
        db.execute(update(EtlJob).where(EtlJob.id == job.id).values(status="cancelled"))
        db.commit()
    assert chunks[0].startswith(b"event: progress") and not any(b"event: end" in c for c in chunks)
