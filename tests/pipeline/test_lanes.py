"""A job someone is waiting for is not queued behind a scheduled backfill (etl/broker/lanes.py)."""
from __future__ import annotations

import time

import pytest

from etl.broker.app import app
from etl.db import get_sessionmaker
from etl.jobs.ending import cancel_job
from etl.jobs.lifecycle import create_job, start_job
from etl.models import Integration
from etl.pipeline.tasks import transform_batch
from tests.scopes import session_scope
from tests.waiting import wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def queue_depth(name: str) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def test_manual_sync_jumps_ahead_of_a_scheduled_backlog(jira_integration, make_tenant):
    tenant = make_tenant()
    tenant_id, _, manual_integration, _ = jira_integration(issues=200, tenant=tenant)
    _, _, scheduled_integration, _ = jira_integration(issues=10, tenant=tenant)

    # A scheduled job whose transform backlog sits in the scheduled lane: thousands of messages,
    # each a quick no-op for the workers (the job is cancelled), but they take a while to drain.
    with session_scope() as s:
        job, batch_ids = create_job(s, s.get(Integration, scheduled_integration), trigger="schedule")
        backlog_job = str(job.id)
    with session_scope() as s:
        cancel_job(s, backlog_job, "test backlog")
    with app.producer_or_acquire() as producer:
        for _ in range(4000):
            transform_batch.apply_async((backlog_job, batch_ids[0]), queue="transform.scheduled", producer=producer)
    assert queue_depth("transform.scheduled") > 1000

    started = time.monotonic()
    job = wait_for_job(start_job(get_sessionmaker(), manual_integration, tenant_id, "incremental", trigger="api"))
    took = time.monotonic() - started
    left = queue_depth("transform.scheduled")
    assert job.status == "succeeded" and job.loaded == 200
    assert left > 0, f"the manual job waited for the whole backlog ({took:.1f}s)"

    deadline = time.monotonic() + 120
    while queue_depth("transform.scheduled") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert queue_depth("transform.scheduled") == 0, "workers started with -Q transform drain the scheduled lane too"


def test_a_scheduled_task_gives_way_only_while_manual_work_waits(monkeypatch):
    """etl/broker/priority.py: a scheduled-lane stage task goes back behind its queue while its
    stage's manual queue holds messages no worker took yet, at most MAX_YIELDS times; a manual-lane
    task never does. Read from the real broker (a queue of the test's own stands for the manual one:
    the suite's workers would take a message put in theirs)."""
    from kombu import Queue

    from etl.broker import priority

    probe = "pulse_test_priority_probe"
    monkeypatch.setattr(priority, "queue_for", lambda stage, lane: probe)
    monkeypatch.setattr(priority, "_last_look", {})
    with app.connection_for_write() as conn:
        queue = Queue(probe, routing_key=probe, auto_delete=False)(conn.default_channel)
        queue.declare()
        try:
            assert not priority.should_give_way("transform", "transform.scheduled", 0)
            with conn.Producer() as producer:
                producer.publish({"waiting": True}, routing_key=probe, declare=[queue])
            priority._last_look.clear()
            assert priority.should_give_way("transform", "transform.scheduled", 0)
            assert priority.should_give_way("load", "load.scheduled", priority.MAX_YIELDS - 1)
            assert not priority.should_give_way("load", "load.scheduled", priority.MAX_YIELDS)
            assert not priority.should_give_way("transform", "transform", 0)  # manual work never waits
            assert not priority.should_give_way("control", "transform.scheduled", 0)
            queue.purge()
            priority._last_look.clear()
            assert not priority.should_give_way("extract", "extract.scheduled", 0)
        finally:
            queue.delete()
