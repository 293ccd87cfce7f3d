"""What the console's Integrations page asks of the API: a connection test before saving (and of
changes before saving them), a schedule preview computed as the dispatcher computes it, and the
integration's logo (type by content, size-capped, served with nosniff and its own CSP, per tenant)."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime

import pytest

from etl.tenancy.keys import SCOPE_READ, issue_api_key
from tests.scopes import session_scope

TOKEN = "tok-" + uuid.uuid4().hex
EMAIL = f"etl-{uuid.uuid4().hex[:8]}@example.com"
CLOSED_URL = "http://127.0.0.1:1"  # nothing listens here

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
WEBP = b"RIFF\x40\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def new_body(fake, **overrides) -> dict:
    body = {"provider": "jira", "base_url": fake.url, "credentials": {"email": EMAIL, "token": TOKEN},
            "settings": {"projects": ["ABC"], "flavor": "cloud"}}
    body.update(overrides)
    return body


# --- connection test before saving ----------------------------------------------------------------


def test_a_new_integration_is_tested_before_it_is_saved(api_client, make_tenant, fake_jira, caplog):
    fake = fake_jira(issues=3, projects=("ABC", "OPS"), email=EMAIL, token=TOKEN)
    _, key = make_tenant()
    caplog.set_level(logging.INFO)
    r = api_client.post("/api/v1/integrations/test", headers=auth(key), json=new_body(fake))
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["checked"] == ["project ABC"]
    assert r.json()["account"].startswith("ETL Bot (")
    assert TOKEN not in r.text and TOKEN not in caplog.text
    assert api_client.get("/api/v1/integrations", headers=auth(key)).json() == []  # nothing saved

    r = api_client.post("/api/v1/integrations/test", headers=auth(key),
                        json=new_body(fake, credentials={"email": EMAIL, "token": "wrong-" + TOKEN}))
    assert r.status_code == 200 and r.json()["ok"] is False
    assert "rejected the credentials" in r.json()["error"] and TOKEN not in r.text


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"base_url": "ftp://jira"}, "must start with http:// or https://"),
    ({"settings": {"projects": ["not a key"], "flavor": "cloud"}}, "is not a Jira project key"),
    ({"name": " "}, "integration name must not be empty"),
])
def test_the_test_before_saving_validates_as_create_does(api_client, make_tenant, fake_jira, overrides, expected):
    fake = fake_jira(issues=1, email=EMAIL, token=TOKEN)
    _, key = make_tenant()
    test = api_client.post("/api/v1/integrations/test", headers=auth(key), json=new_body(fake, **overrides))
    create = api_client.post("/api/v1/integrations", headers=auth(key),
                             json={"name": "x", **new_body(fake, **overrides)})
    assert test.status_code == create.status_code == 422, (test.text, create.text)
    assert expected in test.json()["detail"] and test.json()["detail"] == create.json()["detail"]


def test_the_test_before_saving_keeps_the_outbound_guard(api_client, make_tenant):
    _, key = make_tenant()
    body = {"provider": "jira", "base_url": "http://127.0.0.2:9", "credentials": {"token": TOKEN},
            "settings": {"projects": ["ABC"], "flavor": "dc"}}
    r = api_client.post("/api/v1/integrations/test", headers=auth(key), json=body)
    assert r.status_code == 200 and r.json()["ok"] is False, r.text
    assert "127.0.0.2" in r.json()["error"] and TOKEN not in r.text


def test_changes_are_tested_merged_with_what_is_stored(api_client, jira_integration, fake_jira):
    _, key, integration_id, fake = jira_integration(issues=3)
    path = f"/api/v1/integrations/{integration_id}/test"
    r = api_client.post(path, headers=auth(key), json={"settings": {"projects": ["NOPE"]}})
    assert r.status_code == 200 and r.json()["ok"] is False and "project NOPE not found" in r.json()["error"]
    r = api_client.post(path, headers=auth(key))  # no body: as stored, and nothing was saved
    assert r.json()["ok"] is True, r.text

    # A new host without credentials: refused, the stored token never goes there.
    other = fake_jira(issues=1)
    r = api_client.post(path, headers=auth(key), json={"base_url": other.url})
    assert r.status_code == 422 and "send the credentials" in r.json()["detail"]
    patch = api_client.patch(f"/api/v1/integrations/{integration_id}", headers=auth(key), json={"base_url": other.url})
    assert patch.status_code == 422 and "send the credentials" in patch.json()["detail"]
    assert other.requests == []  # the stored token was never sent to the new host
    r = api_client.post(path, headers=auth(key), json={
        "base_url": other.url, "credentials": {"email": other.email, "token": other.token}})
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    stored = api_client.get(f"/api/v1/integrations/{integration_id}", headers=auth(key)).json()
    assert stored["base_url"] == fake.url  # tested, not saved


# --- schedule preview -----------------------------------------------------------------------------


def test_schedule_preview_of_an_interval(api_client, make_tenant):
    _, key = make_tenant()
    r = api_client.post("/api/v1/integrations/schedule-preview", headers=auth(key), json={"every_minutes": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"] == "every 30 minutes" and body["timezone"] is None
    runs = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in body["next_runs"]]
    assert len(runs) == 3 and all(run.utcoffset().total_seconds() == 0 for run in runs)
    assert [(b - a).total_seconds() for a, b in zip(runs, runs[1:])] == [1800, 1800]


def test_schedule_preview_of_a_cron_in_a_time_zone(api_client, make_tenant):
    _, key = make_tenant()
    r = api_client.post("/api/v1/integrations/schedule-preview", headers=auth(key),
                        json={"cron": "0 6 * * mon-fri", "timezone": "Europe/Paris"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"] == "at 06:00 Mon-Fri Europe/Paris" and body["timezone"] == "Europe/Paris"
    runs = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in body["next_runs"]]
    assert len(runs) == 3 and runs[0] < runs[1] < runs[2]
    from zoneinfo import ZoneInfo
    for run in runs:
        local = run.astimezone(ZoneInfo("Europe/Paris"))
        assert (local.hour, local.minute) == (6, 0) and local.weekday() < 5


@pytest.mark.parametrize(("schedule", "expected"), [
    ({"cron": "* 25 * * *"}, "schedule: cron hour field: 25 is out of range 0-23"),
    ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"every_minutes": 30, "cron": "* * * * *"}, "not both"),
    ({}, 'schedule needs "cron" or "every_minutes"'),
])
def test_schedule_preview_refuses_as_patch_does(api_client, jira_integration, schedule, expected):
    _, key, integration_id, _ = jira_integration(issues=1)
    preview = api_client.post("/api/v1/integrations/schedule-preview", headers=auth(key), json=schedule)
    patch = api_client.patch(f"/api/v1/integrations/{integration_id}", headers=auth(key), json={"schedule": schedule})
    assert preview.status_code == patch.status_code == 422
    assert expected in preview.json()["detail"] and preview.json()["detail"] == patch.json()["detail"]


# --- logo -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "content_type"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")])
def test_a_logo_is_stored_and_served_with_its_detected_type(api_client, jira_integration, data, content_type):
    _, key, integration_id, _ = jira_integration(issues=1)
    path = f"/api/v1/integrations/{integration_id}"
    assert api_client.get(path, headers=auth(key)).json()["logo_updated_at"] is None
    r = api_client.put(f"{path}/logo", headers={**auth(key), "Content-Type": "application/octet-stream"}, content=data)
    assert r.status_code == 200, r.text
    assert r.json()["logo_updated_at"] is not None
    listed = api_client.get("/api/v1/integrations", headers=auth(key)).json()
    assert listed[0]["logo_updated_at"] == r.json()["logo_updated_at"]
    got = api_client.get(f"{path}/logo", headers=auth(key))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == content_type
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'"
    assert got.headers["content-disposition"] == 'inline; filename="logo"'
    assert got.headers["cache-control"].startswith("private, max-age=")
    etag = got.headers["etag"]
    again = api_client.get(f"{path}/logo", headers={**auth(key), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_a_png_declared_as_html_is_stored_as_png(api_client, jira_integration):
    _, key, integration_id, _ = jira_integration(issues=1)
    path = f"/api/v1/integrations/{integration_id}/logo"
    r = api_client.put(path, headers={**auth(key), "Content-Type": "text/html"}, content=PNG)
    assert r.status_code == 200, r.text
    assert api_client.get(path, headers=auth(key)).headers["content-type"] == "image/png"


@pytest.mark.parametrize("data", [
    b"<html><script>alert(1)</script></html>",
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"GIF89a" + b"\x00" * 32,
])
def test_anything_but_png_jpeg_webp_is_refused_with_415(api_client, jira_integration, data):
    _, key, integration_id, _ = jira_integration(issues=1)
    path = f"/api/v1/integrations/{integration_id}/logo"
    r = api_client.put(path, headers={**auth(key), "Content-Type": "image/png"}, content=data)
    assert r.status_code == 415, r.text
    assert "image/png, image/jpeg, image/webp" in r.json()["detail"]
    assert api_client.get(path, headers=auth(key)).status_code == 404


def test_an_oversize_logo_is_refused_with_413(api_client, jira_integration):
    _, key, integration_id, _ = jira_integration(issues=1)
    path = f"/api/v1/integrations/{integration_id}/logo"
    r = api_client.put(path, headers=auth(key), content=PNG + b"\x00" * (256 * 1024))
    assert r.status_code == 413 and "256 KiB" in r.json()["detail"] and "ETL_MAX_LOGO_BYTES" in r.json()["detail"]

    def chunks():  # no Content-Length: refused while it arrives
        yield PNG
        for _ in range(40):
            yield b"\x00" * 8192

    r = api_client.put(path, headers=auth(key), content=chunks())
    assert r.status_code == 413, r.text
    assert api_client.get(path, headers=auth(key)).status_code == 404


def test_a_logo_belongs_to_its_tenant_and_read_only_keys_cannot_change_it(api_client, jira_integration, make_tenant):
    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    path = f"/api/v1/integrations/{integration_id}/logo"
    assert api_client.put(path, headers=auth(key), content=PNG).status_code == 200
    _, other_key = make_tenant()
    for method in ("GET", "PUT", "DELETE"):
        r = api_client.request(method, path, headers=auth(other_key), content=PNG if method == "PUT" else None)
        assert r.status_code == 404, (method, r.text)
    with session_scope() as s:
        viewer = issue_api_key(s, tenant_id, name="viewer", scopes=[SCOPE_READ]).secret
    assert api_client.get(path, headers=auth(viewer)).status_code == 200
    for method in ("PUT", "DELETE"):
        r = api_client.request(method, path, headers=auth(viewer), content=PNG if method == "PUT" else None)
        assert r.status_code == 403 and "read-only" in r.json()["detail"], (method, r.text)
    assert api_client.delete(path, headers=auth(key)).status_code == 204
    r = api_client.get(path, headers=auth(key))
    assert r.status_code == 404 and "has no logo" in r.json()["detail"]
    assert api_client.delete(path, headers=auth(key)).status_code == 404
    integ = api_client.get(f"/api/v1/integrations/{integration_id}", headers=auth(key)).json()
    assert integ["logo_updated_at"] is None
