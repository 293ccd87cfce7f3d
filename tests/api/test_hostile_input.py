"""Hostile input gets a 422 that says what to fix, never a 500 (issue 8, finding 6), and tenant bot
patterns cannot stall a transform worker (finding 4). The API runs in-process on the real database;
a server error comes back as a 500 response here instead of being raised into the test."""
from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from api.main import app

CLOSED_URL = "http://127.0.0.1:1"  # nothing listens: nothing here ever reaches a source


@pytest.fixture
def client(database):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def tenant(make_tenant, client):
    """(headers, integration id) of a new tenant with one Jira integration."""
    _, key = make_tenant()
    headers = {"Authorization": f"Bearer {key}"}
    r = client.post("/api/v1/integrations", headers=headers, json=jira_body())
    assert r.status_code == 201, r.text
    return headers, r.json()["id"]


@pytest.fixture
def admin_headers(make_tenant):
    from etl.tenancy.keys import issue_api_key
    from tests.scopes import session_scope

    tenant_id, _ = make_tenant()
    with session_scope() as s:
        return {"Authorization": f"Bearer {issue_api_key(s, tenant_id, is_admin=True).secret}"}


def jira_body(**overrides) -> dict:
    body = {"provider": "jira", "name": f"jira-{uuid.uuid4().hex[:6]}", "base_url": CLOSED_URL,
            "credentials": {"email": "bot@example.com", "token": "tok"}, "settings": {"projects": ["ABC"]}}
    return {**body, **overrides}


def github_body(**settings) -> dict:
    return {"provider": "github", "name": f"gh-{uuid.uuid4().hex[:6]}", "base_url": CLOSED_URL,
            "credentials": {"token": "tok"}, "settings": {"repos": ["acme/api"], **settings}}


def refused(r, *words: str) -> str:
    """The response is a 422 whose message mentions every word; returns the message."""
    assert r.status_code == 422, (r.status_code, r.text)
    text = r.text
    for word in words:
        assert word in text, (word, text)
    return text


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


# --- NUL characters ------------------------------------------------------------------------------


@pytest.mark.parametrize("url, name", [
    ("/api/v1/work-items?project=%00", "project"),
    ("/api/v1/work-items?assignee=a%00b&project=ABC", "assignee"),
    ("/api/v1/pull-requests?author=x%00", "author"),
    ("/api/v1/etl/raw-data?entity_type=jira%00issue", "entity_type"),
    ("/api/v1/work-items/ABC%00-1", "path"),
    ("/api/v1/pull-requests/ac%00me/api/1", "path"),
])
def test_a_nul_in_the_query_string_or_path_is_a_422_naming_where(client, tenant, url, name):
    headers, _ = tenant
    refused(client.get(url, headers=headers), "NUL", name)


@pytest.mark.parametrize("url, body, words", [
    ("/api/v1/wits", {"name": "a\u0000b"}, ("name",)),
    ("/api/v1/statuses", {"name": "Blocked\u0000", "category": "to_do"}, ("name",)),
    ("/api/v1/integrations", jira_body(name="x\u0000"), ("name",)),
    ("/api/v1/integrations", jira_body(settings={"projects": ["ABC"], "jql": "a\u0000"}), ("settings", "jql:")),
    ("/api/v1/integrations", jira_body(settings={"projects": ["AB\u0000"]}), ("settings", "projects[0]:")),
    ("/api/v1/integrations", jira_body(settings={"projects": ["ABC"], "x": {"y": ["ok", "\u0000"]}}),
     ("settings", "x.y[1]:")),
    ("/api/v1/integrations", jira_body(settings={"projects": ["ABC"], "x": {"k\u0000": 1}}), ("settings", "x: a key")),
    ("/api/v1/integrations", jira_body(settings={"projects": ["ABC"], "k\u0000": 1}), ("settings", "a field name")),
    ("/api/v1/integrations", jira_body(credentials={"email": "a\u0000@example.com", "token": "t"}),
     ("credentials", "email:")),
    ("/api/v1/tenants", {"name": "t\u0000"}, ("name",)),
    ("/api/v1/api-keys", {"name": "k\u0000"}, ("name",)),
])
def test_a_nul_in_a_json_body_is_a_422_naming_the_field(client, admin_headers, url, body, words):
    refused(client.post(url, headers=admin_headers, json=body), "NUL", *words)


