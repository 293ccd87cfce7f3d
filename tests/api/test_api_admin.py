"""The tenant admin's API on the real database, against the fake Jira and GitHub: API keys and their
lifecycle, admin keys and tenants, JWTs, integration changes, connection tests and deletion, the
key rotation of stored credentials (and of webhooks' secrets and URLs), and source credentials
that never come back out: not in a response, a log line, a job's error, a worker's log or the raw
layer."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text, update

from etl.crypto import CredentialsError, encrypt_credentials
from etl.models import ApiKey, EtlJob, EtlTaskRun, Integration, RawExtractionData, WebhookSubscription, Wit
from etl.notify import events, outbox, sending, subscriptions
from etl.notify.secrets import secret_of, url_of
from etl.tenancy.integrations import create_integration, credentials_of
from etl.tenancy.keys import issue_api_key
from tests.notify.receiver import Receiver
from tests.scopes import session_scope
from tests.waiting import wait_for_job

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-" + uuid.uuid4().hex  # source tokens that cannot appear anywhere by chance
EMAIL = f"etl-{uuid.uuid4().hex[:8]}@example.com"
WRONG_TOKEN = "wrong-" + uuid.uuid4().hex
GH_TOKEN = "ghp_" + uuid.uuid4().hex
JWT_SECRET = "jwt-secret-" + uuid.uuid4().hex  # 43 bytes: long enough for HS256
CLOSED_URL = "http://127.0.0.1:1"  # nothing listens here


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def secrets_of(*tokens: str, email: str = EMAIL) -> list[str]:
    """Every form a credential could leak in: the token itself and Jira Cloud's basic-auth value."""
    out = []
    for token in tokens:
        out += [token, base64.b64encode(f"{email}:{token}".encode()).decode()]
    return out


def assert_no_secret(text: str, *tokens: str) -> None:
    for secret in secrets_of(*tokens):
        assert secret not in text


def admin_key(make_tenant) -> tuple[uuid.UUID, str]:
    tenant_id, _ = make_tenant()
    with session_scope() as s:
        return tenant_id, issue_api_key(s, tenant_id, name="ops", is_admin=True).secret


