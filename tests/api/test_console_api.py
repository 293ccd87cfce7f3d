"""What the console needs from the API, on real PostgreSQL (and, for a real sync, RabbitMQ and worker
processes): the tenant-wide event stream `GET /api/v1/etl/events` against a real HTTP server (a
stream that never ends cannot be read through the in-process test client), `GET /api/v1/auth/me`,
and the job list's filters."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import jwt
import orjson
import pytest
import uvicorn
from sqlalchemy import update

from api.main import app
from api.routers import events
from etl.db import get_engine
from etl.models import ApiKey, EtlJob, Tenant
from etl.tenancy.keys import issue_api_key
from tests.scopes import session_scope

JWT_SECRET = "a-test-secret-for-console-jwts-0123456789"


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def live_api(database):
    """The app behind a real uvicorn server on a free port, in a thread of this process (so the tests
    can patch the stream's timings); its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


@pytest.fixture
def fast_events(monkeypatch):
    monkeypatch.setattr(events, "EVENTS_POLL_SECONDS", 0.1)


class Stream:
    """An open event stream, read one event (or comment) at a time."""

    def __init__(self, base: str, key: str):
        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=20))
        self.response = self.client.send(self.client.build_request("GET", "/api/v1/etl/events", headers=auth(key)),
                                         stream=True)
        self.lines = self.response.iter_lines()

    def next(self) -> tuple[str, int | None, dict | None]:
        """(event name, id, data); (": keep-alive", None, None) for the comment."""
        name, event_id, data = None, None, None
        for line in self.lines:
            if line.startswith(":"):
                return line, None, None
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("id: "):
                event_id = int(line[len("id: "):])
            elif line.startswith("data: "):
                data = orjson.loads(line[len("data: "):])
            elif line == "" and name:
                return name, event_id, data
        raise AssertionError("the stream ended")

    def until(self, predicate, what: str, limit: int = 200) -> list[tuple[str, int | None, dict | None]]:
        """Events read until one matches (that one last)."""
        read = []
        for _ in range(limit):
            read.append(self.next())
            if predicate(*read[-1]):
                return read
        raise AssertionError(f"no {what} in {[e[0] for e in read]}")

    def close(self) -> None:
        self.response.close()
        self.client.close()


@pytest.fixture
def open_stream(live_api):
    streams: list[Stream] = []

    def open_(key: str) -> Stream:
        streams.append(Stream(live_api, key))
        return streams[-1]

    yield open_
    for stream in streams:
        stream.close()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def add_job(tenant_id, integration_id, **values) -> uuid.UUID:
    with session_scope() as s:
        job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, kind=values.pop("kind", "incremental"),
                     trigger=values.pop("trigger", "api"), entities=["jira_issue"], **values)
        s.add(job)
        s.flush()
        return job.id


def set_job(job_id, **values) -> None:
    with session_scope() as s:
        s.execute(update(EtlJob).where(EtlJob.id == job_id).values(**values))


def slots_open(key_id) -> int:
    return events.SLOTS.open(f"key {key_id}")


def key_id_of(base: str, key: str) -> uuid.UUID:
    return uuid.UUID(httpx.get(f"{base}/api/v1/auth/me", headers=auth(key)).json()["key_id"])


# --- the tenant-wide event stream ---------------------------------------------------------------


