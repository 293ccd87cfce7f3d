"""`etl doctor`'s checks: is this deployment able to run a sync, end to end, and if not, what to fix.

Each check answers one question an operator would otherwise answer by hand (settings, database and
migrations, broker and queues, workers per stage, beat, Flower, each integration's source) with a
status (`ok` / `warn` / `fail`), a name and a detail that says what to do. Every check is bounded in
time: the broker read by etl.ops.queues' deadline, the database by a connect timeout, Flower by
FLOWER_TIMEOUT, a source by ETL_CONNECTION_TEST_TIMEOUT (the sources run in parallel).

Beat leaves no trace of its own in our tables: what it does is start the dispatcher every minute,
and the dispatcher moves every due integration's `next_sync_at` forward. So beat is judged by the
schedules: a scheduled integration more than OVERDUE_SECONDS late means nothing dispatched it; with
no schedule at all, the tables cannot tell, and the check says so instead of guessing.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import requests
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from etl.broker.lanes import SCHEDULED, STAGES, queue_for
from etl.config import Settings, get_settings
from etl.crypto import decrypt_credentials
from etl.db import database_hint, scope_to_all_tenants, session_scope
from etl.errors import Unavailable
from etl.migrations import alembic_config
from etl.ops.metrics import OVERDUE_SECONDS
from etl.ops.queues import broker_queues
from etl.tenancy.integrations import check_connection

DATABASE_CONNECT_TIMEOUT = 5  # seconds (libpq connect_timeout)
FLOWER_TIMEOUT = 3.0  # seconds for Flower's /healthcheck
SOURCE_CHECKS_AT_ONCE = 8  # sources asked in parallel, each within ETL_CONNECTION_TEST_TIMEOUT


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | fail
    name: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def ok(name: str, detail: str) -> Check:
    return Check("ok", name, detail)


def warn(name: str, detail: str) -> Check:
    return Check("warn", name, detail)


def fail(name: str, detail: str) -> Check:
    return Check("fail", name, detail)


# --- settings ------------------------------------------------------------------------------------


def check_settings() -> list[Check]:
    """The settings as every process reads them (fresh: not the cached copy), and what production
    refuses. A failure here stops the doctor: the other checks would read the same bad values."""
    try:
        settings = Settings()
    except ValidationError as exc:
        msgs = "; ".join(str(e.get("msg", e)).removeprefix("Value error, ") for e in exc.errors())
        names = ", ".join(f"ETL_{'_'.join(str(p) for p in e['loc']).upper()}" for e in exc.errors() if e.get("loc"))
        return [fail("settings", f"{names + ': ' if names else ''}{msgs}")]
    checks = [ok("settings", f"valid ({settings.environment})")]
    problem = settings.api_startup_problem()
    if problem:
        checks.append(fail("settings: api", f"the API will refuse to start: {problem}"))
    return checks


# --- database and migrations ---------------------------------------------------------------------


def masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only decorates a message
        return "(unreadable URL)"


def check_database() -> list[Check]:
    """Reachable, and its schema at the code's migration head (alembic current vs head)."""
    url = get_settings().database_url
    engine = create_engine(url, connect_args={"connect_timeout": DATABASE_CONNECT_TIMEOUT}, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa_exc.OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return [fail("database", f"cannot reach {masked(url)}: {first}; {database_hint(url, first)}")]
    finally:
        engine.dispose()
    checks = [ok("database", f"reachable at {masked(url)}")]
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    if not current:
        checks.append(fail("migrations", "the database has no pulse-etl schema: run `etl db upgrade`"))
    elif current == heads:
        checks.append(ok("migrations", f"at head ({', '.join(sorted(heads))})"))
    elif current - known:
        checks.append(fail("migrations", f"the database is at {', '.join(sorted(current))}, which this code does not "
                                         f"know (head {', '.join(sorted(heads))}): a newer version migrated it; "
                                         "run that version, or restore the backup taken before its upgrade"))
    else:
        checks.append(fail("migrations", f"behind: the database is at {', '.join(sorted(current))}, the code at "
                                         f"{', '.join(sorted(heads))}; run `etl db upgrade` (README: Upgrading)"))
    return checks


# --- read replica (ETL_DATABASE_READ_URL) -------------------------------------------------------

REPLICA_LAG_WARN_SECONDS = 30  # the API's read routes then show data this old (README "Read replica")

_PRIMARY_POSITION = text("SELECT pg_current_wal_lsn()::text")
_REPLICA_STATE = text("""
    SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
           extract(epoch FROM now() - pg_last_xact_replay_timestamp())""")


def _read_one(url: str, statement, params: dict | None = None):
    engine = create_engine(url, connect_args={"connect_timeout": DATABASE_CONNECT_TIMEOUT}, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(statement, params or {}).one()
    finally:
        engine.dispose()


def check_read_replica() -> list[Check]:
    """When ETL_DATABASE_READ_URL is set: the replica answers, is a standby, and how far its replay
    is behind the primary (in WAL bytes, and in seconds since the last replayed commit when it is
    behind). Nothing to check when it is unset: every read goes to the primary."""
    settings = get_settings()
    url = settings.database_read_url
    if url is None:
        return []
    try:
        in_recovery, replayed, since_replay = _read_one(url, _REPLICA_STATE)
    except sa_exc.OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return [fail("read replica", f"cannot reach {masked(url)}: {first}; the API's read routes answer 503 until "
                                     "it is back: start the replica (compose: docker compose --profile replica up -d "
                                     "postgres-replica) or unset ETL_DATABASE_READ_URL")]
    if not in_recovery:
        return [warn("read replica", f"{masked(url)} answers but is not a standby (pg_is_in_recovery() is false): "
                                     "if it is not the primary itself, nothing replicates to it and reads are wrong")]
    try:
        behind = _read_one(settings.database_url, text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :lsn)"),
                           {"lsn": replayed})[0] if replayed else None
    except sa_exc.SQLAlchemyError:
        behind = None  # the primary's own check above says why
    return [_replica_lag_check(url, behind, since_replay)]


def _replica_lag_check(url: str, behind: float | None, since_replay: float | None) -> Check:
    where = f"standby at {masked(url)}"
    if behind is None:
        return warn("read replica", f"{where}: its lag is unknown (the primary did not answer, or nothing replayed yet)")
    if behind <= 0:
        return ok("read replica", f"{where}, caught up with the primary (replay lag 0 bytes)")
    seconds = f", last replayed commit {since_replay:.0f} s ago" if since_replay is not None else ""
    detail = f"{where}, {int(behind)} bytes of WAL behind the primary{seconds}"
    if since_replay is not None and since_replay > REPLICA_LAG_WARN_SECONDS:
        return warn("read replica", f"{detail}: the API's reads are that stale; check the replica's log and "
                                    "its network to the primary")
    return ok("read replica", detail)


# --- broker, queues, workers ---------------------------------------------------------------------


def check_broker() -> list[Check]:
    """Reachable, every stage queue declared (passive declares), and workers consuming each one."""
    url = get_settings().broker_url
    if url.startswith("filesystem://"):
        return [warn("broker", "filesystem:// (the demo's broker) reports neither queues nor consumers: "
                               "nothing to check; use RabbitMQ for a deployment")]
    try:
        queues = {q.name: q for q in broker_queues()}
    except Unavailable as exc:
        return [fail("broker", f"{masked(url)}: {exc}; fix ETL_BROKER_URL or start RabbitMQ"),
                warn("workers", "unknown: the broker did not answer")]
    checks = [ok("broker", f"reachable at {masked(url)}")]
    missing = [name for name, q in queues.items() if not q.declared]
    if missing:
        checks.append(fail("queues", f"not declared: {', '.join(missing)}; workers declare their queues when they "
                                     "start: start one per stage (celery -A etl worker -Q extract, ... -Q transform, "
                                     "... -Q load)"))
    else:
        waiting = ", ".join(f"{name} {q.messages}" for name, q in queues.items())
        checks.append(ok("queues", f"all {len(queues)} declared; messages ready: {waiting}"))
    checks.extend(check_stage_workers(stage, queues) for stage in STAGES)
    return checks


def check_stage_workers(stage: str, queues: dict) -> Check:
    manual, scheduled = queues[queue_for(stage, None)], queues[queue_for(stage, SCHEDULED)]
    name = f"workers: {stage}"
    counts = f"{manual.consumers} consumer(s) on {manual.name}, {scheduled.consumers} on {scheduled.name}"
    if manual.consumers and scheduled.consumers:
        return ok(name, counts)
    if manual.consumers or scheduled.consumers:
        return warn(name, f"{counts}: one lane is not consumed; restart the {stage} workers with this version "
                          f"(`celery -A etl worker -Q {stage}` consumes both lanes)")
    return fail(name, f"nobody consumes {manual.name}: start `celery -A etl worker -Q {stage}` "
                      f"(compose: docker compose up -d worker-{stage})")


# --- beat --------------------------------------------------------------------------------------


def check_beat(now: datetime | None = None) -> Check:
    """Judged by what the dispatcher (beat's every-minute entry) leaves in the tables."""
    now = now or datetime.now(timezone.utc)
    try:
        with session_scope() as session:
            scope_to_all_tenants(session, "the doctor reads every tenant's schedules")
            scheduled, earliest = session.execute(text("""
                SELECT count(*), min(next_sync_at) FROM integrations
                WHERE enabled AND next_sync_at IS NOT NULL
                  AND (schedule_cron IS NOT NULL OR schedule_interval_minutes IS NOT NULL)""")).one()
            last_job = session.execute(text(
                "SELECT max(created_at) FROM etl_jobs WHERE trigger = 'schedule'")).scalar()
    except sa_exc.SQLAlchemyError:
        return warn("beat", "unknown: the database could not be read (see above)")
    if not scheduled:
        return warn("beat", "unknown: no enabled integration has a schedule, and beat leaves nothing else in the "
                            "tables; make sure exactly one `celery -A etl beat` runs (compose: the beat service's "
                            "health)")
    last = f"; last scheduled job {last_job:%Y-%m-%d %H:%M:%S} UTC" if last_job else "; no scheduled job yet"
    late = (now - earliest).total_seconds()
    if late > OVERDUE_SECONDS:
        return fail("beat", f"{scheduled} scheduled integration(s), the oldest due {late / 60:.0f} min ago and not "
                            f"dispatched{last}: start exactly one `celery -A etl beat`, and an extract worker (the "
                            "dispatcher runs on the extract queue)")
    return ok("beat", f"the dispatcher keeps {scheduled} schedule(s) on time{last}")


# --- Flower ------------------------------------------------------------------------------------


def check_flower(url: str) -> Check:
    """Flower's /healthcheck answers without authentication (FIELD-NOTES)."""
    target = url.rstrip("/") + "/healthcheck"
    try:
        response = requests.get(target, timeout=FLOWER_TIMEOUT)
    except requests.RequestException as exc:
        return fail("flower", f"{target} unreachable ({type(exc).__name__}): start Flower "
                              "(celery -A etl flower) or fix ETL_FLOWER_URL / --flower-url")
    if response.status_code == 200 and response.text.strip() == "OK":
        return ok("flower", f"{target} answers OK")
    return fail("flower", f"{target} answered HTTP {response.status_code}, not Flower's OK: is this Flower's "
                          "address (with its --url-prefix)?")


# --- integrations ------------------------------------------------------------------------------


def check_integrations(tenant: str | None = None) -> list[Check]:
    """Each enabled integration's connection test with its stored credentials, in parallel."""
    with session_scope() as session:
        scope_to_all_tenants(session, "the doctor tests every tenant's integrations")
        query = """
            SELECT i.id, i.name, t.name AS tenant, i.provider, i.base_url, i.settings, i.credentials_encrypted
            FROM integrations i JOIN tenants t ON t.id = i.tenant_id WHERE i.enabled"""
        params = {}
        if tenant is not None:
            query += " AND t.name = :tenant"
            params["tenant"] = tenant
        rows = session.execute(text(query + " ORDER BY t.name, i.name"), params).mappings().all()
    if not rows:
        return [warn("integrations", f"none enabled{' for tenant ' + tenant if tenant else ''}: nothing to sync "
                                     "(etl integrations add ...)")]
    with ThreadPoolExecutor(max_workers=min(SOURCE_CHECKS_AT_ONCE, len(rows)),
                            thread_name_prefix="doctor-sources") as pool:
        return list(pool.map(check_one_integration, rows))


def check_one_integration(row) -> Check:
    name = f"integration {row['tenant']}/{row['name']}"
    try:
        credentials = decrypt_credentials(row["credentials_encrypted"])
    except Exception as exc:  # noqa: BLE001 - a key problem is this integration's finding, in words
        return fail(name, f"{row['id']}: credentials cannot be decrypted ({exc}); is ETL_SECRET_KEY the key they "
                          "were saved with?")
    result = check_connection(row["provider"], row["base_url"], credentials, row["settings"] or {})
    if result.get("ok"):
        checked = ", ".join(result.get("checked") or [])
        return ok(name, f"{row['provider']} at {row['base_url']} as {result.get('account')}"
                        f"{'; ' + checked if checked else ''}")
    return fail(name, f"{row['id']} ({row['provider']} at {row['base_url']}): {result.get('error')}")


# --- all of it ---------------------------------------------------------------------------------


def run_checks(*, flower_url: str | None = None, skip_sources: bool = False, tenant: str | None = None) -> list[Check]:
    checks = check_settings()
    if checks[0].status == "fail":
        return checks  # every other check would read the same bad settings
    get_settings.cache_clear()  # what this process reads from now on is what was just checked
    checks.extend(check_database())
    checks.extend(check_read_replica())
    checks.extend(check_broker())
    database_ok = all(c.status == "ok" for c in checks if c.name == "database")
    checks.append(check_beat() if database_ok else warn("beat", "unknown: the database is unreachable"))
    if flower_url:
        checks.append(check_flower(flower_url))
    if skip_sources:
        checks.append(warn("integrations", "skipped (--skip-sources)"))
    elif not database_ok or any(c.name == "migrations" and c.status == "fail" for c in checks):
        checks.append(warn("integrations", "skipped: the database is not ready"))
    else:
        checks.extend(check_integrations(tenant))
    return checks
