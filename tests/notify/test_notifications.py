"""Webhook notifications end to end on real services: the API subscribes a receiver on 127.0.0.1
(tests/notify/receiver.py; ETL_SOURCE_ALLOW=127.0.0.1 in tests/conftest.py), a job fails or a
staleness episode starts, and the session's `-Q extract` workers deliver on the `notify` queue:
signed, retried, recorded, never in the pipeline's way."""
from __future__ import annotations

import hashlib
import hmac
import socket
import time
import uuid

import pytest
from sqlalchemy import select, text

from etl.models import WebhookDelivery
from etl.notify import events, outbox, sending, stale
from tests.conftest import LOGDIR, RUN_ID
from tests.notify.receiver import Receiver
from tests.scopes import session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def subscribe(api_client, key: str, url: str, events_: list[str], **fields) -> dict:
    r = api_client.post("/api/v1/notifications/webhooks", headers=auth(key),
                        json={"name": f"hook-{uuid.uuid4().hex[:6]}", "url": url, "events": events_, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def delivery_rows(webhook_id) -> list[WebhookDelivery]:
    with session_scope() as s:
        return list(s.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == uuid.UUID(webhook_id))
                              .order_by(WebhookDelivery.created_at)))


def wait_for_delivery(webhook_id, done, timeout: float = 60) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while True:
        rows = delivery_rows(webhook_id)
        if rows and done(rows[-1]):
            return rows[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery of webhook {webhook_id} not as expected in {timeout}s: "
                                 f"{[(d.status, d.attempts, d.last_error) for d in rows]}")
        time.sleep(0.2)


def test_a_failed_job_delivers_a_signed_job_failed_webhook(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=10)
    fake.faults.add("401", times=None)
    with Receiver() as hook:
        webhook = subscribe(api_client, key, hook.url, ["job.failed"])
        secret = webhook["secret"]
        assert secret.startswith("whsec_")
        job = run_sync(tenant_id, integration_id, timeout=90)
        assert job.status == "failed"
        (received,) = hook.wait_for(1)

    timestamp = received.headers["X-Pulse-Timestamp"]
    assert abs(time.time() - int(timestamp)) < 300  # inside the documented replay window
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["X-Pulse-Signature"], f"sha256={expected}")
    document = received.json()
    assert document["event"] == "job.failed" and document["tenant_id"] == str(tenant_id)
    assert document["subject"]["job_id"] == str(job.id) and document["subject"]["link"] == f"/jobs/{job.id}"
    assert document["subject"]["integration_id"] == str(integration_id)
    assert "401" in document["subject"]["reason"]
    delivery = wait_for_delivery(webhook["id"], lambda d: d.status != "pending")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert str(delivery.id) == document["delivery_id"] == received.headers["X-Pulse-Delivery"]

    # The secret is shown once: never listed, never in a log line.
    listed = api_client.get("/api/v1/notifications/webhooks", headers=auth(key))
    one = api_client.get(f"/api/v1/notifications/webhooks/{webhook['id']}", headers=auth(key))
    assert secret not in listed.text + one.text and "secret" not in one.json()
    logs = b"".join(p.read_bytes() for p in LOGDIR.glob("*.log"))
    assert secret.encode() not in logs


def test_a_delivery_goes_to_the_whole_url_until_a_patch_changes_it(api_client, make_tenant):
    """The URL is stored encrypted and shown masked, yet each delivery is POSTed to it whole; a PATCH
    without url keeps it, one with url replaces it. Neither an error, a delivery nor a log line
    quotes the path (the credential of a Slack webhook)."""
    _, key = make_tenant()
    old_path = "/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstXk9Q"
    new_path = "/services/T0CCCCCCC/B0DDDDDDD/zyxwvutsrqponmlkjihgQk7W"
    with Receiver(path=old_path) as old, Receiver(statuses=[503], path=new_path) as new:
        webhook = subscribe(api_client, key, old.url, ["job.failed"])
        one = f"/api/v1/notifications/webhooks/{webhook['id']}"
        assert webhook["url_display"] == old.url.split("/services/")[0] + "/…Xk9Q"

        def send_test(done=lambda d: d.status != "pending") -> WebhookDelivery:
            assert api_client.post(f"{one}/test", headers=auth(key)).status_code == 202
            return wait_for_delivery(webhook["id"], done)

        assert send_test().status == "succeeded"
        assert old.wait_for(1)[0].path == old_path
        kept = api_client.patch(one, headers=auth(key), json={"name": "renamed", "events": ["job.partial"]})
        assert kept.status_code == 200 and kept.json()["url_display"] == webhook["url_display"]
        assert send_test().status == "succeeded"
        assert old.wait_for(2)[1].path == old_path

        changed = api_client.patch(one, headers=auth(key), json={"url": new.url})
        assert changed.status_code == 200 and changed.json()["url_display"].endswith("/…Qk7W")
        failed = send_test(lambda d: d.last_error is not None)  # the new receiver answers 503 first
        assert new.wait_for(1)[0].path == new_path and len(old.received) == 2
        assert failed.last_error == f"{new.url.split('/services/')[0].removeprefix('http://')} answered HTTP 503"
        deliveries = api_client.get(f"{one}/deliveries", headers=auth(key))
        assert deliveries.status_code == 200 and len(deliveries.json()) == 3 and "/services/" not in deliveries.text
        # Its retry goes with it: it could otherwise reach another test's receiver on this port.
        assert api_client.delete(one, headers=auth(key)).status_code == 200
    logs = b"".join(p.read_bytes() for p in LOGDIR.glob("**/*.log"))
    assert b"abcdefghijklmnopqrst" not in logs and b"zyxwvutsrqponmlkjihg" not in logs


