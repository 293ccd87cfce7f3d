"""`etl`: the operator's command line.

Every command accepts `--json` and then prints exactly one JSON object on stdout (errors included,
as {"error": ...}); human-readable messages and live progress go to stderr. Exit status: 0 on
success, 1 on an error or a job that did not succeed, 2 when the integration already has an active
job (and for command-line usage errors), 130 when interrupted.
"""
from __future__ import annotations

import sys
import time
import uuid
from datetime import timezone
from typing import Any

import click

from etl.cli.output import (
    CliError,
    dumps,
    emit,
    format_error,
    job_dict,
    json_option,
    note,
    operator_session,
    wait_for_job,
    wants_json,
)

ACTIVE_JOB_EXIT = 2


# --- output --------------------------------------------------------------------------------------


# --- errors from the layers below, in words an operator can act on --------------------------------


def _masked_db_url() -> str:
    try:
        from sqlalchemy.engine import make_url

        from etl.config import get_settings

        return make_url(get_settings().database_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only used to decorate a message
        return "(ETL_DATABASE_URL)"


def translate_error(exc: BaseException) -> CliError | None:
    """Known failures -> a message that says what to fix; None for a real bug."""
    from pydantic import ValidationError
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ValidationError):
        msgs = "; ".join(str(e.get("msg", e)).removeprefix("Value error, ") for e in exc.errors())
        return CliError(f"invalid configuration: {msgs}")
    if isinstance(exc, sa_exc.OperationalError):
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return CliError(
            f"cannot reach the database at {_masked_db_url()}: {first}. "
            "Start PostgreSQL or point ETL_DATABASE_URL at a running server."
        )
    if isinstance(exc, sa_exc.ProgrammingError) and "does not exist" in str(exc.orig):
        first = str(exc.orig).strip().splitlines()[0]
        return CliError(
            f"the database at {_masked_db_url()} has no pulse-etl schema ({first}). Run `etl db upgrade` first."
        )
    return None


# --- the command tree ----------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of text.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> None:
    """pulse-etl: Jira issues into an engineering-analytics PostgreSQL database, on Celery.

    Configuration comes from ETL_* environment variables (see README.md).
    """
    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json


# ---- db


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
@json_option
def db_upgrade(revision: str, as_json: bool) -> int:
    """Apply the Alembic migrations (same as `alembic upgrade head`)."""
    from etl import migrations

    migrations.upgrade(revision)
    current = _current_revision()
    emit(as_json, {"status": "ok", "revision": current, "database": _masked_db_url()},
         f"database {_masked_db_url()} is at revision {current}")
    return 0


def _current_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext

    from etl.db import get_engine

    with get_engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# ---- tenants


@cli.group()
def tenants() -> None:
    """Tenants and their API keys."""


@tenants.command("create")
@click.argument("name")
@json_option
def tenants_create(name: str, as_json: bool) -> int:
    """Create a tenant (with the default mappings) and print its first API key, shown only once."""
    from etl.tenancy.tenants import TenantExists, create_tenant

    try:
        with operator_session() as s:
            tenant, key = create_tenant(s, name)
            data = {"tenant_id": tenant.id, "name": tenant.name, "api_key_id": key.id, "api_key": key.secret}
    except TenantExists as exc:
        raise CliError(f"{exc}; choose another name (`etl tenants list` shows the existing ones)") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    emit(as_json, data, lambda: (
        f"tenant {data['name']} created\n"
        f"  id       {data['tenant_id']}\n"
        f"  API key  {data['api_key']}\n"
        "The API key is shown only this once: store it now."
    ))
    return 0


@tenants.command("list")
@json_option
def tenants_list(as_json: bool) -> int:
    """List tenants."""
    from sqlalchemy import select

    from etl.models import Tenant

    with operator_session() as s:
        rows = [{"tenant_id": t.id, "name": t.name, "created_at": t.created_at}
                for t in s.scalars(select(Tenant).order_by(Tenant.created_at))]
    emit(as_json, {"tenants": rows}, lambda: "\n".join(
        [f"{'ID':36}  NAME"] + [f"{r['tenant_id']}  {r['name']}" for r in rows]) if rows else "no tenants yet")
    return 0