def test_events_snapshot_then_created_progress_and_ended_for_the_tenants_jobs_only(
        live_api, open_stream, fast_events, jira_integration):
    tenant_id, key, first, _ = jira_integration(issues=1)
    _, _, second, _ = jira_integration(issues=1, tenant=(tenant_id, key))
    other_tenant, _, other_integration, _ = jira_integration(issues=1)
    now = datetime.now(timezone.utc)
    running = add_job(tenant_id, first, status="running", started_at=now)
    ended_lately = add_job(tenant_id, second, status="succeeded", finished_at=now - timedelta(minutes=3), loaded=7)
    add_job(tenant_id, second, status="failed", finished_at=now - timedelta(minutes=11))  # ended too long ago
    add_job(other_tenant, other_integration, status="running")  # another tenant's

    stream = open_stream(key)
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers["cache-control"] == "no-cache"
    name, event_id, data = stream.next()
    assert (name, event_id) == ("snapshot", 1)
    assert [job["id"] for job in data["jobs"]] == [str(running), str(ended_lately)]  # active first
    for job in data["jobs"]:  # the same object as the job's own route
        assert job == httpx.get(f"{live_api}/api/v1/etl/jobs/{job['id']}", headers=auth(key)).json()

    # A new job of the tenant; another tenant's new job is never told.
    add_job(other_tenant, other_integration, status="succeeded", kind="full", finished_at=now)
    set_job(ended_lately, finished_at=now - timedelta(minutes=4))  # an ended job is not told again
    queued = add_job(tenant_id, second, status="queued")
    read = stream.until(lambda name, _, data: name == "job_created", "job_created")
    assert read[-1][2]["job"]["id"] == str(queued) and read[-1][2]["job"]["status"] == "queued"

    set_job(running, loaded=5, transformed=5, pages=1)
    read = stream.until(lambda name, _, data: name == "job_progress" and data["job"]["id"] == str(running),
                        "job_progress")
    assert read[-1][2]["job"]["counters"]["loaded"] == 5
    set_job(running, status="succeeded", finished_at=datetime.now(timezone.utc), extraction_done=True)
    read += stream.until(lambda name, _, data: name == "job_ended", "job_ended")
    ended = read[-1][2]["job"]
    assert ended["id"] == str(running) and ended["status"] == "succeeded"
    assert ended == httpx.get(f"{live_api}/api/v1/etl/jobs/{running}", headers=auth(key)).json()
    seen = {data["job"]["id"] for name, _, data in read if data}
    assert seen <= {str(running), str(queued)}
    ids = [event_id for _, event_id, _ in read if event_id is not None]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > 1


def test_a_job_created_and_ended_between_two_polls_is_told_both(live_api, open_stream, monkeypatch, jira_integration):
    monkeypatch.setattr(events, "EVENTS_POLL_SECONDS", 0.5)
    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    stream = open_stream(key)
    assert stream.next()[2] == {"jobs": []}
    job_id = add_job(tenant_id, integration_id, status="failed", finished_at=datetime.now(timezone.utc),
                     error_details={"stage": "extract", "message": "401 from Jira"})
    read = stream.until(lambda name, *_: name == "job_ended", "job_ended")
    assert [(name, data["job"]["id"]) for name, _, data in read if data] == [
        ("job_created", str(job_id)), ("job_ended", str(job_id))]
    assert read[-1][2]["job"]["error_details"]["message"] == "401 from Jira"


def test_events_keep_alive_while_nothing_happens(live_api, open_stream, monkeypatch, make_tenant):
    monkeypatch.setattr(events, "EVENTS_POLL_SECONDS", 0.05)
    monkeypatch.setattr(events, "EVENTS_KEEPALIVE_SECONDS", 0.2)
    _, key = make_tenant()
    stream = open_stream(key)
    assert stream.next()[0] == "snapshot"
    assert stream.next() == (": keep-alive", None, None)
    assert stream.next() == (": keep-alive", None, None)


def test_events_hold_no_database_connection_between_polls(live_api, open_stream, monkeypatch, make_tenant):
    monkeypatch.setattr(events, "EVENTS_POLL_SECONDS", 30)
    _, key = make_tenant()
    stream = open_stream(key)
    assert stream.next()[0] == "snapshot"  # the request's session and the snapshot's are closed by now
    assert get_engine().pool.checkedout() == 0


def test_events_are_capped_per_key_and_a_slot_frees_when_the_client_leaves(
        live_api, open_stream, monkeypatch, make_tenant, fast_events):
    monkeypatch.setattr(events, "MAX_STREAMS_PER_KEY", 2)
    tenant_id, key = make_tenant()
    with session_scope() as s:
        read_only = issue_api_key(s, tenant_id, name="viewer", scopes=["read"]).secret
    key_id = key_id_of(live_api, key)
    first, second = open_stream(key), open_stream(key)
    assert first.next()[0] == second.next()[0] == "snapshot"
    assert slots_open(key_id) == 2

    refused = httpx.get(f"{live_api}/api/v1/etl/events", headers=auth(key), timeout=10)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert refused.json()["detail"] == ("too many open event streams with this API key (at most 2): close another "
                                        "console tab, or retry once one has disconnected")
    # Counted per key: the tenant's read-only key has streams of its own (read scope is enough).
    viewer = open_stream(read_only)
    assert viewer.response.status_code == 200 and viewer.next()[0] == "snapshot"

    first.close()
    wait_until(lambda: slots_open(key_id) == 1, 10, "the stream's slot given back once its client left")
    again = open_stream(key)
    assert again.response.status_code == 200 and again.next()[0] == "snapshot"
    for stream in (second, again, viewer):
        stream.close()
    wait_until(lambda: slots_open(key_id) == 0, 10, "every slot given back")


