"""`etl sync` and `etl jobs`: start a sync, follow it, and list, show, cancel or retry jobs."""
from __future__ import annotations

import re
import sys
import uuid
from dataclasses import asdict
from datetime import timezone

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.cli.output import (
    CliError,
    emit,
    format_error,
    job_dict,
    json_option,
    note,
    operator_session,
    parse_uuid,
    table,
    wait_for_job,
    wants_json,
)
from etl.cli.tenants import resolve_tenant
from etl.db import get_sessionmaker
from etl.jobs.breaker import IntegrationPaused
from etl.jobs.ending import cancel_and_release
from etl.jobs.lifecycle import ActiveJobExists, BrokerUnavailable, job_task_runs, start_job
from etl.jobs.recoveries import job_recoveries
from etl.jobs.reprocess import JobStillActive, NothingToRetry, retry_job
from etl.models import EtlJob, Integration, Tenant

ACTIVE_JOB_EXIT = 2  # the integration already has an active job, or the job had already ended

_URL_QUERY = re.compile(r"(https?://[^\s?]+)\?\S*")


# ---- sync


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


@click.command("sync")
@click.argument("integration_id")
@click.option("--full", is_flag=True, help="Re-read everything instead of changes since the last sync.")
@click.option("--wait", is_flag=True, help="Show live progress and wait for the job to end.")
@click.option("--timeout", type=float, help="With --wait: give up waiting after this many seconds (the job goes on).")
@json_option
def sync(integration_id: str, full: bool, wait: bool, timeout: float | None, as_json: bool) -> int:
    """Start a sync job for an integration (trigger "cli").

    With --wait, exit 0 only if the job succeeded (1 for partial, failed or cancelled).
    Exit 2 if the integration already has an active job; 1 if its circuit breaker paused it (the
    message says why and how to resume it).
    """
    integ_id = parse_uuid(integration_id, "integration")
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
    except IntegrationPaused as exc:
        raise CliError(str(exc)) from None

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


@click.group()
def jobs() -> None:
    """Sync jobs."""


@jobs.command("list")
@click.option("--tenant", "tenant_ref", help="Only this tenant's jobs (name or id).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
def jobs_list(tenant_ref: str | None, limit: int, as_json: bool) -> int:
    """The most recent jobs, newest first."""
    with operator_session() as s:
        tenant_id = resolve_tenant(s, tenant_ref).id if tenant_ref else None
        rows = [{**job_dict(j), "tenant": tname, "integration": iname}
                for j, tname, iname in _recent_jobs(s, tenant_id, limit)]

    def text() -> str:
        if not rows:
            return "no jobs"
        return table(["ID", "TENANT", "INTEGRATION", "KIND", "STATUS", "LOADED", "FAILED", "CREATED (UTC)"],
                     [[r["job_id"], r["tenant"], r["integration"], r["kind"], r["status"], r["loaded"], r["failed"],
                       f"{r['created_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}"] for r in rows],
                     right=frozenset({"LOADED", "FAILED"}))

    emit(as_json, {"jobs": rows}, text)
    return 0


def _recent_jobs(session: Session, tenant_id: uuid.UUID | None, limit: int) -> list[tuple[EtlJob, str, str]]:
    """(job, tenant name, integration name), newest first; one tenant's only when tenant_id is given."""
    q = (select(EtlJob, Tenant.name, Integration.name)
         .join(Tenant, Tenant.id == EtlJob.tenant_id)
         .join(Integration, Integration.id == EtlJob.integration_id))
    if tenant_id is not None:
        q = q.where(EtlJob.tenant_id == tenant_id)
    return [(j, tname, iname) for j, tname, iname in session.execute(q.order_by(EtlJob.created_at.desc()).limit(limit))]


@jobs.command("show")
@click.argument("job_id")
@json_option
def jobs_show(job_id: str, as_json: bool) -> int:
    """A job's status, counters, error and task runs."""
    jid = parse_uuid(job_id, "job")
    with operator_session() as s:
        job = s.get(EtlJob, jid)
        if job is None:
            raise CliError(f"no job {jid}; `etl jobs list` shows recent ones")
        data = job_dict(job)
        runs = job_task_runs(s, jid)
        data["task_runs"] = [
            {"task_id": r.task_id, "task_name": r.task_name, "stage": r.stage, "state": r.state,
             "attempt": r.attempt, "deliveries": r.deliveries, "batch_id": r.batch_id, "worker": r.worker,
             "error": r.error, "started_at": r.started_at, "finished_at": r.finished_at}
            for r in runs
        ]
        data["recoveries"] = [asdict(found) for found in job_recoveries(job, runs)]

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
        out.extend(_recoveries_text(data["recoveries"]))
        return "\n".join(out)

    emit(as_json, data, text)
    return 0


def _short_urls(words: str) -> str:
    """A source's reason starts with the request's URL, whose query (a JQL and its field list) can
    run to hundreds of characters before the status: shown without it here (--json has it whole)."""
    return _URL_QUERY.sub(r"\1?...", words)


def _recoveries_text(recoveries: list[dict], limit: int = 20) -> list[str]:
    """One line per retry, redelivery or re-drive: when, what, whether it worked, and why."""
    if not recoveries:
        return []
    out = [f"recoveries: {len(recoveries)}"]
    outcome = {True: "recovered", False: "did not recover", None: "pending"}
    for r in recoveries[:limit]:
        at = f"{r['at']:%H:%M:%S}" if r["at"] else "--:--:--"
        out.append(f"  {at} {r['stage']:9} {r['kind']:10} attempt {r['attempt']} ({outcome[r['recovered']]})")
        out.append(f"      {_short_urls(r['reason'].splitlines()[0])[:300]}")
    if len(recoveries) > limit:
        out.append(f"  ... {len(recoveries) - limit} more (see --json)")
    return out


@jobs.command("cancel")
@click.argument("job_id")
@json_option
def jobs_cancel(job_id: str, as_json: bool) -> int:
    """Cancel a queued or running job: it ends `cancelled` at once, its queued tasks are revoked and
    its running ones stop at their next checkpoint. Exit 2 if the job had already ended."""
    jid = parse_uuid(job_id, "job")
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
    jid = parse_uuid(job_id, "job")
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
