"""The events that the circuit breaker and the consistency audit raise reach a subscribed webhook
end to end: a real receiver on 127.0.0.1, the workers' job ends and audit task, the `notify` queue.
What the words say is asserted here, since a person reads them in Slack."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from etl.config import get_settings
from etl.models import WorkItem
from tests.notify.receiver import Receiver
from tests.notify.test_notifications import auth, subscribe
from tests.ops.test_audit import audit_through_api
from tests.scopes import session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")


def events_of(hook: Receiver, count: int) -> list[dict]:
    return [received.json() for received in hook.wait_for(count)]


def test_a_paused_and_a_resumed_integration_are_told_to_the_webhook(api_client, jira_integration):
    tenant_id, key, integration_id, fake = jira_integration(issues=5)
    good_token, fake.token = fake.token, "revoked-token"  # the source refuses the stored token (401)
    with Receiver() as hook:
        subscribe(api_client, key, hook.url, ["integration.paused", "integration.recovered"], format="slack")
        for _ in range(get_settings().breaker_fatal_failures):
            assert run_sync(tenant_id, integration_id).status == "failed"
        (paused,) = events_of(hook, 1)
        assert "is paused and will not sync until it is resumed" in paused["text"], paused
        assert "401" in paused["text"] and f"See /integrations/{integration_id} in" in paused["text"]

        fake.token = good_token  # the admin fixed the credentials at the source
        r = api_client.post(f"/api/v1/integrations/{integration_id}/resume", headers=auth(key))
        assert r.status_code == 200, r.text
        recovered = events_of(hook, 2)[1]
    assert " syncs again: " in recovered["text"], recovered


def test_audit_differences_are_told_to_the_webhook(api_client, jira_integration):
    tenant_id, key, integration_id, _ = jira_integration(issues=8)
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    with session_scope() as s:
        s.execute(update(WorkItem).where(WorkItem.integration_id == integration_id)
                  .values(status="Tampered"))
    with Receiver() as hook:
        webhook = subscribe(api_client, key, hook.url, ["audit.differences"])
        audit = audit_through_api(api_client, key, integration_id, full=True)
        assert audit["status"] == "finished" and audit["differences"] == 8, audit
        (told,) = events_of(hook, 1)
    assert told["event"] == "audit.differences" and told["tenant_id"] == str(tenant_id)
    assert told["subject"]["integration_id"] == str(integration_id)
    assert told["subject"]["differences"] == 8 and told["subject"]["link"] == f"/integrations/{integration_id}"
    assert told["subject"]["reason"] == "8 row(s) differ from what the raw layer says"
    assert uuid.UUID(told["delivery_id"]) and webhook["id"]
