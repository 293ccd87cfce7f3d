"""`etl integrations`: add (checked with the source first), list, show, schedule, resume (after the
circuit breaker paused one), and re-encrypt the credentials of source integrations (and the
webhooks' secrets and URLs) after a new key is put first in ETL_SECRET_KEY."""
from __future__ import annotations

import uuid
from datetime import timezone
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etl.cli.output import CliError, emit, json_option, note, operator_session, parse_uuid, table
from etl.cli.reconcile import integrations_reconcile
from etl.cli.tenants import resolve_tenant
from etl.config import get_settings
from etl.crypto import CredentialsError
from etl.jobs.breaker import close_after_passing_test, is_open, lock_integration, refuse_failed_test
from etl.models import Integration, Tenant
from etl.notify import subscriptions
from etl.ops.scheduling import InvalidSchedule, parse_schedule, schedule_dict, set_schedule
from etl.sources.registry import PROVIDERS
from etl.tenancy.integrations import (
    InvalidIntegration,
    check_connection,
    create_integration,
    credentials_of,
    rotate_all_credentials,
    validate_settings,
)


@click.group()
def integrations() -> None:
    """Source integrations."""


integrations.add_command(integrations_reconcile)


@integrations.command("add")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@click.option("--provider", type=click.Choice(list(PROVIDERS)), default="jira", show_default=True)
@click.option("--name", required=True, help="A name for this integration, unique within the tenant.")
@click.option("--base-url", required=True,
              help="e.g. https://yourcompany.atlassian.net, https://api.github.com or https://HOST/api/v3")
@click.option("--email", help="Jira Cloud: the account's email (basic auth with --token).")
@click.option("--token", envvar="ETL_SOURCE_TOKEN", show_envvar=True,
              help="Jira Cloud API token (with --email), a Data Center personal access token (alone), or a "
                   "GitHub token. Read from ETL_SOURCE_TOKEN when not given, which keeps it out of the process list.")
@click.option("--project", "projects", multiple=True, help="Jira project key; repeat (or comma-separate) for several.")
@click.option("--repo", "repos", multiple=True, help="GitHub repository owner/name; repeat for several.")
@click.option("--story-points-field", help="e.g. customfield_10016; found by name when omitted.")
@click.option("--flavor", type=click.Choice(["cloud", "dc"]),
              help="Jira Cloud or Data Center/Server. Default: cloud with --email, dc with a token alone.")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Check the URL, the credentials and each project with Jira before saving.")
@json_option
@click.option("--schedule", "cron", metavar="CRON",
              help='Sync on a 5-field cron schedule, e.g. "*/15 * * * *" (run by `celery -A etl beat`).')
@click.option("--timezone", "timezone_name", metavar="ZONE",
              help="IANA time zone the --schedule cron is read in, e.g. Europe/Paris (default UTC).")
@click.option("--every", "every_minutes", type=int, metavar="MINUTES", help="Sync every MINUTES minutes.")
def integrations_add(tenant_ref: str, provider: str, name: str, base_url: str, email: str | None,
                     token: str | None, projects: tuple[str, ...], repos: tuple[str, ...],
                     story_points_field: str | None, flavor: str | None, verify: bool, as_json: bool,
                     cron: str | None = None, timezone_name: str | None = None,
                     every_minutes: int | None = None) -> int:
    """Add a Jira or GitHub integration to a tenant; credentials are stored encrypted.

    Before saving, the CLI asks the source who the credentials belong to and whether each project
    or repository is visible (--no-verify skips this, e.g. when the source is reachable only from
    the workers).
    """
    schedule = _schedule_from_options(cron, every_minutes, timezone_name)  # fails before anything is checked
    if provider == "github":
        credentials, settings, shown = _github_options(token, repos)
    else:
        credentials, settings, shown = _jira_options(email, token, projects, story_points_field, flavor)
    try:
        with operator_session() as s:
            tenant = resolve_tenant(s, tenant_ref)
            tenant_id, tenant_name = tenant.id, tenant.name
        validate_settings(provider, credentials, settings)  # the API's messages, before the source is asked
        if verify:  # no transaction is held while the source answers
            verify_with_source(provider, base_url, credentials, settings)
        with operator_session() as s:
            integ = create_integration(s, tenant_id, provider, name, base_url, credentials, settings)
            data = {"integration_id": integ.id, "tenant_id": tenant_id, "tenant": tenant_name, "name": integ.name,
                    "provider": provider, "base_url": integ.base_url, **shown}
            _apply_schedule(s, integ, schedule, data)
    except InvalidIntegration as exc:
        raise CliError(str(exc)) from None
    except IntegrityError:
        raise CliError(f"tenant {tenant_ref!r} already has an integration named {name!r}; choose another --name") from None
    emit(as_json, data, lambda: (
        f"integration {data['name']} added to tenant {data['tenant']}\n"
        f"  id  {data['integration_id']}\n"
        f"Sync it with: etl sync {data['integration_id']} --wait"
    ))
    return 0