def etl_cli(*args: str, env: dict | None = None) -> tuple[int, dict, str]:
    script = Path(sys.executable).parent / "etl"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "etl.cli"]
    proc = subprocess.run([*command, *args, "--json"], cwd=ROOT, env=env or os.environ.copy(), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got {proc.stdout!r} (stderr {proc.stderr!r})"
    return proc.returncode, json.loads(lines[0]), proc.stderr


# --- API keys --------------------------------------------------------------------------------


def test_api_key_lifecycle(api_client, make_tenant, db):
    tenant_id, first_key = make_tenant()
    _, other_key = make_tenant()
    h = auth(first_key)

    r = api_client.post("/api/v1/api-keys", json={"name": "dashboard"}, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["key"]
    assert secret.startswith("pk_") and created["prefix"] == secret[:10]
    assert (created["name"], created["is_admin"], created["revoked_at"]) == ("dashboard", False, None)
    # Only the hash is stored.
    row = db.get(ApiKey, uuid.UUID(created["id"]))
    assert row.tenant_id == tenant_id and row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps({c.name: str(getattr(row, c.name)) for c in ApiKey.__table__.columns})

    # The new key works; listings never carry a secret.
    r = api_client.get("/api/v1/api-keys", headers=auth(secret))
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [k["name"] for k in listed] == ["default", "dashboard"]
    assert all(set(k) == {"id", "name", "prefix", "is_admin", "scopes", "created_at", "revoked_at"} for k in listed)
    assert secret not in r.text and first_key not in r.text

    # Another tenant's key id is not found, and stays usable.
    other_id = api_client.get("/api/v1/api-keys", headers=auth(other_key)).json()[0]["id"]
    r = api_client.delete(f"/api/v1/api-keys/{other_id}", headers=h)
    assert r.status_code == 404 and r.json() == {"detail": f"API key {other_id} not found"}
    assert api_client.get("/api/v1/api-keys", headers=auth(other_key)).status_code == 200
    assert api_client.delete(f"/api/v1/api-keys/{uuid.uuid4()}", headers=h).status_code == 404

    # Revoked: refused from then on, listed with when.
    r = api_client.delete(f"/api/v1/api-keys/{created['id']}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None and "key" not in r.json()
    r = api_client.get("/api/v1/integrations", headers=auth(secret))
    assert r.status_code == 401 and r.json() == {"detail": "invalid or revoked API key"}
    assert {k["name"]: k["revoked_at"] is not None for k in api_client.get("/api/v1/api-keys", headers=h).json()} == {
        "default": False, "dashboard": True}
    # A tenant key cannot make itself an admin key.
    r = api_client.post("/api/v1/api-keys", json={"name": "x", "is_admin": True}, headers=h)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert api_client.post("/api/v1/api-keys", json={"name": ""}, headers=h).status_code == 422


def test_tenants_need_an_admin_key(api_client, make_tenant, db):
    _, tenant_key = make_tenant()
    _, admin = admin_key(make_tenant)
    name = f"acme-{uuid.uuid4().hex[:8]}"

    for method, path in (("post", "/api/v1/tenants"), ("get", "/api/v1/tenants"),
                         ("get", f"/api/v1/tenants/{uuid.uuid4()}")):
        r = api_client.request(method.upper(), path, json={"name": name} if method == "post" else None,
                               headers=auth(tenant_key))
        assert r.status_code == 403, (path, r.text)
        assert "needs an admin API key" in r.json()["detail"]
    assert api_client.get("/api/v1/tenants").status_code == 401

    r = api_client.post("/api/v1/tenants", json={"name": name}, headers=auth(admin))
    assert r.status_code == 201, r.text
    tenant = r.json()
    new_key = tenant["api_key"]["key"]
    assert tenant["name"] == name and tenant["api_key"]["is_admin"] is False and new_key.startswith("pk_")
    tenant_id = uuid.UUID(tenant["id"])
    # Default mappings, and a first key that works for the new tenant only (and is not an admin key).
    assert db.scalar(select(func.count()).select_from(Wit).where(Wit.tenant_id == tenant_id)) > 0
    assert api_client.get("/api/v1/integrations", headers=auth(new_key)).json() == []
    assert api_client.get("/api/v1/tenants", headers=auth(new_key)).status_code == 403

    listed = api_client.get("/api/v1/tenants", headers=auth(admin))
    assert listed.status_code == 200 and new_key not in listed.text
    assert {"id": tenant["id"], "name": name, "created_at": tenant["created_at"]} in listed.json()
    r = api_client.get(f"/api/v1/tenants/{tenant['id']}", headers=auth(admin))
    assert r.status_code == 200 and r.json()["name"] == name and new_key not in r.text
    missing = uuid.uuid4()
    r = api_client.get(f"/api/v1/tenants/{missing}", headers=auth(admin))
    assert r.status_code == 404 and r.json() == {"detail": f"tenant {missing} not found"}

    r = api_client.post("/api/v1/tenants", json={"name": name}, headers=auth(admin))
    assert r.status_code == 409 and r.json() == {"detail": f"a tenant named {name!r} already exists"}
    assert api_client.post("/api/v1/tenants", json={"name": "   "}, headers=auth(admin)).status_code == 422
    # An admin key is still its own tenant's key everywhere else.
    assert api_client.get("/api/v1/integrations", headers=auth(admin)).status_code == 200


# --- JWT ---------------------------------------------------------------------------------------


def make_jwt(claims: dict, secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    """Expiring in 5 minutes unless the claims say otherwise (`"exp": None` leaves it out)."""
    claims = {"exp": datetime.now(timezone.utc) + timedelta(minutes=5), **claims}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def test_jwt_selects_the_tenant_when_configured(api_client, make_tenant, settings_env):
    tenant_id, key = make_tenant()
    other_tenant, other_key = make_tenant()
    r = api_client.post("/api/v1/integrations", headers=auth(key), json={
        "provider": "jira", "name": "mine", "base_url": CLOSED_URL, "credentials": {"token": TOKEN},
        "settings": {"projects": ["ABC"], "flavor": "dc"}})
    mine = r.json()["id"]
    theirs = api_client.post("/api/v1/integrations", headers=auth(other_key), json={
        "provider": "jira", "name": "theirs", "base_url": CLOSED_URL, "credentials": {"token": TOKEN},
        "settings": {"projects": ["ABC"], "flavor": "dc"}}).json()["id"]
    now = datetime.now(timezone.utc)
    good = make_jwt({"tenant_id": str(tenant_id), "exp": now + timedelta(minutes=5)})

    # Disabled unless ETL_JWT_SECRET is set: said so.
    settings_env(ETL_JWT_SECRET=None)
    r = api_client.get("/api/v1/integrations", headers=auth(good))
    assert r.status_code == 401 and "ETL_JWT_SECRET is not set" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"

    settings_env(ETL_JWT_SECRET=JWT_SECRET)
    r = api_client.get("/api/v1/integrations", headers=auth(good))
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()] == [mine]
    assert api_client.get(f"/api/v1/integrations/{theirs}", headers=auth(good)).status_code == 404
    # A JWT is a tenant's, never an admin's.
    assert api_client.get("/api/v1/tenants", headers=auth(good)).status_code == 403
    # API keys still work beside JWTs.
    assert api_client.get("/api/v1/integrations", headers=auth(key)).status_code == 200

    cases = [
        (make_jwt({"tenant_id": str(tenant_id)}, secret="another-secret-" + "x" * 32), "signature is invalid"),
        (make_jwt({"tenant_id": str(tenant_id), "exp": now - timedelta(minutes=1)}), "JWT expired"),
        (make_jwt({"sub": "someone", "exp": now + timedelta(minutes=5)}), "no tenant_id claim"),
        (make_jwt({"tenant_id": "acme"}), "not a tenant id"),
        (make_jwt({"tenant_id": str(uuid.uuid4())}), "names no tenant"),
        (make_jwt({"tenant_id": str(tenant_id), "nbf": now + timedelta(hours=1)}), "not valid yet"),
        (make_jwt({"tenant_id": str(tenant_id)}, secret=JWT_SECRET * 2, algorithm="HS512"), "HS256"),
        ("abc.def.ghi", "JWT is malformed"),
    ]
    for token, expected in cases:
        r = api_client.get("/api/v1/integrations", headers=auth(token))
        assert r.status_code == 401, (expected, r.text)
        assert expected in r.json()["detail"], r.json()
        assert JWT_SECRET not in r.text
    assert other_tenant != tenant_id


# --- integrations: change, test, delete ----------------------------------------------------------


def test_patch_credentials_then_test_against_the_fake(api_client, fake_jira, make_tenant, db):
    fake = fake_jira(issues=5, projects=("ABC", "OPS"), email=EMAIL, token=TOKEN)
    tenant_id, key = make_tenant()
    h = auth(key)
    r = api_client.post("/api/v1/integrations", headers=h, json={
        "provider": "jira", "name": "jira", "base_url": fake.url,
        "credentials": {"email": EMAIL, "token": WRONG_TOKEN}, "settings": {"projects": ["ABC"], "flavor": "cloud"}})
    assert r.status_code == 201, r.text
    integ = r.json()
    path = f"/api/v1/integrations/{integ['id']}"

    # Wrong token: ok=false with Jira's own message and what to fix.
    r = api_client.post(f"{path}/test", headers=h)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"ok", "error"} and r.json()["ok"] is False
    error = r.json()["error"]
    assert "rejected the credentials" in error and "You are not authenticated" in error
    assert "check the email and API token" in error

    # New credentials (and a schedule in the same call): re-encrypted, then the test passes. (Disabled,
    # so that the scheduling tests' dispatcher never picks this integration up.)
    before = db.scalar(select(Integration.credentials_encrypted).where(Integration.id == uuid.UUID(integ["id"])))
    r = api_client.patch(path, headers=h, json={"credentials": {"email": EMAIL, "token": TOKEN},
                                                "schedule": {"every_minutes": 30}, "enabled": False})
    assert r.status_code == 200, r.text
    assert (r.json()["schedule_interval_minutes"], r.json()["enabled"]) == (30, False)
    db.expire_all()
    row = db.get(Integration, uuid.UUID(integ["id"]))
    assert row.credentials_encrypted != before and TOKEN not in row.credentials_encrypted
    assert credentials_of(row) == {"email": EMAIL, "token": TOKEN}
    r = api_client.post(f"{path}/test", headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "account": r.json()["account"], "checked": ["project ABC"]}
    assert r.json()["account"].startswith("ETL Bot (")

    # Settings are merged: flavor and the rest stay; an unknown project is named by the test.
    r = api_client.patch(path, headers=h, json={"settings": {"projects": ["ABC", "NOPE"]}, "name": "jira-2"})
    assert r.status_code == 200, r.text
    assert r.json()["settings"] == {"projects": ["ABC", "NOPE"], "flavor": "cloud"}
    assert r.json()["name"] == "jira-2" and r.json()["schedule_interval_minutes"] == 30
    r = api_client.post(f"{path}/test", headers=h).json()
    assert r["ok"] is False and "project NOPE not found" in r["error"]
    assert "No project could be found with key 'NOPE'" in r["error"]
    r = api_client.patch(path, headers=h, json={"settings": {"projects": ["OPS"], "story_points_field": None}})
    assert r.json()["settings"] == {"projects": ["OPS"], "flavor": "cloud"}
    assert api_client.post(f"{path}/test", headers=h).json()["checked"] == ["project OPS"]

    # Invalid changes are refused with the reason, and change nothing.
    for body, status, expected in (
        ({"settings": {"projects": ["not a key"]}}, 422, "is not a Jira project key"),
        ({"base_url": "ftp://jira"}, 422, "must start with http:// or https://"),
        ({"name": " "}, 422, "integration name must not be empty"),
        ({"credentials": {"email": EMAIL, "token": TOKEN + "\n"}}, 422, "line breaks"),
        ({"name": None}, 422, "name cannot be null"),
        ({"schedule": {"cron": "* 25 * * *"}, "credentials": {"token": WRONG_TOKEN}}, 422, "hour"),
    ):
        r = api_client.patch(path, headers=h, json=body)
        assert r.status_code == status, (body, r.text)
        assert expected in r.json()["detail"], r.json()
    db.expire_all()
    row = db.get(Integration, uuid.UUID(integ["id"]))
    assert (row.name, row.base_url, row.settings["projects"]) == ("jira-2", fake.url, ["OPS"])
    assert credentials_of(row) == {"email": EMAIL, "token": TOKEN}
    r = api_client.patch(path, headers=h, json={"credentials": {"email": EMAIL}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "credentials", "token"]
    r = api_client.patch(path, headers=h, json={"provider": "github"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "provider"]

    # Renaming onto another integration's name is a conflict.
    api_client.post("/api/v1/integrations", headers=h, json={
        "provider": "jira", "name": "taken", "base_url": fake.url, "credentials": {"token": TOKEN},
        "settings": {"projects": ["ABC"], "flavor": "dc"}})
    r = api_client.patch(path, headers=h, json={"name": "taken"})
    assert r.status_code == 409 and r.json() == {"detail": "an integration named 'taken' already exists"}

    # A source that cannot be reached is an answer too, never a 500.
    r = api_client.patch(path, headers=h, json={"base_url": CLOSED_URL, "credentials": {"email": EMAIL, "token": TOKEN}})
    assert r.status_code == 200
    r = api_client.post(f"{path}/test", headers=h)
    assert r.status_code == 200 and r.json()["ok"] is False
    assert "cannot check Jira at http://127.0.0.1:1" in r.json()["error"]

    # Another tenant's integration: 404 for every route.
    _, other_key = make_tenant()
    for method in ("PATCH", "DELETE", "POST"):
        r = api_client.request(method, path + ("/test" if method == "POST" else ""), headers=auth(other_key),
                               json={"name": "x"} if method == "PATCH" else None)
        assert r.status_code == 404, method
        assert r.json() == {"detail": f"integration {integ['id']} not found"}


def test_github_test_and_patch(api_client, github_integration):
    tenant_id, key, integration_id, fake = github_integration(repos={"acme/api": 3, "acme/web": 2},
                                                              tokens=(GH_TOKEN,))
    h = auth(key)
    path = f"/api/v1/integrations/{integration_id}"
    r = api_client.post(f"{path}/test", headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "account": "pulse-bot", "checked": ["repository acme/api", "repository acme/web"]}

    r = api_client.patch(path, headers=h, json={"credentials": {"token": WRONG_TOKEN}})
    assert r.status_code == 200, r.text
    r = api_client.post(f"{path}/test", headers=h).json()
    assert r["ok"] is False and "Bad credentials" in r["error"] and "rejected the token" in r["error"]

    r = api_client.patch(path, headers=h, json={"credentials": {"token": GH_TOKEN},
                                                "settings": {"repos": ["acme/api", "acme/nope"]}})
    assert r.status_code == 200, r.text
    r = api_client.post(f"{path}/test", headers=h).json()
    assert r["ok"] is False and "repository acme/nope not found" in r["error"]
    r = api_client.patch(path, headers=h, json={"settings": {"repos": ["not a repo"]}})
    assert r.status_code == 422 and "owner/name" in r.json()["detail"]


def test_delete_refuses_an_active_job(api_client, make_tenant, db):
    tenant_id, key = make_tenant()
    h = auth(key)
    integ = api_client.post("/api/v1/integrations", headers=h, json={
        "provider": "jira", "name": "jira", "base_url": CLOSED_URL, "credentials": {"token": TOKEN},
        "settings": {"projects": ["ABC"], "flavor": "dc"}}).json()
    integration_id = uuid.UUID(integ["id"])
    job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="running", trigger="api")
    db.add(job)
    db.commit()
    job_id = job.id

    r = api_client.delete(f"/api/v1/integrations/{integ['id']}", headers=h)
    assert r.status_code == 409, r.text
    assert r.json() == {"detail": f"integration {integ['id']} has an active job {job_id}; cancel it or wait for it "
                                  "to end, then delete", "job_id": str(job_id)}
    assert api_client.get(f"/api/v1/integrations/{integ['id']}", headers=h).status_code == 200

    db.execute(update(EtlJob).where(EtlJob.id == job_id).values(status="cancelled"))
    db.commit()
    r = api_client.delete(f"/api/v1/integrations/{integ['id']}", headers=h)
    assert r.status_code == 204 and r.content == b""
    assert api_client.get(f"/api/v1/integrations/{integ['id']}", headers=h).status_code == 404
    assert api_client.delete(f"/api/v1/integrations/{integ['id']}", headers=h).status_code == 404
    db.expire_all()
    assert db.get(EtlJob, job_id) is None  # its jobs went with it


# --- credentials never come back out -------------------------------------------------------------


def test_credentials_never_in_responses_or_logs(api_client, fake_jira, make_tenant, caplog):
    fake = fake_jira(issues=5, projects=("ABC",), email=EMAIL, token=TOKEN)
    _, key = make_tenant()
    h = auth(key)
    caplog.set_level(logging.DEBUG)
    responses = []

    def call(method, path, **kw):
        r = api_client.request(method, path, headers=h, **kw)
        responses.append(r)
        return r

    body = {"provider": "jira", "name": "jira", "base_url": fake.url,
            "credentials": {"email": EMAIL, "token": WRONG_TOKEN}, "settings": {"projects": ["ABC"]}}
    integ = call("POST", "/api/v1/integrations", json=body).json()
    path = f"/api/v1/integrations/{integ['id']}"
    call("POST", "/api/v1/integrations", json=body)  # 409: the name exists
    call("POST", "/api/v1/integrations", json={**body, "name": "x", "settings": {"projects": ["bad key"]}})  # 422
    call("POST", "/api/v1/integrations", json={**body, "settings": {"projects": ["ABC"], "flavor": "x"}})  # 422
    call("GET", "/api/v1/integrations")
    call("GET", path)
    call("POST", f"{path}/test")  # ok=false: the wrong token
    call("PATCH", path, json={"credentials": {"email": EMAIL, "token": TOKEN}, "settings": {"flavor": "cloud"}})
    call("PATCH", path, json={"credentials": {"email": EMAIL, "token": WRONG_TOKEN + " "}})  # 422
    call("PATCH", path, json={"credentials": {"token": TOKEN, "extra": TOKEN}})  # 422 from the schema
    call("PATCH", path, json={"credentials": {"email": EMAIL, "token": TOKEN}, "schedule": {"cron": "nope"}})
    call("POST", f"{path}/test")  # ok=true
    call("GET", path)

    assert [r.status_code for r in responses] == [201, 409, 422, 422, 200, 200, 200, 200, 422, 422, 422, 200, 200]
    assert responses[6].json()["ok"] is False and responses[11].json()["ok"] is True
    for r in responses:
        assert_no_secret(r.text, TOKEN, WRONG_TOKEN)
        assert EMAIL not in r.text
    log_text = caplog.text + "".join(str(rec.args) for rec in caplog.records)
    assert_no_secret(log_text, TOKEN, WRONG_TOKEN)
    assert any("changed: settings, credentials" in rec.getMessage() for rec in caplog.records)




def test_credentials_never_in_job_errors_worker_logs_or_raw_data(api_client, jira_integration, workers, db):
    tenant_id, key, integration_id, fake = jira_integration(issues=20, projects=("ABC",), email=EMAIL, token=TOKEN)
    h = auth(key)
    path = f"/api/v1/integrations/{integration_id}"
    # The source refuses these credentials: the job fails with Jira's message, and nothing of them.
    assert api_client.patch(path, headers=h, json={"credentials": {"email": EMAIL, "token": WRONG_TOKEN}}).status_code == 200
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)}, headers=h)
    assert r.status_code == 202, r.text
    job = wait_for_job(uuid.UUID(r.json()["job_id"]))
    assert job.status == "failed"
    assert job.error_details["status"] == 401 and "You are not authenticated" in job.error_details["message"]
    detail = api_client.get(f"/api/v1/etl/jobs/{job.id}", headers=h)
    assert detail.status_code == 200 and detail.json()["error_details"] == job.error_details
    assert_no_secret(detail.text + json.dumps(job.error_details), WRONG_TOKEN)
    runs = db.scalars(select(EtlTaskRun.error).where(EtlTaskRun.job_id == job.id)).all()
    assert runs and any(runs)
    assert_no_secret(" ".join(e or "" for e in runs), WRONG_TOKEN)

    # Good credentials: a full sync; the raw layer holds payloads, not credentials.
    assert api_client.patch(path, headers=h, json={"credentials": {"email": EMAIL, "token": TOKEN}}).status_code == 200
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)}, headers=h)
    job = wait_for_job(uuid.UUID(r.json()["job_id"]))
    assert job.status == "succeeded", job.error_details
    raw = db.execute(text("SELECT count(*), string_agg(raw_data::text || extraction_metadata::text || "
                          "coalesce(error_details::text, ''), ' ') FROM raw_extraction_data "
                          "WHERE integration_id = :i"), {"i": integration_id}).one()
    assert raw[0] == 20
    assert_no_secret(raw[1], TOKEN, WRONG_TOKEN)
    for log_file in workers.logdir.glob("worker-*.log"):
        assert_no_secret(log_file.read_text(errors="replace"), TOKEN, WRONG_TOKEN)

    # Deleting the integration takes its synced data with it.
    assert api_client.delete(path, headers=h).status_code == 204
    assert db.scalar(select(func.count()).select_from(RawExtractionData)
                     .where(RawExtractionData.integration_id == integration_id)) == 0


