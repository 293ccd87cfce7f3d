"""A tenant's webhooks: create (the secret is returned once), change, delete, rotate the secret,
send a test, read the recent deliveries; and re-encrypt every webhook's secret and URL when
ETL_SECRET_KEY is rotated. The API and the CLI both come through here, so they give
the same refusals, in the same words."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.crypto import Unreadable, rotate_stored
from etl.errors import Conflict, Invalid, NotFound, TooMany
from etl.models import WebhookDelivery, WebhookSubscription
from etl.notify.events import EVENT_KINDS, TEST
from etl.notify.outbox import record_deliveries
from etl.notify.secrets import new_secret, seal_url
from etl.sources import outbound

FORMATS = ("json", "slack")
MAX_URL_CHARS = 2000
MAX_STALE_MINUTES = 60 * 24 * 90  # 90 days


class InvalidWebhook(Invalid, ValueError):
    pass


class TooManyWebhooks(Conflict, InvalidWebhook):
    """ETL_MAX_WEBHOOKS_PER_TENANT reached: 409, like too many integrations."""


class TestPending(TooMany):
    """One test at a time per webhook: tests cannot be used to flood a receiver."""


@dataclass(frozen=True)
class Created:
    subscription: WebhookSubscription
    secret: str  # shown once


def check_url(url: str) -> str:
    """The webhook URL, or InvalidWebhook saying what is wrong with it: http(s), a host, no user
    info or fragment, and a host the outbound guard lets us reach (resolved now, and again at
    every delivery: an address that changes to a private one is refused then)."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidWebhook(f"the URL is longer than {MAX_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        raise InvalidWebhook("the URL contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port or outbound.DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        raise InvalidWebhook("the URL is not a valid URL (or its port is not a number)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidWebhook("the URL must start with https:// (or http://)")
    if "@" in parts.netloc:
        raise InvalidWebhook("the URL contains a user name or password (user@host); webhooks are signed instead")
    if parts.fragment or "#" in url:
        raise InvalidWebhook("the URL contains a fragment (#...), which is never sent; remove it")
    if not parts.hostname:
        raise InvalidWebhook("the URL has no host name")
    try:
        outbound.checked_addresses(parts.hostname, port)
    except outbound.Refused as exc:
        raise InvalidWebhook(f"the URL is refused: {exc}") from None
    except (OSError, UnicodeError):
        raise InvalidWebhook(f"the URL's host {parts.hostname} does not resolve; check its spelling") from None
    return url


def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_KINDS]
    if unknown:
        raise InvalidWebhook(f"unknown event {', '.join(map(repr, unknown))}; events are {', '.join(EVENT_KINDS)}")
    if not events:
        raise InvalidWebhook(f"choose at least one event of {', '.join(EVENT_KINDS)}")
    return sorted(set(events), key=EVENT_KINDS.index)


def _check(format: str, events: list[str], stale_after_minutes: int | None, name: str) -> None:
    if not name.strip():
        raise InvalidWebhook("the webhook's name must not be empty")
    if format not in FORMATS:
        raise InvalidWebhook(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if stale_after_minutes is not None and not 5 <= stale_after_minutes <= MAX_STALE_MINUTES:
        raise InvalidWebhook(f"stale_after_minutes must be from 5 to {MAX_STALE_MINUTES} (90 days)")
    if "integration.stale" in events and stale_after_minutes is None:
        raise InvalidWebhook("the event integration.stale needs stale_after_minutes: after how long without a "
                             "successful sync an integration is stale")


def create(session: Session, tenant_id: uuid.UUID, name: str, url: str, events: list[str], format: str = "json",
           stale_after_minutes: int | None = None, enabled: bool = True) -> Created:
    events = check_events(events)
    _check(format, events, stale_after_minutes, name)
    url = check_url(url)
    _refuse_over_cap(session, tenant_id)
    secret, encrypted = new_secret()
    url_encrypted, url_display = seal_url(url)
    row = WebhookSubscription(tenant_id=tenant_id, name=name.strip(), url_encrypted=url_encrypted,
                              url_display=url_display, format=format, events=events, secret_encrypted=encrypted,
                              stale_after_minutes=stale_after_minutes, enabled=enabled)
    _flush_named(session, row)
    return Created(row, secret)


def _flush_named(session: Session, row: WebhookSubscription) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"the tenant already has a webhook named {row.name!r}; choose another name") from None


def _refuse_over_cap(session: Session, tenant_id: uuid.UUID) -> None:
    """Counted under a per-tenant lock held until the transaction ends: parallel creates cannot
    all slip under the cap."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"pulse-etl webhooks {tenant_id}"})
    limit = get_settings().max_webhooks_per_tenant
    count = session.scalar(select(func.count()).select_from(WebhookSubscription)
                           .where(WebhookSubscription.tenant_id == tenant_id))
    if count >= limit:
        raise TooManyWebhooks(f"the tenant has {count} webhooks, the most allowed (ETL_MAX_WEBHOOKS_PER_TENANT = "
                              f"{limit}); delete one it no longer needs")


def get(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID) -> WebhookSubscription:
    row = session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription_id,
                                                           WebhookSubscription.tenant_id == tenant_id))
    if row is None:
        raise NotFound(f"webhook {subscription_id} not found")
    return row


def listed(session: Session, tenant_id: uuid.UUID | None) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    if tenant_id is not None:
        query = query.where(WebhookSubscription.tenant_id == tenant_id)
    return list(session.scalars(query))


def update(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID, **changes) -> WebhookSubscription:
    """Change the given fields (None: unchanged; stale_after_minutes may be cleared with
    clear_stale_after=True). A URL given is checked and stored again, even if it is the same one:
    the stored one is not decrypted to compare."""
    row = get(session, tenant_id, subscription_id)
    clear_stale = changes.pop("clear_stale_after", False)
    name = changes.get("name") or row.name
    events = check_events(changes["events"]) if changes.get("events") is not None else list(row.events)
    fmt = changes.get("format") or row.format
    stale = None if clear_stale else changes.get("stale_after_minutes", None) or row.stale_after_minutes
    _check(fmt, events, stale, name)
    if changes.get("url") is not None:
        row.url_encrypted, row.url_display = seal_url(check_url(changes["url"]))
    row.name, row.events, row.format, row.stale_after_minutes = name.strip(), events, fmt, stale
    if changes.get("enabled") is not None:
        row.enabled = changes["enabled"]
    _flush_named(session, row)
    return row


def delete(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID) -> WebhookSubscription:
    row = get(session, tenant_id, subscription_id)
    session.delete(row)  # its deliveries and staleness notices go with it (ON DELETE CASCADE)
    session.flush()
    return row


def rotate_secret(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID) -> Created:
    """A new secret, returned once; deliveries sent from now on are signed with it."""
    row = get(session, tenant_id, subscription_id)
    secret, row.secret_encrypted = new_secret()
    session.flush()
    return Created(row, secret)


# The kinds of value `etl integrations rotate-key` counts and reports for webhooks.
WEBHOOK_SECRET, WEBHOOK_URL = "webhook secret", "webhook URL"


def re_encrypt_all(session: Session, tenant_id: uuid.UUID | None = None) -> tuple[dict[str, int], list[Unreadable]]:
    """Re-encrypt every webhook's signing secret and URL (or one tenant's) with the first key of
    ETL_SECRET_KEY, in the caller's transaction, as rotate-key does integrations' credentials: a
    value no configured key decrypts is left as it is and returned (by webhook id and name), the
    others are re-encrypted all the same. Returns ({WEBHOOK_SECRET: n, WEBHOOK_URL: n}, those left)."""
    query = (select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
             .with_for_update())
    if tenant_id is not None:
        query = query.where(WebhookSubscription.tenant_id == tenant_id)
    rotated, unreadable = rotate_stored(session.scalars(query),
                                        {"secret_encrypted": WEBHOOK_SECRET, "url_encrypted": WEBHOOK_URL})
    session.flush()
    return rotated, unreadable


def send_test(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID) -> WebhookDelivery:
    """A `webhook.test` delivery, sent by the notify queue as soon as the caller commits."""
    row = get(session, tenant_id, subscription_id)
    if not row.enabled:
        raise InvalidWebhook("the webhook is disabled; enable it to send a test")
    if session.scalar(select(WebhookDelivery.id).where(
            WebhookDelivery.subscription_id == row.id, WebhookDelivery.event == TEST,
            WebhookDelivery.status == "pending").limit(1)) is not None:
        raise TestPending("a test of this webhook is still on its way (or waiting for its retry); its answer is in "
                          "the webhook's deliveries, send another once it has ended")
    ids = record_deliveries(session, tenant_id, TEST, {"webhook_id": row.id, "webhook_name": row.name,
                                                       "reason": "a test sent on request"}, row.id)
    return session.get(WebhookDelivery, ids[0])


def recent_deliveries(session: Session, tenant_id: uuid.UUID, subscription_id: uuid.UUID,
                      limit: int = 50) -> list[WebhookDelivery]:
    get(session, tenant_id, subscription_id)
    return list(session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)))
