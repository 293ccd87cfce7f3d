"""Prometheus metrics for operators, read fresh from PostgreSQL and RabbitMQ at every scrape.

Job state lives in our tables, not in worker memory, so the numbers are the same whichever API
process Prometheus scrapes, and survive restarts. What they answer:
- is work flowing: active jobs, the oldest one's age, jobs ended in the last hour by status, task
  runs in the last hour by stage and state (retries, failures), queue depths and consumers;
- is data fresh: per integration, when it last synced successfully; how many scheduled
  integrations are overdue (beat or the dispatcher is not running), paused on a rate limit, or
  paused by their circuit breaker (syncs failing in a row);
- what is stuck: raw records waiting or failed;
- does the system heal itself: task recoveries (retries and redeliveries that later succeeded,
  re-drives of jobs that then ended well) and task failures, counters from etl.jobs.recoveries
  whose ratio is the automatic error recovery rate (README "Recovery rate").
Every query is an aggregate over indexed or small sets; the scrape never reads payloads.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

from kombu import Connection
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import text

from etl.broker.app import app as celery_app
from etl.broker.lanes import STAGES, all_queues
from etl.db import scope_to_all_tenants, session_scope
from etl.jobs.recoveries import FAILURES_SQL, RECOVERIES_SQL, REDELIVERY, REDRIVE, REDRIVE_STAGE, RETRY

BROKER_TIMEOUT = 2.0
# A scheduled integration this late has not been picked up by the dispatcher (beat down?).
OVERDUE_SECONDS = 300

_QUERIES = {
    "jobs_active": """
        SELECT kind, trigger, count(*), COALESCE(max(extract(epoch FROM now() - created_at)), 0)
        FROM etl_jobs WHERE status IN ('queued', 'running') GROUP BY kind, trigger""",
    "jobs_ended": """
        SELECT status, count(*) FROM etl_jobs
        WHERE finished_at > now() - interval '1 hour' GROUP BY status""",
    "task_runs": """
        SELECT stage, state, count(*) FROM etl_task_runs
        WHERE started_at > now() - interval '1 hour' GROUP BY stage, state""",
    "raw_backlog": """
        SELECT processing_status, count(*) FROM raw_extraction_data
        WHERE processing_status <> 'completed' GROUP BY processing_status""",
    "integrations": """
        SELECT id, provider, enabled, last_sync_at, next_sync_at, paused_until, breaker_open_at IS NOT NULL
        FROM integrations""",
    "recoveries": RECOVERIES_SQL,
    "failures": FAILURES_SQL,
}


class PulseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.monotonic()
        try:
            rows = _read_database()
        except Exception:  # noqa: BLE001 - a down database is itself the finding
            rows = None
        yield _gauge("pulse_database_up", "1 if PostgreSQL answered this scrape", value=1 if rows else 0)
        if rows:
            yield from _job_metrics(rows)
            yield from _integration_metrics(rows["integrations"])
            yield from _recovery_metrics(rows["recoveries"], rows["failures"])
        yield from _queue_metrics()
        yield _gauge("pulse_scrape_duration_seconds", "time this scrape took to read the database and broker",
                     value=time.monotonic() - started)


def _gauge(name: str, doc: str, labels: list[str] | None = None, value: float = 0.0) -> GaugeMetricFamily:
    """A labelled family (samples added by the caller) or a single value."""
    if labels:
        return GaugeMetricFamily(name, doc, labels=labels)
    return GaugeMetricFamily(name, doc, value=value)


def _read_database() -> dict[str, list]:
    with session_scope() as session:
        scope_to_all_tenants(session, "metrics count every tenant's jobs and integrations")
        session.execute(text("SET LOCAL statement_timeout = '5s'"))
        return {name: session.execute(text(sql)).all() for name, sql in _QUERIES.items()}


def _job_metrics(rows: dict[str, list]) -> Iterator[GaugeMetricFamily]:
    active = _gauge("pulse_jobs_active", "queued or running jobs", ["kind", "trigger"])
    oldest = 0.0
    for kind, trigger, count, age in rows["jobs_active"]:
        active.add_metric([kind, trigger], count)
        oldest = max(oldest, float(age))
    yield active
    yield _gauge("pulse_job_oldest_active_seconds", "age of the oldest queued or running job (0 when none)",
                 value=oldest)
    ended = _gauge("pulse_jobs_ended_last_hour", "jobs that ended in the last hour, by final status", ["status"])
    counts = dict(rows["jobs_ended"])
    for status in ("succeeded", "partial", "failed", "cancelled"):
        ended.add_metric([status], counts.get(status, 0))
    yield ended
    runs = _gauge("pulse_task_runs_last_hour", "task executions started in the last hour, by stage and state "
                                               "(retrying and failed ones are worth an alert)", ["stage", "state"])
    for stage, state, count in rows["task_runs"]:
        runs.add_metric([stage, state], count)
    yield runs
    backlog = _gauge("pulse_raw_records", "raw records not yet completed, by processing status", ["status"])
    counts = dict(rows["raw_backlog"])
    for status in ("pending", "processing", "failed"):
        backlog.add_metric([status], counts.get(status, 0))
    yield backlog


def _recovery_metrics(recoveries: list, failures: list) -> Iterator[CounterMetricFamily]:
    """Every stage's series exist from the first scrape (at 0), so rate() has a start."""
    recovered = CounterMetricFamily(
        "pulse_task_recoveries", "automatic recoveries: retries and redeliveries whose task then succeeded "
        "(kind retry|redelivery), re-drives of jobs that then succeeded (kind redrive, stage reaper)", labels=["stage", "kind"])
    counts = {(stage, kind): 0 for stage in STAGES for kind in (RETRY, REDELIVERY)}
    counts[(REDRIVE_STAGE, REDRIVE)] = 0
    for stage, kind, count in recoveries:
        counts[(stage, kind)] = counts.get((stage, kind), 0) + int(count or 0)
    for (stage, kind), count in sorted(counts.items()):
        recovered.add_metric([stage, kind], count)
    yield recovered
    failed = CounterMetricFamily("pulse_task_failures", "tasks that failed for good (a fatal error, or retries spent), "
                                 "and jobs the reaper failed (stage reaper)", labels=["stage"])
    counts = {stage: 0 for stage in (*STAGES, REDRIVE_STAGE)}
    for stage, count in failures:
        counts[stage] = counts.get(stage, 0) + int(count or 0)
    for stage, count in sorted(counts.items()):
        failed.add_metric([stage], count)
    yield failed


