"""Per-integration schedules and the dispatcher that beat runs every minute.

A schedule is either an interval in minutes or a 5-field cron expression, read in the schedule's
IANA time zone (UTC by default), so "0 6 * * mon-fri" in Europe/Paris stays at 06:00 local time
across daylight-saving changes. Setting one computes the integration's `next_sync_at` (UTC). The dispatcher claims the integrations that are due with
`SELECT ... FOR UPDATE SKIP LOCKED`, moves each to its next due time, creates its job and, only
after that transaction committed, publishes the job's first tasks. Two dispatchers running at once
(two beats by mistake) therefore never create two jobs for one due time: a row locked by one is
skipped by the other, and once committed it is no longer due.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from croniter import croniter
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from etl.broker.lanes import lane_of
from etl.broker.publish import BROKER_UNREACHABLE, publish_extract
from etl.db import scope_to_all_tenants, session_scope
from etl.errors import Invalid
from etl.jobs.breaker import FAILURES
from etl.jobs.lifecycle import ActiveJobExists, active_job_id, create_job, fail_unpublished
from etl.models import Integration

log = logging.getLogger(__name__)

# How many due integrations one dispatcher run claims; the rest are due again a minute later.
DISPATCH_LIMIT = 500
MAX_INTERVAL_MINUTES = 366 * 24 * 60


class InvalidSchedule(Invalid, ValueError):
    """A schedule that cannot be used; the message says what is wrong."""


# --- cron validation ---------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, low, high, names)
_CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),  # 0 and 7 are both Sunday
)
_ITEM = re.compile(r"^(?P<range>\*|[^-/]+(?:-[^-/]+)?)(?:/(?P<step>[^/]*))?$")
MAX_CRON_LENGTH = 500  # every minute listed one by one takes 169 characters
CRON_HELP = "5 fields: minute hour day-of-month month day-of-week, e.g. */15 * * * * or 0 6 * * mon-fri"


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" (which int() refuses) and "٣" (which
    int() reads as 3 but croniter does not)."""
    return text.isascii() and text.isdigit()


def _cron_value(text: str, name: str, low: int, high: int, names: dict) -> int:
    value = names.get(text.lower()) if names else None
    if value is None:
        if not _is_number(text):
            known = f" or a name such as {next(iter(names))}" if names else ""
            raise InvalidSchedule(f"cron {name} field: {text!r} is not a number{known}")
        value = int(text)
    if not low <= value <= high:
        raise InvalidSchedule(f"cron {name} field: {value} is out of range {low}-{high}")
    return value


def validate_cron(expr: str) -> str:
    """Check a 5-field cron expression field by field; returns it normalized (single spaces).
    Raises InvalidSchedule naming the field and the value that is wrong."""
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidSchedule(f"cron expression is empty; expected {CRON_HELP}")
    if len(expr) > MAX_CRON_LENGTH:
        raise InvalidSchedule(f"cron expression is {len(expr)} characters long, more than {MAX_CRON_LENGTH}; "
                              f"expected {CRON_HELP}")
    fields = expr.split()
    if expr.strip().startswith("@"):
        raise InvalidSchedule(f"cron macros such as {fields[0]} are not supported; use {CRON_HELP}")
    if len(fields) != 5:
        raise InvalidSchedule(f"cron expression {expr.strip()!r} has {len(fields)} field(s); expected {CRON_HELP}")
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS):
        for item in text.split(","):
            m = _ITEM.match(item)
            if not item or not m:
                raise InvalidSchedule(f"cron {name} field: {item!r} is not valid (use *, N, N-M, */S, N-M/S or lists)")
            if m.group("step") is not None:
                step = m.group("step")
                if not _is_number(step) or int(step) < 1:
                    raise InvalidSchedule(f"cron {name} field: step {step!r} in {item!r} must be a positive number")
                if int(step) > high - low + 1:
                    raise InvalidSchedule(f"cron {name} field: step {step} in {item!r} is larger than the "
                                          f"range {low}-{high}")
            if m.group("range") != "*":
                bounds = m.group("range").split("-")
                values = [_cron_value(b, name, low, high, names) for b in bounds]
                if len(values) == 2 and values[0] > values[1]:
                    raise InvalidSchedule(f"cron {name} field: range {item!r} runs backwards")
    normalized = " ".join(fields)
    try:
        croniter(normalized, datetime(2000, 1, 1, tzinfo=timezone.utc)).get_next(datetime)
    except Exception as exc:  # noqa: BLE001 - e.g. "0 0 31 2 *" never fires
        raise InvalidSchedule(f"cron expression {normalized!r} never fires ({exc})") from None
    return normalized


# --- schedules ---------------------------------------------------------------------------------


