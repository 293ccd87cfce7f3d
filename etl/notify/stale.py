"""Data stale: an integration with no completed sync (succeeded or partial: integrations.last_sync_at,
else since it was added) for longer than a webhook's stale_after_minutes. Told once per episode:
webhook_stale_notices keeps the sync time each notice was about, and only a newer one (a sync
ended, then the integration went stale again) makes a new episode. Beat runs this every 5 minutes
(etl.control.notify_stale); two runs at once insert each notice once (the primary key)."""
from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.notify.events import DATA_STALE
from etl.notify.outbox import record_deliveries

log = logging.getLogger(__name__)

NEW_EPISODES = text("""
    INSERT INTO webhook_stale_notices AS n (subscription_id, integration_id, tenant_id, stale_since)
    SELECT s.id, i.id, i.tenant_id, coalesce(i.last_sync_at, i.created_at)
    FROM webhook_subscriptions s JOIN integrations i ON i.tenant_id = s.tenant_id
    WHERE s.enabled AND i.enabled AND s.stale_after_minutes IS NOT NULL AND :kind = ANY (s.events)
      AND coalesce(i.last_sync_at, i.created_at) < now() - make_interval(mins => s.stale_after_minutes)
    ON CONFLICT (subscription_id, integration_id) DO UPDATE
        SET stale_since = EXCLUDED.stale_since, notified_at = now()
        WHERE n.stale_since IS DISTINCT FROM EXCLUDED.stale_since
    RETURNING n.subscription_id, n.integration_id, n.tenant_id, n.stale_since,
        (SELECT name FROM integrations WHERE id = n.integration_id) AS integration_name,
        (SELECT last_sync_at FROM integrations WHERE id = n.integration_id) AS last_sync_at,
        (SELECT stale_after_minutes FROM webhook_subscriptions WHERE id = n.subscription_id) AS minutes
""")


def notify_stale(session: Session) -> int:
    """Record a data-stale delivery for each new staleness episode; the caller's session sees every
    tenant and commits. Returns how many were told."""
    episodes = session.execute(NEW_EPISODES, {"kind": DATA_STALE}).all()
    for e in episodes:
        last = f"last one ended {e.last_sync_at:%Y-%m-%d %H:%M} UTC" if e.last_sync_at else "it never synced"
        subject = {"integration_id": e.integration_id, "integration_name": e.integration_name,
                   "last_sync_at": e.last_sync_at, "stale_after_minutes": e.minutes,
                   "reason": f"no completed sync for more than {e.minutes} minutes ({last})",
                   "link": f"/integrations/{e.integration_id}"}
        log.info("event %s for tenant %s: %s", DATA_STALE, e.tenant_id, subject)
        record_deliveries(session, e.tenant_id, DATA_STALE, subject, e.subscription_id)
    return len(episodes)
