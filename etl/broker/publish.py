"""The only module that enqueues. Stage tasks are sent by name (etl/pipeline/tasks.py registers
them in the worker), so the layers that start and end jobs publish without importing the tasks, and
the API process never loads them. Call every function here only after the transaction that wrote
what the message points at has committed: a task may start before this function returns."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import chain
from kombu.exceptions import OperationalError

from etl.broker.app import app
from etl.broker.lanes import SCHEDULED, STAGES, queue_for, stage_task_id
from etl.broker.priority import YIELDS_HEADER

EXTRACT_TASK = "etl.extract.page"
TRANSFORM_TASK = "etl.transform.batch"
LOAD_TASK = "etl.load.batch"
RECONCILE_TASK = "etl.control.reconcile"
DELIVER_TASK = "etl.notify.deliver"
NOTIFY_QUEUE = "notify"
AUDIT_TASK = "etl.control.audit"
STAGE_TASKS = {"extract": EXTRACT_TASK, "transform": TRANSFORM_TASK, "load": LOAD_TASK}

log = logging.getLogger(__name__)

# What a publish raises when the broker cannot be reached (after its retry policy gave up).
BROKER_UNREACHABLE = (OperationalError, OSError)

REVOKE_CHUNK = 1000  # ids per revoke broadcast: keeps each control message small

# Someone is waiting for the answer (an API request, the dispatcher): give up on the broker within
# about 2 s and say so, rather than the workers' patient policy (celeryconfig).
FAIL_FAST_PUBLISH = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def _policy(fail_fast: bool) -> dict:
    return {"retry": True, "retry_policy": FAIL_FAST_PUBLISH} if fail_fast else {}


def _stage(name: str, stage: str, job_id: str, batch_id: int, lane: str | None):
    return app.signature(name, (job_id, batch_id), immutable=True,
                         task_id=stage_task_id(job_id, stage, batch_id), queue=queue_for(stage, lane))


def publish_extract(job_id, batch_ids: Iterable[int], lane: str | None = None, *, fail_fast: bool = False) -> None:
    """Fetch these pages. `lane` keeps scheduled work behind what a person asked for (etl/broker/lanes.py)."""
    for batch_id in batch_ids:
        _stage(EXTRACT_TASK, "extract", str(job_id), batch_id, lane).apply_async(**_policy(fail_fast))


def publish_process(job_id, batch_ids: Iterable[int], lane: str | None = None, *, fail_fast: bool = False) -> None:
    """Transform then load each batch (a chain: load is published when transform returns)."""
    for batch_id in batch_ids:
        chain(_stage(TRANSFORM_TASK, "transform", str(job_id), batch_id, lane),
              _stage(LOAD_TASK, "load", str(job_id), batch_id, lane)).apply_async(**_policy(fail_fast))


def publish_load(job_id, batch_id: int, lane: str | None = None) -> None:
    _stage(LOAD_TASK, "load", str(job_id), batch_id, lane).apply_async()


def publish_behind(stage: str, job_id, batch_id: int, yields: int) -> None:
    """A scheduled stage task that gave way to manual work (etl/broker/priority.py), at the tail of
    its queue again: the same task id, counting its yields, a transform with its load chained."""
    job_id = str(job_id)
    first = _stage(STAGE_TASKS[stage], stage, job_id, batch_id, SCHEDULED).set(headers={YIELDS_HEADER: yields})
    if stage == "transform":
        first = chain(first, _stage(LOAD_TASK, "load", job_id, batch_id, SCHEDULED))
    first.apply_async()


def publish_reconcile(integration_id) -> None:
    """Best effort: an integration whose request is not picked up is asked again by the hourly
    check once its request lease runs out (etl/ops/reconcile.py)."""
    try:
        app.send_task(RECONCILE_TASK, args=(str(integration_id),))
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("could not publish the reconciliation of integration %s", integration_id)


def publish_delivery(delivery_id, countdown: float | None = None) -> None:
    """Send one webhook delivery on the `notify` queue. No publish retries: whoever calls this is
    ending a job or a stage and must not wait on the broker; a delivery whose publish is lost stays
    `pending` in its table and the outbox (etl.control.notify_outbox, every minute) sends it again."""
    app.send_task(DELIVER_TASK, args=(str(delivery_id),), queue=NOTIFY_QUEUE, countdown=countdown, retry=False)


def revoke_tasks(job_id, batch_ids: list[int]) -> None:
    """Tell every worker to drop the queued tasks of these batches, whatever their stage: a worker
    acks a revoked message without running it. Ids never published are harmless in the list."""
    ids = [stage_task_id(str(job_id), stage, batch_id) for batch_id in batch_ids for stage in STAGES]
    for start in range(0, len(ids), REVOKE_CHUNK):
        app.control.revoke(ids[start:start + REVOKE_CHUNK])


def publish_audit(integration_id, audit_id, *, fail_fast: bool = False) -> None:
    """Run a recorded consistency audit (etl.ops.audit); raises BROKER_UNREACHABLE when it cannot."""
    app.send_task(AUDIT_TASK, args=(str(integration_id), str(audit_id)), **_policy(fail_fast))
