"""Benchmark: N fake Jira issues (~6 KB each, with changelogs) through the real queues and worker
processes into PostgreSQL. Prints issues/s end to end and per stage, peak worker RSS and the largest
task message. Uses ETL_DATABASE_URL / ETL_BROKER_URL (defaults: local PostgreSQL and RabbitMQ), in a
fresh database it creates and drops.

    python bench/pipeline.py --issues 20000
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procs import RssSampler  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--issues", type=int, default=20000)
    p.add_argument("--prs", type=int, default=2000, help="GitHub pull requests, over 4 repositories (0: skip)")
    p.add_argument("--extract-concurrency", type=int, default=2)
    p.add_argument("--transform-concurrency", type=int, default=1)
    p.add_argument("--load-concurrency", type=int, default=2)
    p.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--keep-db", action="store_true")
    return p.parse_args()


def bench_github(prs: int, tenant_id) -> None:
    from sqlalchemy import text

    from etl.cli.output import operator_session
    from etl.db import get_sessionmaker
    from etl.fakes.github import FakeGitHub
    from etl.jobs.lifecycle import start_job
    from etl.models import EtlJob
    from etl.tenancy.integrations import create_integration

    repos = {f"bench/repo{i}": prs // 4 for i in range(4)}
    fake = FakeGitHub(repos=repos, seed=7, rate_limit=1_000_000)
    fake.serve()
    try:
        with operator_session() as s:
            integ = create_integration(s, tenant_id, "github", "bench-gh", fake.url, {"token": fake.token},
                                       {"repos": list(repos)})
            integration_id = integ.id
        t0 = time.monotonic()
        job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="cli")
        while True:
            with operator_session() as s:
                job = s.get(EtlJob, job_id)
                if job.status not in ("queued", "running"):
                    break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        with operator_session() as s:
            n_prs, n_reviews, n_commits = s.execute(text(
                "SELECT (SELECT count(*) FROM pull_requests), (SELECT count(*) FROM pr_reviews), "
                "(SELECT count(*) FROM pr_commits)")).one()
        print(f"github job {job.status}: {n_prs} PRs, {n_reviews} reviews, {n_commits} commits, "
              f"{job.requests_made} requests in {elapsed:.1f} s -> {n_prs / elapsed:,.0f} PRs/s "
              f"({job.extracted / elapsed:,.0f} raw objects/s)")
    finally:
        fake.stop()


def main() -> int:
    args = parse_args()
    import psycopg2

    db_name = f"pulse_bench_{uuid.uuid4().hex[:8]}"
    base = args.admin_dsn.rsplit("/", 1)[0]
    os.environ["ETL_DATABASE_URL"] = base.replace("postgresql://", "postgresql+psycopg2://") + "/" + db_name
    stats_dir = tempfile.mkdtemp(prefix="pulse-msg-")
    os.environ["ETL_MESSAGE_STATS_DIR"] = stats_dir
    os.environ["ETL_SOURCE_ALLOW"] = "127.0.0.1"  # the fakes' address, refused by default
    admin = psycopg2.connect(args.admin_dsn)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{db_name}"')

    from sqlalchemy import text

    from etl import migrations
    from etl.cli.output import operator_session
    from etl.db import get_sessionmaker
    from etl.fakes.jira import FakeJira
    from etl.jobs.lifecycle import start_job
    from etl.models import EtlJob
    from etl.tenancy.integrations import create_integration
    from etl.tenancy.tenants import create_tenant

    migrations.upgrade()
    print(f"generating {args.issues} fake issues ...", flush=True)
    fake = FakeJira(issues=args.issues, projects=("BEN",), seed=7)
    server = fake.serve()
    sizes = [len(__import__("orjson").dumps(fake.issue(k))) for k in fake.issue_keys()[:500]]
    print(f"average issue with full changelog: {sum(sizes) / len(sizes) / 1024:.1f} KB")

    procs: dict[str, subprocess.Popen] = {}
    logdir = Path(tempfile.mkdtemp(prefix="pulse-bench-logs-"))
    for queue, conc in (("extract", args.extract_concurrency), ("transform", args.transform_concurrency),
                        ("load", args.load_concurrency)):
        log = open(logdir / f"{queue}.log", "wb")
        procs[queue] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "etl", "worker", "-Q", queue, "-c", str(conc), "-n",
             f"bench-{queue}-{db_name}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
    time.sleep(4)
    sampler = RssSampler({q: p.pid for q, p in procs.items()})
    sampler.start()
    try:
        with operator_session() as s:
            tenant, _ = create_tenant(s, "bench")
            integ = create_integration(s, tenant.id, "jira", "bench", fake.url,
                                       {"email": fake.email, "token": fake.token}, {"projects": ["BEN"]})
            tenant_id, integration_id = tenant.id, integ.id
        t0 = time.monotonic()
        job_id = start_job(get_sessionmaker(), integration_id, tenant_id, "full", trigger="cli")
        while True:
            with operator_session() as s:
                job = s.get(EtlJob, job_id)
                status, loaded = job.status, job.loaded
            print(f"\r{status:10} loaded {loaded:>7}/{args.issues}  {time.monotonic() - t0:6.1f}s", end="", flush=True)
            if status not in ("queued", "running"):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        print()
        with operator_session() as s:
            job = s.get(EtlJob, job_id)
            spans = s.execute(text("""
                SELECT stage, count(*), extract(epoch FROM max(finished_at) - min(started_at)),
                       extract(epoch FROM sum(finished_at - started_at))
                FROM etl_task_runs WHERE job_id = :j AND finished_at IS NOT NULL GROUP BY stage"""), {"j": job_id}).all()
            n_items = s.scalar(text("SELECT count(*) FROM work_items"))
        sampler.stop_flag.set()
        print(f"job {job.status}: extracted {job.extracted}, loaded {job.loaded}, failed {job.failed}, "
              f"pages {job.pages}, work_items rows {n_items}")
        print(f"end to end: {args.issues / elapsed:,.0f} issues/s ({elapsed:.1f} s for {args.issues})")
        for stage, tasks, span, busy in sorted(spans):
            print(f"  {stage:9} {tasks:4} tasks, span {float(span):6.1f} s -> {args.issues / float(span):7,.0f} issues/s"
                  f"; busy {float(busy):6.1f} s of task time")
        for name, peak in sampler.peak.items():
            print(f"  peak RSS {name:9} {peak / 1024:6.1f} MB (largest single process, main or child)")
        if args.prs:
            bench_github(args.prs, tenant_id)
        largest = max((int(p.read_text()) for p in Path(stats_dir).glob("*.max")), default=0)
        print(f"largest task message: {largest} bytes")
        return 0 if job.status == "succeeded" else 1
    finally:
        sampler.stop_flag.set()
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        server.stop()
        from etl.db import get_engine

        get_engine().dispose()
        if not args.keep_db:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