def test_slack_format_says_what_happened_in_words(api_client, jira_integration):
    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    with Receiver() as hook:
        subscribe(api_client, key, hook.url, ["job.partial"], format="slack")
        with session_scope() as s:
            events.emit(s, tenant_id, events.JOB_PARTIAL, {
                "integration_id": integration_id, "integration_name": "Acme Jira", "job_id": "j-1",
                "reason": "3 record(s) failed", "link": "/jobs/j-1"})
        (received,) = hook.wait_for(1)
    assert received.json() == {"text": "A sync of Acme Jira finished with errors: 3 record(s) failed. "
                                       "See /jobs/j-1 in the pulse-etl console."}


def test_a_500_is_retried_by_the_outbox_then_succeeds(api_client, make_tenant, settings_env):
    tenant_id, key = make_tenant()
    with Receiver(statuses=[500]) as hook:
        webhook = subscribe(api_client, key, hook.url, ["job.failed"])
        assert api_client.post(f"/api/v1/notifications/webhooks/{webhook['id']}/test", headers=auth(key)).status_code == 202
        hook.wait_for(1)
        first = wait_for_delivery(webhook["id"], lambda d: d.attempts == 1 and d.last_status_code == 500)
        assert first.status == "pending" and "answered HTTP 500" in first.last_error
        assert first.next_attempt_at.timestamp() > time.time() + 10  # ETL_WEBHOOK_RETRY_SECONDS, 30 by default
        with session_scope() as s:  # as if the wait had passed: the outbox (beat, every minute) sends it again
            s.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = :id"), {"id": first.id})
        with session_scope() as s:
            assert outbox.publish_due(s) >= 1
        second = hook.wait_for(2)[1]
        assert second.headers["X-Pulse-Delivery"] == str(first.id)
    done = wait_for_delivery(webhook["id"], lambda d: d.status != "pending")
    assert (done.status, done.attempts, done.last_status_code, done.last_error) == ("succeeded", 2, 200, None)

    # The last attempt that fails marks the delivery failed (run here, in this process).
    settings_env(ETL_WEBHOOK_MAX_ATTEMPTS="1")
    with Receiver(default=503) as hook:
        webhook = subscribe(api_client, key, hook.url, ["job.failed"], enabled=False)
        with session_scope() as s:
            s.execute(text("UPDATE webhook_subscriptions SET enabled = true WHERE id = :id"), {"id": webhook["id"]})
            (delivery_id,) = outbox.record_deliveries(s, tenant_id, events.TEST, {}, uuid.UUID(webhook["id"]))
            s.info.pop(outbox.PENDING)  # sent below, not by the workers
        assert sending.deliver(str(delivery_id)) == "failed"
    (row,) = delivery_rows(webhook["id"])
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, 503)


def test_a_receiver_that_hangs_does_not_hold_the_pipeline(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=10)
    fake.faults.add("401", times=None)
    with Receiver(hang=True) as hook:
        webhook = subscribe(api_client, key, hook.url, ["job.failed"])
        started = time.monotonic()
        job = run_sync(tenant_id, integration_id, timeout=60)
        assert job.status == "failed"
        hook.wait_for(1)
        # The job ended without waiting for the receiver; the delivery gave up on it after
        # ETL_WEBHOOK_TIMEOUT (5 s) and waits for its retry.
        delivery = wait_for_delivery(webhook["id"], lambda d: d.last_error is not None, timeout=30)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "did not answer within 5 s" in delivery.last_error
    assert job.finished_at is not None and time.monotonic() - started < 60
    # The same worker pool runs the next sync at once.
    fake.faults.clear()
    assert run_sync(tenant_id, integration_id, timeout=60).status == "succeeded"


def test_staleness_is_told_once_per_episode(api_client, jira_integration):
    tenant_id, key, integration_id, _ = jira_integration(issues=1)
    with Receiver() as hook:
        webhook = subscribe(api_client, key, hook.url, ["integration.stale"], stale_after_minutes=60)

        def last_sync(minutes_ago: int) -> None:
            with session_scope() as s:
                s.execute(text("UPDATE integrations SET last_sync_at = now() - make_interval(mins => :m) "
                               "WHERE id = :id"), {"m": minutes_ago, "id": integration_id})

        def check() -> None:
            with session_scope() as s:
                stale.notify_stale(s)

        last_sync(30)
        check()
        assert delivery_rows(webhook["id"]) == []  # not stale yet
        last_sync(120)
        check()
        check()  # the same episode: nothing new
        (received,) = hook.wait_for(1)
        subject = received.json()["subject"]
        assert subject["integration_id"] == str(integration_id) and "more than 60 minutes" in subject["reason"]
        assert len(delivery_rows(webhook["id"])) == 1
        last_sync(90)  # a sync ended since, and the integration went stale again: a new episode
        check()
        hook.wait_for(2)
        assert len(delivery_rows(webhook["id"])) == 2


def test_extract_workers_consume_the_notify_queue(workers):
    """The session's worker was started as an operator does, `-Q extract`, nothing more."""
    from etl.broker.app import app

    name = f"extract-{RUN_ID}@{socket.gethostname()}"
    replies = app.control.inspect(destination=[name], timeout=10).active_queues() or {}
    assert {"extract", "extract.scheduled", "notify"} <= {q["name"] for q in replies[name]}
