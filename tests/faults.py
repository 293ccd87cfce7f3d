"""Killable services for fault tests, each private to the test that asks for it: a PostgreSQL
cluster (`initdb` on a free port), a second RabbitMQ node (its own node name, ports, data and
Erlang cookie), a TCP proxy that can cut a link, and a whole pulse-etl stack wired to them (a
migrated database, a broker, real worker processes). Nothing here touches the machine-wide
PostgreSQL (5432), RabbitMQ (5672) or Redis.

Fixtures (registered by tests/conftest.py):

* ``private_postgres`` -> PrivatePostgres: ``url``, ``kill()`` (SIGKILL the postmaster: a crash),
  ``stop()``, ``start()`` (same port and data).
* ``private_standby`` -> PrivateStandby: a hot standby of ``private_postgres`` (pg_basebackup),
  ``pause_replay()`` / ``resume_replay()``, and the same ``url`` / ``stop()`` / ``start()``.
* ``private_rabbitmq`` -> PrivateRabbitMQ: ``url``, ``kill()`` (SIGKILL the node's processes),
  ``stop()``, ``start()`` (same node, ports and data: durable queues and persistent messages
  survive).
* ``tcp_proxy(target_port)`` -> TcpProxy: ``port``, ``cut()`` (reset every connection, refuse new
  ones), ``restore()``.
* ``private_stack(proxied=False, queues=(...))`` -> Stack: the three above plus workers; see Stack.

Starting costs on the shared 2-core machine are printed by tests/test_fault_harness.py; RabbitMQ
(about 10-20 s a start) is the slow one, so a test that needs one should use it for several faults.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

from bench.procs import descendants  # one process-tree walker for the benchmarks and the fault tests

LOOPBACK = "127.0.0.1"


# -- processes and ports ----------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's choice, so it is not someone's fixed port)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    """Some thread of the process still runs. A killed multi-threaded process (beam, postgres
    with parallel workers) shows its main thread as a zombie while the others are still exiting
    and still hold its sockets: it is gone only when every thread is a zombie or gone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            if (task / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                return True
        except OSError:
            continue
    return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll until `condition()` holds; returns the seconds it took, raises after `timeout`."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{what}: not after {timeout:.0f}s")
        time.sleep(interval)
    return time.monotonic() - t0