def _resolve_tenant(session, ref: str):
    """A tenant by name (or by id)."""
    from etl.models import Tenant
    from etl.tenancy.tenants import tenant_by_name

    tenant = tenant_by_name(session, ref)
    if tenant is None:
        try:
            tenant = session.get(Tenant, uuid.UUID(ref))
        except ValueError:
            tenant = None
    if tenant is None:
        raise CliError(f"no tenant named {ref!r}; create it with `etl tenants create {ref}`")
    return tenant


# ---- API keys


@cli.group()
def keys() -> None:
    """A tenant's API keys (stored hashed: a secret is shown once, at creation)."""


def _key_dict(key) -> dict:
    return {"api_key_id": key.id, "name": key.name, "prefix": key.prefix, "is_admin": key.is_admin,
            "scopes": list(key.scopes), "created_at": key.created_at, "revoked_at": key.revoked_at}


@keys.command("create")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@click.option("--name", default="default", show_default=True, help="What the key is for.")
@click.option("--admin", "is_admin", is_flag=True, help="An admin key: it also manages tenants through the API.")
@click.option("--read-only", "read_only", is_flag=True,
              help="Scope read: GET requests only; the API refuses anything that changes data (403).")
@json_option
def keys_create(tenant_ref: str, name: str, is_admin: bool, read_only: bool, as_json: bool) -> int:
    """Create an API key and print its secret, shown only this once."""
    from etl.models import ApiKey
    from etl.tenancy.keys import READ_WRITE, SCOPE_READ, issue_api_key

    if not name.strip():
        raise CliError("--name must not be empty", code=2)
    if is_admin and read_only:
        raise CliError("--admin and --read-only exclude each other: an admin key manages tenants, which needs "
                       "the write scope", code=2)
    with operator_session() as s:
        tenant = _resolve_tenant(s, tenant_ref)
        issued = issue_api_key(s, tenant.id, name=name.strip(), is_admin=is_admin,
                               scopes=[SCOPE_READ] if read_only else READ_WRITE)
        data = {**_key_dict(s.get(ApiKey, issued.id)), "tenant_id": tenant.id, "tenant": tenant.name,
                "api_key": issued.secret}
    emit(as_json, data, lambda: (
        f"{'admin ' if is_admin else ''}{'read-only ' if read_only else ''}API key {data['name']} created for "
        f"tenant {data['tenant']}\n"
        f"  id       {data['api_key_id']}\n"
        f"  API key  {data['api_key']}\n"
        "The API key is shown only this once: store it now."
    ))
    return 0


@keys.command("list")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@json_option
def keys_list(tenant_ref: str, as_json: bool) -> int:
    """List a tenant's API keys, revoked ones included (never the secrets)."""
    from etl.tenancy.keys import tenant_api_keys

    with operator_session() as s:
        tenant = _resolve_tenant(s, tenant_ref)
        rows = [_key_dict(k) for k in tenant_api_keys(s, tenant.id)]

    def text() -> str:
        if not rows:
            return f"tenant {tenant_ref} has no API keys"
        out = [f"{'ID':36}  {'PREFIX':10}  {'NAME':20}  {'ROLE':6}  {'SCOPES':10}  {'CREATED':19}  REVOKED"]
        for r in rows:
            revoked = f"{r['revoked_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}" if r["revoked_at"] else "-"
            out.append(f"{r['api_key_id']}  {r['prefix']:10}  {r['name'][:20]:20}  "
                       f"{'admin' if r['is_admin'] else 'tenant':6}  {','.join(r['scopes']):10}  "
                       f"{r['created_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}  {revoked}")
        return "\n".join(out)

    emit(as_json, {"api_keys": rows}, text)
    return 0


