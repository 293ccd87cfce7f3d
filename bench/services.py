"""What a benchmark run stands on, all of it its own and removed at the end: a private PostgreSQL
cluster (initdb on a free port; every backend that serves the run is a child of its postmaster, so
their CPU can be read from /proc), a RabbitMQ vhost on the machine's broker, and the real Celery
worker processes of the three stages. The machine-wide PostgreSQL, RabbitMQ and Redis are never
stopped or restarted."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """initdb + postgres as our child process (run as the `postgres` OS user under root, which
    PostgreSQL refuses to run as). Settings mirror the machine's server where they matter for
    speed: fsync and synchronous_commit on, 128 MB shared_buffers, autovacuum off (`autovacuum=True`
    turns it on, as PostgreSQL's default and a deployment have it). Stopped by pid."""

    user = "postgres"

    def __init__(self, bindir: Path = PG_BIN, autovacuum: bool = False):
        self.autovacuum = autovacuum
        if not (bindir / "initdb").exists():
            found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
            if not found:
                raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
            bindir = found[-1].parent
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pulse-bench-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._owner = self.user if os.geteuid() == 0 else None
        if self._owner:
            shutil.chown(self.root, self._owner)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 60) -> None:
        done = subprocess.run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                               "-E", "UTF8", "--no-sync"], capture_output=True, text=True, user=self._owner)
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", f"listen_addresses={LOOPBACK}", "-c", "fsync=on", "-c", "synchronous_commit=on",
             "-c", "shared_buffers=128MB", "-c", f"autovacuum={'on' if self.autovacuum else 'off'}",
             "-c", "max_connections=200", *self._preload()],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=self._owner)
        log.close()
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"private PostgreSQL exited: {self.log.read_text()[-2000:]}")
            try:
                psycopg2.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @staticmethod
    def _preload() -> list[str]:
        """PULSE_BENCH_PG_PRELOAD=pg_stat_statements: the private cluster loads it, to see which
        statements a run spends its database time on (CREATE EXTENSION pg_stat_statements, then query
        the view while the bench runs)."""
        preload = os.environ.get("PULSE_BENCH_PG_PRELOAD")
        return ["-c", f"shared_preload_libraries={preload}"] if preload else []

    def create_database(self, name: str) -> None:
        import psycopg2

        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{name}"')
        conn.close()

    def close(self) -> None:
        """A fast shutdown by the postmaster's pid (SIGINT), SIGKILL if it lingers; then the data goes."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def rabbitmqctl(*args: str) -> None:
    done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}")


class Vhost:
    """A RabbitMQ vhost of our own on the machine's broker, deleted at the end."""

    def __init__(self, name: str, base: str = "amqp://guest:guest@127.0.0.1:5672"):
        self.name = name
        self.url = f"{base}/{name}"

    def create(self) -> None:
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    def delete(self) -> None:
        rabbitmqctl("delete_vhost", self.name)


class Workers:
    """One `celery worker` per stage queue, as operators run them; each consumes both lanes of its
    stage. Environment: the caller's (ETL_DATABASE_URL, ETL_BROKER_URL ... already set)."""

    def __init__(self, concurrency: dict[str, int], tag: str, logdir: Path):
        self.concurrency = concurrency
        self.tag = tag
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, wait: float = 4.0) -> None:
        for queue, conc in self.concurrency.items():
            log = open(self.logdir / f"{queue}.log", "wb")
            self.procs[queue] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "etl", "worker", "-Q", queue, "-c", str(conc), "-n",
                 f"bench-{queue}-{self.tag}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
            log.close()
        time.sleep(wait)
        for queue, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"the {queue} worker exited: see {self.logdir / (queue + '.log')}")

    @property
    def pids(self) -> dict[str, int]:
        return {q: p.pid for q, p in self.procs.items()}

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
