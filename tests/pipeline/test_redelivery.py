"""A redelivered stage task finishes what its first delivery began (FIELD-NOTES, Faults): the first
delivery runs here, in the test process, and "dies" at a chosen point (after its commit, before
its publish; between committing the next page and storing this one); then the same task is
delivered again to the real workers, as RabbitMQ would after a SIGKILL. The job must complete
with exact rows and without the reaper (there is no beat in the suite: a stalled job stays
stalled)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from etl.broker.lanes import stage_task_id
from etl.broker.publish import publish_extract
from etl.db import tenant_context
from etl.jobs.lifecycle import create_job, fail_job
from etl.models import EtlBatch, Integration, WorkItem
from etl.pipeline import checkpoints, extract
from tests.scopes import session_scope
from tests.waiting import wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def new_job(integration_id) -> tuple[str, int]:
    """A queued job whose first extract was never published (the test plays its first delivery)."""
    with session_scope() as s:
        job, batch_ids = create_job(s, s.get(Integration, integration_id))
        return str(job.id), batch_ids[0]


def first_delivery(tenant_id, batch_id):
    """The stage function as its task runs it: under the job's tenant (row-level security)."""
    with tenant_context(tenant_id):
        return extract.extract_page(batch_id)


def assert_complete(job_id: str, integration_id, fake, issues: int) -> None:
    job = wait_for_job(job_id, timeout=90)
    assert (job.status, job.loaded, job.failed, job.redrives) == ("succeeded", issues, 0, 0), job.error_details
    with session_scope() as s:
        keys = s.scalars(select(WorkItem.key).where(WorkItem.integration_id == integration_id)).all()
        batches = s.execute(select(EtlBatch.seq, func.count()).where(EtlBatch.job_id == job.id)
                            .group_by(EtlBatch.seq)).all()
    assert sorted(keys) == sorted(fake.issue_keys())
    assert all(count == 1 for _, count in batches)  # no page batch twice


def test_a_delivery_that_died_after_its_commit_is_finished_by_the_redelivery(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=250)  # three pages of 100
    job_id, first = new_job(integration_id)

    follow = first_delivery(tenant_id, first)  # committed: page stored, next batch created ...
    assert follow.extract and follow.process  # ... and then nothing of this was published

    # Before: the redelivery found its batch moved on and did nothing; the job stalled.
    publish_extract(job_id, [first])
    assert_complete(job_id, integration_id, fake, 250)


def test_a_delivery_that_died_between_its_two_commits_is_finished_by_the_redelivery(jira_integration, monkeypatch):
    tenant_id, _, integration_id, fake = jira_integration(issues=250)
    job_id, first = new_job(integration_id)

    def killed(*args, **kwargs):
        raise RuntimeError("SIGKILL")

    monkeypatch.setattr(extract, "store_records", killed)
    with pytest.raises(RuntimeError):
        first_delivery(tenant_id, first)  # the next page's batch is committed, this page is not stored
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(EtlBatch).where(EtlBatch.job_id == job_id)) == 2
    monkeypatch.undo()

    # Before: the redelivery fetched and stored the page but found the next batch already there,
    # and published no extract for it: the stream ended after one page.
    publish_extract(job_id, [first])
    assert_complete(job_id, integration_id, fake, 250)


def test_a_duplicate_re_publishes_only_what_never_started(jira_integration):
    tenant_id, _, integration_id, _ = jira_integration(issues=150)
    job_id, first = new_job(integration_id)
    follow = first_delivery(tenant_id, first)
    next_batch = follow.extract[0]

    def started(*task_ids):
        with session_scope() as s:
            s.execute(text("DELETE FROM etl_task_runs WHERE job_id = :job"), {"job": job_id})
            for task_id in task_ids:
                s.execute(text("INSERT INTO etl_task_runs (job_id, tenant_id, task_id, task_name, stage, state, attempt) "
                               "SELECT id, tenant_id, :task, 'x', 'extract', 'started', 0 FROM etl_jobs "
                               "WHERE id = :job"), {"job": job_id, "task": task_id})

    def implied():
        with session_scope() as s:
            f = checkpoints.implied_follow_ups(s, first)
            return f.extract, f.process, f.load

    assert implied() == ([next_batch], [first], [])
    started(stage_task_id(job_id, "extract", next_batch), stage_task_id(job_id, "transform", first))
    assert implied() == ([], [], [])  # the real chain is under way: no shadow chain behind it
    started(stage_task_id(job_id, "extract", next_batch))
    assert implied() == ([], [first], [])
    with session_scope() as s:
        fail_job(s, job_id, "test", "done with this job")
    assert implied() == ([], [], [])  # an ended job gets nothing


def test_a_message_that_kills_its_worker_every_time_fails_the_job_instead_of_looping(jira_integration):
    _, _, integration_id, fake = jira_integration(issues=50)
    job_id, first = new_job(integration_id)
    with session_scope() as s:  # five deliveries of this task already died with their worker
        s.execute(text("INSERT INTO etl_task_runs (job_id, tenant_id, task_id, task_name, stage, state, attempt, "
                       "deliveries) SELECT id, tenant_id, :task, 'etl.extract.page', 'extract', 'started', 0, 5 "
                       "FROM etl_jobs WHERE id = :job"), {"job": job_id, "task": stage_task_id(job_id, "extract", first)})

    publish_extract(job_id, [first])  # the sixth
    job = wait_for_job(job_id, timeout=60)

    # Before: run again, and again, for as long as it killed its worker.
    assert job.status == "failed", job.error_details
    assert "delivered 6 times and its worker never finished it" in job.error_details["message"]
    assert fake.requests == []  # acked unrun