def _jira_options(email: str | None, token: str | None, projects: tuple[str, ...], story_points_field: str | None,
                  flavor: str | None) -> tuple[dict, dict, dict]:
    """The Jira options as (credentials, settings, what the summary shows)."""
    if not token:
        raise CliError(
            "missing --token: pass --email E --token T for Jira Cloud (API token, basic auth) "
            "or --token PAT alone for a Data Center personal access token"
        )
    flavor = flavor or ("cloud" if email else "dc")
    if flavor == "cloud" and not email:
        raise CliError("Jira Cloud authenticates with an email and an API token: add --email "
                       "(or pass --flavor dc for a Data Center personal access token)")
    keys = [k.strip() for p in projects for k in p.split(",") if k.strip()]
    if not keys:
        raise CliError("missing --project: name at least one Jira project key, e.g. --project ABC")
    credentials = {"email": email, "token": token} if email else {"token": token}
    settings: dict[str, Any] = {"projects": keys, "flavor": flavor}
    if story_points_field:
        settings["story_points_field"] = story_points_field
    return credentials, settings, {"flavor": flavor, "projects": keys}


def _github_options(token: str | None, repos: tuple[str, ...]) -> tuple[dict, dict, dict]:
    """The GitHub options as (credentials, settings, what the summary shows)."""
    if not token:
        raise CliError("missing --token: a GitHub token with read access to the repositories")
    repo_list = [r.strip() for value in repos for r in value.split(",") if r.strip()]
    return {"token": token}, {"repos": repo_list}, {"repos": repo_list}


# ---- schedules (etl/ops/scheduling.py)


def _schedule_from_options(cron: str | None, every_minutes: int | None, timezone_name: str | None = None):
    """--schedule [--timezone] / --every -> a validated schedule (None when none is given)."""
    if cron is not None and every_minutes is not None:
        raise CliError("give either --schedule CRON or --every MINUTES, not both", code=2)
    if timezone_name is not None and cron is None:
        raise CliError("--timezone goes with --schedule CRON (an interval runs every N minutes in any zone)", code=2)
    try:
        return parse_schedule(cron, every_minutes, timezone_name)
    except InvalidSchedule as exc:
        raise CliError(f"invalid schedule: {exc}", code=2) from None


def _apply_schedule(session, integ, schedule, data: dict) -> None:
    """Set a new integration's schedule (if one was given) and report it."""
    if schedule is not None:
        set_schedule(session, integ, schedule)
        note(f"schedule: {_schedule_text(schedule_dict(integ))}")
    data["schedule"] = schedule_dict(integ)


def _schedule_text(sched: dict) -> str:
    if not sched["cron"] and not sched["every_minutes"]:
        return "none (syncs only when triggered)"
    state = "" if sched["enabled"] else " (disabled)"
    nxt = sched["next_sync_at"]
    when = f", next run {nxt.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC" if nxt else ""
    if nxt and sched.get("timezone") not in (None, "UTC"):
        when += f" ({nxt.astimezone(ZoneInfo(sched['timezone'])):%Y-%m-%d %H:%M} {sched['timezone']})"
    return f"{sched['description']}{state}{when}"


