"""The webhooks API's refusals and boundaries, in-process against real PostgreSQL: bad input is a
4xx that says what to fix, a tenant sees only its own webhooks (row-level security too), the secret
is shown on create and rotate only, the URL never (masked in every answer, encrypted in the row)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from etl.db import get_sessionmaker, scope_to_tenant
from etl.models import WebhookSubscription
from etl.notify.secrets import url_of
from tests.scopes import session_scope

HOOKS = "/api/v1/notifications/webhooks"
# A Slack incoming-webhook URL's shape (the token is the credential), on a host the tests may reach.
SLACK_TOKEN = "abcdefghijklmnopqrstXk9Q"
SLACK_LIKE = f"http://127.0.0.1:9/services/T0AAAAAAA/B0BBBBBBB/{SLACK_TOKEN}"
MASKED = "http://127.0.0.1:9/…Xk9Q"


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def body(**fields) -> dict:
    return {"name": f"hook-{uuid.uuid4().hex[:6]}", "url": "http://127.0.0.1:9/hook", "events": ["job.failed"],
            **fields}


@pytest.mark.parametrize("fields, words", [
    ({"url": "http://127.0.0.2/hook"}, "loopback address"),
    ({"url": "http://10.0.0.5/hook"}, "private address"),
    ({"url": "http://169.254.169.254/latest/meta-data"}, "link-local address"),
    ({"url": "ftp://127.0.0.1/hook"}, "must start with https://"),
    ({"url": "http://user:pw@127.0.0.1/hook"}, "user name or password"),
    ({"url": "http://no-such-host.invalid/hook"}, "does not resolve"),
    ({"events": ["job.exploded"]}, "unknown event 'job.exploded'; events are job.failed"),
    ({"events": ["integration.stale"]}, "needs stale_after_minutes"),
])
def test_bad_input_is_refused_in_words(api_client, make_tenant, fields, words):
    _, key = make_tenant()
    r = api_client.post(HOOKS, headers=auth(key), json=body(**fields))
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"], r.json()
    assert "pw" not in r.text


def test_too_many_webhooks_is_a_409_naming_the_setting(api_client, make_tenant, settings_env):
    settings_env(ETL_MAX_WEBHOOKS_PER_TENANT="1")
    _, key = make_tenant()
    assert api_client.post(HOOKS, headers=auth(key), json=body()).status_code == 201
    r = api_client.post(HOOKS, headers=auth(key), json=body())
    assert r.status_code == 409 and "ETL_MAX_WEBHOOKS_PER_TENANT = 1" in r.json()["detail"]


def test_the_secret_is_shown_on_create_and_rotate_only(api_client, make_tenant):
    _, key = make_tenant()
    created = api_client.post(HOOKS, headers=auth(key), json=body(format="slack")).json()
    rotated = api_client.post(f"{HOOKS}/{created['id']}/rotate-secret", headers=auth(key)).json()
    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    for answer in (api_client.get(HOOKS, headers=auth(key)), api_client.get(f"{HOOKS}/{created['id']}", headers=auth(key))):
        assert answer.status_code == 200 and "whsec_" not in answer.text

    patched = api_client.patch(f"{HOOKS}/{created['id']}", headers=auth(key),
                               json={"events": ["job.failed", "integration.stale"], "stale_after_minutes": 30})
    assert patched.status_code == 200 and patched.json()["stale_after_minutes"] == 30
    refused = api_client.patch(f"{HOOKS}/{created['id']}", headers=auth(key), json={"stale_after_minutes": None})
    assert refused.status_code == 422 and "needs stale_after_minutes" in refused.json()["detail"]
    assert api_client.delete(f"{HOOKS}/{created['id']}", headers=auth(key)).status_code == 200
    assert api_client.get(f"{HOOKS}/{created['id']}", headers=auth(key)).status_code == 404


def test_the_url_is_masked_in_every_answer_and_never_returned(api_client, make_tenant):
    _, key = make_tenant()
    created = api_client.post(HOOKS, headers=auth(key), json=body(url=SLACK_LIKE))
    assert created.status_code == 201, created.text
    assert created.json()["url_display"] == MASKED and "url" not in created.json()
    one = f"{HOOKS}/{created.json()['id']}"
    answers = {"create": created, "list": api_client.get(HOOKS, headers=auth(key)),
               "get": api_client.get(one, headers=auth(key)),
               "update": api_client.patch(one, headers=auth(key), json={"name": "renamed"}),
               "rotate": api_client.post(f"{one}/rotate-secret", headers=auth(key)),
               "delete": api_client.delete(one, headers=auth(key))}
    for what, answer in answers.items():
        assert answer.status_code in (200, 201), (what, answer.text)
        assert "/services/" not in answer.text and SLACK_TOKEN[:-4] not in answer.text, (what, answer.text)
        shown = answer.json()[0] if what == "list" else answer.json()
        assert shown["url_display"] == MASKED and "url" not in shown, (what, shown)


def test_the_database_row_holds_the_url_encrypted_only(api_client, make_tenant):
    _, key = make_tenant()
    hook = api_client.post(HOOKS, headers=auth(key), json=body(url=SLACK_LIKE)).json()
    with session_scope() as s:
        row = s.execute(text("SELECT * FROM webhook_subscriptions WHERE id = :id"), {"id": hook["id"]}).mappings().one()
    assert "url" not in row
    assert not any(SLACK_TOKEN[:-4] in str(value) or "/services/" in str(value) for value in row.values()), row
    assert row["url_display"] == MASKED
    assert url_of(row["url_encrypted"]) == SLACK_LIKE  # what a delivery decrypts, just before its POST


def test_a_patch_without_url_keeps_it_and_a_refused_url_changes_nothing(api_client, make_tenant):
    _, key = make_tenant()
    hook = api_client.post(HOOKS, headers=auth(key), json=body(url=SLACK_LIKE)).json()
    one = f"{HOOKS}/{hook['id']}"

    def stored_url() -> str:
        with session_scope() as s:
            return url_of(s.scalar(text("SELECT url_encrypted FROM webhook_subscriptions WHERE id = :id"),
                                   {"id": hook["id"]}))

    assert api_client.patch(one, headers=auth(key), json={"enabled": False}).json()["url_display"] == MASKED
    assert stored_url() == SLACK_LIKE
    refused = api_client.patch(one, headers=auth(key), json={"url": "http://10.0.0.5/services/T1/B1/x"})
    assert refused.status_code == 422 and "private address" in refused.json()["detail"]
    assert stored_url() == SLACK_LIKE
    changed = api_client.patch(one, headers=auth(key), json={"url": "http://127.0.0.1:9/other"})
    assert changed.status_code == 200 and changed.json()["url_display"] == "http://127.0.0.1:9/…"
    assert stored_url() == "http://127.0.0.1:9/other"


def test_the_url_is_documented_write_only(api_client):
    schemas = api_client.get("/openapi.json").json()["components"]["schemas"]
    assert "url" not in schemas["Webhook"]["properties"] and "url_display" in schemas["Webhook"]["properties"]
    assert "Write-only" in schemas["WebhookCreate"]["properties"]["url"]["description"]
    assert "omitted: unchanged" in schemas["WebhookUpdate"]["properties"]["url"]["description"]


def test_a_slack_webhook_url_is_masked_in_any_log_line():
    from etl.logs import redact

    line = f'hooks.slack.com:443 "POST /services/T0AAAAAAA/B0BBBBBBB/{SLACK_TOKEN} HTTP/1.1" 200'
    assert redact(line) == 'hooks.slack.com:443 "POST /services/*** HTTP/1.1" 200'


def test_a_tenant_never_sees_another_tenants_webhooks(api_client, make_tenant):
    _, key_a = make_tenant()
    tenant_b, key_b = make_tenant()
    hook = api_client.post(HOOKS, headers=auth(key_a), json=body()).json()
    assert api_client.get(HOOKS, headers=auth(key_b)).json() == []
    for method, path in (("GET", ""), ("GET", "/deliveries"), ("PATCH", ""), ("DELETE", ""), ("POST", "/test"),
                         ("POST", "/rotate-secret")):
        r = api_client.request(method, f"{HOOKS}/{hook['id']}{path}", headers=auth(key_b),
                               json={"enabled": False} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path, r.text)
    # Row-level security, not only the routes' filters: tenant B's scope sees none of A's rows.
    with get_sessionmaker()() as s:
        scope_to_tenant(s, tenant_b)
        assert s.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_a_read_only_key_reads_but_cannot_subscribe(api_client, make_tenant):
    from etl.tenancy.keys import issue_api_key
    from tests.scopes import session_scope

    tenant_id, _ = make_tenant()
    with session_scope() as s:
        reader = issue_api_key(s, tenant_id, name="dash", scopes=["read"]).secret
    assert api_client.get(HOOKS, headers=auth(reader)).status_code == 200
    assert api_client.post(HOOKS, headers=auth(reader), json=body()).status_code == 403


def test_one_test_at_a_time_and_none_to_a_disabled_webhook(api_client, make_tenant):
    _, key = make_tenant()
    hook = api_client.post(HOOKS, headers=auth(key), json=body()).json()
    first = api_client.post(f"{HOOKS}/{hook['id']}/test", headers=auth(key))
    assert first.status_code == 202 and first.json()["status"] == "pending"  # no worker here: it stays pending
    again = api_client.post(f"{HOOKS}/{hook['id']}/test", headers=auth(key))
    assert again.status_code == 429 and "still on its way" in again.json()["detail"]
    listed = api_client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=auth(key)).json()
    assert [d["id"] for d in listed] == [first.json()["id"]]

    api_client.patch(f"{HOOKS}/{hook['id']}", headers=auth(key), json={"enabled": False})
    refused = api_client.post(f"{HOOKS}/{hook['id']}/test", headers=auth(key))
    assert refused.status_code == 422 and "disabled" in refused.json()["detail"]


def test_a_signing_secret_is_masked_in_any_log_line():
    from etl.logs import redact
    from etl.notify.secrets import new_secret

    secret, _ = new_secret()
    assert redact(f"oops: {secret} leaked") == "oops: whsec_*** leaked"


def test_emit_records_in_the_callers_transaction_and_never_raises(api_client, make_tenant, caplog):
    from sqlalchemy import text

    from etl.notify import events
    from etl.notify.outbox import PENDING
    from tests.scopes import session_scope

    tenant_id, key = make_tenant()
    hook = api_client.post(HOOKS, headers=auth(key), json=body(events=["job.failed"])).json()
    count = text("SELECT count(*) FROM webhook_deliveries WHERE subscription_id = :id")
    with session_scope() as s:
        events.emit(s, tenant_id, events.JOB_FAILED, {"job_id": "j"})
        events.emit(s, tenant_id, events.JOB_PARTIAL, {"job_id": "j"})  # not subscribed
        assert s.scalar(count, {"id": hook["id"]}) == 1
        assert len(s.info[PENDING]) == 1  # published only once the transaction commits
        s.rollback()  # the caller's failure takes the delivery with it
        assert s.scalar(count, {"id": hook["id"]}) == 0

    with session_scope() as s:
        try:
            s.execute(text("SELECT 1/0"))
        except Exception:  # noqa: BLE001 - the caller's transaction is now aborted
            pass
        events.emit(s, tenant_id, events.JOB_FAILED, {"job_id": "j"})  # logs, does not raise
        s.rollback()
    assert "its deliveries could not be recorded" in caplog.text
    assert f"event job.failed for tenant {tenant_id}: {{'job_id': 'j'}}" in caplog.text


def test_a_url_the_keys_no_longer_decrypt_fails_its_delivery_in_words(api_client, make_tenant):
    from cryptography.fernet import Fernet

    from etl.notify import events, outbox, sending

    tenant_id, key = make_tenant()
    hook = api_client.post(HOOKS, headers=auth(key), json=body(url=SLACK_LIKE)).json()
    with session_scope() as s:  # as if ETL_SECRET_KEY had lost the key the URL was encrypted with
        s.execute(text("UPDATE webhook_subscriptions SET url_encrypted = :token WHERE id = :id"),
                  {"token": Fernet(Fernet.generate_key()).encrypt(b'{"url": "x"}').decode(), "id": hook["id"]})
        (delivery_id,) = outbox.record_deliveries(s, tenant_id, events.TEST, {}, uuid.UUID(hook["id"]))
        s.info.pop(outbox.PENDING)  # sent below, in this process
    assert sending.deliver(str(delivery_id)) == "failed"
    (delivery,) = api_client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=auth(key)).json()
    assert delivery["last_error"] == ("the webhook's URL cannot be decrypted (the server's ETL_SECRET_KEY changed); "
                                      "set the webhook's URL again")
