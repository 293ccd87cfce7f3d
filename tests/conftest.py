"""Test fixtures: a fresh PostgreSQL database migrated with Alembic, an isolated RabbitMQ vhost,
real Celery worker processes per queue, and the fake Jira. Nothing here is eager or mocked except
the Jira server itself."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

# Killable PostgreSQL and RabbitMQ, a TCP proxy and a private stack for fault tests (no etl import).
from tests.faults import kill_tree, private_postgres, private_rabbitmq, private_stack, private_standby, tcp_proxy  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:8]
ADMIN_DSN = os.environ.get("PULSE_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_DB = f"pulse_test_{RUN_ID}"
VHOST = f"pulse_test_{RUN_ID}"
LOGDIR = Path(os.environ.get("PULSE_TEST_LOGDIR", f"/tmp/pulse-test-{RUN_ID}"))

# Settings are read once per process: set them before anything imports etl.
os.environ["ETL_DATABASE_URL"] = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://") + "/" + TEST_DB
os.environ.setdefault("ETL_SECRET_KEY", "test-secret-key-for-the-suite")
os.environ["ETL_SYNC_OVERLAP_SECONDS"] = os.environ.get("ETL_SYNC_OVERLAP_SECONDS", "60")
# The fake sources listen on 127.0.0.1; any other loopback address (127.0.0.2, an "internal
# service" in tests/test_ssrf.py) stays refused, as every private address is by default.
os.environ["ETL_SOURCE_ALLOW"] = "127.0.0.1"
# The suite's clients share one address and drive their keys far faster than people do (the
# schemathesis run alone sends ~750 requests a minute): generous rate limits here, low ones where
# tests/test_limits.py tests them.
os.environ.setdefault("ETL_RATE_LIMIT_PER_KEY", "100000/minute")
os.environ.setdefault("ETL_AUTH_FAILURE_LIMIT_PER_IP", "100000/minute")


def _rabbitmqctl(*args: str) -> None:
    """Run rabbitmqctl; raise with what it said when it fails."""
    command = " ".join(["rabbitmqctl", *args])
    try:
        done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"`{command}` could not run: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"`{command}` failed (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()}")


def _setup_vhost() -> None:
    """A vhost per test run keeps our queues away from anyone else's workers on this broker. No
    fallback to the default vhost: the suite would then share queues with other people's workers
    (set ETL_BROKER_URL to choose a broker yourself)."""
    _rabbitmqctl("add_vhost", VHOST)
    _rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")


# The URL is set now (before anything imports etl); the vhost is created by the `database` fixture,
# which every test that uses the broker needs. A run of tests that need no services (the transform
# unit tests) then calls no rabbitmqctl, and leaves no vhost behind.
OWN_VHOST = "ETL_BROKER_URL" not in os.environ
if OWN_VHOST:
    os.environ["ETL_BROKER_URL"] = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    return ADMIN_DSN


@pytest.fixture
def empty_database(admin_dsn):
    """A new database with nothing in it (for migrations), dropped afterwards."""
    import psycopg2
    from sqlalchemy import create_engine

    name = f"pulse_migr_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://") + "/" + name)
    yield engine
    engine.dispose()
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def settings_env(monkeypatch):
    """settings_env(NAME=value, ...): set ETL_* variables for this process and re-read the settings;
    both are restored afterwards."""
    from etl.config import get_settings

    def set_env(**values):
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_env
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def database():
    import psycopg2

    if OWN_VHOST:
        _setup_vhost()
    admin = psycopg2.connect(ADMIN_DSN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{TEST_DB}"')
    from etl import migrations

    migrations.upgrade()
    yield os.environ["ETL_DATABASE_URL"]
    from etl.db import get_engine

    get_engine().dispose()
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    admin.close()
    if OWN_VHOST:
        _rabbitmqctl("delete_vhost", VHOST)


@pytest.fixture
def db(database):
    from etl.db import get_sessionmaker, scope_to_all_tenants

    session = get_sessionmaker()()
    scope_to_all_tenants(session, "a test inspects rows")
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def make_tenant(database):
    """make_tenant() -> (tenant_id, api_key). Each test gets its own tenants: tests stay isolated
    while worker processes share the database."""
    from etl.tenancy.tenants import create_tenant
    from tests.scopes import session_scope

    def make(name: str | None = None):
        with session_scope() as s:
            tenant, key = create_tenant(s, name or f"tenant-{uuid.uuid4().hex[:8]}")
            return tenant.id, key.secret

    return make


@pytest.fixture
def fake_jira():
    """fake_jira(**kwargs) -> a served FakeJira; stopped after the test."""
    from etl.fakes.jira import FakeJira

    servers = []

    def make(**kwargs):
        fake = FakeJira(**kwargs)
        servers.append(fake.serve())
        return fake

    yield make
    for srv in servers:
        srv.stop()


@pytest.fixture
def jira_integration(make_tenant, fake_jira):
    """jira_integration(issues=..., **fake_kwargs) -> (tenant_id, api_key, integration_id, fake)."""
    from etl.tenancy.integrations import create_integration
    from tests.scopes import session_scope

    def make(issues: int = 200, tenant=None, settings: dict | None = None, **kwargs):
        fake = fake_jira(issues=issues, **kwargs)
        tenant_id, key = tenant or make_tenant()
        with session_scope() as s:
            integ = create_integration(
                s, tenant_id, "jira", f"jira-{uuid.uuid4().hex[:6]}", fake.url,
                {"email": fake.email, "token": fake.token} if fake.flavor == "cloud" else {"token": fake.token},
                {"projects": list(fake.projects), "flavor": fake.flavor, **(settings or {})},
            )
            return tenant_id, key, integ.id, fake

    return make


class Workers:
    """Real `celery -A etl worker` processes, one per queue, as an operator runs them."""

    def __init__(self, logdir: Path | None = None):
        self.procs: dict[str, subprocess.Popen] = {}
        self.logdir = logdir or LOGDIR
        self.logdir.mkdir(parents=True, exist_ok=True)

    def start(self, queue: str, concurrency: int = 2, name: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a worker for `queue` (again, after a kill, with the same name). `env` replaces
        this process's environment, e.g. to point the worker at another database or broker."""
        name = name or queue
        logfile = self.logdir / f"worker-{name}.log"
        log = open(logfile, "ab")
        started_at = log.tell()  # the log is appended to: readiness is read from this run's part
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "etl", "worker", "-Q", queue, "-c", str(concurrency),
             "-n", f"{name}-{RUN_ID}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=os.environ.copy() if env is None else env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[name] = proc
        self._wait_ready(name, proc, started_at)
        return proc

    def _wait_ready(self, name: str, proc: subprocess.Popen, offset: int, timeout: float = 60) -> None:
        logfile = self.logdir / f"worker-{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker {name} exited: {logfile.read_text()[-3000:]}")
            if b" ready." in logfile.read_bytes()[offset:]:
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {name} not ready after {timeout}s: {logfile.read_text()[-3000:]}")

    def kill(self, name: str) -> list[int]:
        """SIGKILL the worker's main process and its pool children at once, as a crash (or an OOM
        kill of the container) would; returns their pids, all gone. start() it again after."""
        proc = self.procs.pop(name)
        pids = kill_tree(proc.pid)
        proc.wait(10)
        return pids

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)  # its pool children too, or they would outlive the test
                proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


