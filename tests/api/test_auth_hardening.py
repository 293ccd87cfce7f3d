"""Keys and tokens a hostile or careless tenant could abuse: a tenant key cannot revoke the admin
key, a JWT must expire (within a bounded lifetime) and match the configured issuer and audience,
/metrics cannot run open in production, and compose publishes nothing on every interface unless
the operator says so."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from etl.tenancy.keys import issue_api_key
from tests.api.test_api_admin import JWT_SECRET, auth
from tests.scopes import session_scope

ROOT = Path(__file__).resolve().parents[2]  # the repository


def test_only_an_admin_key_revokes_an_admin_key(api_client, make_tenant):
    tenant_id, tenant_key = make_tenant()
    with session_scope() as s:
        admin = issue_api_key(s, tenant_id, name="ops", is_admin=True)
        other_admin = issue_api_key(s, tenant_id, name="ops-2", is_admin=True)

    # Before: 200, and the operator's admin key was gone.
    r = api_client.delete(f"/api/v1/api-keys/{admin.id}", headers=auth(tenant_key))
    assert r.status_code == 403 and "only an admin key can revoke it" in r.json()["detail"], r.text
    assert api_client.get("/api/v1/tenants", headers=auth(admin.secret)).status_code == 200

    # An admin key may; a tenant key still revokes ordinary keys (its own included).
    r = api_client.delete(f"/api/v1/api-keys/{other_admin.id}", headers=auth(admin.secret))
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    spare = api_client.post("/api/v1/api-keys", headers=auth(tenant_key), json={"name": "spare"}).json()
    assert api_client.delete(f"/api/v1/api-keys/{spare['id']}", headers=auth(tenant_key)).status_code == 200
    assert api_client.get("/api/v1/integrations", headers=auth(spare["key"])).status_code == 401


def token(**claims) -> str:
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, JWT_SECRET, algorithm="HS256")


def test_a_jwt_must_expire_within_the_allowed_lifetime(api_client, make_tenant, settings_env):
    tenant_id, _ = make_tenant()
    settings_env(ETL_JWT_SECRET=JWT_SECRET, ETL_JWT_MAX_LIFETIME_SECONDS="3600")
    now = datetime.now(timezone.utc)
    tid = str(tenant_id)

    def status(jwt_: str) -> tuple[int, str]:
        r = api_client.get("/api/v1/integrations", headers=auth(jwt_))
        return r.status_code, r.json().get("detail", "") if r.status_code != 200 else ""

    # Before: accepted, and valid forever.
    assert status(token(tenant_id=tid)) == (401, "JWT has no exp claim: every token must expire (set exp, at most "
                                                 "ETL_JWT_MAX_LIFETIME_SECONDS ahead)")
    code, detail = status(token(tenant_id=tid, exp=now + timedelta(days=3650)))
    assert code == 401 and "longer than this server allows (3600s" in detail
    code, detail = status(token(tenant_id=tid, iat=now - timedelta(hours=1), exp=now + timedelta(hours=1)))
    assert code == 401 and "(exp - iat)" in detail
    assert status(token(tenant_id=tid, iat=now, exp=now + timedelta(minutes=50)))[0] == 200
    assert status(token(tenant_id=tid, exp=now + timedelta(minutes=50)))[0] == 200


def test_issuer_and_audience_are_checked_when_configured(api_client, make_tenant, settings_env):
    tenant_id, _ = make_tenant()
    exp = datetime.now(timezone.utc) + timedelta(minutes=5)
    tid = str(tenant_id)
    settings_env(ETL_JWT_SECRET=JWT_SECRET, ETL_JWT_ISSUER="https://idp.example", ETL_JWT_AUDIENCE="pulse-etl")

    def detail(jwt_: str) -> str:
        r = api_client.get("/api/v1/integrations", headers=auth(jwt_))
        return "ok" if r.status_code == 200 else r.json()["detail"]

    assert detail(token(tenant_id=tid, exp=exp, iss="https://idp.example", aud="pulse-etl")) == "ok"
    assert "no iss claim" in detail(token(tenant_id=tid, exp=exp, aud="pulse-etl"))
    assert "no aud claim" in detail(token(tenant_id=tid, exp=exp, iss="https://idp.example"))
    assert "not this server's issuer" in detail(token(tenant_id=tid, exp=exp, iss="https://evil", aud="pulse-etl"))
    assert "not this server's audience" in detail(
        token(tenant_id=tid, exp=exp, iss="https://idp.example", aud="another-service"))


def test_production_api_refuses_to_start_without_a_metrics_token(database, settings_env):
    from api.main import app

    settings_env(ETL_ENVIRONMENT="production", ETL_SECRET_KEY="a-real-key-" + uuid.uuid4().hex,
                 ETL_METRICS_TOKEN=None)
    with pytest.raises(RuntimeError, match="ETL_METRICS_TOKEN is missing"):
        with TestClient(app):
            pass
    settings_env(ETL_METRICS_TOKEN="change-me-metrics")
    with pytest.raises(RuntimeError, match="a placeholder"):
        with TestClient(app):
            pass

    metrics_token = "m-" + uuid.uuid4().hex
    settings_env(ETL_METRICS_TOKEN=metrics_token)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=auth(metrics_token)).status_code == 200


def test_compose_publishes_ports_on_localhost_unless_the_operator_chooses():
    compose = (ROOT / "docker-compose.yml").read_text()
    published = re.findall(r'^\s+- "([^"]+:\d+)"\s*(?:#.*)?$', compose, flags=re.M)
    assert published, "no published ports found"
    for mapping in published:
        assert mapping.startswith(("127.0.0.1:", "${API_BIND:-127.0.0.1}:")), f"{mapping} is published on every interface"
    assert "API_BIND" in (ROOT / ".env.example").read_text()