def test_nul_in_pushed_raw_data_is_dropped_from_payloads_and_refused_elsewhere(client, tenant):
    """Payloads keep the pipeline's rule for what sources send (etl/raw.py drops NUL characters);
    an external id, metadata or error details with one are refused."""
    headers, integration_id = tenant
    record = {"external_id": "1", "payload": {"id": "1", "key": "ABC-1", "fields": {"summary": "a\u0000b"}}}
    store = {"integration_id": integration_id, "entity_type": "jira_issue", "records": [record]}
    stored = client.post("/api/v1/etl/raw-data/store", headers=headers, json=store)
    assert stored.status_code == 200, stored.text
    raw_id = stored.json()["records"][0]["id"]
    raw = client.get(f"/api/v1/etl/raw-data/{raw_id}", headers=headers).json()
    assert raw["payload"]["fields"]["summary"] == "ab"
    for bad, words in (({**record, "external_id": "1\u0000"}, ("records", "external_id:")),
                       ({**record, "metadata": {"page": "\u0000"}}, ("records", "metadata.page:"))):
        r = client.post("/api/v1/etl/raw-data/store", headers=headers, json={**store, "records": [bad]})
        refused(r, "NUL", *words)
    r = client.put(f"/api/v1/etl/raw-data/{raw_id}/status", headers=headers,
                     json={"status": "failed", "error_details": {"error": "bad\u0000"}})
    refused(r, "NUL", "error_details.error:")


def test_lone_surrogates_are_a_422(client, tenant):
    """Valid JSON, but no UTF-8 encoding exists for it: typed strings were refused already, free-form
    JSON reached the database."""
    headers, integration_id = tenant
    body = b'{"settings": {"label": "a\\ud800b"}}'
    r = client.patch(f"/api/v1/integrations/{integration_id}", content=body,
                     headers={**headers, "Content-Type": "application/json"})
    refused(r, "settings", "label:", "surrogate")


# --- numbers, dates, depth -------------------------------------------------------------------------


@pytest.mark.parametrize("since", ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00"])
@pytest.mark.parametrize("url, param", [("/api/v1/etl/jobs", "created_since"),
                                        ("/api/v1/work-items", "updated_since"),
                                        ("/api/v1/pull-requests", "updated_since")])
def test_a_date_filter_that_overflows_once_in_utc_is_a_422(client, tenant, url, param, since):
    headers, _ = tenant
    refused(client.get(url, headers=headers, params={param: since}), param, "out of range")


def test_integers_beyond_the_columns_are_a_422(client, tenant):
    headers, integration_id = tenant
    huge = 99999999999999999999
    for url in (f"/api/v1/etl/raw-data/{huge}", f"/api/v1/pull-requests/acme/api/{huge}",
                f"/api/v1/pull-requests/acme/api/{2**31}", f"/api/v1/wits/{huge}"):
        r = client.get(url, headers=headers)
        assert r.status_code in (404, 422), (url, r.status_code, r.text)
    r = client.post("/api/v1/etl/reprocess", headers=headers, json={"integration_id": integration_id,
                                                                    "raw_ids": [huge]})
    refused(r, "raw_ids")
    record = {"external_id": "1", "payload": {"id": "1", "key": "ABC-1", "fields": {"n": 2**64}}}
    r = client.post("/api/v1/etl/raw-data/store", headers=headers,
                    json={"integration_id": integration_id, "entity_type": "jira_issue", "records": [record]})
    refused(r, "records", "payload.fields.n:", "out of range")


def test_a_raw_data_cursor_past_bigint_is_a_422(client, tenant):
    headers, _ = tenant
    for cursor in ("9" * 5000, "²"):
        refused(client.get("/api/v1/etl/raw-data", headers=headers, params={"cursor": cursor}), "cursor")


@pytest.mark.parametrize("number", [b"NaN", b"1e400", b"-Infinity"])
def test_numbers_json_has_no_words_for_are_a_422_not_stored_as_null(client, tenant, number):
    headers, integration_id = tenant
    r = client.patch(f"/api/v1/integrations/{integration_id}", content=b'{"settings": {"x": [%s]}}' % number,
                     headers={**headers, "Content-Type": "application/json"})
    refused(r, "settings", "x[0]:", "not a finite number")


@pytest.mark.parametrize("field", ["payload", "metadata"])
def test_raw_data_nested_too_deep_is_a_422(client, tenant, field):
    headers, integration_id = tenant
    record = {"external_id": "1", "payload": {"id": "1", "key": "ABC-1", "fields": {}}}
    record[field] = {**record.get(field, {}), "deep": nested(300)}
    r = client.post("/api/v1/etl/raw-data/store", headers=headers,
                    json={"integration_id": integration_id, "entity_type": "jira_issue", "records": [record]})
    refused(r, "records", f"{field}.deep.a.a", "nested deeper than 64")


def test_settings_nested_too_deep_is_a_422(client, tenant):
    headers, integration_id = tenant
    r = client.post("/api/v1/integrations", headers=headers,
                    json=jira_body(settings={"projects": ["ABC"], "extra": nested(300)}))
    refused(r, "settings", "extra.a.a", "nested deeper than 64")
    r = client.patch(f"/api/v1/integrations/{integration_id}", headers=headers,
                     json={"settings": {"extra": nested(300)}})
    refused(r, "settings", "extra.a.a", "nested deeper than 64")


def test_json_nested_within_the_limit_is_stored(client, tenant):
    headers, integration_id = tenant
    r = client.patch(f"/api/v1/integrations/{integration_id}", headers=headers,
                     json={"settings": {"extra": nested(60)}})
    assert r.status_code == 200, r.text


# --- schedules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cron, field", [("² * * * *", "minute"), ("0 ٣ * * *", "hour"),
                                         ("*/٣ * * * *", "minute"), ("0 0 1 ¹ *", "month")])
