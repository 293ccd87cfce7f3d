"""Control tasks: what celery beat runs (the schedule dispatcher, the reaper, the daily deletion
check, the daily history pruning) and the reconciliation of one integration. Thin wiring of
etl.ops.scheduling, etl.ops.reaper, etl.ops.reconcile and etl.ops.retention; they are routed to the `extract` queue
(celeryconfig), so the extract / transform / load workers and one beat are all an operator runs.

The periodic ones are safe to run twice at once (two beats by mistake): each claims its rows with
FOR UPDATE SKIP LOCKED, or (the pruning) deletes what the other has not. Their beat messages
expire before the next run is due, so workers that were down do not work through a backlog of
stale runs.
"""
from __future__ import annotations

import logging

from etl.broker.app import app
from etl.ops import reaper, reconcile, retention, scheduling
from etl.pipeline.task_base import EtlTask, backoff_seconds
from etl.sources.http import RetriableError

log = logging.getLogger(__name__)


class ControlTask(EtlTask):
    """Not part of a job: no etl_task_runs record (those belong to jobs) and no job to fail."""

    abstract = True
    stage = "control"

    def before_start(self, task_id, args, kwargs):
        pass

    def on_success(self, retval, task_id, args, kwargs):
        pass

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        pass

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        pass


PERIODIC = {"base": ControlTask, "soft_time_limit": 50, "time_limit": 55}


@app.task(bind=True, name="etl.control.dispatch", **PERIODIC)
def dispatch(self) -> list[str]:
    """Start the scheduled jobs that are due (beat: every minute)."""
    return [str(j) for j in scheduling.dispatch_due()]


@app.task(bind=True, name="etl.control.reap", **PERIODIC)
def reap(self) -> dict:
    """Re-drive or fail jobs whose work was lost (beat: every minute)."""
    return reaper.reap().as_dict()


@app.task(bind=True, name="etl.control.reconcile_due", **PERIODIC)
def reconcile_due(self) -> list[str]:
    """Ask for the reconciliation of every integration not reconciled for a day (beat: hourly)."""
    return [str(i) for i in reconcile.request_due()]


@app.task(bind=True, name="etl.control.prune_history", base=ControlTask, soft_time_limit=600, time_limit=660)
def prune_history(self) -> dict:
    """Delete the task runs and batches of long-ended jobs, and very old job rows (beat: daily)."""
    return retention.prune_history().as_dict()


# Listing every id of a large site takes a while; still well under RabbitMQ's consumer_timeout.
@app.task(bind=True, name="etl.control.reconcile", base=ControlTask, soft_time_limit=900, time_limit=960)
def reconcile_integration(self, integration_id: str) -> dict:
    """Mark deleted the integration's rows whose ids the source no longer lists."""
    try:
        return reconcile.reconcile(integration_id).as_dict()
    except RetriableError as exc:
        if self.request.retries >= self.max_retries:
            log.error("reconciliation of integration %s gave up after %s retries: %s", integration_id,
                      self.request.retries, exc.message)
            raise
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries, exc.retry_after))
    except reconcile.ReconcileRefused as exc:
        log.error("%s", exc)
        raise
