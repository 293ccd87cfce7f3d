"""The jobs dashboard (GET /dashboard): a static page that is only a client of the JSON API. Checked
here: it is served without a key with strict security headers and holds no data; every API route
and response field its JavaScript uses exists; it never builds markup from data nor keeps the key
outside sessionStorage; every query parameter it sends to the job list (filters, page size, cursor)
is one the route takes; and the flow it drives (list, filter, load older pages, trigger, poll, cancel,
retry) works against the real API with a real sync on real workers."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from api.main import app
from api.routers import dashboard
from api.schemas.common import Page
from api.schemas.integrations import Integration
from api.schemas.jobs import Job, JobCounters, JobDetail, RetryResponse, TaskRun
from api.schemas.syncs import TriggerResponse

PAGE_FILE = Path(dashboard.__file__).resolve().parent.parent / "static" / "dashboard.html"
PAGE = PAGE_FILE.read_text(encoding="utf-8")
SCRIPT = re.search(r"<script>(.*?)</script>", PAGE, flags=re.DOTALL).group(1)
STYLE = re.search(r"<style>(.*?)</style>", PAGE, flags=re.DOTALL).group(1)
ROUTE = re.compile(r'(\w+): \{method: "(GET|POST|PUT|PATCH|DELETE)", path: "(/api/v1/[^"]*)"\}')


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def page_routes() -> dict[str, tuple[str, str]]:
    """The page's API block: name -> (method, path template)."""
    block = re.search(r"const API = \{(.*?)\n  \};", SCRIPT, flags=re.DOTALL).group(1)
    routes = {name: (method, path) for name, method, path in ROUTE.findall(block)}
    assert routes, "no route found in the page's API block"
    return routes


def js_constant(name: str):
    """A constant of the page's script written as JSON: a list of field names, a string, a query."""
    match = re.search(rf"const {name} = (.*?);\n", SCRIPT, flags=re.DOTALL)
    assert match, f"const {name} not found in the page's script"
    return json.loads(match.group(1))