def test_github_tokens_never_in_job_errors_or_worker_logs(api_client, github_integration, workers, db):
    """The same for a GitHub integration: a refused token and a good one, through real workers."""
    tenant_id, key, integration_id, fake = github_integration(repos={"acme/api": 4}, tokens=(GH_TOKEN,))
    h = auth(key)
    path = f"/api/v1/integrations/{integration_id}"
    wrong = "ghp_" + uuid.uuid4().hex  # shaped like a real token, refused by the fake
    assert api_client.patch(path, headers=h, json={"credentials": {"token": wrong}}).status_code == 200
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)}, headers=h)
    job = wait_for_job(uuid.UUID(r.json()["job_id"]))
    assert job.status == "failed" and job.error_details["status"] == 401
    runs = db.scalars(select(EtlTaskRun.error).where(EtlTaskRun.job_id == job.id)).all()
    assert_no_secret(json.dumps(job.error_details) + " ".join(e or "" for e in runs), wrong, GH_TOKEN)

    assert api_client.patch(path, headers=h, json={"credentials": {"token": GH_TOKEN}}).status_code == 200
    r = api_client.post("/api/v1/etl/pipeline/trigger", json={"integration_id": str(integration_id)}, headers=h)
    job = wait_for_job(uuid.UUID(r.json()["job_id"]))
    assert job.status == "succeeded", job.error_details
    for log_file in workers.logdir.glob("worker-*.log"):
        assert_no_secret(log_file.read_text(errors="replace"), GH_TOKEN, wrong)


