"""A hostile tenant chooses the URL our API and workers call (issue 8): internal services are never
reached, source bodies are never echoed, stored credentials never move to another host, and
connection tests cannot starve the API.

The suite allows 127.0.0.1 (ETL_SOURCE_ALLOW in conftest.py), where the fake sources listen; the
"internal service" listens on 127.0.0.2, a loopback address nobody allowed."""
from __future__ import annotations

import ipaddress
import json
import socket
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from etl import allowlist
from etl.models import RawExtractionData
from etl.sources import outbound
from etl.sources.http import OutboundRefused
from etl.tenancy.integrations import create_integration
from tests.scopes import session_scope
from tests.waiting import run_sync

EMAIL, TOKEN, NEW_TOKEN = "bot@acme.test", "old-secret-token", "new-secret-token"
SECRET_TEXT = "INTERNAL-ONLY-admin-password-hunter2"


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


class Recorder(ThreadingHTTPServer):
    """An HTTP server that records every request (path, Authorization) and answers with
    `answer(path) -> (status, headers, body bytes)`."""

    daemon_threads = True

    def __init__(self, host: str, answer):
        self.answer = answer
        self.seen: list[tuple[str, str | None]] = []
        super().__init__((host, 0), _RecordingHandler)
        self.url = f"http://{host}:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _RecordingHandler(BaseHTTPRequestHandler):
    def _handle(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        status, headers, body = self.server.answer(self.path)
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


def _json(status: int, data, **headers):
    return status, {"Content-Type": "application/json", **headers}, json.dumps(data).encode()


def _jira_ok(path: str):
    if "/myself" in path:
        return _json(200, {"accountId": "712020:abc", "displayName": "ETL Bot"})
    return _json(200, {"id": "10000", "key": "ABC"})


@pytest.fixture
def servers():
    """servers(host, answer) -> a running Recorder; all stopped after the test."""
    started = []

    def make(host: str, answer=lambda path: _json(200, {"secret": SECRET_TEXT})):
        srv = Recorder(host, answer)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def internal(servers):
    """The internal service: on a loopback address that is not allowed."""
    return servers("127.0.0.2")


def _jira_integration(api_client, key: str, base_url: str, token: str = TOKEN) -> str:
    r = api_client.post("/api/v1/integrations", headers=auth(key), json={
        "provider": "jira", "name": f"jira-{uuid.uuid4().hex[:6]}", "base_url": base_url,
        "credentials": {"email": EMAIL, "token": token}, "settings": {"projects": ["ABC"], "flavor": "cloud"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _db_integration(tenant_id, provider: str, base_url: str, settings: dict):
    with session_scope() as s:
        return create_integration(s, tenant_id, provider, f"{provider}-{uuid.uuid4().hex[:6]}", base_url,
                                  {"email": EMAIL, "token": TOKEN} if provider == "jira" else {"token": TOKEN},
                                  settings).id


# --- the address policy -------------------------------------------------------------------------


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.2", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("172.16.5.4", "private"),
    ("100.64.0.1", "non-public"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("fd00::1", "private"), ("fc00::1", "private"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a00:1", "private"), ("::ffff:169.254.169.254", "link-local"),
    ("8.8.8.8", None), ("2606:4700::1111", None),
])
def test_only_public_addresses_pass(address, kind):
    assert outbound.non_public_kind(ipaddress.ip_address(address)) == kind


def test_allow_list_entries_and_ports(settings_env):
    rules = allowlist.parse_allow_list("10.0.0.0/8, jira.internal:8443,127.0.0.2:9000,[::1]:8080,fd00::/8")
    assert [(str(r.network) if r.network else r.host, r.port) for r in rules] == [
        ("10.0.0.0/8", None), ("jira.internal", 8443), ("127.0.0.2/32", 9000), ("::1/128", 8080), ("fd00::/8", None)]
    for bad in ("jira internal", "10.0.0.0/8:http", "127.0.0.1:70000", "[::1]8080"):
        with pytest.raises(allowlist.InvalidAllowEntry):
            allowlist.parse_allow_list(bad)

    # Allowed by port only: another port of the same address stays refused.
    settings_env(ETL_SOURCE_ALLOW="127.0.0.2:9000")
    assert outbound.checked_addresses("127.0.0.2", 9000) == ["127.0.0.2"]
    with pytest.raises(outbound.Refused, match="loopback"):
        outbound.checked_addresses("127.0.0.2", 9001)

    from pydantic import ValidationError

    from etl.config import Settings

    with pytest.raises(ValidationError, match="'jira internal' is not a CIDR"):
        Settings(source_allow="10.0.0.0/8,jira internal")


# --- finding 1: SSRF ------------------------------------------------------------------------------


def test_connection_test_never_reaches_an_internal_service(api_client, make_tenant, internal):
    _, key = make_tenant()
    integration_id = _jira_integration(api_client, key, internal.url)
    r = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key))
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is False
    assert "refused to connect to 127.0.0.2" in r.json()["error"] and "loopback" in r.json()["error"]
    assert SECRET_TEXT not in r.text
    assert internal.seen == []


@pytest.mark.usefixtures("workers")
def test_sync_never_reaches_an_internal_service(make_tenant, internal):
    tenant_id, _ = make_tenant()
    integration_id = _db_integration(tenant_id, "jira", internal.url, {"projects": ["ABC"], "flavor": "dc"})
    job = run_sync(tenant_id, integration_id)
    assert job.status == "failed"
    assert "refused to connect to 127.0.0.2" in job.error_details["message"], job.error_details
    assert "ETL_SOURCE_ALLOW" in job.error_details["message"]
    assert internal.seen == []
    with session_scope() as s:
        assert s.query(RawExtractionData).filter_by(integration_id=integration_id).count() == 0


def test_redirect_from_an_allowed_source_to_another_host_is_not_followed(api_client, make_tenant, internal, servers):
    redirecting = servers("127.0.0.1", lambda path: (302, {"Location": f"{internal.url}/secret"}, b""))
    _, key = make_tenant()
    integration_id = _jira_integration(api_client, key, redirecting.url)
    r = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key))
    assert r.status_code == 200 and r.json()["ok"] is False
    assert "302: a redirect that is not followed" in r.json()["error"]
    assert internal.seen == [] and [path for path, _ in redirecting.seen] == ["/rest/api/3/myself"]