# Longer names are not quoted back in messages (the longest IANA name has 32 characters).
MAX_TIMEZONE_LENGTH = 64


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(name: str) -> str:
    """An IANA time zone name, as given; InvalidSchedule when the tz database does not know it.
    Looked up in the list of zones, not as a file: ZoneInfo() opens a path built from the name, and
    "America" (a directory) or a 5,000-character name raise OSError rather than a lookup error."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidSchedule("timezone is empty; use an IANA name such as Europe/Paris, America/New_York or UTC")
    name = name.strip()
    if name not in _known_timezones():
        shown = repr(name) if len(name) <= MAX_TIMEZONE_LENGTH else f"of {len(name)} characters"
        raise InvalidSchedule(f"unknown time zone {shown}; use an IANA name such as Europe/Paris, "
                              "America/New_York or UTC")
    return name


@dataclass(frozen=True)
class Schedule:
    cron: str | None = None
    every_minutes: int | None = None
    timezone: str | None = None  # the zone a cron expression is read in; None is UTC

    @classmethod
    def of(cls, integration: Integration) -> "Schedule | None":
        if integration.schedule_cron:
            return cls(cron=integration.schedule_cron, timezone=integration.schedule_timezone)
        if integration.schedule_interval_minutes:
            return cls(every_minutes=integration.schedule_interval_minutes)
        return None

    def describe(self) -> str:
        return f"cron {self.cron} ({self.timezone or 'UTC'})" if self.cron else f"every {self.every_minutes} min"

    def next_after(self, after: datetime, anchor: datetime | None = None) -> datetime:
        """The first due time strictly after `after`. An interval stays on the grid of `anchor`
        (the due time just served), so a dispatcher that runs a few seconds late does not drift;
        due times missed while nothing ran are skipped, not caught up one by one."""
        if self.cron:
            # Walked in local time so that 06:00 stays 06:00 when the zone's UTC offset changes.
            local = after.astimezone(ZoneInfo(self.timezone or "UTC"))
            return croniter(self.cron, local).get_next(datetime).astimezone(timezone.utc)
        step = timedelta(minutes=self.every_minutes)
        if anchor is None or anchor > after:
            return after + step
        return anchor + step * ((after - anchor) // step + 1)


def parse_schedule(cron: str | None = None, every_minutes: int | None = None,
                   timezone_name: str | None = None) -> Schedule | None:
    """Validate a schedule given as a cron expression (in a time zone, UTC by default) or an
    interval (not both); None clears it."""
    if cron is not None and every_minutes is not None:
        raise InvalidSchedule("give either a cron expression or an interval in minutes, not both")
    if timezone_name is not None and cron is None:
        raise InvalidSchedule("a time zone applies to a cron schedule only (an interval runs every N minutes "
                              "in any zone)")
    if cron is not None:
        tz = validate_timezone(timezone_name) if timezone_name is not None else None
        return Schedule(cron=validate_cron(cron), timezone=None if tz == "UTC" else tz)
    if every_minutes is not None:
        if isinstance(every_minutes, bool) or not isinstance(every_minutes, int):
            raise InvalidSchedule(f"interval must be a whole number of minutes, not {every_minutes!r}")
        if not 1 <= every_minutes <= MAX_INTERVAL_MINUTES:
            raise InvalidSchedule(f"interval must be between 1 and {MAX_INTERVAL_MINUTES} minutes, not {every_minutes}")
        return Schedule(every_minutes=every_minutes)
    return None


def first_due(schedule: Schedule, integration: Integration, now: datetime) -> datetime:
    """When a newly set schedule first runs. Cron: its next time. Interval: one interval after the
    last sync, or now when that is already past (or it never synced)."""
    if schedule.cron:
        return schedule.next_after(now)
    last = integration.last_sync_at
    if last is None:
        return now
    return max(now, last + timedelta(minutes=schedule.every_minutes))


_UNSET = object()


def set_schedule(session: Session, integration: Integration, schedule: Schedule | None | object = _UNSET,
                 enabled: bool | None = None, now: datetime | None = None) -> Integration:
    """Change an integration's schedule and/or enabled flag and recompute next_sync_at (None when
    it has no schedule or is disabled). Pass schedule=None to remove the schedule."""
    now = now or datetime.now(timezone.utc)
    if schedule is not _UNSET:
        integration.schedule_cron = schedule.cron if schedule else None
        integration.schedule_interval_minutes = schedule.every_minutes if schedule else None
        integration.schedule_timezone = schedule.timezone if schedule else None
    if enabled is not None:
        integration.enabled = enabled
    current = Schedule.of(integration)
    integration.next_sync_at = first_due(current, integration, now) if current and integration.enabled else None
    session.flush()
    return integration


def schedule_dict(integration: Integration) -> dict:
    current = Schedule.of(integration)
    return {"cron": current.cron if current else None,
            "timezone": (current.timezone or "UTC") if current and current.cron else None,
            "every_minutes": current.every_minutes if current else None,
            "enabled": integration.enabled, "next_sync_at": integration.next_sync_at,
            "description": current.describe() if current else "no schedule"}


# --- the dispatcher ----------------------------------------------------------------------------


def claim_due(session: Session, now: datetime, limit: int = DISPATCH_LIMIT) -> list[Integration]:
    """Lock the due integrations that no other dispatcher holds. One paused by its circuit breaker
    is left out (its due time stays, so it syncs at the first dispatch after it resumes)."""
    return list(session.scalars(
        select(Integration)
        .where(Integration.enabled.is_(True), Integration.next_sync_at.is_not(None), Integration.next_sync_at <= now,
               Integration.breaker_open_at.is_(None),
               or_(Integration.schedule_cron.is_not(None), Integration.schedule_interval_minutes.is_not(None)))
        .order_by(Integration.next_sync_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def claim_probes(session: Session, now: datetime, limit: int = DISPATCH_LIMIT) -> list[Integration]:
    """Lock the integrations whose transient circuit breaker is due for its half-open probe."""
    return list(session.scalars(
        select(Integration)
        .where(Integration.enabled.is_(True), Integration.breaker_kind == FAILURES,
               Integration.breaker_probe_at.is_not(None), Integration.breaker_probe_at <= now)
        .order_by(Integration.breaker_probe_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def start_probes(session: Session, now: datetime) -> list[tuple[uuid.UUID, list[int]]]:
    """One probe sync per integration whose breaker cool-down has passed (etl.jobs.breaker): its
    probe time is cleared while it runs; its end closes the breaker or sets the next probe time.
    One whose job is still active (a reprocess) is probed at a later dispatch."""
    created = []
    for integration in claim_probes(session, now):
        try:
            with session.begin_nested():
                job, batch_ids = create_job(session, integration, "incremental", trigger="schedule")
        except ActiveJobExists:
            continue
        except Exception:  # noqa: BLE001 - one broken integration must not stop the others
            log.exception("integration %s: could not create its circuit breaker probe", integration.id)
            continue
        integration.breaker_probe_at = None
        log.info("integration %s paused since %s: probe job %s", integration.id,
                 integration.breaker_open_at.isoformat(), job.id)
        created.append((job.id, batch_ids))
    return created


def dispatch_due(now: datetime | None = None) -> list[uuid.UUID]:
    """Start a scheduled job for every due integration, and a probe for every paused one whose
    cool-down has passed; returns the ids of the jobs created.

    An integration whose previous job is still active is skipped (logged), not queued behind it;
    its next due time advances all the same."""
    now = now or datetime.now(timezone.utc)
    created: list[tuple[uuid.UUID, list[int]]] = []
    with session_scope() as session:
        scope_to_all_tenants(session, "the dispatcher starts every tenant's due syncs")
        created += start_probes(session, now)
        for integration in claim_due(session, now):
            schedule = Schedule.of(integration)
            due_at = integration.next_sync_at
            integration.next_sync_at = schedule.next_after(now, anchor=due_at)
            try:
                # Checked first without waiting; create_job's insert is what decides (the unique
                # index). If that insert meets a job ending this very moment (its transaction wants
                # this locked row), PostgreSQL aborts one side: here the savepoint, and the due time
                # is skipped like any other whose previous job is still active.
                active = active_job_id(session, integration.id)
                if active is not None:
                    raise ActiveJobExists(active)
                with session.begin_nested():
                    job, batch_ids = create_job(session, integration, "incremental", trigger="schedule")
            except ActiveJobExists as exc:
                log.info("integration %s due at %s skipped: job %s is still active; next run at %s",
                         integration.id, due_at.isoformat(), exc.job_id, integration.next_sync_at.isoformat())
                continue
            except Exception:  # noqa: BLE001 - one broken integration must not stop the others
                log.exception("integration %s due at %s: could not create its job; next run at %s",
                              integration.id, due_at.isoformat(), integration.next_sync_at.isoformat())
                continue
            log.info("integration %s due at %s: job %s (%s); next run at %s", integration.id, due_at.isoformat(),
                     job.id, schedule.describe(), integration.next_sync_at.isoformat())
            created.append((job.id, batch_ids))
    # Published only after the jobs and batches are committed.
    for job_id, batch_ids in created:
        try:
            publish_extract(job_id, batch_ids, lane_of("schedule"), fail_fast=True)
        except BROKER_UNREACHABLE as exc:
            log.error("could not publish scheduled job %s: %s", job_id, exc)
            with session_scope() as session:
                scope_to_all_tenants(session, "the dispatcher fails a job it could not publish")
                fail_unpublished(session, job_id, exc)
    return [job_id for job_id, _ in created]
