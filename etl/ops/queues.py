"""What waits in each stage: the broker's queues (for operators: admin keys) and one tenant's own
pending batches and active jobs (for everyone else: never another tenant's numbers, never the
broker's totals, which mix every tenant's work)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from kombu import Connection
from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.broker.app import app as celery_app
from etl.broker.lanes import SCHEDULED, STAGES, all_queues
from etl.errors import Unavailable

BROKER_TIMEOUT = 2.0  # seconds: to connect, and for each answer
BROKER_DEADLINE = 4.0  # seconds: the whole reading, whatever hangs
# A batch waits for the stage that claims it next (etl/pipeline/checkpoints.py).
WAITING_FOR = {"pending": "extract", "extracted": "transform", "transformed": "load"}

# A few threads of their own: a broker that hangs costs these, never the API's request threads for long.
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="broker-queues")


@dataclass(frozen=True)
class BrokerQueue:
    name: str
    stage: str
    lane: str  # "manual" | "scheduled"
    messages: int  # ready, not yet delivered
    consumers: int
    declared: bool  # False: no worker declared it yet (it holds nothing)


def broker_url() -> str:
    return celery_app.conf.broker_url


def _read(url: str) -> list[BrokerQueue]:
    found: list[BrokerQueue] = []
    transport_options = {"read_timeout": BROKER_TIMEOUT, "write_timeout": BROKER_TIMEOUT}
    with Connection(url, connect_timeout=BROKER_TIMEOUT, transport_options=transport_options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        channel = conn.channel()
        for name in all_queues():
            stage, _, lane = name.partition(".")
            try:  # passive: count without creating a queue no worker declared yet
                _, ready, consuming = channel.queue_declare(queue=name, passive=True)
                declared = True
            except conn.channel_errors:  # 404 closes the channel: open another for the next queue
                channel = conn.channel()
                ready, consuming, declared = 0, 0, False
            found.append(BrokerQueue(name, stage, "scheduled" if lane == SCHEDULED else "manual", ready, consuming,
                                     declared))
    return found


def broker_queues() -> list[BrokerQueue]:
    """Every stage queue's ready messages and consumers, read with AMQP passive declares on a
    connection of its own, in a thread, within BROKER_DEADLINE; Unavailable (503) in words when the
    broker does not answer."""
    url = broker_url()
    future = _pool.submit(_read, url)
    try:
        return future.result(timeout=BROKER_DEADLINE)
    except FutureTimeout:
        raise Unavailable(f"the message broker did not answer within {BROKER_DEADLINE:g} s: "
                          "queue depths are unknown (is RabbitMQ running?)") from None
    except Exception as exc:  # noqa: BLE001 - any failure to read is "unreachable", said in words
        raise Unavailable(f"the message broker is unreachable ({type(exc).__name__}): queue depths are unknown "
                          "(is RabbitMQ running?)") from None


@dataclass(frozen=True)
class TenantWork:
    pending_batches: dict[str, int]  # stage -> batches of this tenant's active jobs waiting for it
    jobs: dict[str, int]  # queued / running


def tenant_work(session: Session, tenant_id: uuid.UUID) -> TenantWork:
    """One tenant's batches waiting per stage, over its active jobs only (ended jobs' batches are
    history), and its queued and running jobs."""
    params = {"tenant_id": tenant_id}
    jobs = dict(session.execute(text("""
        SELECT status, count(*) FROM etl_jobs
        WHERE tenant_id = :tenant_id AND status IN ('queued', 'running') GROUP BY status"""), params).all())
    batches = dict(session.execute(text("""
        SELECT b.status, count(*) FROM etl_batches b
        JOIN etl_jobs j ON j.id = b.job_id AND j.tenant_id = :tenant_id AND j.status IN ('queued', 'running')
        WHERE b.tenant_id = :tenant_id AND b.status IN ('pending', 'extracted', 'transformed')
        GROUP BY b.status"""), params).all())
    pending = {stage: 0 for stage in STAGES}
    for status, count in batches.items():
        pending[WAITING_FOR[status]] += count
    return TenantWork(pending, {"queued": jobs.get("queued", 0), "running": jobs.get("running", 0)})