@pytest.fixture(scope="session")
def workers(database):
    """One worker process per queue for the whole session (extract, transform, load)."""
    w = Workers()
    for queue in ("extract", "transform", "load"):
        w.start(queue)
    yield w
    w.stop_all()


@pytest.fixture
def make_workers():
    """make_workers() -> a Workers of the test's own (its logs in a sub-folder), stopped afterwards."""
    made = []

    def make() -> Workers:
        made.append(Workers(LOGDIR / f"own-{uuid.uuid4().hex[:6]}"))
        return made[-1]

    yield make
    for w in made:
        w.stop_all()


@pytest.fixture
def api_client(database):
    from fastapi.testclient import TestClient

    from api.main import app

    with TestClient(app) as client:
        yield client


@pytest.fixture
def github_integration(make_tenant):
    """github_integration(repos={...}, tenant=None, **fake_kwargs) -> (tenant_id, api_key, integration_id, fake)."""
    from etl.fakes.github import FakeGitHub
    from etl.tenancy.integrations import create_integration
    from tests.scopes import session_scope

    fakes = []

    def make(repos: dict | None = None, tenant=None, settings: dict | None = None, **kwargs):
        kwargs.setdefault("nul_bodies", True)
        fake = FakeGitHub(repos=repos or {"acme/api": 60, "acme/web": 40}, **kwargs)
        fake.serve()
        fakes.append(fake)
        tenant_id, key = tenant or make_tenant()
        with session_scope() as s:
            integ = create_integration(s, tenant_id, "github", f"gh-{uuid.uuid4().hex[:6]}", fake.url,
                                       {"token": fake.token}, {"repos": fake.repos(), **(settings or {})})
            return tenant_id, key, integ.id, fake

    yield make
    for fake in fakes:
        fake.stop()
