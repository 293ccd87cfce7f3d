"""Control tasks: what celery beat runs (the schedule dispatcher, the reaper, the daily deletion
check, the daily history pruning, the webhook outbox and staleness check, the hourly audit check),
the reconciliation or consistency audit of one integration, and the delivery of one webhook (on the
`notify` queue). Thin wiring of etl.ops.scheduling, etl.ops.reaper, etl.ops.reconcile,
etl.ops.retention, etl.ops.audit_runs and etl.notify; they are routed to the
`extract` queue (celeryconfig), so the extract / transform / load workers and one beat are all an
operator runs. What a failure means is decided by the task base (etl.pipeline.task_base), as for
the stage tasks.

The periodic ones are safe to run twice at once (two beats by mistake): each claims its rows with
FOR UPDATE SKIP LOCKED, or (the pruning) deletes what the other has not. Their beat messages
expire before the next run is due, so workers that were down do not work through a backlog of
stale runs, and they do not retry: their next run is the retry.
"""
from __future__ import annotations

import logging

from etl.broker.app import app
from etl.db import scope_to_all_tenants, session_scope
from etl.notify import outbox, sending, stale
from etl.ops import audit_runs, reaper, reconcile, retention, scheduling
from etl.pipeline.task_base import EtlTask

log = logging.getLogger(__name__)


class ControlTask(EtlTask):
    """Not part of a job: no etl_task_runs record (those belong to jobs), no job to fail (a failure
    is logged) and no integration to pause. Every other decision is the task base's."""

    abstract = True
    stage = "control"

    def _job_tenant(self) -> None:
        return None  # each control function scopes its own sessions

    def log_context(self, args) -> dict:
        """No job: the reconciliation knows its integration (its argument), the periodic ones nothing."""
        return {"integration_id": args[0]} if args else {}

    def _record(self, sql, **params) -> None:
        return None

    def _pause_integration(self, seconds: float | None) -> None:
        return None

    def _fail(self, message: str, **details) -> None:
        log.error("task %s (%s %s) failed: %s", self.request.id, self.name, self.request.args, message)


# max_retries 0: beat runs each again within its period, so a retriable failure fails this run.
PERIODIC = {"base": ControlTask, "soft_time_limit": 50, "time_limit": 55, "max_retries": 0}


@app.task(bind=True, name="etl.control.dispatch", **PERIODIC)
def dispatch(self) -> list[str]:
    """Start the scheduled jobs that are due (beat: every minute)."""
    return [str(j) for j in self.run_work(scheduling.dispatch_due)]


@app.task(bind=True, name="etl.control.reap", **PERIODIC)
def reap(self) -> dict:
    """Re-drive or fail jobs whose work was lost (beat: every minute)."""
    return self.run_work(reaper.reap).as_dict()


@app.task(bind=True, name="etl.control.reconcile_due", **PERIODIC)
def reconcile_due(self) -> list[str]:
    """Ask for the reconciliation of every integration not reconciled for a day (beat: hourly)."""
    return [str(i) for i in self.run_work(reconcile.request_due)]


@app.task(bind=True, name="etl.control.prune_history", **{**PERIODIC, "soft_time_limit": 600, "time_limit": 660})
def prune_history(self) -> dict:
    """Delete the task runs and batches of long-ended jobs, and very old job rows (beat: daily)."""
    return self.run_work(retention.prune_history).as_dict()


# Listing every id of a large site takes a while; still well under RabbitMQ's consumer_timeout.
# A source's 429 or 5xx retries it (ETL_MAX_RETRIES); a refusal (ReconcileRefused) fails it.
@app.task(bind=True, name="etl.control.reconcile", base=ControlTask, soft_time_limit=900, time_limit=960)
def reconcile_integration(self, integration_id: str) -> dict | None:
    """Mark deleted the integration's rows whose ids the source no longer lists."""
    result = self.run_work(reconcile.reconcile, integration_id)
    return result.as_dict() if result is not None else None  # None: paused on a rate limit


# --- notifications (etl/notify) ------------------------------------------------------------------


def _across_tenants(fn, reason: str):
    with session_scope() as session:
        scope_to_all_tenants(session, reason)
        return fn(session)


@app.task(bind=True, name="etl.control.notify_outbox", **PERIODIC)
def notify_outbox(self) -> int:
    """Publish the webhook deliveries that are due (retries, lost publishes); prune old ones (beat: every minute)."""
    return self.run_work(_across_tenants, outbox.publish_due, "the webhook outbox")


@app.task(bind=True, name="etl.control.notify_stale", **PERIODIC)
def notify_stale(self) -> int:
    """Tell webhooks about integrations that went stale (beat: every 5 minutes)."""
    return self.run_work(_across_tenants, stale.notify_stale, "the staleness check")


class DeliveryTask(ControlTask):
    abstract = True

    def log_context(self, args) -> dict:
        return {}  # a delivery is about no job; its log lines name the delivery


# Routed to the `notify` queue (celeryconfig), which `-Q extract` workers consume. The POST's own
# timeout (ETL_WEBHOOK_TIMEOUT, at most 30 s) is far below these limits. sending.deliver never
# raises: a failure is recorded on the delivery and retried by its next_attempt_at.
@app.task(bind=True, name="etl.notify.deliver", base=DeliveryTask, soft_time_limit=90, time_limit=100,
          max_retries=0)
def deliver(self, delivery_id: str) -> str:
    """Send one webhook delivery, signed; record the answer."""
    return self.run_work(sending.deliver, delivery_id)


# --- the consistency audit (etl.ops.audit, etl.ops.audit_runs) -------------------------------------


class AuditTask(ControlTask):
    """A failed audit ends its recorded row with the reason, for GET /integrations/{id}/audit."""

    abstract = True

    def _fail(self, message: str, **details) -> None:
        super()._fail(message, **details)
        with session_scope() as session:
            scope_to_all_tenants(session, "a failed audit task records its reason on its audit")
            audit_runs.record_error(session, self.request.args[1], message)


@app.task(bind=True, name="etl.control.audit_due", **PERIODIC)
def audit_due(self) -> list[str]:
    """Audit every integration not audited for ETL_AUDIT_INTERVAL_HOURS (beat: hourly)."""
    return [str(audit_id) for _, audit_id in self.run_work(audit_runs.request_due)]


# A full audit re-transforms every raw object of the integration: minutes for a large one, still
# well under RabbitMQ's consumer_timeout. A database outage retries it (ETL_MAX_RETRIES).
@app.task(bind=True, name="etl.control.audit", base=AuditTask, soft_time_limit=900, time_limit=960)
def audit(self, integration_id: str, audit_id: str) -> dict | None:
    """Run a recorded consistency audit of one integration (and its repair, if asked)."""
    result = self.run_work(audit_runs.run_audit, integration_id, audit_id)
    return {"audit_id": audit_id, "differences": result["differences"]} if result is not None else None