@keys.command("revoke")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@click.argument("key_id")
@json_option
def keys_revoke(tenant_ref: str, key_id: str, as_json: bool) -> int:
    """Revoke one of a tenant's API keys: the API refuses it (401) from now on."""
    from etl.tenancy.keys import revoke_api_key

    kid = _parse_uuid(key_id, "API key")
    with operator_session() as s:
        tenant = _resolve_tenant(s, tenant_ref)
        key = revoke_api_key(s, tenant.id, kid, by_admin=True)  # the operator
        if key is None:
            raise CliError(f"tenant {tenant.name} has no API key {kid}; `etl keys list --tenant {tenant.name}` "
                           "shows its keys")
        data = {**_key_dict(key), "tenant_id": tenant.id, "tenant": tenant.name}
    emit(as_json, data, f"API key {data['api_key_id']} ({data['prefix']}...) of tenant {data['tenant']} revoked")
    return 0


# ---- integrations


@cli.group()
def integrations() -> None:
    """Source integrations."""


@integrations.command("add")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant name (or id).")
@click.option("--provider", type=click.Choice(["jira", "github"]), default="jira", show_default=True)
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
        return _add_github(tenant_ref, name, base_url, token, repos, verify, as_json, schedule)
    from etl.models import Tenant
    from etl.tenancy.integrations import InvalidIntegration, create_integration, validate_settings

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

    try:
        with operator_session() as s:
            tenant_id = _resolve_tenant(s, tenant_ref).id
        if verify:  # shape first (same messages as the API), then ask Jira; no transaction held meanwhile
            validate_settings("jira", credentials, settings)
            verify_with_source("jira", base_url, credentials, settings)
        with operator_session() as s:
            tenant = s.get(Tenant, tenant_id)
            integ = create_integration(s, tenant.id, provider, name, base_url, credentials, settings)
            data = {"integration_id": integ.id, "tenant_id": tenant.id, "tenant": tenant.name, "name": integ.name,
                    "provider": provider, "base_url": integ.base_url, "flavor": flavor, "projects": keys}
            _apply_schedule(s, integ, schedule, data)
    except InvalidIntegration as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:
        from sqlalchemy.exc import IntegrityError

        if isinstance(exc, IntegrityError):
            raise CliError(f"tenant {tenant_ref!r} already has an integration named {name!r}; choose another --name") from None
        raise
    emit(as_json, data, lambda: (
        f"integration {data['name']} added to tenant {data['tenant']}\n"
        f"  id  {data['integration_id']}\n"
        f"Sync it with: etl sync {data['integration_id']} --wait"
    ))
    return 0


def _add_github(tenant_ref: str, name: str, base_url: str, token: str | None, repos: tuple[str, ...],
                verify: bool, as_json: bool, schedule=None) -> int:
    from sqlalchemy.exc import IntegrityError

    from etl.tenancy.integrations import InvalidIntegration, create_integration, validate_settings

    if not token:
        raise CliError("missing --token: a GitHub token with read access to the repositories")
    repo_list = [r.strip() for value in repos for r in value.split(",") if r.strip()]
    credentials, settings = {"token": token}, {"repos": repo_list}
    try:
        with operator_session() as s:
            tenant = _resolve_tenant(s, tenant_ref)
            tenant_id, tenant_name = tenant.id, tenant.name
        validate_settings("github", credentials, settings)
        if verify:
            verify_with_source("github", base_url, credentials, settings)
        with operator_session() as s:
            integ = create_integration(s, tenant_id, "github", name, base_url, credentials, settings)
            data = {"integration_id": integ.id, "tenant_id": tenant_id, "tenant": tenant_name, "name": integ.name,
                    "provider": "github", "base_url": integ.base_url, "repos": repo_list}
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


# ---- schedules (etl/scheduling.py)