def _integration_metrics(integrations: list) -> Iterator[GaugeMetricFamily]:
    now = time.time()
    last = _gauge("pulse_integration_last_sync_timestamp_seconds",
                  "when the integration last synced successfully (alert on now - this)", ["integration_id", "provider"])
    total = _gauge("pulse_integrations", "integrations, by provider and whether enabled", ["provider", "enabled"])
    overdue = _gauge("pulse_integrations_overdue",
                     f"enabled integrations whose scheduled sync is more than {OVERDUE_SECONDS} s late "
                     "(is celery beat running?)", ["provider"])
    paused = _gauge("pulse_integrations_paused", "integrations waiting for a source rate limit to reset", ["provider"])
    breaker = _gauge("pulse_integrations_breaker_open",
                     "integrations paused by their circuit breaker (syncs failed in a row; schedules skip them "
                     "until they are resumed or a probe succeeds)", ["provider"])
    by_key: dict[tuple, int] = {}
    late: dict[str, int] = {}
    waiting: dict[str, int] = {}
    broken: dict[str, int] = {}
    for integration_id, provider, enabled, last_sync_at, next_sync_at, paused_until, breaker_open in integrations:
        by_key[(provider, str(enabled).lower())] = by_key.get((provider, str(enabled).lower()), 0) + 1
        if last_sync_at is not None:
            last.add_metric([str(integration_id), provider], last_sync_at.timestamp())
        if breaker_open:  # not overdue: the dispatcher skips it on purpose
            broken[provider] = broken.get(provider, 0) + 1
        elif enabled and next_sync_at is not None and next_sync_at.timestamp() < now - OVERDUE_SECONDS:
            late[provider] = late.get(provider, 0) + 1
        if paused_until is not None and paused_until.timestamp() > now:
            waiting[provider] = waiting.get(provider, 0) + 1
    for (provider, enabled), count in sorted(by_key.items()):
        total.add_metric([provider, enabled], count)
    for family, counts in ((overdue, late), (paused, waiting), (breaker, broken)):
        for provider in sorted({p for p, _ in by_key}):
            family.add_metric([provider], counts.get(provider, 0))
    yield from (last, total, overdue, paused, breaker)


def _queue_metrics() -> Iterator[GaugeMetricFamily]:
    messages = _gauge("pulse_queue_messages", "messages ready in the queue (not yet delivered)", ["queue"])
    consumers = _gauge("pulse_queue_consumers", "workers consuming the queue", ["queue"])
    try:
        with Connection(celery_app.conf.broker_url, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
            channel = conn.channel()
            for queue in all_queues():
                try:  # passive: count without creating a queue no worker declared yet
                    _, ready, consuming = channel.queue_declare(queue=queue, passive=True)
                except Exception:  # noqa: BLE001 - a queue not declared yet holds nothing
                    channel = conn.channel()
                    ready, consuming = 0, 0
                messages.add_metric([queue], ready)
                consumers.add_metric([queue], consuming)
        up = 1
    except Exception:  # noqa: BLE001 - a down broker is the finding
        up = 0
    yield _gauge("pulse_broker_up", "1 if the message broker answered this scrape", value=up)
    if up:
        yield messages
        yield consumers


def registry() -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(PulseCollector())
    return reg