def kill_tree(pid: int, timeout: float = 30) -> list[int]:
    """SIGKILL a process and everything under it, as a crash would. The process is stopped first
    so it cannot fork while its tree is read. Returns the pids killed, once all are gone."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return []
    pids = [pid, *descendants(pid)]
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(alive(p) for p in pids), timeout, f"processes {pids} to die")
    return pids


def port_open(port: int) -> bool:
    """Something listens on 127.0.0.1:port. (A connection to a free port of the ephemeral range
    can, rarely, be given that same port as its source and connect to itself: that is no listener.)"""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as s:
            return s.getsockname() != s.getpeername()
    except OSError:
        return False


def listeners(port: int) -> str:
    """Who listens on a port (for error messages)."""
    done = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    return done.stdout.strip() or "nobody"


# -- PostgreSQL ---------------------------------------------------------------------------------------
def _pg_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary directory, on a free port of 127.0.0.1.

    Run as the `postgres` OS user when the tests run as root (initdb refuses root). `fsync=off`:
    a killed server loses nothing the kernel already has, and only an OS crash would need fsync.
    The postmaster is our child process rather than pg_ctl's daemon: a daemon killed by SIGKILL
    stays a zombie until init reaps it (10 s and more here), and until then PostgreSQL refuses to
    start over the lock file that names it; our own child is reaped at once.
    """

    user = "postgres"

    def __init__(self, database: str = "pulse"):
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="pulse-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.database = database
        self.timings: dict[str, float] = {}
        self.proc: subprocess.Popen | None = None
        if os.geteuid() == 0:
            shutil.chown(self.root, self.user)

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@{LOOPBACK}:{self.port}/{database}"

    def dsn(self, database: str | None = None) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database or self.database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, user=self._owner())
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr or done.stdout}")

    def _owner(self) -> str | None:
        """PostgreSQL refuses to run as root: then it runs as the `postgres` OS user."""
        return self.user if os.geteuid() == 0 else None

    def init(self) -> None:
        t0 = time.monotonic()
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.timings["initdb"] = time.monotonic() - t0
        self.start()
        import psycopg2

        conn = psycopg2.connect(self.dsn("postgres"))
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{self.database}"')
        conn.close()

    def start(self, timeout: float = 60) -> float:
        """Start on the same port and data; after a kill() this is a crash recovery. Returns the
        seconds until it accepts connections."""
        t0 = time.monotonic()
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", f"listen_addresses={LOOPBACK}", "-c", "fsync=off"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=self._owner())
        log.close()
        wait_until(self._accepts_connections, timeout, "private PostgreSQL to accept connections")
        took = time.monotonic() - t0
        self.timings["start" if "start" not in self.timings else "restart"] = took
        return took

    def _accepts_connections(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"private PostgreSQL exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
        import psycopg2

        try:
            psycopg2.connect(self.dsn("postgres"), connect_timeout=2).close()
            return True
        except psycopg2.OperationalError:
            return False

    def stop(self, timeout: float = 60) -> None:
        """A fast shutdown (SIGINT: roll back sessions, checkpoint, exit)."""
        if not self.running():
            return
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash: its backends notice and exit, clients lose their
        connections. Returns once every server process is gone."""
        if not self.running():
            raise RuntimeError("the private PostgreSQL is not running")
        children = descendants(self.proc.pid)
        self.proc.kill()
        self.proc.wait(10)
        wait_until(lambda: not any(alive(p) for p in children), 30, "PostgreSQL backends to exit")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        try:
            if self.running():
                kill_tree(self.proc.pid)  # its data is thrown away: no need for a clean stop
                self.proc.wait(10)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class PrivateStandby(PrivatePostgres):
    """A hot standby of a running PrivatePostgres, on a free port of its own: cloned with
    pg_basebackup (--write-recovery-conf: it starts as a standby streaming from the primary), as the
    compose profile `replica` does. The primary's defaults allow it (wal_level replica, WAL senders,
    initdb's trusted replication lines for 127.0.0.1). ``url`` reads from it; ``stop()`` /
    ``start()`` / ``kill()`` as for the primary; ``pause_replay()`` / ``resume_replay()`` freeze
    what it shows, so a test can tell which server answered."""

    def __init__(self, primary: PrivatePostgres):
        super().__init__(primary.database)
        self.primary = primary

    def init(self) -> None:
        t0 = time.monotonic()
        self._run(str(self.bindir / "pg_basebackup"), "-h", LOOPBACK, "-p", str(self.primary.port), "-U", "postgres",
                  "-D", str(self.data), "--wal-method=stream", "--write-recovery-conf", "--checkpoint=fast",
                  "--no-sync")
        self.timings["basebackup"] = time.monotonic() - t0
        self.start()

    def _sql(self, statement: str):
        import psycopg2

        conn = psycopg2.connect(self.dsn("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchone()
        finally:
            conn.close()

    def pause_replay(self) -> None:
        self._sql("SELECT pg_wal_replay_pause()")
        wait_until(lambda: self._sql("SELECT pg_get_wal_replay_pause_state()")[0] == "paused", 30, "replay to pause")

    def resume_replay(self) -> None:
        self._sql("SELECT pg_wal_replay_resume()")


@pytest.fixture
def private_standby(private_postgres):
    """A hot standby of private_postgres (see PrivateStandby), running."""
    standby = PrivateStandby(private_postgres)
    try:
        standby.init()
        yield standby
    finally:
        standby.close()


# -- RabbitMQ -----------------------------------------------------------------------------------------
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # the real scripts: /usr/sbin's wrappers `su` to rabbitmq


class PrivateRabbitMQ:
    """A second RabbitMQ node: its own node name, AMQP and distribution ports, data, log and config
    (the machine's /etc/rabbitmq would make it listen on 5672), no plugins, and its own $HOME with
    its own Erlang cookie, so its CLI tools reach only it. The server runs in its own session;
    `kill()` SIGKILLs that process tree. Readiness is an AMQP login (the CLI's `await_startup`
    costs 10-15 s by itself on a busy machine); `ctl()` runs rabbitmqctl against the node."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="pulse-rmq-"))
        self.node = f"pulse-test-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.proc: subprocess.Popen | None = None
        self.timings: dict[str, float] = {}
        home = self.root / "home"
        for d in ("home", "mnesia", "log"):
            (self.root / d).mkdir()
        cookie = home / ".erlang.cookie"
        cookie.write_text(uuid.uuid4().hex.upper())
        cookie.chmod(0o400)
        (self.root / "enabled_plugins").write_text("")
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "rabbitmq.conf").write_text("loopback_users.guest = true\n")
        self.env = {
            **os.environ,
            "HOME": str(home),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "ERL_EPMD_ADDRESS": LOOPBACK,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@{LOOPBACK}:{self.port}//"

    def start(self, timeout: float = 120) -> float:
        """Start the node (same name, ports and data each time); returns seconds until AMQP logins work."""
        t0 = time.monotonic()
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken: the node is running or someone else took it")
        out = open(self.root / "server.out", "ab")
        self.proc = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=self.env, cwd=self.root,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        wait_until(self._ready, timeout, f"RabbitMQ node {self.node}", interval=0.25)
        took = time.monotonic() - t0
        self.timings["start" if "start" not in self.timings else "restart"] = took
        return took

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"RabbitMQ node {self.node} exited ({self.proc.returncode}): "
                               f"{(self.root / 'server.out').read_text()[-3000:]}")
        if not port_open(self.port):
            return False
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=2) as conn:
                conn.connect()
            return True
        except Exception:  # noqa: BLE001 - still booting
            return False

    def kill(self) -> list[int]:
        """SIGKILL every process of this node (the server script, beam, its helpers); returns them."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"RabbitMQ node {self.node} is not running")
        pids = kill_tree(self.proc.pid)
        self.proc.wait(10)
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} still answers after the node was killed: {listeners(self.port)}")
        return pids

    def stop(self, timeout: float = 60) -> None:
        """A clean shutdown: SIGTERM makes the Erlang VM stop the node gracefully."""
        if self.proc is None or self.proc.poll() is not None:
            return
        beams = [p for p in descendants(self.proc.pid) if "beam" in _comm(p)]
        for p in beams or [self.proc.pid]:
            os.kill(p, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_tree(self.proc.pid)
            self.proc.wait(10)

    def ctl(self, *args: str, timeout: float = 120) -> str:
        """rabbitmqctl against this node (slow: 10-15 s per call here); returns its output."""
        done = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done.stdout

    def close(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                kill_tree(self.proc.pid)  # its data is thrown away: no need for a clean stop
                self.proc.wait(10)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


# -- TCP proxy ----------------------------------------------------------------------------------------
class TcpProxy:
    """127.0.0.1:port -> 127.0.0.1:target_port, one thread per direction. `cut()` resets every open
    connection and closes the listening socket (new connections are refused), as a link going
    down; `restore()` listens again on the same port. A connection whose target refuses is
    closed at once."""

    def __init__(self, target_port: int, port: int | None = None):
        self.target_port = target_port
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    @property
    def open_connections(self) -> int:
        """Client connections carried right now."""
        with self._lock:
            return len(self._conns) // 2

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((LOOPBACK, self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name=f"proxy-{self.port}-accept").start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = list(self._conns), set()
        if listener is not None:
            _shut(listener)
        for c in conns:
            _reset(c)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by cut()
                return
            try:
                upstream = socket.create_connection((LOOPBACK, self.target_port), timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while we were connecting
                    _reset(client)
                    _reset(upstream)
                    return
                self._conns.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._conns.discard(src)
            self._conns.discard(dst)
        _shut(src)
        _shut(dst)


def _shut(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def _reset(s: socket.socket) -> None:
    """Close with an RST rather than a FIN: peers see 'connection reset', as when a link drops."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    _shut(s)