def test_same_host_redirect_is_followed_with_the_guard(api_client, make_tenant, servers):
    def answer(path):
        if path.startswith("/old/"):
            return 301, {"Location": path.replace("/old/", "/", 1)}, b""
        return _jira_ok(path)

    source = servers("127.0.0.1", answer)
    _, key = make_tenant()
    integration_id = _jira_integration(api_client, key, source.url + "/old")
    r = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key))
    assert r.json() == {"ok": True, "account": "ETL Bot (712020:abc)", "checked": ["project ABC"]}


def test_link_header_to_another_host_is_refused_and_gets_no_token(internal, servers):
    """The REST listing that finds deletions follows Link headers: never to another host."""
    from etl.sources.github.client import GitHubClient

    def answer(path):
        if path.startswith("/repos/acme/api/pulls?"):
            return _json(200, [], Link=f'<{internal.url}/repositories/1/pulls?page=2>; rel="next"')
        return _json(404, {"message": "Not Found"})

    github = servers("127.0.0.1", answer)
    client = GitHubClient(github.url, TOKEN, {"repos": ["acme/api"]}, page_size=50, timeout=5, min_remaining=0)
    with pytest.raises(OutboundRefused) as refused:
        client.list_repo_numbers("acme/api")
    assert f"refused to follow a link to {internal.url}" in refused.value.message
    assert internal.seen == []
    assert [auth for _, auth in github.seen] == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize("base_url, part", [
    ("http://127.0.0.1:9911/secret-text#", "fragment"),
    ("http://127.0.0.1:9911/page?x=1", "query"),
    ("http://127.0.0.1:9911/page?", "query"),
    ("http://admin:pw@127.0.0.1:9911", "user name or password"),
    ("http://127.0.0.1:9911\\@example.com", "backslashes"),
])
def test_base_url_parts_are_refused_by_name(api_client, make_tenant, base_url, part):
    _, key = make_tenant()
    body = {"provider": "jira", "name": "j", "base_url": base_url, "credentials": {"email": EMAIL, "token": TOKEN},
            "settings": {"projects": ["ABC"], "flavor": "cloud"}}
    r = api_client.post("/api/v1/integrations", headers=auth(key), json=body)
    assert r.status_code == 422 and part in r.json()["detail"], r.text
    assert "pw" not in r.json()["detail"]

    integration_id = _jira_integration(api_client, key, "http://127.0.0.1:9911")
    r = api_client.patch(f"/api/v1/integrations/{integration_id}", headers=auth(key),
                         json={"base_url": base_url, "credentials": {"email": EMAIL, "token": TOKEN}})
    assert r.status_code == 422 and part in r.json()["detail"], r.text


# --- "source bodies are never echoed" ---------------------------------------------------------------