def _schedule_from_options(cron: str | None, every_minutes: int | None, timezone_name: str | None = None):
    """--schedule [--timezone] / --every -> a validated schedule (None when none is given)."""
    from etl.ops.scheduling import InvalidSchedule, parse_schedule

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
    from etl.ops.scheduling import schedule_dict, set_schedule

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
        from zoneinfo import ZoneInfo

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
    from etl.models import Integration
    from etl.ops.scheduling import schedule_dict, set_schedule

    if off and (cron is not None or every_minutes is not None):
        raise CliError("--off removes the schedule; do not combine it with --schedule or --every", code=2)
    schedule = _schedule_from_options(cron, every_minutes, timezone_name)
    integ_id = _parse_uuid(integration_id, "integration")
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


@integrations.command("reconcile")
@click.argument("integration_id")
@json_option
def integrations_reconcile(integration_id: str, as_json: bool) -> int:
    """Find items deleted at the source now (otherwise done daily and after each full sync).

    Lists every id the source still has and marks the integration's items that are gone with
    deleted_at; nothing is marked if the listing fails.
    """
    from etl.ops.reconcile import ReconcileRefused, reconcile
    from etl.sources.http import SourceError

    integ_id = _parse_uuid(integration_id, "integration")
    try:
        result = reconcile(integ_id)
    except LookupError:
        raise CliError(f"no integration {integ_id}; `etl integrations list` shows them") from None
    except ReconcileRefused as exc:
        raise CliError(str(exc)) from None
    except SourceError as exc:
        raise CliError(f"listing the source's ids failed, nothing was marked deleted: {exc.message}") from None
    data = result.as_dict()
    emit(as_json, data, lambda: (
        f"skipped: {data['skipped']}" if data["skipped"] else
        f"{data['listed']} ids at the source; {data['deleted']} marked deleted, {data['restored']} restored"
    ))
    return 0


@integrations.command("rotate-key")
@click.option("--tenant", "tenant_ref", help="Only this tenant's integrations (name or id).")
@json_option
def integrations_rotate_key(tenant_ref: str | None, as_json: bool) -> int:
    """Re-encrypt every integration's credentials with the first key of ETL_SECRET_KEY.

    To rotate: put the new key first (ETL_SECRET_KEY=NEW,OLD) on every process and restart them,
    run this, then remove the old key. All or nothing: if any credentials cannot be decrypted with
    the configured keys, nothing is changed and the error names them.
    """
    from etl.config import get_settings
    from etl.crypto import CredentialsError
    from etl.tenancy.integrations import rotate_all_credentials

    keys_configured = len([k for k in get_settings().secret_key.get_secret_value().split(",") if k.strip()])
    try:
        with operator_session() as s:
            tenant_id = _resolve_tenant(s, tenant_ref).id if tenant_ref else None
            count = rotate_all_credentials(s, tenant_id)
    except CredentialsError as exc:
        raise CliError(str(exc)) from None
    data = {"status": "ok", "rotated": count, "keys_configured": keys_configured}
    if keys_configured == 1:
        note("ETL_SECRET_KEY holds one key: the credentials were re-encrypted with it. To rotate, put the new "
             "key first (ETL_SECRET_KEY=NEW,OLD), run rotate-key, then remove the old key.")
    emit(as_json, data, f"{count} integration(s) re-encrypted with the first key of ETL_SECRET_KEY; "
                        + ("the other keys can now be removed from it" if keys_configured > 1 else "nothing else to do"))
    return 0


def verify_with_source(provider: str, base_url: str, credentials: dict, settings: dict) -> None:
    """Ask the source whether the URL, the credentials and every project / repository are right
    (the source client's check_connection, as `POST /api/v1/integrations/{id}/test` does)."""
    from etl.tenancy.integrations import check_connection

    result = check_connection(provider, base_url, credentials, settings)
    if not result["ok"]:
        unchecked = " (or pass --no-verify to save it unchecked)" if result.get("problem") in ("url", "unavailable") else ""
        raise CliError(f"{result['error']}{unchecked}")
    checked = f"; {', '.join(result['checked'])} visible" if result["checked"] else ""
    note(f"checked with {provider}: account {result['account']}{checked}")