def test_a_cron_field_with_non_ascii_digits_is_a_422_naming_the_field(client, tenant, cron, field):
    headers, integration_id = tenant
    r = client.patch(f"/api/v1/integrations/{integration_id}", headers=headers, json={"schedule": {"cron": cron}})
    refused(r, f"cron {field} field")


@pytest.mark.parametrize("zone", ["A" * 5000, "America", "../etc", "Europe/Paris\u0000", "/etc/passwd",
                                  "Europe/../Europe/Paris", "posixrules ", "."])
def test_an_unknown_time_zone_is_a_422(client, tenant, zone):
    headers, integration_id = tenant
    r = client.patch(f"/api/v1/integrations/{integration_id}", headers=headers,
                     json={"schedule": {"cron": "0 6 * * *", "timezone": zone}})
    text = refused(r)
    assert "unknown time zone" in text or "NUL" in text, text
    assert len(text) < 600, "the message quotes at most a bounded part of the name"


# --- credentials -----------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials, field", [({"email": "bot@example.com", "token": "tok€en"}, "token"),
                                                ({"email": "bøt€@example.com", "token": "tok"}, "email"),
                                                ({"email": "bot@example.com", "token": "токен"}, "token")])
def test_a_credential_that_cannot_go_into_an_http_header_is_a_422(client, tenant, credentials, field):
    headers, integration_id = tenant
    for r in (client.post("/api/v1/integrations", headers=headers, json=jira_body(credentials=credentials)),
              client.patch(f"/api/v1/integrations/{integration_id}", headers=headers,
                           json={"credentials": credentials})):
        text = refused(r, f"credentials' {field}", "HTTP header")
        assert credentials[field] not in text, "the value is never echoed"


# --- bot patterns (finding 4) ----------------------------------------------------------------------


def _transform_pr(login: str, bot_patterns: list[str]):
    """One pull request by `login` through the GitHub transform, as a transform worker runs it."""
    from etl.sources.base import TenantMappings, TransformContext
    from etl.sources.github.streams import PULL
    from etl.sources.github.transform import transform_github

    pr = {"number": 1, "state": "open", "user": {"login": login, "type": "User"},
          "base": {"repo": {"full_name": "acme/api"}, "ref": "main"}, "head": {"ref": "x"},
          "created_at": "2025-09-01T10:00:00Z", "updated_at": "2025-09-01T10:00:00Z"}
    ctx = TransformContext(uuid.uuid4(), uuid.uuid4(), CLOSED_URL, {"bot_patterns": bot_patterns}, TenantMappings())
    result = transform_github(PULL, [(1, "acme/api#1", pr)], ctx)
    assert not result.failures, result.failures
    return result.rows["pull_requests"][0]["author_is_bot"]


def _fastest(runs: int, fn, *args) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args)
        timings.append(time.perf_counter() - start)
    return min(timings)


def test_a_catastrophic_bot_pattern_costs_no_more_than_a_trivial_one():
    """^(a+)+$ against "aaa...a!" backtracks exponentially in Python's re (24 letters: about a
    second, doubling per letter); a linear-time engine answers as fast as for a trivial pattern."""
    login = "a" * 24 + "!"
    trivial = _fastest(5, _transform_pr, login, [r"\[bot\]$"])
    hostile = _fastest(5, _transform_pr, login, [r"^(a+)+$"])
    assert hostile < 50 * trivial, (hostile, trivial)
    long_login = "a" * 10_000 + "!"
    assert _fastest(3, _transform_pr, long_login, [r"^(a+)+$"]) < 50 * _fastest(3, _transform_pr, long_login, ["x"])


@pytest.mark.parametrize("patterns, matches", [
    ([r"\[bot\]$"], {"dependabot[bot]": True, "octocat": False, "bot[bot]x": False}),
    ([r"^dependabot", r"(?i)^renovate"], {"dependabot-preview": True, "Renovate-Bot": True, "octocat": False}),
    ([r"^ci-\d+$"], {"ci-42": True, "ci-x": False}),
])
def test_bot_patterns_keep_their_regular_expression_meaning(patterns, matches):
    for login, expected in matches.items():
        assert _transform_pr(login, patterns) is expected, login


@pytest.mark.parametrize("bot_patterns, words", [
    ([r"(a)\1"], ("bot pattern", "RE2", "backreferences")),
    ([r"(?<!x)bot$"], ("bot pattern", "RE2", "lookaround")),
    (["x" * 201], ("201 characters", "at most 200")),
    ([f"bot{i}" for i in range(51)], ("bot_patterns", "at most 50")),
])
def test_bot_patterns_that_could_stall_a_worker_are_refused(client, tenant, bot_patterns, words):
    headers, _ = tenant
    r = client.post("/api/v1/integrations", headers=headers, json=github_body(bot_patterns=bot_patterns))
    refused(r, *words)