@integrations.command("schedule")
@click.argument("integration_id")
@click.option("--schedule", "cron", metavar="CRON", help='5-field cron, e.g. "*/15 * * * *" or "0 6 * * mon-fri".')
@click.option("--timezone", "timezone_name", metavar="ZONE",
              help="IANA time zone the cron is read in, e.g. Europe/Paris (default UTC).")
@click.option("--every", "every_minutes", type=int, metavar="MINUTES", help="Sync every MINUTES minutes.")
@click.option("--off", is_flag=True, help="Remove the schedule (sync only when triggered).")
@click.option("--enable/--disable", "enabled", default=None, help="Resume or pause scheduled syncs.")
@json_option
def integrations_schedule(integration_id: str, cron: str | None, timezone_name: str | None,
                          every_minutes: int | None, off: bool, enabled: bool | None, as_json: bool) -> int:
    """Set, change or remove an integration's sync schedule (run by `celery -A etl beat`).

    Without options, show the current schedule. Setting one computes the next run.
    """
    if off and (cron is not None or every_minutes is not None):
        raise CliError("--off removes the schedule; do not combine it with --schedule or --every", code=2)
    schedule = _schedule_from_options(cron, every_minutes, timezone_name)
    integ_id = parse_uuid(integration_id, "integration")
    with operator_session() as s:
        integ = s.get(Integration, integ_id, with_for_update=True)
        if integ is None:
            raise CliError(f"no integration {integ_id}; `etl integrations list` shows them")
        if off or schedule is not None:
            set_schedule(s, integ, schedule, enabled=enabled)
        elif enabled is not None:
            set_schedule(s, integ, enabled=enabled)
        data = {"integration_id": integ.id, "name": integ.name, "schedule": schedule_dict(integ)}
    emit(as_json, data, lambda: f"integration {data['name']}: {_schedule_text(data['schedule'])}")
    return 0


@integrations.command("rotate-key")
@click.option("--tenant", "tenant_ref", help="Only this tenant's integrations and webhooks (name or id).")
@json_option
def integrations_rotate_key(tenant_ref: str | None, as_json: bool) -> int:
    """Re-encrypt every integration's credentials, and every webhook's signing secret and URL, with
    the first key of ETL_SECRET_KEY.

    To rotate: put the new key first (ETL_SECRET_KEY=NEW,OLD) on every process and restart them,
    run this, then remove the old key. A value no configured key decrypts is left as it is and named
    (by integration or webhook id and name); the others are re-encrypted all the same, and the exit
    code is then 1.
    """
    keys_configured = len([k for k in get_settings().secret_key.get_secret_value().split(",") if k.strip()])
    with operator_session() as s:  # one transaction: what could be re-encrypted is committed
        tenant_id = resolve_tenant(s, tenant_ref).id if tenant_ref else None
        credentials, unreadable = rotate_all_credentials(s, tenant_id)
        webhooks, webhooks_unreadable = subscriptions.re_encrypt_all(s, tenant_id)
    unreadable += webhooks_unreadable
    counts = {"rotated": credentials, "rotated_webhook_secrets": webhooks[subscriptions.WEBHOOK_SECRET],
              "rotated_webhook_urls": webhooks[subscriptions.WEBHOOK_URL], "keys_configured": keys_configured}
    done = _rotated_text(counts)
    if unreadable:
        raise CliError(
            f"{len(unreadable)} value(s) cannot be decrypted with any key in ETL_SECRET_KEY and were left as they "
            f"are: {'; '.join(map(str, unreadable))}. The rest was re-encrypted ({done}). Add the key they were "
            "encrypted with to ETL_SECRET_KEY and run rotate-key again, or set them again (an integration's "
            "credentials, a webhook's URL; `etl notifications rotate-secret` for a webhook secret) or delete them.",
            **counts, unreadable=[{"kind": u.kind, "id": u.id, "name": u.name} for u in unreadable])
    if keys_configured == 1:
        note("ETL_SECRET_KEY holds one key: everything was re-encrypted with it. To rotate, put the new "
             "key first (ETL_SECRET_KEY=NEW,OLD), run rotate-key, then remove the old key.")
    emit(as_json, {"status": "ok", **counts},
         f"{done} re-encrypted with the first key of ETL_SECRET_KEY; "
         + ("the other keys can now be removed from it" if keys_configured > 1 else "nothing else to do"))
    return 0


