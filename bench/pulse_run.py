"""pulse-etl itself, measured: one sync job (full or incremental) of a Jira integration through the
real queues and worker processes, with what it cost. The caller has set ETL_* before importing
this module (settings are read once per process), started the workers and the fake Jira.

For a job it records: wall time trigger -> final status, rows written per final/raw table (deltas
of pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del; never pg_stat_reset), the requests the
fake served by path, and the CPU seconds of the worker processes (and their children) and of the
PostgreSQL cluster's processes (the postmaster and its children: every backend that served the
run, short-lived ones included once reaped), from /proc."""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field

import psycopg2
from sqlalchemy import text

from bench.procs import tree_cpu_seconds
from etl.cli.output import operator_session
from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import EtlJob, Integration
from etl.tenancy.integrations import create_integration
from etl.tenancy.tenants import create_tenant

TABLES = ("raw_extraction_data", "work_items", "work_item_transitions")
SEARCH_PATH = "/search/jql"
# An idle backend flushes its table statistics at the latest 10 s after its last transaction
# (PostgreSQL 15, PGSTAT_IDLE_INTERVAL): readings taken sooner can miss the end of a run.
STATS_FLUSH_SECONDS = 11.0


def table_writes(dsn: str, tables=TABLES) -> dict[str, int]:
    """n_tup_ins + n_tup_upd + n_tup_del per table, read on a fresh connection (no cached snapshot)."""
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                    "WHERE relname = ANY(%s)", (list(tables),))
        got = dict(cur.fetchall())
    finally:
        conn.close()
    return {t: int(got.get(t, 0)) for t in tables}


def settled_writes(dsn: str, since: float) -> dict[str, int]:
    """Table writes once every backend has flushed its statistics: at least STATS_FLUSH_SECONDS
    after `since` (monotonic) and two readings a second apart agreeing."""
    time.sleep(max(0.0, since + STATS_FLUSH_SECONDS - time.monotonic()))
    last = table_writes(dsn)
    while True:
        time.sleep(1.0)
        now = table_writes(dsn)
        if now == last:
            return now
        last = now


@dataclass
class RunResult:
    name: str
    kind: str
    issues: int
    status: str = ""
    wall_s: float = 0.0
    issues_per_s: float = 0.0
    extracted: int = 0
    unchanged: int = 0
    loaded: int = 0
    failed: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    search_requests: int = 0
    streams: int = 0
    cpu_workers_s: float = 0.0
    cpu_postgres_s: float = 0.0
    cpu_ms_per_issue: float = 0.0
    first_row_latency_s: float | None = None
    reconcile_wait_s: float | None = None
    reconcile_cpu_s: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class PulseBench:
    """A tenant and a Jira integration on the fake; jobs run one at a time."""

    def __init__(self, fake, db_dsn: str, worker_pids: list[int], postmaster_pid: int, project: str = "BEN"):
        self.fake = fake
        self.db_dsn = db_dsn
        self.worker_pids = worker_pids
        self.postmaster_pid = postmaster_pid
        with operator_session() as s:
            tenant, _ = create_tenant(s, f"bench-{uuid.uuid4().hex[:6]}")
            integ = create_integration(s, tenant.id, "jira", "bench", fake.url,
                                       {"email": fake.email, "token": fake.token}, {"projects": [project]})
            self.tenant_id, self.integration_id = tenant.id, integ.id
        self.quiet_since = time.monotonic()

    def _cpu(self) -> tuple[float, float]:
        return tree_cpu_seconds(self.worker_pids), tree_cpu_seconds([self.postmaster_pid])

    def _reconciled_at(self):
        with operator_session() as s:
            return s.get(Integration, self.integration_id).last_reconciled_at

    def run(self, name: str, kind: str, issues: int, progress: bool = True,
            first_row_latency: bool = False) -> RunResult:
        """One job, measured. first_row_latency: also time trigger -> the integration's first
        work_items row (meaningful on its first sync only)."""
        res = RunResult(name=name, kind=kind, issues=issues)
        before = settled_writes(self.db_dsn, self.quiet_since)
        reconciled_before = self._reconciled_at()
        self.fake.reset_requests()
        cpu0 = self._cpu()
        t0 = time.monotonic()
        job_id = start_job(get_sessionmaker(), self.integration_id, self.tenant_id, kind, trigger="cli")
        while True:
            with operator_session() as s:
                job = s.get(EtlJob, job_id)
                status, loaded = job.status, job.loaded
            if progress:
                print(f"\r  {name:18} {status:10} loaded {loaded:>7}/{issues}  {time.monotonic() - t0:6.1f}s",
                      end="", flush=True)
            if status not in ("queued", "running"):
                break
            time.sleep(0.25)
        res.wall_s = time.monotonic() - t0
        cpu1 = self._cpu()
        if progress:
            print()
        end = time.monotonic()
        with operator_session() as s:
            job = s.get(EtlJob, job_id)
            res.status = job.status
            res.extracted, res.unchanged, res.loaded, res.failed = job.extracted, job.unchanged, job.loaded, job.failed
            res.streams = s.scalar(text("SELECT count(DISTINCT stream) FROM etl_batches WHERE job_id = :j"),
                                   {"j": job_id}) or 0
            if first_row_latency:
                res.first_row_latency_s = s.scalar(text(
                    "SELECT extract(epoch FROM (SELECT min(loaded_at) FROM work_items WHERE integration_id = :i)"
                    " - (SELECT created_at FROM etl_jobs WHERE id = :j))"), {"i": self.integration_id, "j": job_id})
                if res.first_row_latency_s is not None:
                    res.first_row_latency_s = float(res.first_row_latency_s)
        counts = Counter(path for _, path, _ in list(self.fake.requests))
        res.requests = dict(sorted(counts.items()))
        res.search_requests = sum(n for path, n in counts.items() if path.endswith(SEARCH_PATH))
        if kind == "full" and res.status == "succeeded":
            # A full sync ends by reconciling deletions (an id listing, after the job's end): wait
            # for it so it does not run into the next measurement, and say what it cost.
            deadline = time.monotonic() + 180
            while self._reconciled_at() == reconciled_before and time.monotonic() < deadline:
                time.sleep(0.25)
            end = time.monotonic()
            res.reconcile_wait_s = end - (t0 + res.wall_s)
            cpu2 = self._cpu()
            res.reconcile_cpu_s = (cpu2[0] - cpu1[0]) + (cpu2[1] - cpu1[1])
        res.cpu_workers_s = cpu1[0] - cpu0[0]
        res.cpu_postgres_s = cpu1[1] - cpu0[1]
        res.cpu_ms_per_issue = 1000 * (res.cpu_workers_s + res.cpu_postgres_s) / issues
        res.issues_per_s = issues / res.wall_s
        after = settled_writes(self.db_dsn, end)
        self.quiet_since = time.monotonic() - STATS_FLUSH_SECONDS  # `after` is settled
        res.rows_written = {t: after[t] - before[t] for t in after}
        return res