def test_events_need_a_key(live_api):
    r = httpx.get(f"{live_api}/api/v1/etl/events", timeout=10)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{live_api}/api/v1/etl/events", headers=auth("pk_nope"), timeout=10).status_code == 401


@pytest.mark.usefixtures("workers")
def test_events_follow_a_real_sync_to_its_end(live_api, open_stream, fast_events, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=120)
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=0.2)
    stream = open_stream(key)
    assert stream.next()[2] == {"jobs": []}
    r = httpx.post(f"{live_api}/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)},
                   headers=auth(key), timeout=30)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    read = stream.until(lambda name, _, data: name == "job_ended", "job_ended", limit=2000)
    told = [(name, data["job"]) for name, _, data in read if data]
    assert told[0][0] == "job_created" and told[0][1]["id"] == job_id
    assert {job["id"] for _, job in told} == {job_id}
    assert "job_progress" in [name for name, _ in told]
    loaded = [job["counters"]["loaded"] for _, job in told]
    assert loaded == sorted(loaded)
    ended = told[-1][1]
    assert (ended["status"], ended["counters"]["loaded"], ended["progress"]) == ("succeeded", 120, 1.0)
    assert ended == httpx.get(f"{live_api}/api/v1/etl/jobs/{job_id}", headers=auth(key)).json()


