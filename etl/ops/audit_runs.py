"""Consistency audits as recorded runs (table consistency_audits): asking for one (the API, the CLI,
the daily check), running it (the task etl.control.audit, or the CLI in its own process) with its
repair and its notification, and keeping the last ETL_AUDIT_KEEP per integration. What an audit
finds is etl.ops.audit.

An audit is recorded when it is asked for, and the task carries only its id: a redelivered message
finds it finished and does nothing, and the API can say where the result will be at once.
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, exists, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etl.broker.publish import BROKER_UNREACHABLE, publish_audit
from etl.config import get_settings
from etl.db import scope_to_all_tenants, scope_to_tenant, session_scope, tenant_sessionmaker
from etl.errors import Conflict, NotFound, Unavailable
from etl.jobs.lifecycle import ActiveJobExists, BrokerUnavailable, active_job_id, start_reprocess
from etl.models import ConsistencyAudit, Integration
from etl.notify.events import AUDIT_DIFFERENCES, emit
from etl.ops.audit import EntityAudit, audit_integration, delete_orphans, plan_repair, total_differences

log = logging.getLogger(__name__)

TRIGGERS = ("api", "cli", "schedule")
# An audit asked for and not finished after this long is taken for lost: it may be asked for again.
REQUEST_LEASE = timedelta(hours=1)
DUE_LIMIT = 500  # integrations the hourly check asks audits for at once


class AuditUnderWay(Conflict):
    pass


class AuditNotStarted(Unavailable):
    pass


def now() -> datetime:
    return datetime.now(timezone.utc)


def _under_way(at: datetime):
    """An audit that is not finished and was asked for within the lease."""
    return and_(ConsistencyAudit.finished_at.is_(None), ConsistencyAudit.requested_at > at - REQUEST_LEASE)


def request_audit(session: Session, integration: Integration, trigger: str, full: bool = False,
                  repair: bool = False) -> ConsistencyAudit:
    """Record an audit to run. The caller commits, then publishes. One at a time per integration
    (a unique index, so two callers at once cannot both slip in): an audit still unfinished a
    REQUEST_LEASE after it was asked for is taken for lost and closed with that reason first."""
    at = now()
    session.execute(update(ConsistencyAudit).where(
        ConsistencyAudit.integration_id == integration.id, ConsistencyAudit.finished_at.is_(None),
        ConsistencyAudit.requested_at <= at - REQUEST_LEASE,
    ).values(error=f"lost: not finished within {REQUEST_LEASE} of being asked for", finished_at=at))
    audit = ConsistencyAudit(tenant_id=integration.tenant_id, integration_id=integration.id, trigger=trigger,
                             full=full, repair=repair)
    try:
        with session.begin_nested():
            session.add(audit)
            session.flush()
    except IntegrityError:
        under_way = session.scalar(select(ConsistencyAudit.id).where(
            ConsistencyAudit.integration_id == integration.id, ConsistencyAudit.finished_at.is_(None)))
        raise AuditUnderWay(f"integration {integration.id} has an audit under way ({under_way}); "
                            f"GET /api/v1/integrations/{integration.id}/audit shows it") from None
    return audit


def start_audit(session_factory, tenant_id: uuid.UUID, integration_id: uuid.UUID, full: bool = False,
                repair: bool = False, trigger: str = "api") -> uuid.UUID:
    """Record an audit of the tenant's integration, commit, and hand it to the workers. Raises
    NotFound, AuditUnderWay, AuditNotStarted (the broker is unreachable: the audit is recorded failed)."""
    with session_factory() as session:
        scope_to_tenant(session, tenant_id)
        integration = session.scalar(
            select(Integration).where(Integration.id == integration_id, Integration.tenant_id == tenant_id))
        if integration is None:
            raise NotFound(f"integration {integration_id} not found")
        audit_id = request_audit(session, integration, trigger, full, repair).id
        session.commit()
    try:
        publish_audit(integration_id, audit_id, fail_fast=True)
    except BROKER_UNREACHABLE as exc:
        with session_factory() as session:
            scope_to_tenant(session, tenant_id)
            record_error(session, audit_id, f"the message broker is unreachable: {exc}")
            session.commit()
        raise AuditNotStarted(f"the message broker is unreachable ({exc}); the audit was not started") from exc
    return audit_id


def record_error(session: Session, audit_id, message: str) -> None:
    """An audit that could not finish ends with its reason (it is not run again)."""
    session.execute(update(ConsistencyAudit).where(ConsistencyAudit.id == audit_id,
                                                   ConsistencyAudit.finished_at.is_(None))
                    .values(error=message[:1000], finished_at=now()))


def run_audit(integration_id, audit_id) -> dict:
    """Run a recorded audit, repair if it was asked to, record the result, raise the notification
    when something differs, and return the audit as audit_dict. A finished audit is not run again."""
    started = time.monotonic()
    with session_scope() as session:
        scope_to_all_tenants(session, "an audit task looks up whose integration it audits")
        audit = session.get(ConsistencyAudit, uuid.UUID(str(audit_id)))
        if audit is None or audit.integration_id != uuid.UUID(str(integration_id)):
            raise LookupError(f"no audit {audit_id} of integration {integration_id}")
        if audit.finished_at is not None:  # a redelivered message
            return audit_dict(audit)
        audit.started_at = now()
        tenant_id, full, repair, trigger = audit.tenant_id, audit.full, audit.repair, audit.trigger

    with session_scope() as session:
        scope_to_tenant(session, tenant_id)
        integration = session.get(Integration, audit.integration_id)
        found = audit_integration(session, integration, full)
        active = active_job_id(session, integration.id)
        plan = plan_repair(session, integration, found) if repair and total_differences(found) else None
        deleted = delete_orphans(session, integration, plan) if plan else 0
    repaired = _repair_job(tenant_id, audit.integration_id, plan.raw_ids, trigger) if plan and plan.raw_ids else (None, None)

    with session_scope() as session:
        scope_to_tenant(session, tenant_id)
        audit = session.get(ConsistencyAudit, audit.id)
        differences = total_differences(found)
        audit.summary = _summary(found, full, active, time.monotonic() - started,
                                 _repair_summary(plan, deleted, *repaired) if plan else None)
        audit.differences, audit.repaired_job_id, audit.finished_at = differences, repaired[0], now()
        if differences:
            name = session.scalar(select(Integration.name).where(Integration.id == audit.integration_id))
            emit(session, tenant_id, AUDIT_DIFFERENCES, {
                "integration_id": str(audit.integration_id), "integration_name": name,
                "differences": differences, "link": f"/integrations/{audit.integration_id}",
                "reason": f"{differences} row(s) differ from what the raw layer says"
                          + ("; a repair job is reprocessing them" if audit.repaired_job_id else "")})
        prune(session, audit.integration_id)
        session.flush()
        log.info("audit %s of integration %s: %d difference(s)", audit.id, audit.integration_id, differences)
        return audit_dict(audit)


def _repair_job(tenant_id, integration_id, raw_ids: list[int], trigger: str) -> tuple[uuid.UUID | None, str | None]:
    """(the reprocess job's id, or why none was started)."""
    try:
        return start_reprocess(tenant_sessionmaker(tenant_id), integration_id, tenant_id, raw_ids, trigger), None
    except ActiveJobExists as exc:
        return None, (f"not reprocessed: the integration has an active job {exc.job_id}; "
                      "audit again with repair once it has ended")
    except BrokerUnavailable as exc:
        return None, str(exc)


def _repair_summary(plan, deleted: int, job_id, problem) -> dict:
    return {"reprocess_job_id": str(job_id) if job_id else None, "raw_objects": len(plan.raw_ids),
            "deleted_rows": deleted, "refused": plan.refused, "problem": problem}


def _summary(found: list[EntityAudit], full: bool, active_job, seconds: float, repair: dict | None) -> dict:
    return {
        "entities": [entity.as_dict() for entity in found],
        "sample_size": None if full else get_settings().audit_sample_size,
        # Rows a running job has not loaded yet are not compared (their raw objects are not completed).
        "active_job_id": str(active_job) if active_job else None,
        "seconds": round(seconds, 3),
        "repair": repair,
    }


def prune(session: Session, integration_id) -> int:
    """Keep the last ETL_AUDIT_KEEP audits of the integration."""
    return session.execute(text("""
        DELETE FROM consistency_audits WHERE integration_id = :i AND id NOT IN (
            SELECT id FROM consistency_audits WHERE integration_id = :i ORDER BY requested_at DESC LIMIT :keep)
    """), {"i": integration_id, "keep": get_settings().audit_keep}).rowcount


def latest_audit(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID) -> ConsistencyAudit | None:
    return session.scalar(
        select(ConsistencyAudit)
        .where(ConsistencyAudit.tenant_id == tenant_id, ConsistencyAudit.integration_id == integration_id)
        .order_by(ConsistencyAudit.requested_at.desc()).limit(1))


def status_of(audit: ConsistencyAudit) -> str:
    if audit.error:
        return "failed"
    if audit.finished_at:
        return "finished"
    return "running" if audit.started_at else "queued"


def audit_dict(audit: ConsistencyAudit) -> dict:
    return {
        "id": audit.id, "integration_id": audit.integration_id, "trigger": audit.trigger, "full": audit.full,
        "repair": audit.repair, "status": status_of(audit), "requested_at": audit.requested_at,
        "started_at": audit.started_at, "finished_at": audit.finished_at, "differences": audit.differences,
        "summary": audit.summary, "repaired_job_id": audit.repaired_job_id, "error": audit.error,
    }


# --- the daily check ------------------------------------------------------------------------------


def request_due(at: datetime | None = None) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Record an audit of every enabled integration that has synced and was not audited in the last
    ETL_AUDIT_INTERVAL_HOURS, then publish them after commit; returns (integration id, audit id).
    Two checks at once claim disjoint integrations (SKIP LOCKED); an audit under way is not asked
    for again until its lease runs out."""
    at = at or now()
    stale = at - timedelta(hours=get_settings().audit_interval_hours)
    recent = exists().where(ConsistencyAudit.integration_id == Integration.id, or_(
        and_(ConsistencyAudit.finished_at.is_not(None), ConsistencyAudit.requested_at > stale), _under_way(at)))
    with session_scope() as session:
        scope_to_all_tenants(session, "the daily check finds every tenant's integrations due for an audit")
        due = list(session.scalars(
            select(Integration)
            .where(Integration.enabled.is_(True), Integration.last_sync_at.is_not(None), ~recent)
            .order_by(Integration.id).limit(DUE_LIMIT).with_for_update(skip_locked=True)))
        audits = []
        for integration in due:
            try:
                audits.append((integration.id, request_audit(session, integration, "schedule").id))
            except AuditUnderWay:  # asked for through the API or the CLI meanwhile
                continue
    for integration_id, audit_id in audits:
        try:
            publish_audit(integration_id, audit_id)
        except BROKER_UNREACHABLE:  # its lease runs out and the next check asks again
            log.exception("could not publish audit %s of integration %s", audit_id, integration_id)
    return audits
