"""What the CLI prints and how: JSON or text, operator sessions, job progress lines, errors in
words. Shared by the command groups and the demo."""
from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

import click
from sqlalchemy.engine import make_url

from etl.config import get_settings
from etl.db import scope_to_all_tenants, session_scope
from etl.jobs.lifecycle import last_task_error
from etl.models import JOB_FINAL_STATUSES, EtlJob

POLL_SECONDS = 0.5


class CliError(Exception):
    """An error to report to the operator: what went wrong and what to do about it."""

    def __init__(self, message: str, code: int = 1, **extra: Any):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CliError(f"{value!r} is not a valid {what} id (a UUID such as 3f6c1e9e-...)") from None


def masked_db_url() -> str:
    try:
        return make_url(get_settings().database_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only used to decorate a message
        return "(ETL_DATABASE_URL)"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def dumps(data: dict) -> str:
    return json.dumps(data, default=_json_default, sort_keys=False)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of text.")(f)


def wants_json(as_json: bool) -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(as_json or (root and root.obj and root.obj.get("json")))


def emit(as_json: bool, data: dict, text: str | Callable[[], str]) -> None:
    if wants_json(as_json):
        click.echo(dumps(data))
    else:
        click.echo(text() if callable(text) else text)


def note(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def operator_session() -> Iterator:
    """A session for an operator command, committed when the block succeeds. The CLI works across
    tenants (tenants by name, everyone's jobs), so its sessions see every tenant, as pulse_system:
    still under row-level security, never as the tables' owner (etl.db)."""
    with session_scope() as session:
        scope_to_all_tenants(session, "CLI operator command")
        yield session


def job_dict(job) -> dict:
    started = job.started_at or job.created_at
    end = job.finished_at
    elapsed = (end - started).total_seconds() if (end and started) else None
    return {
        "job_id": job.id, "tenant_id": job.tenant_id, "integration_id": job.integration_id,
        "kind": job.kind, "trigger": job.trigger, "status": job.status,
        "pages": job.pages, "extracted": job.extracted, "unchanged": job.unchanged,
        "transformed": job.transformed, "loaded": job.loaded, "failed": job.failed,
        "requests_made": job.requests_made, "extraction_done": job.extraction_done, "redrives": job.redrives,
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
        "elapsed_seconds": round(elapsed, 3) if elapsed is not None else None,
        "error_details": job.error_details,
    }


def read_job(job_id: uuid.UUID, last_error: bool = False) -> dict | None:
    """The job as a dict; with last_error, also the newest task-run error (why a job is stuck)."""
    with operator_session() as s:
        job = s.get(EtlJob, job_id)
        if job is None:
            return None
        data = job_dict(job)
        if last_error:
            row = last_task_error(s, job_id)
            data["last_error"] = f"{row.state}: {row.error.splitlines()[0][:100]}" if row else None
        return data


def progress_line(job: dict, elapsed: float) -> str:
    line = (f"{job['status']:9}  pages {job['pages']:>5}  extracted {job['extracted']:>7}  "
            f"transformed {job['transformed']:>7}  loaded {job['loaded']:>7}  "
            f"failed {job['failed']:>5}  {elapsed:7.1f}s")
    return line + stuck_hint(job)


MAX_CELL = 48  # a longer name is cut with "…": the JSON output (--json) always has it whole


def table(headers: list[str], rows: list[list[Any]], right: frozenset[str] = frozenset()) -> str:
    """Columns as wide as their widest cell (names are never cut short of MAX_CELL), two spaces
    apart; the columns named in `right` are right-aligned (numbers)."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)]
    lines = []
    for row in [headers, *cells]:
        parts = [value.rjust(width) if header in right else value.ljust(width)
                 for header, value, width in zip(headers, row, widths)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def fit(line: str) -> str:
    """A line redrawn with \\r must not wrap."""
    width = shutil.get_terminal_size((120, 20)).columns - 1
    return line if len(line) <= width else line[: max(10, width - 1)] + "…"


def stuck_hint(job: dict) -> str:
    """While a job runs, the newest task error says why it is not moving (a retry, say)."""
    if job.get("last_error") and job["status"] not in ("succeeded", "partial", "failed", "cancelled"):
        return f"  [{job['last_error']}]"
    return ""


def format_error(details: dict | None) -> str:
    if not details:
        return ""
    stage = details.get("stage")
    message = details.get("message") or dumps(details)
    extra = {k: v for k, v in details.items() if k not in ("stage", "message")}
    text = f"{stage}: {message}" if stage else str(message)
    if extra:
        text += f" ({dumps(extra)})"
    return text


def wait_for_job(job_id: uuid.UUID, *, show_progress: bool, timeout: float | None = None,
                 stream=None) -> dict:
    """Poll etl_jobs until the job ends, drawing a progress line on `stream` (a terminal redraws one
    line; anything else gets a line every few seconds). Returns the final job."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    t0 = time.monotonic()
    last_print = 0.0
    last_line = ""
    while True:
        job = read_job(job_id, last_error=show_progress)
        if job is None:
            raise CliError(f"job {job_id} disappeared")
        elapsed = time.monotonic() - t0
        done = job["status"] in JOB_FINAL_STATUSES
        if show_progress:
            line = progress_line(job, elapsed)
            if tty:
                stream.write("\r" + fit(line) + "\x1b[K")  # redraw in place, clear what a longer line left
                stream.flush()
            elif done or (line != last_line and elapsed - last_print >= 2.0):
                stream.write(line + "\n")
                stream.flush()
                last_print = elapsed
            last_line = line
        if done:
            if show_progress and tty:
                stream.write("\n")
                stream.flush()
            return job
        if timeout is not None and elapsed > timeout:
            if show_progress and tty:
                stream.write("\n")
            raise CliError(f"job {job_id} still {job['status']} after {timeout:.0f}s; it goes on in the "
                           f"background: `etl jobs show {job_id}`", job=job)
        time.sleep(POLL_SECONDS)