@integrations.command("list")
@click.option("--tenant", "tenant_ref", help="Only this tenant's (name or id).")
@json_option
def integrations_list(tenant_ref: str | None, as_json: bool) -> int:
    """List integrations (credentials are never shown)."""
    from sqlalchemy import select

    from etl.models import Integration, Tenant

    with operator_session() as s:
        q = select(Integration, Tenant.name).join(Tenant, Tenant.id == Integration.tenant_id)
        if tenant_ref:
            q = q.where(Integration.tenant_id == _resolve_tenant(s, tenant_ref).id)
        rows = [{"integration_id": i.id, "tenant": tname, "name": i.name, "provider": i.provider,
                 "base_url": i.base_url, "settings": i.settings, "enabled": i.enabled, "last_sync_at": i.last_sync_at,
                 "schedule_cron": i.schedule_cron, "schedule_timezone": i.schedule_timezone,
                 "schedule_interval_minutes": i.schedule_interval_minutes,
                 "next_sync_at": i.next_sync_at, "last_reconciled_at": i.last_reconciled_at}
                for i, tname in s.execute(q.order_by(Integration.created_at))]
    emit(as_json, {"integrations": rows}, lambda: _integrations_table(rows))
    return 0


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

    out = [f"{'ID':36}  {'TENANT':16}  {'NAME':16}  {'PROVIDER':8}  {'LAST SYNC (UTC)':16}  SCHEDULE"]
    out += [f"{r['integration_id']}  {r['tenant'][:16]:16}  {r['name'][:16]:16}  {r['provider']:8}  "
            f"{when(r['last_sync_at']):16}  {schedule(r)}" for r in rows]
    return "\n".join(out)


# ---- sync


def _parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CliError(f"{value!r} is not a valid {what} id (a UUID such as 3f6c1e9e-...)") from None


def _tenant_of(model, row_id: uuid.UUID, missing: str) -> uuid.UUID:
    """The tenant that owns a row (an integration, a job), or a CliError saying how to find one."""
    with operator_session() as s:
        row = s.get(model, row_id)
        if row is None:
            raise CliError(missing)
        return row.tenant_id


def summary_text(job: dict) -> str:
    elapsed = job["elapsed_seconds"]
    rate = f"{job['loaded'] / elapsed:,.0f} records/s" if elapsed and job["loaded"] else "-"
    lines = [
        f"job {job['job_id']} {job['status']}",
        f"  pages        {job['pages']:>8}",
        f"  extracted    {job['extracted']:>8}",
        f"  unchanged    {job['unchanged']:>8}",
        f"  transformed  {job['transformed']:>8}",
        f"  loaded       {job['loaded']:>8}",
        f"  failed       {job['failed']:>8}",
        f"  elapsed      {elapsed if elapsed is not None else '-':>8}{'s' if elapsed is not None else ''}  ({rate})",
    ]
    if job["error_details"]:
        lines.append(f"  error        {format_error(job['error_details'])}")
    return "\n".join(lines)


