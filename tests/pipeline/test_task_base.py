"""The task base decides what a stage's failure means (etl.pipeline.task_base.EtlTask.run_work): a
spent rate limit pauses the job's integration and re-queues the same work in the same lane without
spending a retry; a retriable failure retries; a fatal one fails the job. No services: the stage
function and the task's bookkeeping are replaced."""
from __future__ import annotations

import uuid
from unittest import mock

import pytest
from celery.exceptions import Retry

from etl.pipeline import tasks
from etl.sources.http import FatalError, RateLimited, RetriableError

JOB = str(uuid.uuid4())


def raising(exc: Exception):
    def work(*args):
        raise exc
    return work


@pytest.fixture
def extract_task():
    task = tasks.extract_page._get_current_object()
    task.push_request(id=f"{JOB}.extract.1", args=(JOB, 1), kwargs={}, retries=0,
                      delivery_info={"routing_key": "extract.scheduled"})
    cls = type(task)
    with mock.patch.object(cls, "_job_tenant", return_value=None), mock.patch.object(cls, "_record"), \
            mock.patch.object(cls, "_fail") as fail, mock.patch.object(cls, "_pause_integration") as pause, \
            mock.patch.object(cls, "apply_async") as apply_async, \
            mock.patch.object(cls, "retry", side_effect=Retry()) as retry:
        yield task, {"fail": fail, "pause": pause, "apply_async": apply_async, "retry": retry}
    task.pop_request()


def test_a_spent_rate_limit_pauses_the_integration_and_requeues_in_the_same_lane(extract_task):
    task, calls = extract_task
    assert task.run_stage(JOB, raising(RateLimited("budget spent", retry_after=5)), 1) is None
    calls["pause"].assert_called_once_with(5)
    assert calls["apply_async"].call_args.kwargs["queue"] == "extract.scheduled"
    assert calls["apply_async"].call_args.kwargs["args"] == (JOB, 1)
    calls["retry"].assert_not_called()
    calls["fail"].assert_not_called()


def test_a_retriable_failure_retries_and_a_fatal_one_fails_the_job(extract_task):
    task, calls = extract_task
    with pytest.raises(Retry):
        task.run_stage(JOB, raising(RetriableError("502 from the source")), 1)
    calls["fail"].assert_not_called()
    with pytest.raises(FatalError):
        task.run_stage(JOB, raising(FatalError("401: bad token", status=401, url="https://x")), 1)
    # fatal: the circuit breaker counts these apart (etl.jobs.breaker)
    calls["fail"].assert_called_once_with("401: bad token", status=401, url="https://x", fatal=True)
    calls["pause"].assert_not_called()
