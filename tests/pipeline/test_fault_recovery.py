"""Nothing lost, nothing stalled (PRODUCT.md section 8, issue 9): real workers on a private
PostgreSQL and RabbitMQ (tests/faults.py) that the test kills mid-job. Each job must complete with
exactly the fake's issues, no page twice, no raw row left pending or processing, and without a
reaper re-drive: no beat runs here, so a job that lost its work stays stalled and the wait fails.

One stack per test: starting a RabbitMQ node costs 10-20 s, so a test runs several faults."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from etl.models import EtlBatch, EtlJob, RawExtractionData, WorkItem
from tests.faults import wait_until

ISSUES = 1500  # 15 pages of 100


def batch_statuses(stack, job_id) -> dict[str, int]:
    with stack.session() as s:
        return dict(s.execute(select(EtlBatch.status, func.count()).where(EtlBatch.job_id == job_id)
                              .group_by(EtlBatch.status)).all())


def assert_exact(stack, job_id, integration_id, fake) -> EtlJob:
    job = stack.wait_for_job(job_id, timeout=240)
    assert job.status == "succeeded", job.error_details
    assert job.redrives == 0
    with stack.session() as s:
        keys = s.scalars(select(WorkItem.key).where(WorkItem.integration_id == integration_id)).all()
        pages = s.execute(select(EtlBatch.stream, EtlBatch.seq, func.count()).where(EtlBatch.job_id == job_id)
                          .group_by(EtlBatch.stream, EtlBatch.seq)).all()
        unfinished = s.scalar(select(func.count()).select_from(RawExtractionData).where(
            RawExtractionData.integration_id == integration_id,
            RawExtractionData.processing_status.in_(("pending", "processing"))))
    assert sorted(keys) == sorted(fake.issue_keys()), "rows differ from the source"
    assert all(count == 1 for *_, count in pages), "a page was batched twice"
    assert unfinished == 0
    return job


def slow_source(fake_jira, delay: float = 0.15):
    """A Jira whose search pages take a moment, so that a job is still running when a fault hits."""
    fake = fake_jira(issues=ISSUES)
    fake.faults.add("slow", path_contains="/search", times=None, delay=delay)
    return fake


def test_a_sigkilled_worker_of_each_stage_costs_time_not_data(private_stack, fake_jira):
    stack = private_stack()
    for stage in ("extract", "transform", "load"):
        fake = slow_source(fake_jira)
        tenant_id, integration_id = stack.add_jira(fake)
        job_id = stack.start_job(integration_id, tenant_id, "full")
        # Mid-job: some pages through the pipeline, more to come.
        wait_until(lambda: batch_statuses(stack, job_id).get("loaded", 0) >= 2, 120, f"{stage}: two pages loaded")
        killed = stack.workers.kill(stage)
        assert killed
        stack.start_workers((stage,))
        job = assert_exact(stack, job_id, integration_id, fake)
        print(f"\nSIGKILL of the {stage} worker: job {job.status}, {job.loaded} loaded, "
              f"{(job.finished_at - job.started_at).total_seconds():.1f}s")


def test_a_broker_or_database_outage_mid_job_delays_the_job_and_loses_nothing(private_stack, fake_jira):
    stack = private_stack()
    for service in ("broker", "database"):
        fake = slow_source(fake_jira)
        tenant_id, integration_id = stack.add_jira(fake)
        job_id = stack.start_job(integration_id, tenant_id, "full")
        wait_until(lambda: batch_statuses(stack, job_id).get("loaded", 0) >= 2, 120, f"{service}: two pages loaded")
        down = time.monotonic()
        if service == "broker":
            stack.rabbitmq.kill()
            time.sleep(10)  # the outage itself: what the test simulates, not a wait for state
            stack.rabbitmq.start()
        else:
            stack.postgres.kill()
            time.sleep(10)
            stack.postgres.start()
        back = time.monotonic()
        job = assert_exact(stack, job_id, integration_id, fake)
        recovered = job.finished_at.timestamp() - (time.time() - (time.monotonic() - back))
        print(f"\n{service} down {back - down:.1f}s: job {job.status}, {job.loaded} loaded, "
              f"finished {recovered:.1f}s after the {service} was back")
        assert recovered < 60, f"the job took {recovered:.0f}s after the {service} came back"


def test_a_30_second_network_cut_to_the_broker_or_the_database_loses_nothing(private_stack, fake_jira):
    stack = private_stack(proxied=True)  # the workers reach both through proxies the test cuts
    for service, proxy in (("broker", stack.broker_proxy), ("database", stack.db_proxy)):
        fake = slow_source(fake_jira)
        tenant_id, integration_id = stack.add_jira(fake)
        job_id = stack.start_job(integration_id, tenant_id, "full")
        wait_until(lambda: batch_statuses(stack, job_id).get("loaded", 0) >= 2, 120, f"{service}: two pages loaded")
        proxy.cut()
        time.sleep(30)  # the cut itself: what the test simulates, not a wait for state
        proxy.restore()
        back = time.monotonic()
        job = assert_exact(stack, job_id, integration_id, fake)
        recovered = job.finished_at.timestamp() - (time.time() - (time.monotonic() - back))
        print(f"\nlink to the {service} cut 30s: job {job.status}, {job.loaded} loaded, "
              f"finished {recovered:.1f}s after the link was back")
        assert recovered < 60, f"the job took {recovered:.0f}s after the link to the {service} came back"