@cli.command("sync")
@click.argument("integration_id")
@click.option("--full", is_flag=True, help="Re-read everything instead of changes since the last sync.")
@click.option("--wait", is_flag=True, help="Show live progress and wait for the job to end.")
@click.option("--timeout", type=float, help="With --wait: give up waiting after this many seconds (the job goes on).")
@json_option
def sync(integration_id: str, full: bool, wait: bool, timeout: float | None, as_json: bool) -> int:
    """Start a sync job for an integration (trigger "cli").

    With --wait, exit 0 only if the job succeeded (1 for partial, failed or cancelled).
    Exit 2 if the integration already has an active job.
    """
    from etl.db import get_sessionmaker
    from etl.jobs.lifecycle import ActiveJobExists, BrokerUnavailable, start_job
    from etl.models import Integration

    integ_id = _parse_uuid(integration_id, "integration")
    tenant_id = _tenant_of(Integration, integ_id, f"no integration {integ_id}; `etl integrations list` shows them")
    kind = "full" if full else "incremental"
    try:
        job_id = start_job(get_sessionmaker(), integ_id, tenant_id, kind, trigger="cli")
    except ActiveJobExists as exc:
        raise CliError(
            f"integration {integ_id} already has an active job {exc.job_id}; wait for it "
            f"(`etl jobs show {exc.job_id}`) before starting another",
            code=ACTIVE_JOB_EXIT, active_job_id=exc.job_id,
        ) from None
    except BrokerUnavailable as exc:
        raise CliError(f"{exc}. Start RabbitMQ or point ETL_BROKER_URL at a running broker.") from None

    return follow_job(job_id, kind, wait, timeout, as_json)


def follow_job(job_id: uuid.UUID, kind: str, wait: bool, timeout: float | None, as_json: bool) -> int:
    """Report a job just started; with `wait`, show its progress and exit 0 only if it succeeded."""
    json_out = wants_json(as_json)
    if not wait:
        emit(as_json, {"job_id": job_id, "status": "queued", "kind": kind},
             f"job {job_id} queued ({kind}); follow it with `etl jobs show {job_id}`")
        return 0
    if not json_out:
        note(f"job {job_id} started ({kind}); waiting (Ctrl-C stops waiting, not the job)")
    try:
        job = wait_for_job(job_id, show_progress=not json_out or sys.stderr.isatty(), timeout=timeout)
    except KeyboardInterrupt:
        note(f"\nstopped waiting; job {job_id} goes on: `etl jobs show {job_id}`")
        return 130
    emit(as_json, job, lambda: summary_text(job))
    return 0 if job["status"] == "succeeded" else 1


# ---- jobs


@cli.group()
def jobs() -> None:
    """Sync jobs."""


