"""The circuit breaker: an integration whose syncs keep failing is paused, instead of failing on
every due time forever (a revoked token used to fail every 15 minutes until someone looked).

Every sync's end is counted here (record_sync_end, called by etl.jobs.lifecycle where a job ends):
- a succeeded or partial sync (the source answered) resets the counts and closes an open breaker;
- a failed sync counts, as fatal when the source refused the integration itself: the job failed on
  an answer etl.sources.http classifies fatal ("fix your configuration": 401/403/404, a revoked
  token, a deleted project; etl.pipeline.task_base records it as error_details.fatal);
- a cancelled job, a reprocess (it never asks the source) and a job the broker never took (our
  outage, not the source's) do not count.

After ETL_BREAKER_FATAL_FAILURES fatal failures in a row the breaker opens as `fatal`: nothing runs
until an admin fixes the cause and resumes (a passing connection test closes it). After
ETL_BREAKER_FAILURES failures in a row of any kind it opens as `failures` (transient): the
dispatcher runs one probe sync after ETL_BREAKER_COOLDOWN_MINUTES (half-open); its success
closes the breaker, its failure re-opens it for another cool-down. While open, schedules skip the
integration and a manual sync is refused (IntegrationPaused, HTTP 409) saying how to resume.
Opening emits INTEGRATION_PAUSED, closing INTEGRATION_RECOVERED (etl.notify.events)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.errors import Conflict
from etl.models import EtlJob, Integration
from etl.notify import events

log = logging.getLogger(__name__)

FATAL = "fatal"
FAILURES = "failures"
REASON_MAX = 600  # the source's part of a reason is capped already; this bounds the whole


class IntegrationPaused(Conflict):
    """A manual sync of an integration whose breaker is open: the message says why and how to resume."""

    def __init__(self, integration: Integration):
        super().__init__(f"integration {integration.name} ({integration.id}) is paused by the circuit breaker: "
                         f"{integration.breaker_reason}. {how_to_resume(integration)}")


class ResumeRefused(Conflict):
    """The connection test that would close the breaker did not pass: the integration stays paused."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def is_open(integration: Integration) -> bool:
    return integration.breaker_open_at is not None


def how_to_resume(integration: Integration) -> str:
    probe = ""
    if integration.breaker_kind == FAILURES and integration.breaker_probe_at is not None:
        probe = f" A probe sync runs by itself at {integration.breaker_probe_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC."
    return (f"Fix the cause (new credentials: PATCH /api/v1/integrations/{integration.id}), then resume it: "
            f"POST /api/v1/integrations/{integration.id}/resume or `etl integrations resume {integration.id}` "
            f"(either runs the connection test first).{probe}")


def refuse_if_paused(integration: Integration) -> None:
    if is_open(integration):
        raise IntegrationPaused(integration)


def lock_integration(session: Session, integration_id) -> Integration | None:
    """The integration row, locked and read afresh (another transaction may have changed its counts)."""
    return session.scalar(select(Integration).where(Integration.id == integration_id).with_for_update()
                          .execution_options(populate_existing=True))


# --- counting sync ends ------------------------------------------------------------------------


def record_sync_end(session: Session, integration: Integration, job: EtlJob) -> None:
    """Count the ended job for the integration's breaker, in the transaction that ends it. Call with
    the integration row locked (lock_integration)."""
    if not _counts(job):
        _rearm_probe_without_verdict(integration)
        return
    if job.status in ("succeeded", "partial"):
        close_breaker(session, integration, f"sync {job.id} {job.status}")
    elif job.status == "failed":
        _count_failure(session, integration, job)


def _counts(job: EtlJob) -> bool:
    return (job.kind != "reprocess" and job.status != "cancelled"
            and (job.error_details or {}).get("stage") != "broker")


def _rearm_probe_without_verdict(integration: Integration) -> None:
    """A probe that ended without a verdict (cancelled, never published) is due again after a
    cool-down: a transient breaker must never be left with no probe to come."""
    if integration.breaker_kind == FAILURES and integration.breaker_probe_at is None:
        integration.breaker_probe_at = _next_probe()


def _next_probe() -> datetime:
    return now() + timedelta(minutes=get_settings().breaker_cooldown_minutes)


def _count_failure(session: Session, integration: Integration, job: EtlJob) -> None:
    details = job.error_details or {}
    fatal = bool(details.get("fatal"))
    integration.consecutive_failures += 1
    integration.consecutive_fatal_failures = integration.consecutive_fatal_failures + 1 if fatal else 0
    settings = get_settings()
    if integration.consecutive_fatal_failures >= settings.breaker_fatal_failures:
        kind = FATAL
    elif integration.consecutive_failures >= settings.breaker_failures or is_open(integration):
        kind = FAILURES  # or a half-open probe failed: open again for another cool-down
    else:
        return
    _open(session, integration, kind, _reason(integration, kind, str(details.get("message") or "no reason recorded")))


def _reason(integration: Integration, kind: str, message: str) -> str:
    if kind == FATAL:
        words = (f"{integration.consecutive_fatal_failures} syncs in a row failed because the source refused the "
                 f"integration (credentials, permissions or what it names): {message}")
    else:
        words = f"{integration.consecutive_failures} syncs in a row failed; the last: {message}"
    return words if len(words) <= REASON_MAX else words[:REASON_MAX - 3] + "..."


def _open(session: Session, integration: Integration, kind: str, reason: str) -> None:
    first = not is_open(integration)
    integration.breaker_kind, integration.breaker_reason = kind, reason
    integration.breaker_probe_at = _next_probe() if kind == FAILURES else None
    if not first:  # a failed probe: still paused, already announced
        log.info("integration %s stays paused (%s): %s", integration.id, kind, reason)
        return
    integration.breaker_open_at = now()
    log.warning("integration %s paused by the circuit breaker (%s): %s", integration.id, kind, reason)
    events.emit(session, integration.tenant_id, events.INTEGRATION_PAUSED, {
        "integration_id": str(integration.id), "integration_name": integration.name, "reason": reason,
        "kind": kind, "link": f"/integrations/{integration.id}"})


def close_breaker(session: Session, integration: Integration, why: str) -> bool:
    """Reset the counts and close the breaker; emits INTEGRATION_RECOVERED when it was open.
    Returns whether it was open."""
    was_open = is_open(integration)
    integration.consecutive_failures = integration.consecutive_fatal_failures = 0
    integration.breaker_open_at = integration.breaker_reason = integration.breaker_kind = None
    integration.breaker_probe_at = None
    if was_open:
        log.info("integration %s resumed: %s", integration.id, why)
        events.emit(session, integration.tenant_id, events.INTEGRATION_RECOVERED, {
            "integration_id": str(integration.id), "integration_name": integration.name, "reason": why,
            "link": f"/integrations/{integration.id}"})
    session.flush()
    return was_open


def close_after_passing_test(session: Session, integration_id, why: str) -> Integration | None:
    """A connection test of what is stored passed: the cause of a pause is fixed, so an open
    breaker closes (the admin's resume, or a test after new credentials were saved). The
    integration, or None when it is gone."""
    integration = lock_integration(session, integration_id)
    if integration is not None and is_open(integration):
        close_breaker(session, integration, why)
    return integration


def refuse_failed_test(integration: Integration, error: str | None) -> ResumeRefused:
    return ResumeRefused(f"the connection test did not pass: {error or 'no reason given'}; integration "
                         f"{integration.name} stays paused. {how_to_resume(integration)}")
