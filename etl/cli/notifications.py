"""`etl notifications`: a tenant's webhooks (events sent to a URL, signed), their tests and deliveries."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timezone

import click

from etl.cli.output import CliError, emit, json_option, operator_session, parse_uuid, table
from etl.cli.tenants import resolve_tenant
from etl.errors import DomainError
from etl.notify import subscriptions
from etl.notify.events import EVENT_KINDS

TENANT = click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")


@click.group()
def notifications() -> None:
    """A tenant's webhooks: events (job failed, data stale...) POSTed to a URL, signed with a secret shown once."""


@contextmanager
def _refusals_in_words():
    """etl.notify's refusals (a bad URL, an unknown event, too many webhooks) as the CLI's errors."""
    try:
        yield
    except DomainError as exc:
        raise CliError(str(exc)) from None


def _webhook_dict(row) -> dict:
    """Never the URL itself (a credential: etl.notify.secrets), only its masked form."""
    return {"webhook_id": row.id, "tenant_id": row.tenant_id, "name": row.name, "url_display": row.url_display,
            "format": row.format, "events": list(row.events), "stale_after_minutes": row.stale_after_minutes,
            "enabled": row.enabled, "created_at": row.created_at}


def _delivery_dict(d) -> dict:
    return {"delivery_id": d.id, "event": d.event, "status": d.status, "attempts": d.attempts,
            "last_status_code": d.last_status_code, "last_error": d.last_error, "created_at": d.created_at,
            "delivered_at": d.delivered_at, "next_attempt_at": d.next_attempt_at}


def _utc(at) -> str:
    return f"{at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}" if at else "-"


@notifications.command("add")
@TENANT
@click.option("--name", required=True, help="What the webhook is for.")
@click.option("--url", required=True, help="Where events are POSTed (a public http(s) address).")
@click.option("--event", "events", multiple=True, required=True, type=click.Choice(EVENT_KINDS),
              help="An event to send; repeat for several.")
@click.option("--format", "fmt", type=click.Choice(subscriptions.FORMATS), default="json", show_default=True,
              help="json: our event document; slack: an incoming-webhook message {\"text\": ...}.")
@click.option("--stale-after", "stale_after", type=int,
              help="For integration.stale: minutes without a completed sync before an integration is stale.")
@json_option
def notifications_add(tenant_ref: str, name: str, url: str, events: tuple[str, ...], fmt: str,
                      stale_after: int | None, as_json: bool) -> int:
    """Subscribe a webhook and print its signing secret, shown only this once."""
    with operator_session() as s, _refusals_in_words():
        tenant = resolve_tenant(s, tenant_ref)
        created = subscriptions.create(s, tenant.id, name, url, list(events), fmt, stale_after)
        data = {**_webhook_dict(created.subscription), "tenant": tenant.name, "secret": created.secret}
    emit(as_json, data, lambda: (
        f"webhook {data['name']} created for tenant {data['tenant']}: {', '.join(data['events'])}\n"
        f"  id      {data['webhook_id']}\n"
        f"  url     {data['url_display']}\n"
        f"  secret  {data['secret']}\n"
        "The secret is shown only this once: the receiver checks X-Pulse-Signature with it (README, Notifications)."))
    return 0


@notifications.command("list")
@TENANT
@json_option
def notifications_list(tenant_ref: str, as_json: bool) -> int:
    """List a tenant's webhooks (their URLs masked, never their secrets)."""
    with operator_session() as s:
        tenant = resolve_tenant(s, tenant_ref)
        rows = [_webhook_dict(w) for w in subscriptions.listed(s, tenant.id)]

    def text() -> str:
        if not rows:
            return f"tenant {tenant_ref} has no webhooks; add one with `etl notifications add`"
        return table(["ID", "NAME", "FORMAT", "EVENTS", "STALE AFTER", "ENABLED", "URL"],
                     [[r["webhook_id"], r["name"], r["format"], ",".join(r["events"]),
                       f"{r['stale_after_minutes']} min" if r["stale_after_minutes"] else None,
                       "yes" if r["enabled"] else "no", r["url_display"]] for r in rows])

    emit(as_json, {"webhooks": rows}, text)
    return 0


@notifications.command("remove")
@TENANT
@click.argument("webhook_id")
@json_option
def notifications_remove(tenant_ref: str, webhook_id: str, as_json: bool) -> int:
    """Delete a webhook and its delivery history."""
    wid = parse_uuid(webhook_id, "webhook")
    with operator_session() as s, _refusals_in_words():
        tenant = resolve_tenant(s, tenant_ref)
        data = _webhook_dict(subscriptions.delete(s, tenant.id, wid))
    emit(as_json, data, f"webhook {data['name']} ({data['webhook_id']}) deleted")
    return 0


@notifications.command("test")
@TENANT
@click.argument("webhook_id")
@json_option
def notifications_test(tenant_ref: str, webhook_id: str, as_json: bool) -> int:
    """Send a webhook.test event now (by the workers); `etl notifications deliveries` shows the answer."""
    wid = parse_uuid(webhook_id, "webhook")
    with operator_session() as s, _refusals_in_words():
        tenant = resolve_tenant(s, tenant_ref)
        data = _delivery_dict(subscriptions.send_test(s, tenant.id, wid))
    emit(as_json, data, f"test delivery {data['delivery_id']} queued; see `etl notifications deliveries "
                        f"--tenant {tenant_ref} {webhook_id}`")
    return 0


@notifications.command("deliveries")
@TENANT
@click.argument("webhook_id")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@json_option
def notifications_deliveries(tenant_ref: str, webhook_id: str, limit: int, as_json: bool) -> int:
    """A webhook's most recent deliveries: status, attempts, the receiver's answer, the error."""
    wid = parse_uuid(webhook_id, "webhook")
    with operator_session() as s, _refusals_in_words():
        tenant = resolve_tenant(s, tenant_ref)
        rows = [_delivery_dict(d) for d in subscriptions.recent_deliveries(s, tenant.id, wid, limit)]

    def text() -> str:
        if not rows:
            return f"webhook {webhook_id} has no deliveries yet"
        return table(["CREATED (UTC)", "EVENT", "STATUS", "ATTEMPTS", "HTTP", "ERROR"],
                     [[_utc(r["created_at"]), r["event"], r["status"], r["attempts"], r["last_status_code"],
                       r["last_error"]] for r in rows], right=frozenset({"ATTEMPTS", "HTTP"}))

    emit(as_json, {"deliveries": rows}, text)
    return 0


@notifications.command("rotate-secret")
@TENANT
@click.argument("webhook_id")
@json_option
def notifications_rotate(tenant_ref: str, webhook_id: str, as_json: bool) -> int:
    """Give a webhook a new signing secret, printed only this once; the old one stops at once."""
    wid = parse_uuid(webhook_id, "webhook")
    with operator_session() as s, _refusals_in_words():
        tenant = resolve_tenant(s, tenant_ref)
        created = subscriptions.rotate_secret(s, tenant.id, wid)
        data = {"webhook_id": wid, "secret": created.secret}
    emit(as_json, data, f"new secret of webhook {wid}: {data['secret']}\nShown only this once: store it now.")
    return 0