@pytest.mark.usefixtures("workers")
def test_non_json_error_bodies_are_never_echoed(api_client, make_tenant, servers):
    page = f"<html><body>{SECRET_TEXT}</body></html>".encode()
    source = servers("127.0.0.1", lambda path: (403, {"Content-Type": "text/html"}, page))
    tenant_id, key = make_tenant()
    integration_id = _jira_integration(api_client, key, source.url)

    r = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key))
    assert r.json()["ok"] is False and SECRET_TEXT not in r.text
    assert f"the server at 127.0.0.1:{source.server_address[1]} answered HTTP 403 with a non-JSON body" in r.json()["error"]

    job = run_sync(tenant_id, uuid.UUID(integration_id))
    assert job.status == "failed"
    assert SECRET_TEXT not in json.dumps(job.error_details)
    assert "answered HTTP 403 with a non-JSON body" in job.error_details["message"]


def test_structured_source_errors_are_kept_and_capped(api_client, make_tenant, servers):
    source = servers("127.0.0.1", lambda path: _json(401, {"errorMessages": ["You are not authenticated. " + "x" * 500]}))
    _, key = make_tenant()
    integration_id = _jira_integration(api_client, key, source.url)
    error = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key)).json()["error"]
    assert "You are not authenticated. xxx" in error and "x" * 300 not in error


# --- finding 2: stored credentials cannot be moved ------------------------------------------------------


def test_moving_the_host_needs_credentials_and_the_old_token_never_reaches_it(api_client, make_tenant, servers):
    old_host, new_host = servers("127.0.0.1", _jira_ok), servers("127.0.0.1", _jira_ok)
    _, key = make_tenant()
    integration_id = _jira_integration(api_client, key, old_host.url)
    path = f"/api/v1/integrations/{integration_id}"

    for moved in (new_host.url, new_host.url.replace("http://", "https://"), new_host.url + "/jira"):
        r = api_client.patch(path, headers=auth(key), json={"base_url": moved})
        assert r.status_code == 422, r.text
        assert "send the credentials for it in the same request" in r.json()["detail"]
    assert api_client.post(f"{path}/test", headers=auth(key)).json()["ok"] is True  # still the old host
    assert new_host.seen == []

    # Same host, another path: the credentials stay.
    assert api_client.patch(path, headers=auth(key), json={"base_url": old_host.url + "/jira"}).status_code == 200

    r = api_client.patch(path, headers=auth(key),
                         json={"base_url": new_host.url, "credentials": {"email": EMAIL, "token": NEW_TOKEN}})
    assert r.status_code == 200, r.text
    assert api_client.post(f"{path}/test", headers=auth(key)).json()["ok"] is True
    import base64

    sent = {base64.b64decode(value.split()[1]).decode() for _, value in new_host.seen}
    assert sent == {f"{EMAIL}:{NEW_TOKEN}"}


# --- finding 3: connection tests cannot starve the API ---------------------------------------------------


class Silent:
    """Accepts connections and never answers (a source that hangs)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def stop(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def api_server(database):
    """The API on a real uvicorn server in a thread (requests in parallel, as in production)."""
    import uvicorn

    from api.main import app

    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(30)


def test_hanging_connection_tests_do_not_slow_other_tenants(api_server, make_tenant):
    silent = Silent()
    hostile_tenant, hostile_key = make_tenant()
    hostile_path = f"{api_server}/api/v1/integrations/" + str(_db_integration(
        hostile_tenant, "jira", silent.url, {"projects": ["ABC"], "flavor": "cloud"})) + "/test"
    _, other_key = make_tenant()
    listing = f"{api_server}/api/v1/integrations"

    def latency(timeout: float) -> float:
        t0 = time.perf_counter()
        try:
            assert requests.get(listing, headers=auth(other_key), timeout=timeout).status_code == 200
        except requests.Timeout:
            return float("inf")
        return time.perf_counter() - t0

    idle = statistics.median(latency(30) for _ in range(7))
    pool = ThreadPoolExecutor(48)
    try:
        hostile = [pool.submit(requests.post, hostile_path, headers=auth(hostile_key), timeout=60) for _ in range(48)]
        deadline = time.monotonic() + 30
        while len(silent.conns) < 2:  # the tests hang at the source
            assert time.monotonic() < deadline, "no connection test reached the silent source"
            time.sleep(0.05)
        busy = statistics.median(latency(max(1.0, 50 * idle)) for _ in range(7))
        assert not all(f.done() for f in hostile), "the hanging tests ended before the measurement"
        ratio = busy / idle
        assert ratio < 10, f"GET /integrations took {busy * 1000:.0f} ms under 48 hanging connection tests, " \
                           f"{ratio:.0f}x its idle {idle * 1000:.1f} ms"
        statuses = [f.result().status_code for f in hostile if f.done()]
        assert statuses and set(statuses) == {429}
        assert "already running" in next(f.result() for f in hostile if f.done()).json()["detail"]
    finally:
        silent.stop()  # the hanging checks now fail fast
        pool.shutdown(wait=True)