# -- a whole stack ------------------------------------------------------------------------------------
def migrate(url: str) -> None:
    """The project's migrations into the database at `url` (not the one ETL_DATABASE_URL names)."""
    from sqlalchemy import create_engine

    from alembic import command
    from etl.migrations import alembic_config

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """Make this process's Celery app publish to another broker for the block (it reads its broker
    URL once, at import). Product code that publishes (start_job, ...) then reaches that broker."""
    from etl.broker.app import app

    saved = app.conf.broker_url
    _point_app_at(app, broker_url)
    try:
        yield
    finally:
        _point_app_at(app, saved)


def _point_app_at(app, url: str) -> None:
    # Both pools are built lazily from the URL and kept: forget them so the next publish builds
    # them for the new one. (app.close() would also forget the pool, but deregisters the app.)
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


class Stack:
    """A test's own pulse-etl: its database in a private PostgreSQL (migrated), its broker a private
    RabbitMQ node, real workers started with ETL_DATABASE_URL / ETL_BROKER_URL pointing there.

    With `proxied=True` the workers reach both through TCP proxies (`db_proxy`, `broker_proxy`)
    that the test can cut; otherwise directly (a killed service then refuses connections, as in
    production). The test process itself always reads directly, through `session()` / `sessions`
    (its own engine: etl.db's engine stays on the suite's database), and publishes with
    `start_job()`, so cutting a proxy never blinds the test.
    """

    def __init__(self, postgres: PrivatePostgres, rabbitmq: PrivateRabbitMQ, workers, proxied: bool = False):
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        self.postgres, self.rabbitmq, self.workers = postgres, rabbitmq, workers
        self.db_proxy = TcpProxy(postgres.port) if proxied else None
        self.broker_proxy = TcpProxy(rabbitmq.port) if proxied else None
        db_port = self.db_proxy.port if proxied else postgres.port
        broker_port = self.broker_proxy.port if proxied else rabbitmq.port
        self.worker_env = {
            **os.environ,
            "ETL_DATABASE_URL": f"postgresql+psycopg2://postgres@{LOOPBACK}:{db_port}/{postgres.database}",
            "ETL_BROKER_URL": f"amqp://guest:guest@{LOOPBACK}:{broker_port}//",
        }
        self.engine = create_engine(postgres.url, pool_pre_ping=True)
        self._sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)

    def sessions(self):
        """A session on the private database across tenants (row-level security applies here too:
        an unscoped session would see nothing); product code given this factory scopes it itself."""
        from etl.db import scope_to_all_tenants

        session = self._sessionmaker()
        scope_to_all_tenants(session, "a fault test sets up and inspects its private stack")
        return session

    def start_workers(self, queues=("extract", "transform", "load"), concurrency: int = 2) -> None:
        for queue in queues:
            self.workers.start(queue, concurrency=concurrency, env=self.worker_env)

    def session(self):
        """A session on the private database that commits when the block succeeds."""
        from etl.db import session_scope

        return session_scope(self.sessions)

    def make_tenant(self, name: str | None = None):
        from etl.tenancy.tenants import create_tenant

        with self.session() as s:
            tenant, key = create_tenant(s, name or f"tenant-{uuid.uuid4().hex[:8]}")
            return tenant.id, key.secret

    def add_jira(self, fake, tenant=None, settings: dict | None = None):
        """An integration reading `fake` (a served FakeJira); returns (tenant_id, integration_id)."""
        from etl.tenancy.integrations import create_integration

        tenant_id, _ = tenant or self.make_tenant()
        with self.session() as s:
            integ = create_integration(
                s, tenant_id, "jira", f"jira-{uuid.uuid4().hex[:6]}", fake.url,
                {"email": fake.email, "token": fake.token} if fake.flavor == "cloud" else {"token": fake.token},
                {"projects": list(fake.projects), "flavor": fake.flavor, **(settings or {})},
            )
            return tenant_id, integ.id

    def start_job(self, integration_id, tenant_id, kind: str = "incremental", trigger: str = "api"):
        from etl.jobs.lifecycle import start_job

        with publishing_to(self.rabbitmq.url):
            return start_job(self.sessions, integration_id, tenant_id, kind, trigger=trigger)

    def wait_for_job(self, job_id, timeout: float = 180):
        from tests.waiting import wait_for_job

        return wait_for_job(job_id, timeout, sessions=self.sessions)

    def close(self) -> None:
        self.workers.stop_all()
        for proxy in (self.db_proxy, self.broker_proxy):
            if proxy is not None:
                proxy.cut()
        self.engine.dispose()


