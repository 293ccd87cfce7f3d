"""The fault-test harness works (tests/faults.py): private PostgreSQL and RabbitMQ that can be
killed and restarted without losing what they committed, a TCP proxy that cuts and restores a
link, and real workers on a private stack that sync and die cleanly. Each test prints how long
its services took to start (run with -s to see the figures)."""
from __future__ import annotations

import time

import psycopg2
import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select

from etl.models import WorkItem
from tests.faults import alive, port_open


def test_private_postgres_keeps_committed_data_through_a_kill(private_postgres):
    pg = private_postgres
    conn = psycopg2.connect(pg.dsn())
    cur = conn.cursor()
    cur.execute("CREATE TABLE kept (n int)")
    cur.execute("INSERT INTO kept VALUES (1), (2)")
    conn.commit()
    cur.execute("INSERT INTO kept VALUES (3)")  # in flight when the server dies: lost

    pg.kill()
    assert not pg.running() and not port_open(pg.port)
    with pytest.raises(psycopg2.OperationalError):
        cur.execute("SELECT 1")
    restart_s = pg.start()

    with psycopg2.connect(pg.dsn()) as again:
        rows = again.cursor()
        rows.execute("SELECT n FROM kept ORDER BY n")
        assert rows.fetchall() == [(1,), (2,)]
    print(f"\nprivate PostgreSQL: initdb {pg.timings['initdb']:.1f}s, start {pg.timings['start']:.1f}s, "
          f"restart after SIGKILL (crash recovery) {restart_s:.1f}s")


def test_private_rabbitmq_keeps_a_durable_queues_persistent_message_through_a_kill(private_rabbitmq):
    rmq = private_rabbitmq
    queue = Queue("harness", Exchange("harness", type="direct", durable=True), routing_key="harness", durable=True)
    with Connection(rmq.url, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        producer.publish({"n": 1}, exchange=queue.exchange, routing_key="harness", declare=[queue],
                         delivery_mode=2, serializer="json")
        producer.publish({"n": 2}, exchange=queue.exchange, routing_key="harness", delivery_mode=1,
                         serializer="json")  # transient: a crash loses it

    killed = rmq.kill()
    assert not any(alive(p) for p in killed) and not port_open(rmq.port)
    restart_s = rmq.start()

    with Connection(rmq.url) as conn:
        bound = queue(conn.default_channel)
        message = bound.get(no_ack=False)
        assert message is not None and message.payload == {"n": 1}
        message.ack()
        assert bound.get() is None
    print(f"\nprivate RabbitMQ: start {rmq.timings['start']:.1f}s, restart after SIGKILL {restart_s:.1f}s "
          f"({len(killed)} processes killed)")


def test_tcp_proxy_cut_breaks_open_and_new_connections_and_restore_lets_new_ones_through(
        private_postgres, tcp_proxy):
    proxy = tcp_proxy(private_postgres.port)
    dsn = f"postgresql://postgres@127.0.0.1:{proxy.port}/{private_postgres.database}"
    conn = psycopg2.connect(dsn)
    conn.cursor().execute("SELECT 1")

    proxy.cut()
    with pytest.raises(psycopg2.OperationalError):
        conn.cursor().execute("SELECT 1")
    with pytest.raises(psycopg2.OperationalError, match="refused"):
        psycopg2.connect(dsn, connect_timeout=5)
    assert private_postgres.running()  # the server never noticed

    proxy.restore()
    with psycopg2.connect(dsn, connect_timeout=5) as again:
        cur = again.cursor()
        cur.execute("SELECT 42")
        assert cur.fetchone() == (42,)


def test_workers_on_a_private_stack_sync_and_a_killed_worker_leaves_nothing_behind(private_stack, fake_jira):
    t0 = time.monotonic()
    stack = private_stack(proxied=True)
    stack_s = time.monotonic() - t0
    fake = fake_jira(issues=120)
    tenant_id, integration_id = stack.add_jira(fake)

    job = stack.wait_for_job(stack.start_job(integration_id, tenant_id, "full"), timeout=120)
    assert job.status == "succeeded", job.error_details
    assert job.loaded == 120
    with stack.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkItem)
                        .where(WorkItem.integration_id == integration_id)) == 120
    assert stack.db_proxy.open_connections and stack.broker_proxy.open_connections  # workers go through them

    killed = stack.workers.kill("extract")
    assert len(killed) >= 3  # the main process and its two pool children
    assert not any(alive(p) for p in killed)

    t0 = time.monotonic()
    stack.start_workers(("extract",))
    restart_s = time.monotonic() - t0
    fake.touch(fake.issue_keys()[:5])
    job = stack.wait_for_job(stack.start_job(integration_id, tenant_id), timeout=120)
    assert job.status == "succeeded", job.error_details
    assert job.loaded >= 5
    pg, rmq = stack.postgres, stack.rabbitmq
    print(f"\nprivate stack ready in {stack_s:.1f}s (initdb {pg.timings['initdb']:.1f}s, PostgreSQL start "
          f"{pg.timings['start']:.1f}s, RabbitMQ start {rmq.timings['start']:.1f}s, then migrations and 3 "
          f"workers); an extract worker restarted in {restart_s:.1f}s")