# --- key rotation ------------------------------------------------------------------------------


def _tenant_name(db, tenant_id: uuid.UUID) -> str:
    return db.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar_one()


def _add_webhook(tenant_id: uuid.UUID, name: str, url: str) -> tuple[uuid.UUID, str]:
    """(its id, its signing secret), encrypted with the first key of ETL_SECRET_KEY as the API would."""
    with session_scope() as s:
        created = subscriptions.create(s, tenant_id, name, url, ["job.failed"])
        return created.subscription.id, created.secret


def _stored_webhook(webhook_id: uuid.UUID) -> WebhookSubscription:
    with session_scope() as s:
        return s.get(WebhookSubscription, webhook_id)


def _send_test_now(tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> str:
    """Deliver a webhook.test in this process, with this process's ETL_SECRET_KEY, as a worker would."""
    with session_scope() as s:
        (delivery_id,) = outbox.record_deliveries(s, tenant_id, events.TEST, {}, webhook_id)
        s.info.pop(outbox.PENDING)  # sent below, not by the workers (which have the suite's key)
    return sending.deliver(str(delivery_id))


def test_rotate_key_re_encrypts_with_the_new_key(make_tenant, settings_env, db):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    tenant_id, _ = make_tenant()
    tenant_name = _tenant_name(db, tenant_id)
    settings_env(ETL_SECRET_KEY=key_a)
    with session_scope() as s:
        integration_id = create_integration(s, tenant_id, "jira", "jira", CLOSED_URL, {"email": EMAIL, "token": TOKEN},
                                            {"projects": ["ABC"]}).id
    with Receiver(path=f"/services/T0/B0/{TOKEN}") as hook:
        webhook_id, secret = _add_webhook(tenant_id, "ops", hook.url)

        def stored() -> Integration:
            with session_scope() as s:
                return s.get(Integration, integration_id)

        env = {**os.environ, "ETL_SECRET_KEY": f"{key_b},{key_a}"}  # the new key first
        code, out, err = etl_cli("integrations", "rotate-key", "--tenant", tenant_name, env=env)
        assert code == 0, err
        assert out == {"status": "ok", "rotated": 1, "rotated_webhook_secrets": 1, "rotated_webhook_urls": 1,
                       "keys_configured": 2}
        assert_no_secret(out.__repr__() + err, TOKEN)
        assert secret not in out.__repr__() + err

        settings_env(ETL_SECRET_KEY=key_b)  # the old key removed
        assert credentials_of(stored()) == {"email": EMAIL, "token": TOKEN}
        assert _send_test_now(tenant_id, webhook_id) == "succeeded"  # its URL and secret read with NEW alone
        (received,) = hook.wait_for(1)
        assert received.path == f"/services/T0/B0/{TOKEN}"
        assert received.headers["X-Pulse-Signature"] == sending.sign(
            secret, int(received.headers["X-Pulse-Timestamp"]), received.body)

    settings_env(ETL_SECRET_KEY=key_a)  # OLD alone reads none of it any more
    with pytest.raises(CredentialsError):
        credentials_of(stored())
    with pytest.raises(CredentialsError):
        url_of(_stored_webhook(webhook_id).url_encrypted)
    with pytest.raises(CredentialsError):
        secret_of(_stored_webhook(webhook_id).secret_encrypted)


def test_rotate_key_names_what_no_key_decrypts_and_re_encrypts_the_rest(make_tenant, settings_env, db):
    """A value encrypted with a key ETL_SECRET_KEY no longer has is named (kind, id, name, never the
    value), left as it is, and the exit code is 1; every other value is re-encrypted all the same."""
    key_a, key_b, lost = (Fernet.generate_key().decode() for _ in range(3))
    tenant_id, _ = make_tenant()
    tenant_name = _tenant_name(db, tenant_id)
    settings_env(ETL_SECRET_KEY=lost)
    with session_scope() as s:
        lost_integration = create_integration(s, tenant_id, "jira", "jira-lost", CLOSED_URL, {"token": WRONG_TOKEN},
                                              {"projects": ["ABC"], "flavor": "dc"}).id
    lost_url_hook, _ = _add_webhook(tenant_id, "lost-url", "http://127.0.0.1:9/hook")
    settings_env(ETL_SECRET_KEY=key_a)
    with session_scope() as s:
        good_integration = create_integration(s, tenant_id, "jira", "jira", CLOSED_URL,
                                              {"email": EMAIL, "token": TOKEN}, {"projects": ["ABC"]}).id
        s.execute(update(WebhookSubscription).where(WebhookSubscription.id == lost_url_hook)  # a new secret, key A
                  .values(secret_encrypted=encrypt_credentials({"secret": "whsec_known"})))
    good_hook, _ = _add_webhook(tenant_id, "ops", "http://127.0.0.1:9/ops")
    before = _stored_webhook(lost_url_hook).url_encrypted

    env = {**os.environ, "ETL_SECRET_KEY": f"{key_b},{key_a}"}  # the lost key is not among them
    code, out, err = etl_cli("integrations", "rotate-key", "--tenant", tenant_name, env=env)
    assert code == 1 and out["exit_code"] == 1
    assert out["unreadable"] == [
        {"kind": "integration credentials", "id": str(lost_integration), "name": "jira-lost"},
        {"kind": "webhook URL", "id": str(lost_url_hook), "name": "lost-url"}]
    assert (out["rotated"], out["rotated_webhook_secrets"], out["rotated_webhook_urls"]) == (1, 2, 1)
    assert f"integration credentials of {lost_integration} (jira-lost)" in out["error"]
    assert f"webhook URL of {lost_url_hook} (lost-url)" in out["error"]
    assert "error: 2 value(s) cannot be decrypted" in err
    assert_no_secret(out.__repr__() + err, WRONG_TOKEN, TOKEN)
    assert "whsec_known" not in out.__repr__() + err and "127.0.0.1:9" not in out.__repr__() + err

    settings_env(ETL_SECRET_KEY=key_b)  # the old key removed: the rest reads with NEW alone
    with session_scope() as s:
        assert credentials_of(s.get(Integration, good_integration)) == {"email": EMAIL, "token": TOKEN}
    assert url_of(_stored_webhook(good_hook).url_encrypted) == "http://127.0.0.1:9/ops"
    assert secret_of(_stored_webhook(lost_url_hook).secret_encrypted) == "whsec_known"
    assert _stored_webhook(lost_url_hook).url_encrypted == before  # left as it was


# --- the CLI's keys commands ---------------------------------------------------------------------


def test_cli_keys_create_list_revoke(api_client, make_tenant, db):
    tenant_id, _ = make_tenant()
    name = db.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar_one()

    code, created, err = etl_cli("keys", "create", "--tenant", name, "--admin", "--name", "ops")
    assert code == 0, err
    secret = created["api_key"]
    assert created["is_admin"] is True and created["name"] == "ops" and created["prefix"] == secret[:10]
    assert api_client.get("/api/v1/tenants", headers=auth(secret)).status_code == 200

    code, listed, err = etl_cli("keys", "list", "--tenant", name)
    assert code == 0, err
    assert [(k["name"], k["is_admin"], k["revoked_at"]) for k in listed["api_keys"]] == [
        ("default", False, None), ("ops", True, None)]
    assert secret not in json.dumps(listed)

    code, revoked, err = etl_cli("keys", "revoke", "--tenant", name, created["api_key_id"])
    assert code == 0, err
    assert revoked["api_key_id"] == created["api_key_id"] and revoked["revoked_at"]
    assert api_client.get("/api/v1/tenants", headers=auth(secret)).status_code == 401

    _, other = make_tenant()
    other_name = db.execute(text("SELECT t.name FROM tenants t JOIN api_keys k ON k.tenant_id = t.id "
                                 "WHERE k.key_hash = :h"), {"h": hashlib.sha256(other.encode()).hexdigest()}).scalar_one()
    code, out, err = etl_cli("keys", "revoke", "--tenant", other_name, created["api_key_id"])
    assert code == 1 and "has no API key" in out["error"]
