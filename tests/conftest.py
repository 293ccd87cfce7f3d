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

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:8]
ADMIN_DSN = os.environ.get("PULSE_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_DB = f"pulse_test_{RUN_ID}"
VHOST = f"pulse_test_{RUN_ID}"

# Settings are read once per process: set them before anything imports etl.
os.environ["ETL_DATABASE_URL"] = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://") + "/" + TEST_DB
os.environ.setdefault("ETL_SECRET_KEY", "test-secret-key-for-the-suite")
os.environ["ETL_SYNC_OVERLAP_SECONDS"] = os.environ.get("ETL_SYNC_OVERLAP_SECONDS", "60")


def _rabbitmqctl(*args: str) -> bool:
    try:
        return subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _setup_vhost() -> str:
    """A vhost per test run keeps our queues away from anyone else's workers on this broker."""
    if _rabbitmqctl("add_vhost", VHOST) and _rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"):
        return f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
    return "amqp://guest:guest@127.0.0.1:5672//"


if "ETL_BROKER_URL" not in os.environ:
    os.environ["ETL_BROKER_URL"] = _setup_vhost()


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
    if VHOST in os.environ["ETL_BROKER_URL"]:
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
    from tests.scopes import session_scope
    from etl.tenants import create_tenant

    def make(name: str | None = None):
        with session_scope() as s:
            tenant, key = create_tenant(s, name or f"tenant-{uuid.uuid4().hex[:8]}")
            return tenant.id, key.secret

    return make


@pytest.fixture
def fake_jira():
    """fake_jira(**kwargs) -> a served FakeJira; stopped after the test."""
    from etl.sources.jira.fake import FakeJira

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
    from tests.scopes import session_scope
    from etl.integrations import create_integration

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

    def __init__(self):
        self.procs: dict[str, subprocess.Popen] = {}
        self.logdir = Path(os.environ.get("PULSE_TEST_LOGDIR", f"/tmp/pulse-test-{RUN_ID}"))
        self.logdir.mkdir(parents=True, exist_ok=True)

    def start(self, queue: str, concurrency: int = 2, name: str | None = None) -> subprocess.Popen:
        name = name or queue
        log = open(self.logdir / f"worker-{name}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "etl", "worker", "-Q", queue, "-c", str(concurrency),
             "-n", f"{name}-{RUN_ID}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        self._wait_ready(name, proc)
        return proc

    def _wait_ready(self, name: str, proc: subprocess.Popen, timeout: float = 60) -> None:
        logfile = self.logdir / f"worker-{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker {name} exited: {logfile.read_text()[-3000:]}")
            if b" ready." in logfile.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {name} not ready after {timeout}s: {logfile.read_text()[-3000:]}")

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
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
def api_client(database):
    from fastapi.testclient import TestClient

    from api.main import app

    with TestClient(app) as client:
        yield client


@pytest.fixture
def github_integration(make_tenant):
    """github_integration(repos={...}, tenant=None, **fake_kwargs) -> (tenant_id, api_key, integration_id, fake)."""
    from tests.scopes import session_scope
    from etl.integrations import create_integration
    from etl.sources.github.fake import FakeGitHub

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
