"""GET /metrics as Prometheus scrapes it: jobs, task runs, queues and data freshness, read fresh
from PostgreSQL and RabbitMQ with real workers running."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from etl.models import EtlJob, Integration
from tests.scopes import session_scope
from tests.waiting import run_sync


def scrape(api_client, **headers) -> dict[tuple[str, frozenset], float]:
    r = api_client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_follow_jobs_queues_and_freshness(api_client, jira_integration, workers):
    tenant_id, key, integration_id, fake = jira_integration(issues=120)
    before = scrape(api_client)
    assert value(before, "pulse_database_up") == 1 and value(before, "pulse_broker_up") == 1
    assert value(before, "pulse_queue_consumers", queue="extract") >= 1
    assert value(before, "pulse_queue_consumers", queue="load.scheduled") >= 1
    assert ("pulse_integration_last_sync_timestamp_seconds",
            frozenset({"integration_id": str(integration_id), "provider": "jira"}.items())) not in before

    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded"
    after = scrape(api_client)
    synced = value(after, "pulse_integration_last_sync_timestamp_seconds",
                   integration_id=str(integration_id), provider="jira")
    assert synced == job.finished_at.timestamp()
    assert value(after, "pulse_jobs_ended_last_hour", status="succeeded") >= \
        value(before, "pulse_jobs_ended_last_hour", status="succeeded") + 1
    assert value(after, "pulse_task_runs_last_hour", stage="load", state="succeeded") >= \
        value(before, "pulse_task_runs_last_hour", stage="load", state="succeeded") + 2  # 120 issues: 2 pages

    # A job stuck for 10 minutes, a schedule 10 minutes late (beat down) and a spent rate limit.
    ten_minutes_ago = datetime.now(timezone.utc) - timedelta(minutes=10)
    with session_scope() as s:
        stuck = EtlJob(tenant_id=tenant_id, integration_id=integration_id, status="running", trigger="schedule",
                       created_at=ten_minutes_ago)
        s.add(stuck)
        s.execute(update(Integration).where(Integration.id == integration_id).values(
            schedule_interval_minutes=5, next_sync_at=ten_minutes_ago,
            paused_until=datetime.now(timezone.utc) + timedelta(minutes=30)))
    try:
        now = scrape(api_client)
        assert value(now, "pulse_jobs_active", kind="incremental", trigger="schedule") >= 1
        assert value(now, "pulse_job_oldest_active_seconds") >= 600
        # At least: another test's schedule may fall overdue between the two scrapes.
        assert value(now, "pulse_integrations_overdue", provider="jira") >= \
            value(after, "pulse_integrations_overdue", provider="jira") + 1
        assert value(now, "pulse_integrations_paused", provider="jira") >= \
            value(after, "pulse_integrations_paused", provider="jira") + 1
    finally:
        with session_scope() as s:
            s.execute(update(EtlJob).where(EtlJob.id == stuck.id).values(
                status="cancelled", finished_at=datetime.now(timezone.utc)))
            s.execute(update(Integration).where(Integration.id == integration_id).values(
                schedule_interval_minutes=None, next_sync_at=None, paused_until=None))


def test_metrics_token_is_required_when_set(api_client, settings_env):
    settings_env(ETL_METRICS_TOKEN="scrape-me-please")
    r = api_client.get("/metrics")
    assert r.status_code == 401 and "ETL_METRICS_TOKEN" in r.json()["detail"]
    assert api_client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert value(scrape(api_client, Authorization="Bearer scrape-me-please"), "pulse_database_up") == 1
