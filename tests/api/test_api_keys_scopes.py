"""Read-only API keys (scope read) and JWTs: they read everything of their tenant and change
nothing; any other method than GET/HEAD/OPTIONS is refused with 403 and a message saying what to
do. Through the API, a JWT's `scope` claim, the `etl keys` CLI and the 0008 data migration."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import func, select, text

from alembic import command
from etl.migrations import alembic_config
from etl.models import ApiKey, EtlJob, Integration
from tests.api.test_api_admin import JWT_SECRET, auth
from tests.cli.test_cli import etl, unique
from tests.scopes import session_scope
from tests.waiting import run_sync

READ_ONLY = "this API key is read-only (scope read)"
WRITE_HINT = "needs a key with the write scope; create one with `etl keys create --tenant NAME`"


def create_read_only_key(api_client, key: str) -> dict:
    r = api_client.post("/api/v1/api-keys", json={"name": "dashboard", "scopes": ["read"]}, headers=auth(key))
    assert r.status_code == 201, r.text
    return r.json()


def job_count(integration_id) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(EtlJob).where(EtlJob.integration_id == integration_id))


def assert_read_only_refusal(r, method: str, path: str, message: str = READ_ONLY) -> None:
    assert r.status_code == 403, r.text
    detail = r.json()["detail"]
    assert detail.startswith(message) and f"{method} {path} " in detail, detail


@pytest.mark.usefixtures("workers")
def test_a_read_only_key_reads_everything_and_changes_nothing(api_client, jira_integration):
    tenant_id, key, integ_id, _ = jira_integration(issues=5)
    assert run_sync(tenant_id, integ_id).status == "succeeded"  # a job and work items to read
    created = create_read_only_key(api_client, key)
    assert created["scopes"] == ["read"]
    ro = auth(created["key"])

    # Reads: the same answers as the full key's.
    for path in ("/api/v1/work-items", "/api/v1/etl/jobs", "/api/v1/integrations", f"/api/v1/integrations/{integ_id}"):
        r = api_client.get(path, headers=ro)
        assert r.status_code == 200, (path, r.text)
        assert r.json() == api_client.get(path, headers=auth(key)).json(), path
    assert len(api_client.get("/api/v1/work-items", headers=ro).json()["items"]) == 5
    listed = api_client.get("/api/v1/api-keys", headers=ro)
    assert listed.status_code == 200, listed.text
    assert {k["name"]: k["scopes"] for k in listed.json()} == {"default": ["read", "write"], "dashboard": ["read"]}

    # Writes: refused before anything happens, with what to do.
    jobs_before = job_count(integ_id)
    default_key_id = next(k["id"] for k in listed.json() if k["name"] == "default")
    refused = [
        ("POST", "/api/v1/etl/pipeline/trigger", {"integration_id": str(integ_id), "kind": "full"}),
        ("PATCH", f"/api/v1/integrations/{integ_id}", {"name": "renamed"}),
        ("POST", "/api/v1/api-keys", {"name": "escalated"}),
        ("DELETE", f"/api/v1/api-keys/{default_key_id}", None),
    ]
    for method, path, body in refused:
        r = api_client.request(method, path, json=body, headers=ro)
        assert_read_only_refusal(r, method, path)
        assert WRITE_HINT in r.json()["detail"]
    assert job_count(integ_id) == jobs_before
    with session_scope() as s:
        assert s.get(Integration, integ_id).name != "renamed"
        keys = {k.name: k.revoked_at for k in s.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id))}
    assert keys == {"default": None, "dashboard": None}
    # The full key still writes.
    r = api_client.patch(f"/api/v1/integrations/{integ_id}", json={"name": "renamed"}, headers=auth(key))
    assert r.status_code == 200 and r.json()["name"] == "renamed"


def test_scopes_are_validated_when_a_key_is_created(api_client, make_tenant):
    _, key = make_tenant()
    h = auth(key)
    # write implies read, whatever the order or repetition.
    r = api_client.post("/api/v1/api-keys", json={"name": "w", "scopes": ["write"]}, headers=h)
    assert r.status_code == 201 and r.json()["scopes"] == ["read", "write"]
    assert api_client.post("/api/v1/api-keys", json={"name": "d"}, headers=h).json()["scopes"] == ["read", "write"]
    for scopes in ([], ["admin"], "read"):
        r = api_client.post("/api/v1/api-keys", json={"name": "x", "scopes": scopes}, headers=h)
        assert r.status_code == 422, (scopes, r.text)
    # An admin key without write would be refused everywhere it is meant for.
    r = api_client.post("/api/v1/api-keys", json={"name": "x", "is_admin": True, "scopes": ["read"]}, headers=h)
    assert r.status_code == 422
    assert "an admin key needs the write scope" in r.text


def make_jwt(claims: dict) -> str:
    return jwt.encode({"exp": datetime.now(timezone.utc) + timedelta(minutes=5), **claims}, JWT_SECRET,
                      algorithm="HS256")


def test_a_jwt_scope_claim_limits_it_like_a_key(api_client, jira_integration, settings_env):  # noqa: F811
    tenant_id, key, integ_id, _ = jira_integration(issues=1)
    settings_env(ETL_JWT_SECRET=JWT_SECRET)
    path = f"/api/v1/integrations/{integ_id}"
    read_only = auth(make_jwt({"tenant_id": str(tenant_id), "scope": "openid read"}))

    assert api_client.get(path, headers=read_only).status_code == 200
    r = api_client.patch(path, json={"name": "by-read-jwt"}, headers=read_only)
    assert_read_only_refusal(r, "PATCH", path, message="this JWT is read-only (scope read)")
    assert "scope claim includes write" in r.json()["detail"]
    assert api_client.get(path, headers=auth(key)).json()["name"] != "by-read-jwt"

    # No scope claim: read and write, as before scopes existed; "write" alone implies read.
    for claims, name in (({}, "by-jwt"), ({"scope": "write"}, "by-write-jwt")):
        token = auth(make_jwt({"tenant_id": str(tenant_id), **claims}))
        r = api_client.patch(path, json={"name": name}, headers=token)
        assert r.status_code == 200 and r.json()["name"] == name, r.text
        assert api_client.get(path, headers=token).status_code == 200
    # A scope claim that grants nothing of ours is not read as full access.
    r = api_client.get(path, headers=auth(make_jwt({"tenant_id": str(tenant_id), "scope": "openid profile"})))
    assert r.status_code == 401 and "grants neither" in r.json()["detail"]


def test_cli_creates_and_lists_read_only_keys(database):
    tenant = unique("scopes")
    assert etl("tenants", "create", tenant)[0] == 0

    code, out, err = etl("keys", "create", "--tenant", tenant, "--name", "analyst", "--read-only")
    assert code == 0, err
    assert out["scopes"] == ["read"] and out["is_admin"] is False and out["api_key"].startswith("pk_")
    code, out, err = etl("keys", "list", "--tenant", tenant)
    assert code == 0, err
    assert {k["name"]: k["scopes"] for k in out["api_keys"]} == {"default": ["read", "write"], "analyst": ["read"]}

    code, out, _ = etl("keys", "create", "--tenant", tenant, "--admin", "--read-only")
    assert code == 2 and "--admin and --read-only" in out["error"]
    assert len(etl("keys", "list", "--tenant", tenant)[1]["api_keys"]) == 2


def test_migration_gives_existing_keys_read_and_write(empty_database):  # noqa: F811
    cfg = alembic_config()
    tenant_id = uuid.uuid4()
    with empty_database.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
        conn.execute(text("INSERT INTO tenants (id, name) VALUES (:t, 'old')"), {"t": tenant_id})
        conn.execute(text("INSERT INTO api_keys (id, tenant_id, prefix, key_hash) VALUES (:k, :t, 'pk_old', 'h')"),
                     {"k": uuid.uuid4(), "t": tenant_id})
        command.upgrade(cfg, "0008")
    with empty_database.connect() as conn:
        assert conn.scalar(text("SELECT scopes FROM api_keys")) == ["read", "write"]
        with pytest.raises(Exception, match="ck_api_keys_scopes"):
            conn.execute(text("UPDATE api_keys SET scopes = '{write}'"))


def test_openapi_documents_the_read_only_refusal_on_every_write_route(api_client):
    paths = api_client.get("/openapi.json").json()["paths"]
    writes = [(method, path, op) for path, ops in paths.items() for method, op in ops.items()
              if method not in ("get", "head", "options") and op.get("security")]
    assert len(writes) >= 15
    for method, path, op in writes:
        assert "read-only" in op["responses"].get("403", {}).get("description", ""), (method, path)
