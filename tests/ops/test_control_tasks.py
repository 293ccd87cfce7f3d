"""The control tasks take the task base's decisions (etl.pipeline.task_base.EtlTask.run_work), with
no job to record or fail: a source's 5xx retries the reconciliation, a rate limit re-queues it
without spending a retry, a refusal fails it, and a periodic task that meets a database outage fails
this run (beat's next run is its retry). No services: the work functions are replaced."""
from __future__ import annotations

import uuid
from unittest import mock

import pytest
from celery.exceptions import Retry
from sqlalchemy.exc import OperationalError

from etl.ops import tasks
from etl.sources.http import FatalError, RateLimited, RetriableError

INTEGRATION = str(uuid.uuid4())


def raising(exc: Exception):
    def work(*args):
        raise exc
    return work


@pytest.fixture
def reconcile_task():
    task = tasks.reconcile_integration._get_current_object()
    task.push_request(id="t-1", args=(INTEGRATION,), kwargs={}, retries=2,
                      delivery_info={"routing_key": "extract"})
    yield task
    task.pop_request()


def test_a_retriable_source_failure_retries_the_reconciliation_with_the_sources_retry_after(reconcile_task):
    with mock.patch.object(tasks.reconcile, "reconcile", raising(RetriableError("503", retry_after=7))), \
            mock.patch.object(type(reconcile_task), "retry", side_effect=Retry()) as retry:
        with pytest.raises(Retry):
            reconcile_task.run(INTEGRATION)
    assert 7 <= retry.call_args.kwargs["countdown"] <= 8
    assert retry.call_args.kwargs["max_retries"] == reconcile_task.max_retries > 0


def test_a_spent_rate_limit_requeues_the_reconciliation_in_its_queue_without_a_retry(reconcile_task):
    with mock.patch.object(tasks.reconcile, "reconcile", raising(RateLimited("spent", retry_after=5))), \
            mock.patch.object(type(reconcile_task), "apply_async") as apply_async, \
            mock.patch.object(type(reconcile_task), "retry") as retry:
        assert reconcile_task.run(INTEGRATION) is None
    retry.assert_not_called()
    assert apply_async.call_args.kwargs["args"] == (INTEGRATION,)
    assert apply_async.call_args.kwargs["queue"] == "extract"
    assert 5 <= apply_async.call_args.kwargs["countdown"] <= 6


@pytest.mark.parametrize("exc", [FatalError("401 Unauthorized", status=401), tasks.reconcile.ReconcileRefused("too many")])
def test_a_fatal_failure_or_a_refusal_fails_the_reconciliation_with_no_job_to_fail(reconcile_task, exc):
    with mock.patch.object(tasks.reconcile, "reconcile", raising(exc)), \
            mock.patch.object(tasks.EtlTask, "_fail") as job_failure, \
            mock.patch.object(type(reconcile_task), "retry") as retry:
        with pytest.raises(type(exc)):
            reconcile_task.run(INTEGRATION)
    retry.assert_not_called()
    job_failure.assert_not_called()


def test_a_periodic_task_does_not_retry_a_database_outage():
    task = tasks.dispatch._get_current_object()
    task.push_request(id="t-2", args=(), kwargs={}, retries=0)
    try:
        outage = OperationalError("SELECT 1", {}, Exception("connection refused"))
        with mock.patch.object(tasks.scheduling, "dispatch_due", raising(outage)), \
                mock.patch.object(type(task), "retry") as retry:
            with pytest.raises(OperationalError):
                task.run()
        retry.assert_not_called()
    finally:
        task.pop_request()