def path_of(name: str, **params) -> str:
    """A route's path filled in as the page does (encodeURIComponent of each parameter)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), page_routes()[name][1])


def call(client, key, name, body=None, query=None, **params):
    method, _ = page_routes()[name]
    return client.request(method, path_of(name, **params), headers=auth(key), json=body, params=query)


def missing_routes(routes: dict[str, tuple[str, str]], spec_paths: dict) -> list[str]:
    return [f"{method} {path}" for method, path in routes.values()
            if method.lower() not in spec_paths.get(path, {})]


def missing_query_params(names, route_params: dict) -> list[str]:
    return [name for name in names if name not in route_params]


def jobs_route_params() -> dict[str, dict]:
    """The query parameters of the job list route in the OpenAPI schema, by name."""
    operation = app.openapi()["paths"][page_routes()["jobs"][1]]["get"]
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


def jobs_query(**filters) -> dict:
    """A query of the job list as the page builds it (jobsQuery): JOBS_QUERY, then the page size, cursor
    and filters, each under a name the page declares in JOBS_QUERY_PARAMS."""
    assert set(filters) <= set(js_constant("JOBS_QUERY_PARAMS")), sorted(filters)
    return {**js_constant("JOBS_QUERY"), **{name: str(value) for name, value in filters.items()}}


def script_hash(text: str) -> str:
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


# --- the page itself ---------------------------------------------------------------------------


def test_the_page_is_served_without_a_key_with_security_headers_and_no_data(api_client, make_tenant):
    tenant_name = f"dash-{uuid.uuid4().hex[:8]}"
    tenant_id, key = make_tenant(tenant_name)

    r = api_client.get("/dashboard")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'none'"
    # Only the page's own inline script and style may run: their hashes, nothing else.
    assert csp["script-src"] == script_hash(SCRIPT)
    assert csp["style-src"] == script_hash(STYLE)
    assert "unsafe-eval" not in r.headers["content-security-policy"]

    # Static: the same bytes for anyone, with or without a key; no key and no tenant data in it.
    assert r.text == PAGE
    assert api_client.get("/dashboard", headers=auth(key)).text == PAGE
    assert key not in r.text and tenant_name not in r.text and str(tenant_id) not in r.text
    assert not re.search(r"pk_[A-Za-z0-9_-]{8,}", r.text)

    # The key prompt: a labelled password field, a way to forget the key, the message for a bad key.
    assert re.search(r'<label for="api-key">API key</label>', r.text)
    assert re.search(r'<input id="api-key" type="password"', r.text)
    assert ">Forget key</button>" in r.text
    assert js_constant("UNAUTHORIZED") == "invalid or revoked API key"

    # Not part of the API's schema.
    assert "/dashboard" not in app.openapi()["paths"]


def test_the_page_calls_only_routes_that_exist_with_their_methods():
    spec_paths = app.openapi()["paths"]
    routes = page_routes()
    assert set(routes) == {"integrations", "jobs", "job", "trigger", "cancel", "retry"}
    assert missing_routes(routes, spec_paths) == []
    # The check bites: a mistyped path or a wrong method is reported.
    assert missing_routes({"x": ("GET", "/api/v1/etl/job/{job_id}")}, spec_paths) == ["GET /api/v1/etl/job/{job_id}"]
    assert missing_routes({"x": ("GET", "/api/v1/etl/jobs/{job_id}/cancel")}, spec_paths) != []

    # Every /api/v1 string of the script is in the API block, which the check above covers.
    assert len(re.findall(r"[\"'`]/api/v1", SCRIPT)) == len(routes)
    # The query the page sends to the job list is one the route takes.
    jobs_params = {p["name"] for p in spec_paths[routes["jobs"][1]]["get"]["parameters"] if p["in"] == "query"}
    assert set(js_constant("JOBS_QUERY")) <= jobs_params


def test_every_query_parameter_the_page_sends_to_the_job_list_is_one_the_route_takes():
    params = jobs_route_params()
    declared = js_constant("JOBS_QUERY_PARAMS")
    assert set(declared) == {"limit", "cursor", "status", "integration_id"}
    assert missing_query_params(declared, params) == []
    # The check bites: a mistyped name (which the API would silently ignore) is reported.
    assert missing_query_params(["limit", "integration", "state"], params) == ["integration", "state"]

    # Whatever the script puts into a query is declared: JOBS_QUERY's names and those jobsQuery() sets.
    set_by_script = set(re.findall(r"\bquery\.(\w+) = ", SCRIPT))
    assert set_by_script and set(js_constant("JOBS_QUERY")) | set_by_script == set(declared)
    assert "URLSearchParams(query)" in SCRIPT and SCRIPT.count("jobsQuery(") == 2  # defined once, used once

    # The status filter offers exactly the statuses the route accepts.
    # (status may be repeated: a list of the statuses)
    (status_enum,) = [s["items"]["enum"] for s in params["status"]["schema"]["anyOf"] if "enum" in s.get("items", {})]
    assert sorted(js_constant("STATUSES")) == sorted(status_enum)
    assert params["integration_id"]["schema"]["anyOf"][0]["format"] == "uuid"
    # The page sizes it asks for are within the route's bounds.
    limit = params["limit"]["schema"]
    assert int(js_constant("JOBS_QUERY")["limit"]) == js_constant("PAGE_SIZE")
    assert limit["minimum"] <= js_constant("PAGE_SIZE") <= js_constant("MAX_LIMIT") == limit["maximum"]

    # The filter controls are labelled, with "All" (no parameter) first; "Load older jobs" is a button.
    for control in ("filter-status", "filter-integration"):
        assert re.search(rf'<label for="{control}">[^<]+</label>\s*<select id="{control}"[^>]*>'
                         r'<option value="">All</option></select>', PAGE), control
    assert '<button type="button" id="older" hidden>Load older jobs</button>' in PAGE


def test_the_page_never_builds_markup_from_data_nor_keeps_the_key_outside_the_tab():
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                   "localStorage", "document.cookie"):
        assert unsafe not in PAGE, unsafe
    assert "sessionStorage" in SCRIPT and "textContent" in SCRIPT
    # No external resource: no URL, no CDN, no web font; the only link is the empty data: icon.
    for external in ("http://", "https://", "//cdn", "@import", "url(", "@font-face"):
        assert external not in PAGE, external
    assert re.findall(r'\b(?:src|href)="([^"]*)"', PAGE) == ["data:,"]
    # Inline handlers and style attributes would need a looser CSP.
    assert not re.search(r"\son[a-z]+=", PAGE) and not re.search(r"\sstyle=", PAGE)
    # The key goes into the Authorization header and nowhere else (not into a URL).
    assert re.findall(r"[^\n]*\+ apiKey[^\n]*", SCRIPT) == ['    const headers = {"Accept": "application/json", '
                                                           '"Authorization": "Bearer " + apiKey};']
    # The key form has no named field, so even a submission without the script would send nothing.
    form = re.search(r'<form id="key-form".*?</form>', PAGE, flags=re.DOTALL).group(0)
    assert " name=" not in form


def test_the_script_is_valid_javascript(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = tmp_path / "dashboard.js"
    script.write_text(SCRIPT)
    result = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def fields(model) -> set[str]:
    return set(model.model_json_schema(mode="serialization")["properties"])


def test_the_fields_the_page_reads_are_declared_and_in_the_response_models():
    declared = {name: set(js_constant(name)) for name in (
        "INTEGRATION_FIELDS", "JOB_FIELDS", "COUNTER_FIELDS", "JOB_DETAIL_FIELDS", "TASK_RUN_FIELDS",
        "TRIGGER_FIELDS", "RETRY_FIELDS", "PAGE_FIELDS")}
    assert declared["INTEGRATION_FIELDS"] <= fields(Integration)
    assert declared["JOB_FIELDS"] <= fields(Job)
    assert declared["COUNTER_FIELDS"] <= fields(JobCounters)
    assert declared["JOB_DETAIL_FIELDS"] <= fields(JobDetail)
    assert declared["TASK_RUN_FIELDS"] <= fields(TaskRun)
    assert declared["TRIGGER_FIELDS"] <= fields(TriggerResponse)
    assert declared["RETRY_FIELDS"] <= fields(RetryResponse)
    assert declared["PAGE_FIELDS"] <= fields(Page[Job])

    # Whatever the script reads from an answer is declared above: the variables that hold answers
    # are named after what they hold (job, run, integ, counters, created, retried, cancelled).
    def read(variable: str) -> set[str]:
        return set(re.findall(rf"\b{variable}\.(\w+)", SCRIPT))

    assert read("job") and read("job") <= declared["JOB_FIELDS"] | declared["JOB_DETAIL_FIELDS"]
    assert read("run") and read("run") <= declared["TASK_RUN_FIELDS"]
    assert read("integ") and read("integ") <= declared["INTEGRATION_FIELDS"]
    assert read("counters") and read("counters") <= declared["COUNTER_FIELDS"]
    assert read("created") <= declared["TRIGGER_FIELDS"]
    assert read("retried") <= declared["RETRY_FIELDS"]
    assert read("cancelled") <= declared["JOB_FIELDS"]
    assert read("page") and read("page") <= declared["PAGE_FIELDS"]
    stages = re.search(r"const STAGES = \[(.*?)\n  \];", SCRIPT, flags=re.DOTALL).group(1)
    assert set(re.findall(r'\["(\w+)", "[^"]*"\]', stages)) == declared["COUNTER_FIELDS"]


# --- the flow the page drives, against the real API ----------------------------------------------


def assert_job_fields(job: dict, detail: bool = False) -> None:
    assert set(js_constant("JOB_FIELDS")) <= set(job), sorted(job)
    assert set(js_constant("COUNTER_FIELDS")) <= set(job["counters"]), sorted(job["counters"])
    if detail:
        assert set(js_constant("JOB_DETAIL_FIELDS")) <= set(job), sorted(job)
        for run in job["task_runs"]:
            assert set(js_constant("TASK_RUN_FIELDS")) <= set(run), sorted(run)


def listed_job(client, key, job_id) -> dict:
    r = call(client, key, "jobs", query=js_constant("JOBS_QUERY"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) == {"items", "next"}
    by_id = {item["id"]: item for item in page["items"]}
    assert str(job_id) in by_id
    assert_job_fields(by_id[str(job_id)])
    return by_id[str(job_id)]


def poll_until_ended(client, key, job_id, timeout: float = 180) -> dict:
    """As the page does: read the job (list and detail) until it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        listed_job(client, key, job_id)
        r = call(client, key, "job", job_id=job_id)
        assert r.status_code == 200, r.text
        job = r.json()
        assert_job_fields(job, detail=True)
        if job["status"] not in js_constant("ACTIVE"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {timeout}s"
        time.sleep(0.5)


@pytest.mark.usefixtures("workers")
def test_the_flow_the_page_drives_works_with_a_real_sync(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=150)
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=1.0)  # the first job stays active

    # Before anything: a bad key is refused with the message the page shows.
    r = call(api_client, "pk_not-a-key", "integrations")
    assert r.status_code == 401 and r.json()["detail"] == js_constant("UNAUTHORIZED")

    r = call(api_client, key, "integrations")
    assert r.status_code == 200, r.text
    (integ,) = r.json()
    assert integ["id"] == str(integration_id)
    assert set(js_constant("INTEGRATION_FIELDS")) <= set(integ)

    # "Full sync": 202 with the new job; pressed again while it runs, 409 naming the active job.
    r = call(api_client, key, "trigger", body={"integration_id": integ["id"], "kind": "full"})
    assert r.status_code == 202, r.text
    assert set(js_constant("TRIGGER_FIELDS")) <= set(r.json())
    first = r.json()["job_id"]
    assert listed_job(api_client, key, first)["kind"] == "full"
    r = call(api_client, key, "trigger", body={"integration_id": integ["id"]})
    assert r.status_code == 409 and first in r.json()["detail"] and r.json()["job_id"] == first, r.text

    # A read-only key sees the job but is refused the write, with a message that says why.
    r = api_client.post("/api/v1/api-keys", json={"name": "dashboard", "scopes": ["read"]}, headers=auth(key))
    assert r.status_code == 201, r.text
    read_only = r.json()["key"]
    listed_job(api_client, read_only, first)
    r = call(api_client, read_only, "cancel", job_id=first)
    assert r.status_code == 403 and "read-only" in r.json()["detail"], r.text

    # "Cancel": the job ends cancelled, and the list carries the message the page shows for it.
    r = call(api_client, key, "cancel", job_id=first)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == first and r.json()["status"] == "cancelled"
    cancelled = listed_job(api_client, key, first)
    assert cancelled["status"] == "cancelled" and cancelled["error_details"]["message"], cancelled

    # "Retry" of the cancelled job: 202 with the new job, polled until it ends as the page does.
    fake.faults.clear()
    r = call(api_client, key, "retry", job_id=first)
    assert r.status_code == 202, r.text
    assert set(js_constant("RETRY_FIELDS")) <= set(r.json())
    second = r.json()["job_id"]
    job = poll_until_ended(api_client, key, second)
    assert job["status"] == "succeeded", job
    assert job["counters"]["loaded"] == job["counters"]["extracted"] == 150
    assert job["task_runs"] and {run["stage"] for run in job["task_runs"]} >= {"extract", "transform", "load"}
    assert job["finished_at"] and job["error_details"] is None

    # The buttons on an ended job: cancel answers 409, retry of a success 422, each with a message.
    r = call(api_client, key, "cancel", job_id=second)
    assert r.status_code == 409 and r.json()["detail"] == f"job {second} already ended: succeeded", r.text
    r = call(api_client, key, "retry", job_id=second)
    assert r.status_code == 422 and r.json()["detail"] == f"job {second} succeeded: nothing to retry", r.text

    r = call(api_client, key, "integrations")
    assert r.json()[0]["last_sync_at"], "the integration shows its last sync"

    # The filters and "Load older jobs", with the query names the page sends: two ended jobs, newest first.
    def listed(**filters) -> tuple[list[str], str | None]:
        r = call(api_client, key, "jobs", query=jobs_query(**filters))
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(js_constant("PAGE_FIELDS")) <= set(page)
        for item in page["items"]:
            assert_job_fields(item)
        return [item["id"] for item in page["items"]], page["next"]

    assert listed() == ([second, first], None)  # no "Load older jobs": everything is on the first page
    assert listed(status="cancelled") == ([first], None)
    assert listed(status="succeeded") == ([second], None)
    assert listed(status="failed") == ([], None)
    assert listed(integration_id=integ["id"]) == ([second, first], None)
    assert listed(integration_id=uuid.uuid4()) == ([], None)
    assert listed(status="cancelled", integration_id=integ["id"]) == ([first], None)
    # A page that holds fewer jobs than match has a `next` cursor: the page after it holds the rest.
    items, cursor = listed(limit=1)
    assert items == [second] and cursor
    assert listed(limit=1, cursor=cursor) == ([first], None)
    items, cursor = listed(limit=1, integration_id=integ["id"])
    assert items == [second] and listed(limit=1, cursor=cursor, integration_id=integ["id"]) == ([first], None)
    # A filter the route does not know is refused with a message the page shows, not ignored.
    r = call(api_client, key, "jobs", query=jobs_query(status="done"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["query", "status"], r.text
