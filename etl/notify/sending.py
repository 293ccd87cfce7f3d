"""Sending one delivery: claim it, render it in its webhook's format, sign it, POST it through the
outbound guard, record what the receiver answered, and schedule the retry.

- Claimed with a lease (next_attempt_at moved past the POST's longest time): a delivery published
  twice (the outbox and a retry) or redelivered is sent by one worker; a worker killed while
  sending leaves it due again once the lease runs out, and the outbox publishes it again.
- Signed: `X-Pulse-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
  `X-Pulse-Timestamp: <unix seconds>` (README "Notifications" says how to verify it).
- Any 2xx is success. Anything else is retried after ETL_WEBHOOK_RETRY_SECONDS, doubling, until
  ETL_WEBHOOK_MAX_ATTEMPTS; an address the outbound guard refuses fails at once.
- Never raises: a delivery is not part of any job, and its failure is recorded in words."""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.broker.publish import publish_delivery
from etl.config import get_settings
from etl.crypto import CredentialsError
from etl.db import scope_to_all_tenants, session_scope
from etl.notify.render import body_for
from etl.notify.secrets import secret_of, url_of
from etl.sources.http import TRANSPORT_ERRORS, OutboundRefused, SameOriginSession

log = logging.getLogger(__name__)

# Due now, or within a second or two: a retry published with a countdown arrives about on time.
CLAIM = text("""
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
    FROM webhook_subscriptions s
    WHERE d.id = :id AND s.id = d.subscription_id AND d.status = 'pending'
      AND d.next_attempt_at <= now() + interval '2 seconds'
    RETURNING d.id, d.tenant_id, d.event, d.payload, d.attempts, s.name, s.url_encrypted, s.format,
        s.secret_encrypted, s.enabled
""")
RECORD = text("""
    UPDATE webhook_deliveries SET status = :status, last_status_code = :code, last_error = :error,
        next_attempt_at = :next_at, delivered_at = CASE WHEN :status = 'succeeded' THEN now() END
    WHERE id = :id
""")
SHORT_WAIT = 60.0  # a retry due sooner is published with a countdown; later ones are the outbox's


@dataclass(frozen=True)
class Outcome:
    code: int | None = None
    error: str | None = None
    final: bool = False  # no retry can help (a refused address)

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def deliver(delivery_id: str) -> str:
    """Send the delivery if it is due; returns what happened in a word (for the task's log)."""
    try:
        return _deliver(uuid.UUID(delivery_id))
    except Exception:  # noqa: BLE001 - recorded as pending still; the outbox publishes it again
        log.exception("delivery %s could not be sent", delivery_id)
        return "error"


def _deliver(delivery_id: uuid.UUID) -> str:
    settings = get_settings()
    lease = 2 * settings.webhook_timeout + 30
    with session_scope() as session:
        scope_to_all_tenants(session, "a webhook delivery claims its row")
        row = session.execute(CLAIM, {"id": delivery_id, "lease": lease}).first()
    if row is None:
        return "not due"  # sent already, not yet due, or gone
    outcome = _send(row)
    with session_scope() as session:
        scope_to_all_tenants(session, "a webhook delivery records its answer")
        status, wait = _record(session, row, outcome)
    log.info("delivery %s (%s, attempt %d) to webhook %s: %s", delivery_id, row.event, row.attempts, row.name,
             "delivered" if outcome.ok else f"{outcome.error}; {status}")
    if wait is not None and wait <= SHORT_WAIT:
        try:
            publish_delivery(delivery_id, countdown=wait)
        except Exception as exc:  # noqa: BLE001 - the outbox publishes it when due
            log.warning("delivery %s: retry not published (%s); the outbox will", delivery_id, exc.__class__.__name__)
    return status


def _record(session: Session, row, outcome: Outcome) -> tuple[str, float | None]:
    """Store the answer; returns the new status and, when it will be tried again, the wait."""
    settings = get_settings()
    wait = None
    if outcome.ok:
        status = "succeeded"
    elif outcome.final or row.attempts >= settings.webhook_max_attempts:
        status = "failed"
    else:
        status = "pending"
        wait = settings.webhook_retry_seconds * 2 ** (row.attempts - 1)
    next_at = datetime.now(timezone.utc) + timedelta(seconds=wait or 0)
    session.execute(RECORD, {"id": row.id, "status": status, "code": outcome.code,
                             "error": None if outcome.ok else (outcome.error or "")[:500], "next_at": next_at})
    return status, wait


def _send(row) -> Outcome:
    if not row.enabled:  # disabled after this delivery was recorded
        return Outcome(error="the webhook was disabled before this delivery was sent", final=True)
    try:
        secret = secret_of(row.secret_encrypted)
    except CredentialsError:
        return Outcome(error="the webhook's signing secret cannot be decrypted (the server's ETL_SECRET_KEY "
                             "changed); rotate the secret", final=True)
    try:
        url = url_of(row.url_encrypted)  # decrypted only here, for this POST; never logged nor recorded
    except CredentialsError:
        return Outcome(error="the webhook's URL cannot be decrypted (the server's ETL_SECRET_KEY changed); "
                             "set the webhook's URL again", final=True)
    body = body_for(row.format, row.event, row.tenant_id, row.id, row.payload, row.name)
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "pulse-etl-webhooks",
               "X-Pulse-Event": row.event, "X-Pulse-Delivery": str(row.id),
               "X-Pulse-Timestamp": str(timestamp), "X-Pulse-Signature": sign(secret, timestamp, body)}
    return post(url, body, headers)


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST through the outbound guard (etl/sources/http.py: only checked addresses, connected to
    as checked), no redirects, ETL_WEBHOOK_TIMEOUT to connect and per read. The answer's body is
    never read nor quoted, and errors name the host only: the URL's path is a credential (a Slack
    webhook's), and requests' own messages, which quote it, are never kept."""
    timeout = get_settings().webhook_timeout
    host = urlsplit(url).netloc
    http = SameOriginSession()
    try:
        with http.post(url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False,
                       stream=True) as resp:
            code = resp.status_code
    except OutboundRefused as exc:
        return Outcome(error=str(exc), final=True)
    except requests.Timeout:
        return Outcome(error=f"{host} did not answer within {timeout:g} s (ETL_WEBHOOK_TIMEOUT)")
    except TRANSPORT_ERRORS as exc:
        return Outcome(error=f"cannot reach {host} ({exc.__class__.__name__})")
    except requests.RequestException as exc:
        return Outcome(error=f"cannot send to {host} ({exc.__class__.__name__})")
    finally:
        http.close()
    if 200 <= code < 300:
        return Outcome(code=code)
    if 300 <= code < 400:
        return Outcome(code=code, error=f"{host} answered HTTP {code}, a redirect, which is not followed: "
                                        "give the webhook's final URL")
    return Outcome(code=code, error=f"{host} answered HTTP {code}")