@jobs.command("list")
@click.option("--tenant", "tenant_ref", help="Only this tenant's jobs (name or id).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
def jobs_list(tenant_ref: str | None, limit: int, as_json: bool) -> int:
    """The most recent jobs, newest first."""
    from sqlalchemy import select

    from etl.models import EtlJob, Integration, Tenant

    with operator_session() as s:
        q = (select(EtlJob, Tenant.name, Integration.name)
             .join(Tenant, Tenant.id == EtlJob.tenant_id)
             .join(Integration, Integration.id == EtlJob.integration_id))
        if tenant_ref:
            q = q.where(EtlJob.tenant_id == _resolve_tenant(s, tenant_ref).id)
        rows = [{**job_dict(j), "tenant": tname, "integration": iname}
                for j, tname, iname in s.execute(q.order_by(EtlJob.created_at.desc()).limit(limit))]

    def text() -> str:
        if not rows:
            return "no jobs"
        out = [f"{'ID':36}  {'TENANT':16}  {'INTEGRATION':16}  {'KIND':11}  {'STATUS':9}  "
               f"{'LOADED':>7}  {'FAILED':>6}  CREATED"]
        for r in rows:
            out.append(f"{r['job_id']}  {r['tenant'][:16]:16}  {r['integration'][:16]:16}  {r['kind']:11}  "
                       f"{r['status']:9}  {r['loaded']:>7}  {r['failed']:>6}  "
                       f"{r['created_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}")
        return "\n".join(out)

    emit(as_json, {"jobs": rows}, text)
    return 0


@jobs.command("show")
@click.argument("job_id")
@json_option
def jobs_show(job_id: str, as_json: bool) -> int:
    """A job's status, counters, error and task runs."""
    from etl.jobs.lifecycle import job_task_runs
    from etl.models import EtlJob

    jid = _parse_uuid(job_id, "job")
    with operator_session() as s:
        job = s.get(EtlJob, jid)
        if job is None:
            raise CliError(f"no job {jid}; `etl jobs list` shows recent ones")
        data = job_dict(job)
        data["task_runs"] = [
            {"task_id": r.task_id, "task_name": r.task_name, "stage": r.stage, "state": r.state,
             "attempt": r.attempt, "deliveries": r.deliveries, "batch_id": r.batch_id, "worker": r.worker,
             "error": r.error, "started_at": r.started_at, "finished_at": r.finished_at}
            for r in job_task_runs(s, jid)
        ]

    def text() -> str:
        runs = data["task_runs"]
        out = [summary_text(data),
               f"  kind {data['kind']}, trigger {data['trigger']}, created {data['created_at']:%Y-%m-%d %H:%M:%S%z}"
               + (f", re-driven {data['redrives']} time(s) by the reaper" if data.get("redrives") else ""),
               f"task runs: {len(runs)}"]
        by_state: dict[str, int] = {}
        for r in runs:
            key = f"{r['stage']}/{r['state']}"
            by_state[key] = by_state.get(key, 0) + 1
        if by_state:
            out.append("  " + ", ".join(f"{k} {v}" for k, v in sorted(by_state.items())))
        problems = [r for r in runs if r["error"] or r["state"] not in ("succeeded",)]
        for r in problems[:20]:
            err = f"  {r['error'].splitlines()[0][:160]}" if r["error"] else ""
            out.append(f"  {r['stage']:9} {r['state']:9} attempt {r['attempt']} batch {r['batch_id']}{err}")
        if len(problems) > 20:
            out.append(f"  ... {len(problems) - 20} more (see --json)")
        return "\n".join(out)

    emit(as_json, data, text)
    return 0


@jobs.command("cancel")
@click.argument("job_id")
@json_option
def jobs_cancel(job_id: str, as_json: bool) -> int:
    """Cancel a queued or running job: it ends `cancelled` at once, its queued tasks are revoked and
    its running ones stop at their next checkpoint. Exit 2 if the job had already ended."""
    from etl.jobs.ending import cancel_and_release
    from etl.models import EtlJob

    jid = _parse_uuid(job_id, "job")
    with operator_session() as s:
        if s.get(EtlJob, jid) is None:
            raise CliError(f"no job {jid}; `etl jobs list` shows recent ones")
        s.rollback()
        if not cancel_and_release(s, jid, "cancelled from the CLI"):
            job = s.get(EtlJob, jid)
            raise CliError(f"job {jid} already ended: {job.status}", code=ACTIVE_JOB_EXIT, status=job.status)
        data = job_dict(s.get(EtlJob, jid))
    emit(as_json, data, f"job {jid} cancelled; loaded {data['loaded']} before it stopped")
    return 0


@jobs.command("retry")
@click.argument("job_id")
@click.option("--wait", is_flag=True, help="Show live progress and wait for the new job to end.")
@click.option("--timeout", type=float, help="With --wait: give up waiting after this many seconds (the job goes on).")
@json_option
def jobs_retry(job_id: str, wait: bool, timeout: float | None, as_json: bool) -> int:
    """Start a new job for what an ended job left undone: a failed or cancelled sync runs again; a
    partial job reprocesses the records that failed. Exit 2 if the job is still active or its
    integration is busy."""
    from etl.db import get_sessionmaker
    from etl.jobs.lifecycle import ActiveJobExists, BrokerUnavailable
    from etl.jobs.reprocess import JobStillActive, NothingToRetry, retry_job
    from etl.models import EtlJob

    jid = _parse_uuid(job_id, "job")
    tenant_id = _tenant_of(EtlJob, jid, f"no job {jid}; `etl jobs list` shows recent ones")
    try:
        new_id = retry_job(get_sessionmaker(), jid, tenant_id, trigger="cli")
    except JobStillActive as exc:
        raise CliError(str(exc), code=ACTIVE_JOB_EXIT) from None
    except ActiveJobExists as exc:
        raise CliError(f"its integration already has an active job {exc.job_id}; wait for it "
                       f"(`etl jobs show {exc.job_id}`) or cancel it", code=ACTIVE_JOB_EXIT,
                       active_job_id=exc.job_id) from None
    except NothingToRetry as exc:
        raise CliError(str(exc)) from None
    except BrokerUnavailable as exc:
        raise CliError(f"{exc}. Start RabbitMQ or point ETL_BROKER_URL at a running broker.") from None
    with operator_session() as s:
        kind = s.get(EtlJob, new_id).kind
    return follow_job(new_id, kind, wait, timeout, as_json)


# ---- fake sources and the demo


@cli.command("fake-sources")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8081, show_default=True)
@click.option("--issues", type=click.IntRange(0), default=1000, show_default=True)
@click.option("--projects", default="ABC", show_default=True, help="Comma-separated project keys.")
@click.option("--flavor", type=click.Choice(["cloud", "dc"]), default="cloud", show_default=True)
@json_option
def fake_sources(host: str, port: int, issues: int, projects: str, flavor: str, as_json: bool) -> int:
    """Serve the bundled fake Jira in the foreground (Ctrl-C stops it)."""
    from etl.fakes import jira as fake

    if not wants_json(as_json):
        return int(fake.main(["--host", host, "--port", str(port), "--issues", str(issues),
                              "--projects", projects, "--flavor", flavor]) or 0)
    # --json: one object saying where it is and how to authenticate, then serve until Ctrl-C.
    jira = fake.FakeJira(issues=issues, projects=projects, flavor=flavor)
    try:
        srv = jira.serve(host, port)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc}; choose another --port") from None
    click.echo(dumps({"url": srv.url, "flavor": flavor, "projects": list(jira.projects), "issues": issues,
                      "email": jira.email if flavor == "cloud" else None, "token": jira.token}))
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        srv.stop()