# -- fixtures -----------------------------------------------------------------------------------------
@pytest.fixture
def private_postgres():
    """A PostgreSQL cluster of the test's own, running, with an empty database `pulse`."""
    pg = PrivatePostgres()
    try:
        pg.init()
        yield pg
    finally:
        pg.close()


@pytest.fixture
def private_rabbitmq():
    """A RabbitMQ node of the test's own, running."""
    rmq = PrivateRabbitMQ()
    try:
        rmq.start()
        yield rmq
    finally:
        rmq.close()


@pytest.fixture
def tcp_proxy():
    """tcp_proxy(target_port) -> a running TcpProxy; all are closed after the test."""
    proxies = []

    def make(target_port: int) -> TcpProxy:
        proxies.append(TcpProxy(target_port))
        return proxies[-1]

    yield make
    for p in proxies:
        p.cut()


@pytest.fixture
def private_stack(private_postgres, private_rabbitmq, make_workers):
    """private_stack(proxied=False, queues=("extract", "transform", "load")) -> a Stack with its
    database migrated and one worker per queue running (make_workers: tests/conftest.py)."""
    stacks = []

    def make(proxied: bool = False, queues=("extract", "transform", "load"), concurrency: int = 2) -> Stack:
        if stacks:
            raise RuntimeError("one private stack per test (it owns the private PostgreSQL and RabbitMQ)")
        migrate(private_postgres.url)
        stacks.append(Stack(private_postgres, private_rabbitmq, make_workers(), proxied=proxied))
        stacks[0].start_workers(queues, concurrency)
        return stacks[0]

    yield make
    for stack in stacks:
        stack.close()
