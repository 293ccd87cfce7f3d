"""The fake Jira over real HTTP: payload shapes, pagination, changelogs, faults, auth, mutations.

Run: .venv/bin/python -m pytest -q -p no:celery tests/test_fake_jira.py
"""
from __future__ import annotations

import base64
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from etl.fakes.jira import FakeJira  # noqa: E402

UTC = timezone.utc
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
EMAIL, TOKEN = "bot@example.com", "secret-token"
MSG_401 = {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
           "errors": {}}


def jira_ts(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def status_transitions(histories: list[dict]) -> list[tuple[str, str, datetime]]:
    return [(it["fromString"], it["toString"], jira_ts(h["created"]))
            for h in histories for it in h["items"] if it["field"] == "status"]


def walk(session: requests.Session, url: str, jql: str, **params) -> tuple[list[dict], list[dict]]:
    """Follow nextPageToken to the end; returns (issues, raw pages)."""
    issues, pages, token = [], [], None
    for _ in range(10_000):
        p = {"jql": jql, **params}
        if token:
            p["nextPageToken"] = token
        r = session.get(f"{url}/rest/api/3/search/jql", params=p)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        issues.extend(page["issues"])
        if page["isLast"]:
            assert "nextPageToken" not in page
            return issues, pages
        token = page["nextPageToken"]
    raise AssertionError("pagination never ended")


def session_for(fake: FakeJira) -> requests.Session:
    s = requests.Session()
    if fake.flavor == "cloud":
        s.auth = (fake.email, fake.token)
    else:
        s.headers["Authorization"] = f"Bearer {fake.token}"
    return s


@pytest.fixture(scope="module")
def cloud():
    fake = FakeJira(issues=1500, projects=("ABC", "DEF"), seed=7, now=NOW)
    srv = fake.serve()
    yield fake
    srv.stop()


@pytest.fixture
def http(cloud):
    cloud.faults.clear()
    s = session_for(cloud)
    yield s
    cloud.faults.clear()
    s.close()


@pytest.fixture
def small():
    """A fresh fake per test for mutations."""
    fake = FakeJira(issues=200, projects=("ABC", "DEF"), seed=3, now=NOW)
    srv = fake.serve()
    yield fake
    srv.stop()


@pytest.fixture(scope="module")
def dc():
    fake = FakeJira(issues=400, projects=("ABC",), flavor="dc", seed=5, token="dc-pat", now=NOW)
    srv = fake.serve()
    yield fake
    srv.stop()


# ----------------------------------------------------------------------------- cloud search


def test_cloud_pagination_walks_every_issue_once_without_total(cloud, http):
    issues, pages = walk(http, cloud.url, "project in (ABC, DEF)", fields="summary,updated", maxResults=500)
    keys = [i["key"] for i in issues]
    assert len(keys) == len(set(keys)) == 1500
    assert set(keys) == set(cloud.issue_keys())
    assert all(len(p["issues"]) == 100 for p in pages[:-1])  # maxResults silently capped at 100
    for p in pages:
        assert "total" not in p and "startAt" not in p
        assert set(p) <= {"issues", "nextPageToken", "isLast"}
    assert [p["isLast"] for p in pages] == [False] * (len(pages) - 1) + [True]
    token = pages[0]["nextPageToken"]
    assert isinstance(token, str) and not token.isdigit()
    order = [(jira_ts(i["fields"]["updated"]), i["key"].split("-")[0], int(i["key"].split("-")[1])) for i in issues]
    assert order == sorted(order)
    assert set(issues[0]["fields"]) == {"summary", "updated"}
    assert set(issues[0]) == {"expand", "id", "self", "key", "fields"}


def test_cloud_fields_default_to_id_only_and_all(cloud, http):
    r = http.get(f"{cloud.url}/rest/api/3/search/jql", params={"jql": "project = ABC", "maxResults": 3})
    assert r.status_code == 200
    assert all(set(i) == {"id"} for i in r.json()["issues"])
    r = http.get(f"{cloud.url}/rest/api/3/search/jql",
                 params={"jql": "project = ABC", "maxResults": 3, "fields": "*all"})
    f = r.json()["issues"][0]["fields"]
    for name in ("summary", "status", "issuetype", "priority", "assignee", "reporter", "labels", "components",
                 "fixVersions", "project", "watches", "votes", "timetracking", "environment", "duedate",
                 "description", "created", "updated", "resolutiondate", "customfield_10016"):
        assert name in f, name
    assert f["description"] is None or f["description"]["type"] == "doc"
    assert f["status"]["statusCategory"]["key"] in ("new", "indeterminate", "done")
    assert f["issuetype"]["hierarchyLevel"] in (-1, 0, 1)
    r2 = http.get(f"{cloud.url}/rest/api/3/search/jql",
                  params={"jql": "project = ABC", "maxResults": 3, "fields": "*all,-description"})
    assert "description" not in r2.json()["issues"][0]["fields"]
    assert "summary" in r2.json()["issues"][0]["fields"]


def test_post_search_jql_matches_get(cloud, http):
    body = {"jql": "project = DEF", "maxResults": 50, "fields": ["summary", "status"], "expand": "changelog"}
    r = http.post(f"{cloud.url}/rest/api/3/search/jql", json=body)
    assert r.status_code == 200
    page1 = r.json()
    g = http.get(f"{cloud.url}/rest/api/3/search/jql",
                 params={"jql": "project = DEF", "maxResults": 50, "fields": "summary,status", "expand": "changelog"})
    assert g.json() == page1
    r = http.post(f"{cloud.url}/rest/api/3/search/jql", json={**body, "nextPageToken": page1["nextPageToken"]})
    assert {i["key"] for i in r.json()["issues"]}.isdisjoint({i["key"] for i in page1["issues"]})
    method, path, query = cloud.requests[-1]
    assert method == "POST" and path == "/rest/api/3/search/jql" and query["jql"] == "project = DEF"


def test_incremental_jql_with_epoch_ms_watermark(cloud, http):
    abc = [k for k in cloud.issue_keys() if k.startswith("ABC-")]
    updated = sorted((cloud.expected(k)["updated"], k) for k in abc)
    watermark = updated[len(updated) // 2][0]
    jql = f"project = ABC AND updated >= {ms(watermark)} ORDER BY updated ASC, key ASC"
    issues, _ = walk(http, cloud.url, jql, fields="updated", maxResults=37)
    got = [(jira_ts(i["fields"]["updated"]), i["key"]) for i in issues]
    want = sorted(((u, k) for u, k in updated if u >= watermark), key=lambda x: (x[0], int(x[1].split("-")[1])))
    assert got == want
    assert all(u >= watermark for u, _ in got)
    # parentheses around AND-ed clauses and quoted keys (how a client wraps a tenant's own JQL)
    wrapped, _ = walk(http, cloud.url, f'(project in ("ABC")) AND updated >= {ms(watermark)} ORDER BY updated ASC, key ASC',
                      fields="updated", maxResults=100)
    assert [i["key"] for i in wrapped] == [k for _, k in want]
    # a "yyyy-MM-dd HH:mm" date string is read as UTC, to the minute
    minute = watermark.replace(second=0, microsecond=0)
    issues2, _ = walk(http, cloud.url, f'project = ABC AND updated >= "{minute:%Y-%m-%d %H:%M}"', fields="updated")
    assert {i["key"] for i in issues2} == {k for u, k in updated if u >= minute}


def test_jql_errors(cloud, http):
    url = f"{cloud.url}/rest/api/3/search/jql"
    r = http.get(url, params={"jql": "project = XYZ"})
    assert r.status_code == 400
    assert r.json() == {"errorMessages": ["The value 'XYZ' does not exist for the field 'project'."], "errors": {}}
    r = http.get(url, params={"jql": 'project in (ABC, "NOPE")'})
    assert r.status_code == 400 and "'NOPE'" in r.json()["errorMessages"][0]
    r = http.get(url, params={"jql": "project = ABC AND updated >>= 5"})
    assert r.status_code == 400 and r.json()["errorMessages"][0].startswith("Error in the JQL Query")
    r = http.get(url, params={"jql": "project = ABC foo"})
    assert r.status_code == 400 and "Expecting either 'OR' or 'AND'" in r.json()["errorMessages"][0]
    r = http.get(url, params={"jql": ""})
    assert r.status_code == 400 and "Unbounded" in r.json()["errorMessages"][0]
    r = http.get(url, params={"jql": "project = ABC", "nextPageToken": "garbage"})
    assert r.status_code == 400
    r = http.get(url, params={"jql": 'project = ABC AND updated >= "yesterday"'})
    assert r.status_code == 400 and "Date value" in r.json()["errorMessages"][0]


# ----------------------------------------------------------------------------- changelogs


def test_embedded_changelog_truncation_and_full_changelog(cloud, http):
    keys = cloud.issue_keys()
    big = [k for k in keys if cloud.expected(k)["changelog_total"] > 100][:2]
    big += [k for k in keys if 40 < cloud.expected(k)["changelog_total"] <= 100][:1]
    normal = [k for k in keys if 0 < cloud.expected(k)["changelog_total"] <= 40 and cloud.expected(k)["transitions"]][:2]
    assert len(big) == 3 and len(normal) == 2
    sample = big + normal
    jql = "key in ({})".format(", ".join(sample))
    r = http.get(f"{cloud.url}/rest/api/3/search/jql", params={"jql": jql, "fields": "status", "expand": "changelog"})
    assert r.status_code == 200
    embedded = {i["key"]: i["changelog"] for i in r.json()["issues"]}
    assert set(embedded) == set(sample)
    for k in sample:
        exp = cloud.expected(k)
        cl = embedded[k]
        assert cl["total"] == exp["changelog_total"]
        assert len(cl["histories"]) == min(40, cl["total"]) == cl["maxResults"]
        if k in big:
            assert cl["total"] > len(cl["histories"])  # how a client detects truncation
        else:
            assert status_transitions(cl["histories"]) == exp["transitions"]

        # full changelog via /issue/{key}/changelog, paging with startAt/isLast
        values, start = [], 0
        while True:
            page = http.get(f"{cloud.url}/rest/api/3/issue/{k}/changelog",
                            params={"startAt": start, "maxResults": 1000}).json()
            assert page["maxResults"] == 100 and page["startAt"] == start and page["total"] == exp["changelog_total"]
            values += page["values"]
            if page["isLast"]:
                assert "nextPage" not in page
                break
            assert page["nextPage"].startswith(cloud.url)
            start += len(page["values"])
        assert len(values) == exp["changelog_total"]
        assert status_transitions(values) == exp["transitions"]
        assert [h["id"] for h in values[-len(cl["histories"]):]] == [h["id"] for h in cl["histories"]]
        assert values == cloud.issue(k)["changelog"]["histories"]
        first, last = exp["transitions"][0], exp["transitions"][-1]
        assert first[0] in ("To Do", "Backlog") and last[1] == exp["status"]
        ids = [int(h["id"]) for h in values]
        assert ids == sorted(ids)


def test_bulkfetch_pages_and_matches_expected(cloud, http):
    keys = cloud.issue_keys()
    sample = list(dict.fromkeys([k for k in keys if cloud.expected(k)["changelog_total"] > 40][:3] + keys[:20]))
    collected: dict[str, list[dict]] = {}
    token, pages = None, 0
    while True:
        body = {"issueIdsOrKeys": sample, "maxResults": 50}
        if token:
            body["nextPageToken"] = token
        r = http.post(f"{cloud.url}/rest/api/3/changelog/bulkfetch", json=body)
        assert r.status_code == 200, r.text
        data = r.json()
        pages += 1
        assert sum(len(x["changeHistories"]) for x in data["issueChangeLogs"]) <= 50
        for entry in data["issueChangeLogs"]:
            collected.setdefault(entry["issueId"], []).extend(entry["changeHistories"])
        token = data.get("nextPageToken")
        if not token:
            break
    assert pages > 2
    for k in sample:
        exp = cloud.expected(k)
        hist = collected.get(exp["id"], [])
        assert len(hist) == exp["changelog_total"]
        assert status_transitions(hist) == exp["transitions"]
    # fieldIds narrows histories and items to those fields
    r = http.post(f"{cloud.url}/rest/api/3/changelog/bulkfetch",
                  json={"issueIdsOrKeys": sample[:3], "fieldIds": ["status"], "maxResults": 10000})
    for entry in r.json()["issueChangeLogs"]:
        assert all(it["fieldId"] == "status" for h in entry["changeHistories"] for it in h["items"])
    r = http.post(f"{cloud.url}/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": []})
    assert r.status_code == 400


def test_generated_data_is_consistent(cloud):
    keys = cloud.issue_keys()
    types, statuses, sp_kinds, big = {}, {}, {"int": 0, "str": 0, "none": 0}, 0
    for k in keys:
        exp = cloud.expected(k)
        issue = cloud.issue(k)
        f = issue["fields"]
        assert f["status"]["name"] == exp["status"]
        assert f["status"]["statusCategory"]["key"] == exp["status_category"]
        assert f["issuetype"]["name"] == exp["issuetype"]
        assert jira_ts(f["created"]) == exp["created"] <= exp["updated"] == jira_ts(f["updated"]) <= NOW
        assert exp["created"] >= NOW - timedelta(days=365)
        if exp["status"] == "Done":
            done_at = [t for _, to, t in exp["transitions"] if to == "Done"][-1]
            assert jira_ts(f["resolutiondate"]) == exp["resolved"] == done_at
        else:
            assert f["resolutiondate"] is None and exp["resolved"] is None
        chain = exp["transitions"]
        if chain:
            assert chain[0][0] in ("To Do", "Backlog") and chain[-1][1] == exp["status"]
            assert all(a[1] == b[0] for a, b in zip(chain, chain[1:]))
        else:
            assert exp["status"] in ("To Do", "Backlog")
        if exp["issuetype"] == "Sub-task":
            parent = cloud.expected(exp["parent_key"])
            assert parent["issuetype"] not in ("Epic", "Sub-task") and parent["project"] == exp["project"]
            assert k in [s["key"] for s in cloud.issue(exp["parent_key"])["fields"]["subtasks"]]
        if exp["parent_key"] and exp["issuetype"] != "Sub-task":
            assert cloud.expected(exp["parent_key"])["issuetype"] == "Epic"
        if exp["parent_key"]:
            assert f["parent"]["key"] == exp["parent_key"]
        sp = f["customfield_10016"]
        sp_kinds["none" if sp is None else "str" if isinstance(sp, str) else "int"] += 1
        assert exp["story_points"] == (None if sp is None else float(sp))
        types[exp["issuetype"]] = types.get(exp["issuetype"], 0) + 1
        statuses[exp["status"]] = statuses.get(exp["status"], 0) + 1
        big += exp["changelog_total"] > 40
    assert set(types) == {"Epic", "Story", "Task", "Bug", "Spike", "Sub-task"}
    assert set(statuses) == {"Backlog", "To Do", "In Progress", "In Review", "Blocked", "Done"}
    assert all(v > 0 for v in sp_kinds.values())
    assert 0.02 < big / len(keys) < 0.09


def test_field_and_metadata_endpoints(cloud, http):
    fields = http.get(f"{cloud.url}/rest/api/3/field").json()
    sp = [f for f in fields if f["id"] == "customfield_10016"]
    assert sp and sp[0]["name"] == "Story point estimate" and sp[0]["custom"] is True
    assert sp[0]["schema"] == {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points",
                               "customId": 10016}
    assert len([f for f in fields if f["custom"]]) == 4
    assert {"summary", "status", "issuetype"} <= {f["id"] for f in fields}
    statuses = http.get(f"{cloud.url}/rest/api/3/status").json()
    assert {s["statusCategory"]["key"] for s in statuses} == {"new", "indeterminate", "done"}
    types = http.get(f"{cloud.url}/rest/api/3/issuetype").json()
    assert {t["name"]: t["hierarchyLevel"] for t in types}["Sub-task"] == -1
    assert http.get(f"{cloud.url}/rest/api/3/myself").json()["emailAddress"] == EMAIL
    assert http.get(f"{cloud.url}/rest/api/3/serverInfo").json()["deploymentType"] == "Cloud"
    key = cloud.issue_keys()[0]
    r = http.get(f"{cloud.url}/rest/api/3/issue/{key}")
    assert r.status_code == 200 and r.json()["key"] == key and "changelog" not in r.json()
    by_id = http.get(f"{cloud.url}/rest/api/3/issue/{r.json()['id']}", params={"fields": "summary"}).json()
    assert by_id["key"] == key and set(by_id["fields"]) == {"summary"}


# ----------------------------------------------------------------------------- errors and faults


def test_auth_errors(cloud):
    url = f"{cloud.url}/rest/api/3/search/jql"
    r = requests.get(url, params={"jql": "project = ABC"})
    assert r.status_code == 401 and r.json() == MSG_401
    r = requests.get(url, params={"jql": "project = ABC"}, auth=(EMAIL, "wrong"))
    assert r.status_code == 401 and r.json() == MSG_401
    r = requests.get(url, params={"jql": "project = ABC"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 401  # Cloud wants basic auth
    basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    r = requests.get(url, params={"jql": "project = ABC"}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200


def test_removed_search_is_410_and_unknown_issue_404(cloud, http):
    for path in ("/rest/api/3/search", "/rest/api/2/search"):
        r = http.get(f"{cloud.url}{path}", params={"jql": "project = ABC"})
        assert r.status_code == 410 and "/rest/api/3/search/jql" in r.json()["errorMessages"][0]
        assert http.post(f"{cloud.url}{path}", json={"jql": "project = ABC"}).status_code == 410
    r = http.get(f"{cloud.url}/rest/api/3/issue/ABC-999999")
    assert r.status_code == 404
    assert r.json() == {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                        "errors": {}}
    assert http.get(f"{cloud.url}/rest/api/3/issue/ABC-999999/changelog").status_code == 404


def test_fault_429_with_retry_after_clears_after_times(cloud, http):
    cloud.faults.add("429", path_contains="/search/jql", times=2, retry_after=3)
    url = f"{cloud.url}/rest/api/3/search/jql"
    for _ in range(2):
        r = http.get(url, params={"jql": "project = ABC"})
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "3"
        assert r.json()["errorMessages"] and r.json()["errors"] == {}
    assert http.get(f"{cloud.url}/rest/api/3/field").status_code == 200  # other paths unaffected
    assert http.get(url, params={"jql": "project = ABC"}).status_code == 200


def test_faults_added_first_win_and_later_ones_wait(cloud, http):
    cloud.faults.add("429", path_contains="/myself", times=1)
    cloud.faults.add("500", path_contains="/myself", times=1)
    codes = [http.get(f"{cloud.url}/rest/api/3/myself").status_code for _ in range(3)]
    assert codes == [429, 500, 200]


def test_fault_500_every_other_request_and_503(cloud, http):
    cloud.faults.add("500", path_contains="/field", times=None, every=2)
    codes = [http.get(f"{cloud.url}/rest/api/3/field").status_code for _ in range(6)]
    assert codes == [200, 500, 200, 500, 200, 500]
    cloud.faults.clear()
    cloud.faults.add("503")
    r = http.get(f"{cloud.url}/rest/api/3/myself")
    assert r.status_code == 503 and "errorMessages" in r.json()
    assert http.get(f"{cloud.url}/rest/api/3/myself").status_code == 200


def test_fault_malformed_json_slow_and_401(cloud, http):
    url = f"{cloud.url}/rest/api/3/search/jql"
    cloud.faults.add("malformed_json", path_contains="/search/jql")
    r = http.get(url, params={"jql": "project = ABC", "fields": "summary"})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        orjson.loads(r.content)
    assert http.get(url, params={"jql": "project = ABC"}).json()["issues"]
    cloud.faults.add("slow", path_contains="/myself", delay=0.3)
    t0 = time.monotonic()
    assert http.get(f"{cloud.url}/rest/api/3/myself").status_code == 200
    assert time.monotonic() - t0 >= 0.3
    cloud.faults.add("401", times=1)
    r = http.get(f"{cloud.url}/rest/api/3/myself")
    assert r.status_code == 401 and r.json() == MSG_401


def test_fault_empty_200_and_html_200(cloud, http):
    url = f"{cloud.url}/rest/api/3/search/jql"
    cloud.faults.add("empty_200", path_contains="/search/jql")
    r = http.get(url, params={"jql": "project = ABC"})
    assert (r.status_code, r.headers["Content-Length"], r.content) == (200, "0", b"")
    cloud.faults.add("html_200", path_contains="/search/jql")
    r = http.get(url, params={"jql": "project = ABC"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert b"maintenance" in r.content and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(requests.JSONDecodeError):
        r.json()
    assert http.get(url, params={"jql": "project = ABC"}).json()["issues"]


def test_fault_truncated_body_is_cut_short_on_the_wire(cloud, http):
    url = f"{cloud.url}/rest/api/3/search/jql"
    cloud.faults.add("truncated", path_contains="/search/jql")
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        http.get(url, params={"jql": "project = ABC", "fields": "summary"})
    r = http.get(url, params={"jql": "project = ABC", "fields": "summary"}, stream=True)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) > 0  # the next answer is whole
    assert orjson.loads(r.content)["issues"]


def test_fault_pages_that_break_the_cloud_protocol(cloud, http):
    url = f"{cloud.url}/rest/api/3/search/jql"
    params = {"jql": "project = ABC", "maxResults": 10}
    first = http.get(url, params=params).json()
    cloud.faults.add("no_issues", path_contains="/search/jql")
    page = http.get(url, params=params).json()
    assert "issues" not in page and page["nextPageToken"] == first["nextPageToken"] and page["isLast"] is False
    cloud.faults.add("missing_islast", path_contains="/search/jql")
    page = http.get(url, params=params).json()
    assert "isLast" not in page and page["issues"] == first["issues"]
    # repeat_token waits for a request that carries a token: the first page is served as usual
    cloud.faults.add("repeat_token", path_contains="/search/jql")
    assert http.get(url, params=params).json() == first
    token = first["nextPageToken"]
    page = http.get(url, params={**params, "nextPageToken": token}).json()
    assert page["nextPageToken"] == token and page["isLast"] is False
    assert page["issues"] == http.get(url, params={**params, "nextPageToken": token}).json()["issues"]
    assert cloud.faults.items == []


def test_fault_missing_islast_on_the_last_page_leaves_neither_token_nor_isLast(cloud, http):
    jql = "project = ABC ORDER BY updated ASC, key ASC"
    _, pages = walk(http, cloud.url, jql, maxResults=100)
    assert len(pages) >= 2
    cloud.faults.add("missing_islast", path_contains="/search/jql", times=None)
    token = pages[-2]["nextPageToken"]
    last = http.get(f"{cloud.url}/rest/api/3/search/jql",
                    params={"jql": jql, "maxResults": 100, "nextPageToken": token}).json()
    assert last["issues"] == pages[-1]["issues"] and set(last) == {"issues"}


def test_approximate_count_matches_search_and_can_disagree(cloud, http):
    url = f"{cloud.url}/rest/api/3/search/approximate-count"
    watermark = ms(NOW - timedelta(days=90))
    for jql in ("project = ABC", f"project in (ABC, DEF) AND updated >= {watermark}"):
        issues, _ = walk(http, cloud.url, jql, maxResults=5000)
        assert 0 < len(issues) and http.post(url, json={"jql": jql}).json() == {"count": len(issues)}
    assert http.post(url, json={"jql": ""}).status_code == 400  # unbounded, as for search
    assert http.get(url).status_code == 405
    cloud.approximate_count_offset = 7
    try:
        assert http.post(url, json={"jql": "project = ABC"}).json()["count"] == len(walk(
            http, cloud.url, "project = ABC", maxResults=5000)[0]) + 7
    finally:
        cloud.approximate_count_offset = 0


def test_requests_are_recorded(cloud, http):
    cloud.reset_requests()
    http.get(f"{cloud.url}/rest/api/3/search/jql", params={"jql": "project = ABC", "maxResults": 5})
    assert cloud.requests == [("GET", "/rest/api/3/search/jql", {"jql": "project = ABC", "maxResults": "5"})]
    cloud.reset_requests()
    assert cloud.requests == []


# ----------------------------------------------------------------------------- Data Center


def test_dc_offset_pagination_with_total(dc):
    s = session_for(dc)
    keys, start, totals = [], 0, set()
    while True:
        r = s.get(f"{dc.url}/rest/api/2/search",
                  params={"jql": "project = ABC ORDER BY updated ASC", "startAt": start, "maxResults": 75,
                          "expand": "changelog"})
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["startAt"] == start and page["maxResults"] == 75
        totals.add(page["total"])
        keys += [i["key"] for i in page["issues"]]
        for issue in page["issues"]:
            cl = issue["changelog"]
            assert cl["total"] == len(cl["histories"])  # not truncated on DC
            assert status_transitions(cl["histories"]) == dc.expected(issue["key"])["transitions"]
            d = issue["fields"]["description"]
            assert d is None or isinstance(d, str)
            assert "accountId" not in issue["fields"]["reporter"] and issue["fields"]["reporter"]["name"]
        start += len(page["issues"])
        if start >= page["total"]:
            break
    assert totals == {400}
    assert sorted(keys) == sorted(dc.issue_keys()) and len(keys) == len(set(keys))
    assert any(dc.expected(k)["changelog_total"] > 40 for k in keys)


def test_dc_auth_and_missing_cloud_endpoints(dc):
    s = session_for(dc)
    assert requests.get(f"{dc.url}/rest/api/2/search", params={"jql": "project = ABC"},
                        auth=(EMAIL, "dc-pat")).status_code == 401
    r = requests.get(f"{dc.url}/rest/api/2/search", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == MSG_401
    assert s.get(f"{dc.url}/rest/api/3/search/jql", params={"jql": "project = ABC"}).status_code == 404
    assert s.get(f"{dc.url}/rest/api/2/search/jql", params={"jql": "project = ABC"}).status_code == 404
    assert s.get(f"{dc.url}/rest/api/3/field").status_code == 404
    key = dc.issue_keys()[0]
    issue = s.get(f"{dc.url}/rest/api/2/issue/{key}", params={"expand": "changelog"}).json()
    assert issue["key"] == key and issue == dc.issue(key)
    assert s.get(f"{dc.url}/rest/api/2/serverInfo").json()["deploymentType"] == "Server"
    assert any(f["id"] == "customfield_10016" for f in s.get(f"{dc.url}/rest/api/2/field").json())
    r = s.get(f"{dc.url}/rest/api/2/search", params={"jql": "project = ABC", "maxResults": 0})
    assert r.json()["total"] == 400 and r.json()["issues"] == []


# ----------------------------------------------------------------------------- mutations


def test_touch_moves_status_and_shows_up_incrementally(small):
    s = session_for(small)
    keys = small.issue_keys()
    watermark = max(small.expected(k)["updated"] for k in keys)
    before = {k: small.expected(k) for k in keys}
    touched = small.touch(5)
    assert len(touched) == len(set(touched)) == 5
    second = small.touch([keys[0]])
    issues, _ = walk(s, small.url, f"project in (ABC, DEF) AND updated > {ms(watermark)}",
                     fields="status,updated,resolutiondate", expand="changelog")
    got = [i["key"] for i in issues]
    assert set(got) == set(touched) | set(second)
    assert got[-1] == keys[0]  # touched last, so updated last
    t1 = small.expected(touched[0])["updated"]
    assert t1 > watermark and small.expected(keys[0])["updated"] > t1
    for issue in issues:
        k = issue["key"]
        exp, old = small.expected(k), before[k]
        times = touched.count(k) + second.count(k)
        assert exp["transitions"][:len(old["transitions"])] == old["transitions"]
        assert len(exp["transitions"]) == len(old["transitions"]) + times
        assert exp["transitions"][-times][0] == old["status"]
        assert exp["transitions"][-1][1] == exp["status"] == issue["fields"]["status"]["name"]
        assert exp["transitions"][-1][2] == exp["updated"] == jira_ts(issue["fields"]["updated"])
        assert (issue["fields"]["resolutiondate"] is not None) == (exp["status"] == "Done")
        assert status_transitions(issue["changelog"]["histories"])[-1][1] == exp["status"]
    at = NOW + timedelta(days=3)
    assert small.touch(keys[1:3], at=at) == keys[1:3]
    assert small.expected(keys[1])["updated"] == at


def test_pagination_survives_touches_between_pages(small):
    s = session_for(small)
    url = f"{small.url}/rest/api/3/search/jql"
    params = {"jql": "project in (ABC, DEF)", "fields": "updated", "maxResults": 40}
    first = s.get(url, params=params).json()
    seen = [i["key"] for i in first["issues"]]
    small.touch(seen[:5] + small.issue_keys()[-3:])
    token = first["nextPageToken"]
    while token:
        page = s.get(url, params={**params, "nextPageToken": token}).json()
        seen += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
    assert set(seen) == set(small.issue_keys())  # nothing skipped; moved issues may come twice


def test_delete_add_and_malformed(small):
    s = session_for(small)
    keys = small.issue_keys()
    gone = keys[10]
    small.delete([gone])
    assert gone not in small.issue_keys()
    assert s.get(f"{small.url}/rest/api/3/issue/{gone}").status_code == 404
    assert s.get(f"{small.url}/rest/api/3/issue/{gone}/changelog").status_code == 404
    issues, _ = walk(s, small.url, "project in (ABC, DEF)", fields="summary")
    assert gone not in {i["key"] for i in issues} and len(issues) == 199

    watermark = max(small.expected(k)["updated"] for k in small.issue_keys())
    new = small.add_issues(3)
    assert len(new) == 3 and small.issue_keys()[-3:] == new
    ups = [small.expected(k)["updated"] for k in new]
    assert ups == sorted(ups) and ups[0] > watermark
    issues, _ = walk(s, small.url, f"project in (ABC, DEF) AND updated >= {ms(ups[0])}", fields="summary,status")
    assert [i["key"] for i in issues] == new
    assert all(i["fields"]["status"]["name"] in ("To Do", "Backlog") for i in issues)

    bad = keys[20]
    small.make_malformed(bad)
    issues, _ = walk(s, small.url, "project in (ABC, DEF)", fields="created,issuetype,summary")
    served = {i["key"]: i for i in issues}
    assert served[bad]["fields"]["created"] == "not-a-date" and served[bad]["fields"]["issuetype"] is None
    assert served[keys[21]]["fields"]["issuetype"] is not None
    assert small.issue(bad)["fields"]["created"] == "not-a-date"


# ----------------------------------------------------------------------------- size and speed


def test_average_issue_size_is_about_6kb(cloud, http):
    issues, _ = walk(http, cloud.url, "project in (ABC, DEF)", fields="*all", expand="changelog", maxResults=100)
    sizes = [len(orjson.dumps(i)) for i in issues]
    avg = statistics.mean(sizes)
    print(f"\naverage issue with embedded changelog: {avg / 1024:.1f} KiB "
          f"(median {statistics.median(sizes) / 1024:.1f} KiB, max {max(sizes) / 1024:.1f} KiB)")
    assert 4 * 1024 <= avg <= 8 * 1024


def test_speed_walk_5000_issues():
    fake = FakeJira(issues=5000, projects=("ABC", "DEF"), seed=11, now=NOW)
    srv = fake.serve()
    try:
        s = session_for(fake)
        params = {"jql": "project in (ABC, DEF) AND updated >= 0 ORDER BY updated ASC, key ASC",
                  "fields": "*all", "expand": "changelog", "maxResults": 100}
        count, pages, nbytes, token = 0, 0, 0, None
        t0 = time.perf_counter()
        while True:  # count, do not keep parsed pages (that would measure the garbage collector)
            r = s.get(f"{fake.url}/rest/api/3/search/jql",
                      params={**params, **({"nextPageToken": token} if token else {})})
            page = r.json()
            count += len(page["issues"])
            nbytes += len(r.content)
            pages += 1
            token = page.get("nextPageToken")
            if page["isLast"]:
                break
        elapsed = time.perf_counter() - t0
        assert count == 5000
        print(f"\nfake Jira: walked {count} issues in {pages} pages ({nbytes / 2**20:.0f} MiB), {elapsed:.2f}s: "
              f"{count / elapsed:,.0f} issues/s (requests + json parsing in the same process)")
    finally:
        srv.stop()
