"""What a user's cancel does: end the job, revoke its queued tasks, release what it transformed but
never loaded."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.broker.publish import revoke_tasks
from etl.jobs.lifecycle import count_for_breaker, end_active_job, release_unloaded
from etl.models import EtlBatch

log = logging.getLogger(__name__)


def cancel_job(session: Session, job_id, reason: str = "cancelled by request") -> bool:
    """End an active job as cancelled. Its queued and running tasks find the job no longer active at
    their next checkpoint (the batch claim) and stop there; each batch stage is one transaction, so
    no batch is left half-written. Returns False if the job had already ended."""
    job = end_active_job(session, job_id, "cancelled", {"stage": "cancel", "message": reason})
    if job is None:
        return False
    count_for_breaker(session, job)  # not counted, but a cancelled probe is due again later
    log.info("job %s cancelled: %s", job_id, reason)
    return True


def cancel_and_release(session: Session, job_id, reason: str) -> bool:
    """What a user's cancel does, in order: end the job (committed, so every checkpoint sees it at
    once), revoke its queued tasks, then hand back what it had transformed but not loaded.
    False if the job had already ended (nothing is changed)."""
    if not cancel_job(session, job_id, reason):
        session.rollback()
        return False
    session.commit()
    revoke_queued_tasks(session, job_id)
    release_unloaded(session, job_id)
    session.commit()
    return True


def revoke_queued_tasks(session: Session, job_id) -> None:
    """Workers drop the ended job's queued tasks instead of running each only to find the job ended.
    Best effort: a worker that misses the broadcast (down, or started later) still stops the task at
    its batch claim."""
    unfinished = list(session.scalars(
        select(EtlBatch.id).where(EtlBatch.job_id == job_id, EtlBatch.status != "loaded")))
    try:
        revoke_tasks(str(job_id), unfinished)
    except Exception as exc:  # noqa: BLE001 - the broker being down must not undo a committed cancel
        log.warning("job %s: could not revoke its queued tasks (%s); they stop at their batch claim", job_id, exc)