@cli.command("demo")
@click.option("--issues", type=click.IntRange(1), default=3000, show_default=True,
              help="How many issues the fake Jira serves.")
@click.option("--projects", default="ABC,DEF", show_default=True, help="Comma-separated fake project keys.")
@click.option("--timeout", type=float, default=900, show_default=True, help="Give up after this many seconds.")
@click.option("--keep-running", is_flag=True,
              help="After the summary keep the database, workers and fakes up and serve the API and its "
                   "/dashboard on 127.0.0.1:8000 until Ctrl-C.")
@json_option
def demo(issues: int, projects: str, timeout: float, keep_running: bool, as_json: bool) -> int:
    """Run the whole pipeline on this machine with nothing but Python.

    Without ETL_DATABASE_URL an embedded PostgreSQL is started under ./.pulse-demo/pg; without
    ETL_BROKER_URL a filesystem broker under ./.pulse-demo/broker is used. Exit 0 only if the job
    succeeded.
    """
    from etl.cli import demo as demo_module

    return demo_module.run(issues=issues, projects=tuple(p.strip() for p in projects.split(",") if p.strip()),
                           timeout=timeout, keep_running=keep_running, as_json=wants_json(as_json))


# --- entry point ---------------------------------------------------------------------------------


def _report(err: CliError, as_json: bool) -> None:
    if as_json:
        click.echo(dumps({"error": err.message, "exit_code": err.code, **err.extra}))
    click.echo(f"error: {err.message}", err=True)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        rv = cli.main(args=argv, prog_name="etl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        note("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        if as_json:
            click.echo(dumps({"error": exc.format_message(), "exit_code": exc.exit_code}))
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - translated into an actionable message, or re-raised
        err = translate_error(exc)
        if err is None:
            raise
        _report(err, as_json)
        sys.exit(err.code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