def test_openapi_documents_the_console_routes(api_client):
    spec = api_client.get("/openapi.json").json()
    stream = spec["paths"]["/api/v1/etl/events"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert "job_created" in stream["description"] and "429" in stream["responses"]
    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Me"}
    assert spec["components"]["schemas"]["Me"]["examples"]
    params = {p["name"]: p for p in spec["paths"]["/api/v1/etl/jobs"]["get"]["parameters"]}
    assert {"status", "integration_id", "kind", "trigger", "since", "until", "created_since", "limit",
            "cursor"} <= set(params)


# --- who am I -------------------------------------------------------------------------------------


def test_me_tells_the_key_its_scopes_and_never_the_secret(api_client, make_tenant, settings_env):
    tenant_id, key = make_tenant()
    with session_scope() as s:
        tenant_name = s.get(Tenant, tenant_id).name
        viewer = issue_api_key(s, tenant_id, name="viewer", scopes=["read"])
        admin = issue_api_key(s, tenant_id, name="operator", is_admin=True)

    r = api_client.get("/api/v1/auth/me", headers=auth(key))
    assert r.status_code == 200
    me = r.json()
    assert me == {"tenant_id": str(tenant_id), "tenant_name": tenant_name, "key_id": me["key_id"],
                  "key_name": "default", "scopes": ["read", "write"], "is_admin": False, "auth": "api_key"}
    assert key not in r.text and key[:10] not in r.text

    r = api_client.get("/api/v1/auth/me", headers=auth(viewer.secret))
    assert r.json() | {"tenant_name": None} == {
        "tenant_id": str(tenant_id), "tenant_name": None, "key_id": str(viewer.id), "key_name": "viewer",
        "scopes": ["read"], "is_admin": False, "auth": "api_key"}
    r = api_client.get("/api/v1/auth/me", headers=auth(admin.secret))
    assert (r.json()["is_admin"], r.json()["key_name"], r.json()["scopes"]) == (True, "operator", ["read", "write"])

    settings_env(ETL_JWT_SECRET=JWT_SECRET)
    token = jwt.encode({"tenant_id": str(tenant_id), "scope": "read", "exp": datetime.now(timezone.utc)
                        + timedelta(minutes=5)}, JWT_SECRET, algorithm="HS256")
    assert api_client.get("/api/v1/auth/me", headers=auth(token)).json() == {
        "tenant_id": str(tenant_id), "tenant_name": tenant_name, "key_id": None, "key_name": None,
        "scopes": ["read"], "is_admin": False, "auth": "jwt"}

    assert api_client.get("/api/v1/auth/me").status_code == 401
    with session_scope() as s:
        s.execute(update(ApiKey).where(ApiKey.id == viewer.id).values(revoked_at=datetime.now(timezone.utc)))
    assert api_client.get("/api/v1/auth/me", headers=auth(viewer.secret)).status_code == 401


# --- the job list's filters ---------------------------------------------------------------------------


T0 = datetime(2025, 9, 1, tzinfo=timezone.utc)


def test_jobs_filters_combine_and_keep_the_pagination(api_client, jira_integration):
    tenant_id, key, first, _ = jira_integration(issues=1)
    _, _, second, _ = jira_integration(issues=1, tenant=(tenant_id, key))
    other_tenant, _, other_integration, _ = jira_integration(issues=1)
    jobs = {
        "a": add_job(tenant_id, first, status="succeeded", kind="incremental", trigger="api", created_at=T0),
        "b": add_job(tenant_id, first, status="failed", kind="full", trigger="schedule",
                     created_at=T0 + timedelta(hours=1)),
        "c": add_job(tenant_id, second, status="partial", kind="reprocess", trigger="api",
                     created_at=T0 + timedelta(hours=2)),
        "d": add_job(tenant_id, second, status="running", kind="incremental", trigger="schedule",
                     created_at=T0 + timedelta(days=1)),
    }
    add_job(other_tenant, other_integration, status="failed", created_at=T0 + timedelta(hours=1))
    names = {str(job_id): name for name, job_id in jobs.items()}

    def listed(**query) -> list[str]:
        r = api_client.get("/api/v1/etl/jobs", params=query, headers=auth(key))
        assert r.status_code == 200, r.text
        return [names[job["id"]] for job in r.json()["items"]]

    assert listed() == ["d", "c", "b", "a"]
    assert listed(status=["failed", "partial"]) == ["c", "b"]
    assert listed(status="running") == ["d"]
    assert listed(integration_id=str(second)) == ["d", "c"]
    assert listed(kind="full") == ["b"]
    assert listed(trigger="schedule") == ["d", "b"]
    assert listed(since="2025-09-01T01:00:00Z") == ["d", "c", "b"]
    assert listed(until="2025-09-01T02:00:00Z") == ["b", "a"]  # until is exclusive
    assert listed(since="2025-09-01T00:00:00Z", until="2025-09-02T00:00:00Z") == ["c", "b", "a"]
    assert listed(since="2025-09-01T03:00:00+02:00") == ["d", "c", "b"]  # an offset is read as such
    assert listed(created_since="2025-09-01T01:00:00Z") == ["d", "c", "b"]  # the older name still works
    assert listed(status=["failed", "partial", "succeeded"], trigger="api", until="2025-09-02T00:00:00Z") == ["c", "a"]

    # Pages of one, filtered: the cursor carries on with the same filters.
    query = {"status": ["succeeded", "failed", "partial"], "limit": 1}
    seen, cursor = [], None
    while True:
        r = api_client.get("/api/v1/etl/jobs", params={**query, **({"cursor": cursor} if cursor else {})},
                           headers=auth(key)).json()
        seen += [names[job["id"]] for job in r["items"]]
        cursor = r["next"]
        if not cursor:
            break
    assert seen == ["c", "b", "a"]


@pytest.mark.parametrize("query, where, message", [
    ({"status": "done"}, ["query", "status", 0], "Input should be 'queued', 'running', 'succeeded'"),
    ({"status": ["failed", "nope"]}, ["query", "status", 1], "Input should be"),
    ({"kind": "weekly"}, ["query", "kind"], "Input should be"),
    ({"trigger": "cron"}, ["query", "trigger"], "Input should be"),
    ({"integration_id": "acme"}, ["query", "integration_id"], "Input should be a valid UUID"),
    ({"since": "yesterday"}, ["query", "since"], "Input should be a valid datetime"),
    ({"until": "2025-13-01"}, ["query", "until"], "Input should be a valid datetime"),
])
def test_jobs_filters_refuse_bad_values_naming_the_parameter(api_client, make_tenant, query, where, message):
    _, key = make_tenant()
    r = api_client.get("/api/v1/etl/jobs", params=query, headers=auth(key))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == where and error["msg"].startswith(message), error


def test_jobs_until_must_be_after_since(api_client, make_tenant):
    _, key = make_tenant()
    r = api_client.get("/api/v1/etl/jobs", params={"since": "2025-09-02T00:00:00Z", "until": "2025-09-01T00:00:00Z"},
                       headers=auth(key))
    assert r.status_code == 422
    assert r.json()["detail"] == "until (2025-09-01T00:00:00+00:00) must be after since (2025-09-02T00:00:00+00:00)"
