"""The shared HTTP layer classifies every answer once (etl/sources/http.py), with the source's rate
limit policy; and each source's declared streams and defaults answer what callers ask. Against a
small local server: no database, broker or fake source needed."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from etl.models import Integration
from etl.sources.base import Connector, Source, StreamSpec
from etl.sources.github.client import rate_limits
from etl.sources.http import FatalError, HttpClient, OutboundRefused, RateLimited, RetriableError
from etl.sources.jira.client import JiraClient
from etl.sources.registry import PROVIDERS, get_source


class Answers(BaseHTTPRequestHandler):
    """Answers every request with the server's next (status, headers, body), and records the path
    and query it was asked."""

    def do_GET(self):
        self.server.asked.append((urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)))
        status, headers, body = self.server.answer
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    srv.asked, srv.answer = [], (200, {}, {})
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def classify(server, status: int, headers: dict | None = None, policy=None, body=None):
    server.answer = (status, headers or {}, body if body is not None else {"message": "nope"})
    client = HttpClient(server.url, {}, timeout=5, **({"rate_limits": policy} if policy else {}))
    try:
        return client.request("GET", "/x")
    finally:
        client.close()


@pytest.mark.parametrize("status, headers, expected, retry_after", [
    (200, {}, None, None),
    (429, {}, RetriableError, None),
    (429, {"Retry-After": "7"}, RetriableError, 7),
    (503, {}, RetriableError, None),
    (403, {"Retry-After": "7"}, FatalError, None),  # Jira: a 403 is never a rate limit
    (401, {}, FatalError, None),
    (404, {}, FatalError, None),
    (302, {"Location": "http://example.com/"}, OutboundRefused, None),
    (304, {}, FatalError, None),  # no request is conditional: a 304 is an answer nothing can use
])
def test_default_policy(server, status, headers, expected, retry_after):
    if expected is None:
        assert classify(server, status, headers).status == 200
        return
    with pytest.raises(expected) as caught:
        classify(server, status, headers)
    assert type(caught.value) is expected
    assert caught.value.status == status
    if retry_after is not None:
        assert caught.value.retry_after == pytest.approx(retry_after)
    if status in (401, 404, 429, 503):
        assert caught.value.message == f"GET {server.url}/x -> {status}: nope"


@pytest.mark.parametrize("status, headers, expected, retry_after", [
    (403, {"retry-after": "5"}, RetriableError, 5),  # a secondary limit
    (429, {"retry-after": "5"}, RetriableError, 5),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "RESET"}, RateLimited, 31),
    (429, {}, RetriableError, 60),
    (403, {"x-ratelimit-remaining": "12"}, FatalError, None),  # a permission problem
    (500, {}, RetriableError, None),
])
def test_github_policy(server, status, headers, expected, retry_after):
    headers = {k: str(int(time.time()) + 30) if v == "RESET" else v for k, v in headers.items()}
    with pytest.raises(expected) as caught:
        classify(server, status, headers, policy=rate_limits(min_remaining=0))
    assert type(caught.value) is expected
    if retry_after is None:
        assert caught.value.retry_after is None if isinstance(caught.value, RetriableError) else True
    else:
        assert caught.value.retry_after == pytest.approx(retry_after, abs=1.5)


def test_github_budget_reserve_is_never_spent(server):
    reset = int(time.time()) + 100
    server.answer = (200, {"x-ratelimit-remaining": "5", "x-ratelimit-reset": str(reset)}, [])
    client = HttpClient(server.url, {}, timeout=5, rate_limits=rate_limits(min_remaining=5))
    try:
        client.request("GET", "/x")
        with pytest.raises(RateLimited) as caught:
            client.request("GET", "/y")
    finally:
        client.close()
    assert caught.value.message == "GitHub rate limit nearly spent (5 left); waiting for the reset"
    assert 90 < caught.value.retry_after <= 102
    assert [path for path, _ in server.asked] == ["/x"]  # the second request was never made


@pytest.mark.parametrize("flavor, path, page", [
    ("cloud", "/rest/api/3/search/jql", {"token": "T2"}),
    ("dc", "/rest/api/2/search", {"start_at": 100}),
])
def test_jira_search_requests_are_built_in_one_place(server, flavor, path, page):
    """A sync's page, the id listing, the JQL scope check: one path per flavor, and paging
    parameters only where a cursor is."""
    client = JiraClient(server.url, {"token": "t"}, {"projects": ["ABC"], "flavor": flavor}, page_size=50)
    try:
        client.search({"jql": "x", "fields": "id", "maxResults": 1})
        client.search({"jql": "x", "fields": "id", "maxResults": 1}, {})
        client.search({"jql": "x", "fields": "id", "maxResults": 1}, page)
    finally:
        client.close()
    assert {p for p, _ in server.asked} == {path}
    queries = [{k: v[0] for k, v in q.items()} for _, q in server.asked]
    base = {"jql": "x", "fields": "id", "maxResults": "1"}
    if flavor == "cloud":
        assert queries == [base, base, {**base, "nextPageToken": "T2"}]
    else:
        assert queries == [base, {**base, "startAt": "0"}, {**base, "startAt": "100"}]


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_every_source_declares_what_callers_ask(provider, server):
    source = get_source(provider)
    assert isinstance(source, Source) and source.provider == provider
    assert source.reconciles and source.entity_types[0] == source.stream_specs[0].entity_type
    probe = Integration(provider=provider, base_url=server.url, settings={})
    connector = source.connect(probe, {"token": "t"})
    try:
        assert isinstance(connector, Connector)
    finally:
        connector.close()


def test_defaults_of_a_minimal_source():
    """A source that overrides only what it must: no deletions, no derived columns, missing ids
    taken as gone."""
    class Minimal(Connector):
        def fetch_page(self, stream, cursor, state): ...
        def check_connection(self, within): return {"ok": True, "account": "a", "checked": []}
        def close(self): ...

    class MinimalSource(Source):
        provider, entity_types = "minimal", ("thing",)
        stream_specs = (StreamSpec(name="things", entity_type="thing", path="/things", paginator=None),)
        load_specs = []
        def streams(self, integration, entity_types): return ["things"]
        def first_cursor(self, stream, since): return {}
        def connect(self, integration, credentials): return Minimal()
        def transform(self, entity_type, raw, ctx): ...
        def validate_settings(self, credentials, settings): ...
        def identity_problem(self, entity_type, external_id, payload): ...

    source = MinimalSource()
    assert not source.reconciles and source.reconcile_table("things") is None
    assert source.after_load(None, {}, None, None) is None
    assert Minimal().confirm_missing(["1", "2"]) == {"1", "2"}
    with pytest.raises(NotImplementedError):
        Minimal().list_ids("things")
    assert source.check_connection(None, {}, 1.0) == {"ok": True, "account": "a", "checked": []}
