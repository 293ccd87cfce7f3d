"""Deliveries as an outbox: a row per event per subscribed webhook, written in the transaction that
noticed the event and published to the `notify` queue once that transaction commits. The table is
the truth: a publish that is lost (broker down, a worker killed after the commit) leaves a
`pending` row, which the outbox task (every minute) publishes again, as it does retries whose
wait has passed. Sending is etl.notify.sending."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone

import orjson
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from etl.broker.publish import publish_delivery
from etl.config import get_settings

log = logging.getLogger(__name__)

PENDING = "pulse_notify_pending"  # session.info key: delivery ids to publish after the commit
MAX_KEYS = 16  # a subject is a few ids and words: bounded so a payload stays a few KB
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 300

INSERT_DELIVERIES = text("""
    INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event, payload)
    SELECT gen_random_uuid(), s.tenant_id, s.id, :kind, CAST(:payload AS jsonb)
    FROM webhook_subscriptions s
    WHERE s.tenant_id = :tenant_id AND s.enabled
      AND (CAST(:subscription_id AS uuid) IS NULL AND :kind = ANY (s.events)
           OR s.id = CAST(:subscription_id AS uuid))
    RETURNING id
""")


def bounded(subject: dict) -> dict:
    """The subject as small plain JSON: at most MAX_KEYS keys, long strings cut, anything else
    (ids, times) as its string. What reaches a receiver and the table is never unbounded."""
    out: dict = {}
    for key, value in list(subject.items())[:MAX_KEYS]:
        if not isinstance(value, (bool, int, float)) and value is not None:
            value = str(value)
            value = value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS - 1] + "…"
        out[str(key)[:MAX_KEY_CHARS]] = value
    return out


def record_deliveries(session: Session, tenant_id: uuid.UUID, kind: str, subject: dict,
                      subscription_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Insert a delivery of `kind` for each enabled webhook of the tenant subscribed to it (or for
    `subscription_id` alone, whatever it subscribes to: a test, a staleness episode of its own
    threshold), in a savepoint of the caller's transaction: a failure here rolls back only these
    rows. The savepoint is the connection's, not the session's, whose release would run the
    caller's after_commit hooks (etl.jobs.lifecycle) before its real commit."""
    payload = {"occurred_at": datetime.now(timezone.utc).isoformat(), "subject": bounded(subject)}
    connection = session.connection()
    with connection.begin_nested():
        ids = list(connection.execute(INSERT_DELIVERIES, {
            "tenant_id": tenant_id, "kind": kind, "payload": orjson.dumps(payload).decode(),
            "subscription_id": subscription_id}).scalars())
    if ids:
        _publish_after_commit(session, ids)
    return ids


def _publish_after_commit(session: Session, ids: list[uuid.UUID]) -> None:
    session.info.setdefault(PENDING, []).extend(ids)
    if not event.contains(session, "after_commit", _publish_pending):
        event.listen(session, "after_commit", _publish_pending)


def _publish_pending(session: Session) -> None:
    """After the outermost commit only (a session savepoint's release fires after_commit too). An
    id whose row was rolled back since is harmless: its task finds nothing to send."""
    if session.in_nested_transaction():
        return
    for delivery_id in session.info.pop(PENDING, []):
        try:
            publish_delivery(delivery_id)
        except Exception as exc:  # noqa: BLE001 - the outbox sends it within a minute
            log.warning("delivery %s not published (%s); the outbox will send it", delivery_id, exc.__class__.__name__)


DUE = text("""
    SELECT id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT :limit
""")
PRUNE = text("""
    DELETE FROM webhook_deliveries d USING (
        SELECT id, row_number() OVER (PARTITION BY subscription_id ORDER BY created_at DESC, id DESC) AS n
        FROM webhook_deliveries
    ) ranked
    WHERE d.id = ranked.id AND ranked.n > :kept AND d.status <> 'pending'
""")
OUTBOX_BATCH = 1000  # per run; the next minute takes the rest


def publish_due(session: Session) -> int:
    """Publish every pending delivery whose time has come (a retry's wait passed, a publish lost,
    a worker killed while sending), then prune each webhook's history to
    ETL_WEBHOOK_DELIVERIES_KEPT. A delivery published twice is sent once: its task claims it."""
    ids = list(session.scalars(DUE, {"limit": OUTBOX_BATCH}))
    pruned = session.execute(PRUNE, {"kept": get_settings().webhook_deliveries_kept}).rowcount
    session.commit()
    published = 0
    for delivery_id in ids:
        try:
            publish_delivery(delivery_id)
            published += 1
        except Exception as exc:  # noqa: BLE001 - the next run tries again
            log.warning("outbox: delivery %s not published (%s)", delivery_id, exc.__class__.__name__)
            break
    if ids or pruned:
        log.info("outbox: %d due deliveries published, %d old ones pruned", published, pruned)
    return published
