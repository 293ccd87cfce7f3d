"""The HTTP API on the real database (fixtures in conftest.py): auth, tenant isolation, write-only
credentials, validation messages, triggering jobs, and a real uvicorn process with the broker down."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select, update

from etl.models import EtlJob, Integration, WorkItem, WorkItemTransition
from etl.tenancy.integrations import credentials_of
from tests.servers import running_api

TOKEN = "tok-" + uuid.uuid4().hex  # a token string that cannot appear in a response by chance
# Nothing listens here: a job that a worker ever picks up fails fast instead of reaching out.
CLOSED_URL = "http://127.0.0.1:1"
T0 = datetime(2025, 9, 1, tzinfo=timezone.utc)


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def integration_body(**overrides) -> dict:
    body = {
        "provider": "jira",
        "name": f"jira-{uuid.uuid4().hex[:6]}",
        "base_url": CLOSED_URL,
        "credentials": {"email": "bot@example.com", "token": TOKEN},
        "settings": {"projects": ["ABC"], "flavor": "cloud"},
    }
    body.update(overrides)
    return body


def add_integration(client, key: str, **overrides) -> dict:
    r = client.post("/api/v1/integrations", json=integration_body(**overrides), headers=auth(key))
    assert r.status_code == 201, r.text
    return r.json()


def add_job(db, tenant_id, integration_id, created_at: datetime, **values) -> uuid.UUID:
    values = {"status": "succeeded", "kind": "full", "trigger": "cli", "entities": ["issues"], **values}
    job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, created_at=created_at, updated_at=created_at,
                 **values)
    db.add(job)
    db.commit()
    return job.id


def add_work_item(db, tenant_id, integration_id, key: str, updated: datetime, **values) -> WorkItem:
    values = {"project": key.split("-")[0], "title": f"title of {key}", **values}
    item = WorkItem(tenant_id=tenant_id, integration_id=integration_id, external_id=f"ext-{key}", key=key,
                    updated_at=updated, **values)
    db.add(item)
    db.commit()
    return item


@pytest.fixture
def end_triggered_jobs(db):
    """Jobs a test triggers wait in the test vhost's queue: end them so that a worker started later in
    the session skips their messages."""
    tenants: list = []
    yield tenants.append
    db.execute(update(EtlJob).where(EtlJob.tenant_id.in_(tenants), EtlJob.status.in_(("queued", "running")))
               .values(status="cancelled"))
    db.commit()


# --- health ---------------------------------------------------------------------------------


def test_health_and_ready(api_client):
    assert api_client.get("/health").json() == {"status": "ok"}
    r = api_client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_openapi_lists_the_routes(api_client):
    paths = api_client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/etl/pipeline/trigger", "/api/v1/etl/jobs", "/api/v1/etl/jobs/{job_id}",
                 "/api/v1/integrations", "/api/v1/integrations/{integration_id}", "/api/v1/work-items",
                 "/api/v1/work-items/{key}", "/health", "/ready"):
        assert path in paths
    assert api_client.get("/docs").status_code == 200


# --- auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/integrations", "/api/v1/etl/jobs", "/api/v1/work-items"])
def test_missing_key_is_401(api_client, path):
    r = api_client.get(path)
    assert r.status_code == 401
    assert r.json() == {"detail": "missing API key: send Authorization: Bearer <key>"}
    assert r.headers["www-authenticate"] == "Bearer"


def test_unknown_and_revoked_keys_are_401(api_client, make_tenant, db):
    from etl.models import ApiKey
    from etl.tenancy.keys import authenticate, revoke_api_key

    for header in (auth("pk_not-a-key"), auth("nonsense"), {"Authorization": "Basic Zm9vOmJhcg=="}):
        r = api_client.get("/api/v1/integrations", headers=header)
        assert r.status_code == 401, header
        assert "API key" in r.json()["detail"]

    tenant_id, key = make_tenant()
    assert api_client.get("/api/v1/integrations", headers=auth(key)).status_code == 200
    key_row: ApiKey = authenticate(db, key)
    assert revoke_api_key(db, tenant_id, key_row.id, by_admin=False)
    db.commit()
    r = api_client.get("/api/v1/integrations", headers=auth(key))
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid or revoked API key"}


# --- integrations ---------------------------------------------------------------------------


def test_create_integration_never_returns_the_token(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    r = api_client.post("/api/v1/integrations", json=integration_body(name="acme"), headers=auth(key))
    assert r.status_code == 201, r.text
    assert TOKEN not in r.text
    created = r.json()
    assert created["has_credentials"] is True
    assert "credentials" not in created and "credentials_encrypted" not in created
    assert created["name"] == "acme" and created["provider"] == "jira" and created["base_url"] == CLOSED_URL
    assert created["settings"] == {"projects": ["ABC"], "flavor": "cloud"}

    for path in ("/api/v1/integrations", f"/api/v1/integrations/{created['id']}"):
        r = api_client.get(path, headers=auth(key))
        assert r.status_code == 200
        assert TOKEN not in r.text
    assert api_client.get(f"/api/v1/integrations/{created['id']}", headers=auth(key)).json() == created

    row = db.scalar(select(Integration).where(Integration.id == uuid.UUID(created["id"])))
    assert row.tenant_id == tenant_id
    assert TOKEN not in row.credentials_encrypted
    assert "bot@example.com" not in row.credentials_encrypted
    assert credentials_of(row) == {"email": "bot@example.com", "token": TOKEN}


def test_duplicate_integration_name_is_409(api_client, make_tenant):
    _, key = make_tenant()
    _, other_key = make_tenant()
    add_integration(api_client, key, name="jira")
    r = api_client.post("/api/v1/integrations", json=integration_body(name="jira"), headers=auth(key))
    assert r.status_code == 409
    assert r.json()["detail"] == "an integration named 'jira' already exists"
    assert TOKEN not in r.text
    # Names are unique per tenant only.
    add_integration(api_client, other_key, name="jira")


@pytest.mark.parametrize(
    "overrides, status, expected",
    [
        ({"settings": {"flavor": "cloud"}}, 422, "at least one project key"),
        ({"settings": {"projects": ["not a key"]}}, 422, "is not a Jira project key"),
        ({"settings": {"projects": ["ABC"], "story_points_field": "points"}}, 422, "customfield_10016"),
        ({"base_url": "acme.atlassian.net"}, 422, "must start with http:// or https://"),
        ({"base_url": "ftp://acme.atlassian.net"}, 422, "must start with http:// or https://"),
        ({"base_url": "http://[::1"}, 422, "the base URL is not a valid URL"),  # was a 500
        ({"name": "  "}, 422, "integration name must not be empty"),
    ],
)
def test_invalid_integration_gets_the_reason(api_client, make_tenant, overrides, status, expected):
    _, key = make_tenant()
    r = api_client.post("/api/v1/integrations", json=integration_body(**overrides), headers=auth(key))
    assert r.status_code == status, r.text
    assert expected in r.json()["detail"]
    assert TOKEN not in r.text


@pytest.mark.parametrize(
    "overrides, loc, expected",
    [
        ({"provider": "gitlab"}, ["body", "provider"], "'jira'"),
        ({"settings": {"projects": ["ABC"], "flavor": "server"}}, ["body", "settings", "flavor"], "'cloud' or 'dc'"),
        ({"credentials": {"email": "bot@example.com"}}, ["body", "credentials", "token"], "Field required"),
        ({"name": None}, ["body", "name"], "valid string"),
        ({"base_url": None}, ["body", "base_url"], "valid string"),
    ],
)
def test_malformed_integration_body_names_the_field(api_client, make_tenant, overrides, loc, expected):
    _, key = make_tenant()
    r = api_client.post("/api/v1/integrations", json=integration_body(**overrides), headers=auth(key))
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert [e["loc"] for e in errors] == [loc]
    assert expected in errors[0]["msg"]
    # The submitted body (and so the token) is not echoed back.
    assert TOKEN not in r.text and "input" not in errors[0]


def test_missing_body_fields_are_named(api_client, make_tenant):
    _, key = make_tenant()
    r = api_client.post("/api/v1/integrations", json={"credentials": {"token": TOKEN}}, headers=auth(key))
    assert r.status_code == 422
    missing = {tuple(e["loc"]) for e in r.json()["detail"] if e["type"] == "missing"}
    assert missing == {("body", "provider"), ("body", "name"), ("body", "base_url"), ("body", "settings")}
    assert TOKEN not in r.text


# --- tenant isolation -----------------------------------------------------------------------


def test_each_key_sees_only_its_tenant(api_client, make_tenant, db):
    tenants = {}
    for name in ("a", "b"):
        tenant_id, key = make_tenant()
        integ = add_integration(api_client, key, name=f"jira-{name}")
        integration_id = uuid.UUID(integ["id"])
        job_id = add_job(db, tenant_id, integration_id, T0)
        add_work_item(db, tenant_id, integration_id, "ABC-1", T0, title=f"tenant {name}")
        tenants[name] = {"key": key, "integration": integ["id"], "job": str(job_id)}

    for me, other in (("a", "b"), ("b", "a")):
        mine, theirs = tenants[me], tenants[other]
        h = auth(mine["key"])
        assert [i["id"] for i in api_client.get("/api/v1/integrations", headers=h).json()] == [mine["integration"]]
        assert [j["id"] for j in api_client.get("/api/v1/etl/jobs", headers=h).json()["items"]] == [mine["job"]]
        items = api_client.get("/api/v1/work-items", headers=h).json()["items"]
        assert [(i["key"], i["title"]) for i in items] == [("ABC-1", f"tenant {me}")]
        assert api_client.get("/api/v1/work-items/ABC-1", headers=h).json()["title"] == f"tenant {me}"
        assert api_client.get(f"/api/v1/etl/jobs?integration_id={theirs['integration']}", headers=h).json() == {
            "items": [], "next": None}

        # Another tenant's ids answer 404 naming what was not found, never 403.
        for path, what in ((f"/api/v1/integrations/{theirs['integration']}", f"integration {theirs['integration']}"),
                           (f"/api/v1/etl/jobs/{theirs['job']}", f"job {theirs['job']}")):
            r = api_client.get(path, headers=h)
            assert r.status_code == 404, path
            assert r.json() == {"detail": f"{what} not found"}
        r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": theirs["integration"]}, headers=h)
        assert r.status_code == 404
        assert r.json() == {"detail": f"integration {theirs['integration']} not found"}

    # A key unknown to everyone is 404 too.
    r = api_client.get("/api/v1/work-items/NOPE-1", headers=auth(tenants["a"]["key"]))
    assert r.status_code == 404
    assert r.json() == {"detail": "work item NOPE-1 not found"}
    # Nothing was started for the other tenant's integration.
    assert db.scalar(select(EtlJob.id).where(EtlJob.trigger == "api", EtlJob.integration_id.in_(
        [uuid.UUID(t["integration"]) for t in tenants.values()]))) is None


# --- jobs and triggering --------------------------------------------------------------------


def test_trigger_queues_a_job_and_refuses_a_second(api_client, make_tenant, db, end_triggered_jobs):
    tenant_id, key = make_tenant()
    end_triggered_jobs(tenant_id)
    integ = add_integration(api_client, key)
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": integ["id"]}, headers=auth(key))
    assert r.status_code == 202, r.text
    body = r.json()
    job_id = body["job_id"]
    assert body == {"job_id": job_id, "status": "queued", "status_url": f"/api/v1/etl/jobs/{job_id}"}

    # Workers may or may not be running in this session: the job is active either way (its source
    # is unreachable, so it cannot finish while this test runs).
    job = db.get(EtlJob, uuid.UUID(job_id))
    assert job.status in ("queued", "running")
    assert (job.kind, job.trigger, job.tenant_id) == ("incremental", "api", tenant_id)
    assert str(job.integration_id) == integ["id"]

    detail = api_client.get(body["status_url"], headers=auth(key)).json()
    assert detail["status"] in ("queued", "running") and detail["kind"] == "incremental" and detail["trigger"] == "api"
    assert set(detail["counters"]) >= {"pages", "extracted", "unchanged", "transformed", "loaded", "failed",
                                       "requests_made"}
    assert detail["counters"]["loaded"] == 0 and detail["error_details"] is None

    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": integ["id"], "kind": "full"},
                        headers=auth(key))
    assert r.status_code == 409
    assert r.json() == {"detail": f"integration {integ['id']} already has an active job {job_id}", "job_id": job_id}


def test_trigger_validation(api_client, make_tenant):
    _, key = make_tenant()
    integ = add_integration(api_client, key)
    h = auth(key)
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": integ["id"], "kind": "partial"}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "kind"]
    assert "'incremental' or 'full'" in r.json()["detail"][0]["msg"]

    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": "not-a-uuid"}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "integration_id"]
    assert "UUID" in r.json()["detail"][0]["msg"]

    r = api_client.post("/api/v1/etl/pipeline/trigger", json={}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "integration_id"]

    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(uuid.uuid4())}, headers=h)
    assert r.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/etl/jobs/not-a-uuid", "/api/v1/integrations/123"])
def test_malformed_uuid_in_path_is_422(api_client, make_tenant, path):
    _, key = make_tenant()
    r = api_client.get(path, headers=auth(key))
    assert r.status_code == 422
    error = r.json()["detail"][0]
    assert error["loc"][0] == "path" and "UUID" in error["msg"]


@pytest.mark.parametrize(
    "query, field",
    [("limit=0", "limit"), ("limit=201", "limit"), ("status=done", "status"), ("kind=partial", "kind"),
     ("integration_id=xyz", "integration_id")],
)
def test_bad_job_filters_are_422(api_client, make_tenant, query, field):
    _, key = make_tenant()
    r = api_client.get(f"/api/v1/etl/jobs?{query}", headers=auth(key))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["query", field]  # status may be repeated: its loc adds the index


def test_bad_cursor_is_422(api_client, make_tenant):
    _, key = make_tenant()
    for cursor in ("garbage", "WzEsMiwzXQ", "WyJub3QgYSBkYXRlIiwgMV0"):
        for path in ("/api/v1/etl/jobs", "/api/v1/work-items"):
            r = api_client.get(path, params={"cursor": cursor}, headers=auth(key))
            assert r.status_code == 422, (path, cursor, r.text)
            assert r.json()["detail"].startswith("cursor:")


def test_jobs_list_filters_and_pages_newest_first(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    first = uuid.UUID(add_integration(api_client, key)["id"])
    second = uuid.UUID(add_integration(api_client, key)["id"])
    ids = [add_job(db, tenant_id, first, T0 + timedelta(minutes=i)) for i in range(5)]
    failed = add_job(db, tenant_id, second, T0 + timedelta(minutes=10), status="failed", kind="incremental",
                     error_details={"stage": "extract", "message": "401 from Jira"})
    h = auth(key)

    seen, cursor, pages = [], None, 0
    while True:
        r = api_client.get("/api/v1/etl/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=h)
        assert r.status_code == 200, r.text
        seen += [j["id"] for j in r.json()["items"]]
        pages += 1
        cursor = r.json()["next"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [str(failed)] + [str(i) for i in reversed(ids)]

    only_failed = api_client.get("/api/v1/etl/jobs?status=failed", headers=h).json()["items"]
    assert [j["id"] for j in only_failed] == [str(failed)]
    assert only_failed[0]["error_details"] == {"stage": "extract", "message": "401 from Jira"}
    assert [j["id"] for j in api_client.get(f"/api/v1/etl/jobs?integration_id={first}&kind=full&limit=200",
                                            headers=h).json()["items"]] == [str(i) for i in reversed(ids)]
    assert api_client.get("/api/v1/etl/jobs?kind=incremental&status=succeeded", headers=h).json()["items"] == []


def test_job_detail_shows_counters_progress_and_task_runs(api_client, make_tenant, db):
    from etl.models import EtlBatch, EtlTaskRun

    tenant_id, key = make_tenant()
    integration_id = uuid.UUID(add_integration(api_client, key)["id"])
    job_id = add_job(db, tenant_id, integration_id, T0, status="running", extraction_done=True, pages=4,
                     extracted=350, unchanged=50, transformed=300, loaded=300, failed=1, requests_made=9, seen=400,
                     expected=400)
    for seq, status in enumerate(["loaded", "loaded", "loaded", "transformed"]):
        db.add(EtlBatch(job_id=job_id, tenant_id=tenant_id, stream="issues", seq=seq, status=status))
    db.add_all([
        EtlTaskRun(job_id=job_id, tenant_id=tenant_id, batch_id=1, task_id="t-1", task_name="etl.extract.page",
                   stage="extract", state="retrying", attempt=0, error="429 Too Many Requests", worker="w1",
                   started_at=T0, finished_at=T0 + timedelta(seconds=1)),
        EtlTaskRun(job_id=job_id, tenant_id=tenant_id, batch_id=1, task_id="t-1", task_name="etl.extract.page",
                   stage="extract", state="succeeded", attempt=1, deliveries=2, worker="w1",
                   started_at=T0 + timedelta(seconds=5), finished_at=T0 + timedelta(seconds=6)),
    ])
    db.commit()

    detail = api_client.get(f"/api/v1/etl/jobs/{job_id}", headers=auth(key)).json()
    assert detail["status"] == "running"
    assert detail["counters"] == {"pages": 4, "extracted": 350, "unchanged": 50, "transformed": 300, "loaded": 300,
                                  "failed": 1, "requests_made": 9, "seen": 400, "expected": 400}
    assert detail["progress"] == 0.75
    runs = detail["task_runs"]
    assert [(r["task_id"], r["name"], r["stage"], r["state"], r["attempt"], r["deliveries"], r["error"])
            for r in runs] == [
        ("t-1", "etl.extract.page", "extract", "retrying", 0, 1, "429 Too Many Requests"),
        ("t-1", "etl.extract.page", "extract", "succeeded", 1, 2, None),
    ]
    assert datetime.fromisoformat(runs[0]["started_at"]) == T0

    # While extraction is still finding pages the total is unknown.
    db.execute(update(EtlJob).where(EtlJob.id == job_id).values(extraction_done=False))
    db.commit()
    assert api_client.get(f"/api/v1/etl/jobs/{job_id}", headers=auth(key)).json()["progress"] is None


# --- work items -----------------------------------------------------------------------------


def test_work_items_filters_deleted_and_pagination(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    integration_id = uuid.UUID(add_integration(api_client, key)["id"])
    h = auth(key)
    for i in range(6):
        add_work_item(db, tenant_id, integration_id, f"ABC-{i}", T0 + timedelta(hours=i),
                      wit="Story" if i % 2 else "Bug", status_category="done" if i < 2 else "in_progress",
                      assignee="ana" if i < 3 else "bo")
    add_work_item(db, tenant_id, integration_id, "OPS-1", T0 + timedelta(hours=1), wit="Task")
    add_work_item(db, tenant_id, integration_id, "OPS-2", None, wit="Task")  # never updated: listed last
    add_work_item(db, tenant_id, integration_id, "ABC-99", T0 + timedelta(days=1), deleted_at=T0 + timedelta(days=2))

    def keys(**params):
        r = api_client.get("/api/v1/work-items", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [i["key"] for i in r.json()["items"]]

    all_keys = ["ABC-5", "ABC-4", "ABC-3", "ABC-2", "OPS-1", "ABC-1", "ABC-0", "OPS-2"]
    assert sorted(keys()[4:6]) == ["ABC-1", "OPS-1"]  # same `updated`: ordered by id
    assert set(keys()) == set(all_keys) and keys()[:4] == all_keys[:4] and keys()[6:] == all_keys[6:]
    assert keys(include_deleted=True)[0] == "ABC-99"

    # Pages of 3 cover everything once, in the same order, across equal and missing `updated` values.
    paged, cursor = [], None
    while True:
        r = api_client.get("/api/v1/work-items", params={"limit": 3, **({"cursor": cursor} if cursor else {})},
                           headers=h).json()
        paged += [i["key"] for i in r["items"]]
        if not (cursor := r["next"]):
            break
    assert paged == keys()

    assert keys(project="OPS") == ["OPS-1", "OPS-2"]
    assert keys(wit="Bug") == ["ABC-4", "ABC-2", "ABC-0"]
    assert keys(status_category="done") == ["ABC-1", "ABC-0"]
    assert keys(assignee="ana", wit="Story") == ["ABC-1"]
    assert keys(updated_since=(T0 + timedelta(hours=4)).isoformat()) == ["ABC-5", "ABC-4"]
    assert keys(updated_since="2025-09-01T03:00:00Z", include_deleted="true") == ["ABC-99", "ABC-5", "ABC-4", "ABC-3"]

    r = api_client.get("/api/v1/work-items?status_category=closed", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "status_category"]
    r = api_client.get("/api/v1/work-items?updated_since=yesterday", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "updated_since"]


def test_work_item_detail_with_transitions_in_time_order(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    integration_id = uuid.UUID(add_integration(api_client, key)["id"])
    item = add_work_item(db, tenant_id, integration_id, "ABC-7", T0, status="Done", status_category="done",
                         labels=["backend"], story_points=3.0, cycle_time_seconds=7200)
    other = add_work_item(db, tenant_id, integration_id, "ABC-8", T0)
    for ext, frm, to, at in (("2:0", "In Progress", "Done", T0 + timedelta(hours=2)),
                             ("1:0", "To Do", "In Progress", T0),
                             ("9:0", "To Do", "Done", T0 + timedelta(hours=1), )):
        db.add(WorkItemTransition(tenant_id=tenant_id, integration_id=integration_id, external_id=ext,
                                  work_item_external_id=item.external_id if ext != "9:0" else other.external_id,
                                  work_item_key="ABC-7" if ext != "9:0" else "ABC-8",
                                  from_status=frm, to_status=to, author="ana", transitioned_at=at))
    db.commit()

    r = api_client.get("/api/v1/work-items/ABC-7", headers=auth(key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["key"], body["status_category"], body["labels"], body["story_points"], body["cycle_time_seconds"]) == (
        "ABC-7", "done", ["backend"], 3.0, 7200)
    assert [(t["from_status"], t["to_status"]) for t in body["transitions"]] == [
        ("To Do", "In Progress"), ("In Progress", "Done")]
    assert datetime.fromisoformat(body["transitions"][0]["transitioned_at"]) == T0


# --- a real server with the broker down -----------------------------------------------------


@pytest.fixture
def server_without_broker(database, tmp_path):
    env = {**os.environ, "ETL_BROKER_URL": "amqp://guest:guest@127.0.0.1:1//",
           "ETL_DATABASE_URL": os.environ["ETL_DATABASE_URL"]}
    with running_api(env, tmp_path / "uvicorn.log") as base:
        yield base


def test_broker_down_answers_503_and_fails_the_job(server_without_broker, api_client, make_tenant, db):
    base = server_without_broker
    tenant_id, key = make_tenant()
    integ = add_integration(api_client, key)

    r = httpx.post(f"{base}/api/v1/etl/pipeline/trigger", json={"integration_id": integ["id"]}, headers=auth(key),
                   timeout=30)
    assert r.status_code == 503, r.text
    assert "broker is unreachable" in r.json()["detail"]

    job = db.scalar(select(EtlJob).where(EtlJob.integration_id == uuid.UUID(integ["id"])))
    assert job.status == "failed" and job.finished_at is not None
    assert job.error_details["stage"] == "broker"
    assert "broker is unreachable" in job.error_details["message"]
    # The failed job is visible through the API, and it does not block the next trigger.
    detail = httpx.get(f"{base}/api/v1/etl/jobs/{job.id}", headers=auth(key)).json()
    assert detail["status"] == "failed" and "broker" in detail["error_details"]["message"]

    r = httpx.get(f"{base}/ready", timeout=10)
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")
    assert body["detail"].startswith("broker unreachable")
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
