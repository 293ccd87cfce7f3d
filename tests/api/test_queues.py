"""GET /api/v1/etl/queues on real PostgreSQL and RabbitMQ: admin keys see the broker's queues,
every key sees its own tenant's pending batches, and nobody sees another tenant's."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from etl.broker.lanes import all_queues
from etl.models import EtlBatch, EtlJob
from etl.ops import queues as queue_reading
from etl.tenancy.keys import issue_api_key
from tests.scopes import session_scope


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _active_job_with_batches(tenant_id, integration_id, statuses: list[str]) -> None:
    with session_scope() as s:
        job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="running",
                     started_at=datetime.now(timezone.utc))
        s.add(job)
        s.flush()
        s.add_all([EtlBatch(job_id=job.id, tenant_id=tenant_id, stream="issues", seq=seq, status=status)
                   for seq, status in enumerate(statuses)])


@pytest.fixture
def two_tenants(jira_integration):
    t1, key1, i1, _ = jira_integration(issues=1)
    t2, key2, i2, _ = jira_integration(issues=1)
    _active_job_with_batches(t1, i1, ["pending", "extracted", "extracted", "transformed", "loaded"])
    _active_job_with_batches(t2, i2, ["pending"] * 7)
    return (t1, key1), (t2, key2)


def test_a_tenant_key_sees_its_own_pending_batches_and_no_broker_numbers(api_client, two_tenants):
    (_, key1), (_, key2) = two_tenants
    r = api_client.get("/api/v1/etl/queues", headers=auth(key1))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "tenant" and body["jobs"] == {"queued": 0, "running": 1}
    assert [(s["stage"], s["pending_batches"]) for s in body["stages"]] == [("extract", 1), ("transform", 2),
                                                                             ("load", 1)]
    assert all(s["messages"] is None and s["consumers"] is None and s["queues"] == [] for s in body["stages"])
    other = api_client.get("/api/v1/etl/queues", headers=auth(key2)).json()
    assert [s["pending_batches"] for s in other["stages"]] == [7, 0, 0]


def test_an_admin_key_sees_the_broker_queues_of_every_stage(api_client, two_tenants):
    (t1, _), _ = two_tenants
    with session_scope() as s:
        admin = issue_api_key(s, t1, name="ops", is_admin=True).secret
    r = api_client.get("/api/v1/etl/queues", headers=auth(admin))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "broker"
    assert [s["stage"] for s in body["stages"]] == ["extract", "transform", "load"]
    assert sorted(q["name"] for s in body["stages"] for q in s["queues"]) == sorted(all_queues())
    for stage in body["stages"]:
        assert {q["lane"] for q in stage["queues"]} == {"manual", "scheduled"}
        assert stage["messages"] == sum(q["messages"] for q in stage["queues"]) and stage["consumers"] >= 0
    # Its own tenant's batches still, never the other tenant's 7.
    assert [s["pending_batches"] for s in body["stages"]] == [1, 2, 1]


def test_an_unreachable_broker_is_a_503_in_words_for_admin_keys_only(api_client, make_tenant, monkeypatch):
    tenant_id, key = make_tenant()
    with session_scope() as s:
        admin = issue_api_key(s, tenant_id, name="ops", is_admin=True).secret
    monkeypatch.setattr(queue_reading, "broker_url", lambda: "amqp://guest:guest@127.0.0.1:1//")
    r = api_client.get("/api/v1/etl/queues", headers=auth(admin))
    assert r.status_code == 503
    assert "broker" in r.json()["detail"] and "unreachable" in r.json()["detail"]
    assert api_client.get("/api/v1/etl/queues", headers=auth(key)).status_code == 200  # never reads the broker


def test_a_hanging_broker_answers_503_within_the_deadline(api_client, make_tenant, monkeypatch):
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the TCP connection, never speaks AMQP
    port = listener.getsockname()[1]
    tenant_id, _ = make_tenant()
    with session_scope() as s:
        admin = issue_api_key(s, tenant_id, name="ops", is_admin=True).secret
    monkeypatch.setattr(queue_reading, "broker_url", lambda: f"amqp://guest:guest@127.0.0.1:{port}//")
    started = time.monotonic()
    r = api_client.get("/api/v1/etl/queues", headers=auth(admin))
    listener.close()
    assert r.status_code == 503 and time.monotonic() - started < queue_reading.BROKER_DEADLINE + 2