def _rotated_text(counts: dict) -> str:
    return (f"{counts['rotated']} integration credential(s), {counts['rotated_webhook_secrets']} webhook secret(s) "
            f"and {counts['rotated_webhook_urls']} webhook URL(s)")


def verify_with_source(provider: str, base_url: str, credentials: dict, settings: dict) -> None:
    """Ask the source whether the URL, the credentials and every project / repository are right
    (the source client's check_connection, as `POST /api/v1/integrations/{id}/test` does)."""
    result = check_connection(provider, base_url, credentials, settings)
    if not result["ok"]:
        # Skipping the check helps only when the source is unreachable from here (but not from the
        # workers); a malformed or wrong URL stays wrong unchecked.
        unchecked = " (or pass --no-verify to save it unchecked)" if result.get("problem") == "unavailable" else ""
        raise CliError(f"{result['error']}{unchecked}")
    checked = f"; {', '.join(result['checked'])} visible" if result["checked"] else ""
    note(f"checked with {provider}: account {result['account']}{checked}")


@integrations.command("list")
@click.option("--tenant", "tenant_ref", help="Only this tenant's (name or id).")
@json_option
def integrations_list(tenant_ref: str | None, as_json: bool) -> int:
    """List integrations (credentials are never shown)."""
    with operator_session() as s:
        tenant_id = resolve_tenant(s, tenant_ref).id if tenant_ref else None
        rows = [{"integration_id": i.id, "tenant": tname, "name": i.name, "provider": i.provider,
                 "base_url": i.base_url, "settings": i.settings, "enabled": i.enabled, "last_sync_at": i.last_sync_at,
                 "schedule_cron": i.schedule_cron, "schedule_timezone": i.schedule_timezone,
                 "schedule_interval_minutes": i.schedule_interval_minutes,
                 "next_sync_at": i.next_sync_at, "last_reconciled_at": i.last_reconciled_at, **_breaker_dict(i)}
                for i, tname in _integrations_with_tenant_names(s, tenant_id)]
    emit(as_json, {"integrations": rows}, lambda: _integrations_table(rows))
    return 0


def _integrations_with_tenant_names(session: Session, tenant_id: uuid.UUID | None) -> list[tuple[Integration, str]]:
    """(integration, its tenant's name), oldest first; one tenant's only when tenant_id is given."""
    q = select(Integration, Tenant.name).join(Tenant, Tenant.id == Integration.tenant_id)
    if tenant_id is not None:
        q = q.where(Integration.tenant_id == tenant_id)
    return [(i, tname) for i, tname in session.execute(q.order_by(Integration.created_at))]


def _integrations_table(rows: list[dict]) -> str:
    """One line per integration: who, what, and whether its data is fresh (last sync, schedule)."""
    if not rows:
        return "no integrations"

    def when(value) -> str:
        return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M}" if value else "never"

    def schedule(r: dict) -> str:
        if r["schedule_cron"]:
            text = f"cron {r['schedule_cron']} {r['schedule_timezone'] or 'UTC'}"
        elif r["schedule_interval_minutes"]:
            text = f"every {r['schedule_interval_minutes']} min"
        else:
            return "-"
        return text if r["enabled"] else f"{text} (disabled)"

    lines = table(["ID", "TENANT", "NAME", "PROVIDER", "LAST SYNC (UTC)", "SCHEDULE"],
                  [[r["integration_id"], r["tenant"], r["name"], r["provider"], when(r["last_sync_at"]), schedule(r)]
                   for r in rows])
    paused = [f"{r['name']} ({r['integration_id']}) paused: {r['breaker_reason']}" for r in rows if r["paused"]]
    return "\n".join([lines, *paused])


