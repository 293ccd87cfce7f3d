"""The events a tenant admin can subscribe to, and the one call that raises them.

Whoever notices an event (a job ending, the circuit breaker, the staleness check, the audit) calls
emit() inside its own transaction; the deliveries it records are published after that commit.
emit() never raises: a notification must not block or fail the pipeline."""
from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from etl.notify.outbox import record_deliveries

log = logging.getLogger(__name__)

JOB_FAILED = "job.failed"
JOB_PARTIAL = "job.partial"
INTEGRATION_PAUSED = "integration.paused"  # the circuit breaker opened
INTEGRATION_RECOVERED = "integration.recovered"  # the circuit breaker closed
DATA_STALE = "integration.stale"  # no successful sync for longer than the subscription's threshold
AUDIT_DIFFERENCES = "audit.differences"  # the consistency audit found rows that differ

EVENT_KINDS = (JOB_FAILED, JOB_PARTIAL, INTEGRATION_PAUSED, INTEGRATION_RECOVERED, DATA_STALE, AUDIT_DIFFERENCES)
TEST = "webhook.test"  # what POST /notifications/webhooks/{id}/test sends; no one subscribes to it


def emit(session: Session, tenant_id: uuid.UUID, kind: str, subject: dict) -> None:
    """Raise event `kind` for the tenant. `subject` is small JSON: ids and words, e.g.
    {"integration_id": ..., "job_id": ..., "reason": "..."}. Every enabled webhook of the tenant
    subscribed to `kind` gets a delivery, recorded in the caller's transaction and sent once it
    commits (nothing is sent if it rolls back)."""
    log.info("event %s for tenant %s: %s", kind, tenant_id, subject)
    try:
        record_deliveries(session, tenant_id, kind, subject)
    except Exception:  # noqa: BLE001 - a notification never fails what raised it
        log.exception("event %s for tenant %s: its deliveries could not be recorded", kind, tenant_id)