# ---- the circuit breaker (etl/jobs/breaker.py)


def _breaker_dict(integ: Integration) -> dict:
    return {"paused": is_open(integ), "breaker_reason": integ.breaker_reason, "breaker_kind": integ.breaker_kind,
            "breaker_open_at": integ.breaker_open_at, "breaker_probe_at": integ.breaker_probe_at,
            "consecutive_failures": integ.consecutive_failures}


def _breaker_text(data: dict) -> str:
    if not data["paused"]:
        failing = f" ({data['consecutive_failures']} failed sync(s) in a row)" if data["consecutive_failures"] else ""
        return f"running{failing}"
    probe = (f"; probe sync at {data['breaker_probe_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
             if data["breaker_probe_at"] else "")
    since = f"{data['breaker_open_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M}"
    return (f"paused: {data['breaker_reason']} (since {since} UTC{probe}; "
            f"`etl integrations resume {data['integration_id']}` once the cause is fixed)")


@integrations.command("show")
@click.argument("integration_id")
@json_option
def integrations_show(integration_id: str, as_json: bool) -> int:
    """Show one integration: its source, schedule and whether the circuit breaker paused it."""
    integ_id = parse_uuid(integration_id, "integration")
    with operator_session() as s:
        integ = s.get(Integration, integ_id)
        if integ is None:
            raise CliError(f"no integration {integ_id}; `etl integrations list` shows them")
        data = {"integration_id": integ.id, "tenant_id": integ.tenant_id, "name": integ.name,
                "provider": integ.provider, "base_url": integ.base_url, "settings": integ.settings,
                "last_sync_at": integ.last_sync_at, "schedule": schedule_dict(integ), **_breaker_dict(integ)}
    emit(as_json, data, lambda: "\n".join([
        f"integration {data['name']} ({data['provider']}, {data['base_url']})",
        f"  id        {data['integration_id']}",
        f"  schedule  {_schedule_text(data['schedule'])}",
        f"  status    {_breaker_text(data)}",
    ]))
    return 0


@integrations.command("resume")
@click.argument("integration_id")
@json_option
def integrations_resume(integration_id: str, as_json: bool) -> int:
    """Resume an integration the circuit breaker paused, once its connection test passes.

    Fix the cause first (e.g. new credentials); the test asks the source as `POST
    /api/v1/integrations/{id}/test` does. Exit 1, still paused, when it does not pass.
    """
    integ_id = parse_uuid(integration_id, "integration")
    with operator_session() as s:
        integ = s.get(Integration, integ_id)
        if integ is None:
            raise CliError(f"no integration {integ_id}; `etl integrations list` shows them")
        if not is_open(integ):
            data = {"integration_id": integ.id, "name": integ.name, **_breaker_dict(integ)}
            emit(as_json, data, f"integration {integ.name} is not paused; nothing to resume")
            return 0
        try:
            test_input = (integ.provider, integ.base_url, credentials_of(integ), dict(integ.settings or {}))
        except CredentialsError as exc:
            raise CliError(f"{exc}; send the credentials again (PATCH /api/v1/integrations/{integ_id})") from None
    result = check_connection(*test_input)  # no transaction is held while the source answers
    with operator_session() as s:
        integ = lock_integration(s, integ_id)
        if integ is None:
            raise CliError(f"integration {integ_id} was deleted meanwhile")
        if not result["ok"]:
            raise CliError(str(refuse_failed_test(integ, result["error"])))
        close_after_passing_test(s, integ_id, "resumed from the CLI after a passing connection test")
        data = {"integration_id": integ_id, "name": integ.name, "account": result["account"], **_breaker_dict(integ)}
    emit(as_json, data, f"integration {data['name']} resumed (connection test passed: account {data['account']}); "
                        "schedules run it again")
    return 0
