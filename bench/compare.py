"""Issue 12's measuring stick: pulse-etl and its peers, in ONE run, on the same fake Jira and the
same payloads, so every figure that matters is a ratio taken minutes apart on the same machine.

    python bench/compare.py --issues 20000 [--json out.json]

On a private PostgreSQL cluster it starts itself (initdb on a free port, stopped by pid at the end;
all its backends are the postmaster's children, so their CPU is read from /proc), a RabbitMQ vhost
of its own and the real worker processes (extract 2, transform 1, load 2 by default), with the fake
Jira of bench/pipeline.py (same generator, seed 7, project BEN), it measures:

1. pulse-etl end to end: a full sync, a full re-sync of unchanged data, an incremental sync of
   unchanged data. Each: issues/s, wall time, rows written to raw_extraction_data, work_items and
   work_item_transitions (pg_stat_user_tables deltas), requests the fake served (search requests
   per stream), CPU ms per issue of the workers (and children) plus the PostgreSQL cluster.
2. the raw-COPY limit: psycopg 3 COPY of the payloads pulse-etl stored into a JSONB column, one
   stream, pglz and lz4 (bench/peers/copy_limit.py).
3. the dlt peer: `rest_api` on the same server, max_table_nesting=0, first run and re-run of
   unchanged data (bench/peers/dlt_peer.py; needs `pip install -e '.[bench]'`).
4. trigger -> first work_items row, peak worker RSS, the largest task message.

Then a summary with the ratios issue 12 sets targets for. The fake server's CPU is never counted
(it runs in this process, as does the job-status polling; neither is a worker or a backend).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procs import RssSampler  # noqa: E402
from bench.services import PrivatePostgres, Vhost, Workers  # noqa: E402

MIB = 1024 * 1024


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--issues", type=int, default=20000)
    p.add_argument("--extract-concurrency", type=int, default=2)
    p.add_argument("--transform-concurrency", type=int, default=1)
    p.add_argument("--load-concurrency", type=int, default=2)
    p.add_argument("--json", metavar="PATH", help="also write every figure and the ratios to this file")
    p.add_argument("--no-dlt", action="store_true", help="skip the dlt peer")
    p.add_argument("--dlt-nested", action="store_true", help="also run dlt with its default nesting (child tables)")
    p.add_argument("--no-copy", action="store_true", help="skip the raw-COPY limit")
    p.add_argument("--autovacuum", choices=("off", "on"), default="off",
                   help="the private cluster's autovacuum: off as on this machine's server (default), or on")
    return p.parse_args(argv)


def ratio(a, b):
    return None if not a or not b else a / b


def fmt(v, spec=",.0f", none="n/a"):
    return none if v is None else format(v, spec)


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    pg = PrivatePostgres(autovacuum=args.autovacuum == "on")
    vhost = Vhost(f"pulse_bench_{run_id}")
    workers = None
    fake = None
    sampler = None
    vhost_made = False
    scratch: list[str] = []  # temporary directories removed at the end (the worker logs stay)
    report: dict = {"issues": args.issues, "autovacuum": args.autovacuum,
                    "load_average_at_start": os.getloadavg()[0],
                    "concurrency": {"extract": args.extract_concurrency, "transform": args.transform_concurrency,
                                    "load": args.load_concurrency}}
    try:
        t_setup = time.monotonic()
        pg.start()
        pg.create_database("pulse_bench")
        db_dsn = pg.dsn("pulse_bench")
        vhost.create()
        vhost_made = True
        stats_dir = tempfile.mkdtemp(prefix="pulse-bench-msg-")
        scratch.append(stats_dir)
        os.environ.update({
            "ETL_DATABASE_URL": db_dsn.replace("postgresql://", "postgresql+psycopg2://"),
            "ETL_BROKER_URL": vhost.url,
            "ETL_MESSAGE_STATS_DIR": stats_dir,
            "ETL_SOURCE_ALLOW": "127.0.0.1",  # the fake's address, refused by default
        })
        # Only now: etl reads its settings once, at import.
        from etl import migrations
        from etl.fakes.jira import FakeJira
        from etl.sources.jira.client import FIELDS, build_jql

        migrations.upgrade()
        print(f"private PostgreSQL on port {pg.port} (pid {pg.pid}, autovacuum {args.autovacuum}), "
              f"vhost {vhost.name}; "
              f"generating {args.issues:,} fake issues ...", flush=True)
        fake = FakeJira(issues=args.issues, projects=("BEN",), seed=7)
        fake.serve()
        logdir = Path(tempfile.mkdtemp(prefix="pulse-bench-logs-"))
        workers = Workers({"extract": args.extract_concurrency, "transform": args.transform_concurrency,
                           "load": args.load_concurrency}, run_id, logdir)
        workers.start()
        sampler = RssSampler(workers.pids)
        sampler.start()
        print(f"setup {time.monotonic() - t_setup:.1f} s; worker logs in {logdir}", flush=True)

        from bench.pulse_run import PulseBench

        bench = PulseBench(fake, db_dsn, list(workers.pids.values()), pg.pid)
        runs = [bench.run("first sync", "full", args.issues, first_row_latency=True),
                bench.run("re-sync unchanged", "full", args.issues),
                bench.run("incremental unch.", "incremental", args.issues)]
        sampler.stop_flag.set()
        report["pulse"] = [r.as_dict() for r in runs]
        report["peak_worker_rss_mb"] = {q: kib / 1024 for q, kib in sampler.peak.items()}
        report["largest_task_message_bytes"] = max(
            (int(p.read_text()) for p in Path(stats_dir).glob("*.max")), default=0)
        report["first_row_latency_s"] = runs[0].first_row_latency_s
        print_pulse(runs)

        if not args.no_copy:
            from bench.peers.copy_limit import copy_run, fetch_payloads

            lines = fetch_payloads(db_dsn)
            avg = sum(map(len, lines)) / max(1, len(lines))
            print(f"raw-COPY limit: {len(lines):,} payloads, {avg / 1024:.1f} KB on average", flush=True)
            report["copy"] = {}
            for comp in ("pglz", "lz4"):
                r = copy_run(db_dsn, lines, comp, pg.pid)
                report["copy"][comp] = r
                print(f"  COPY {comp:4}: {r['issues_per_s']:8,.0f} issues/s ({r['wall_s']:.1f} s), "
                      f"{r['cpu_ms_per_issue']:.2f} CPU ms/issue (PostgreSQL + client), "
                      f"stored {r['compression_seen']}, table {r['table_bytes'] / MIB:,.0f} MB", flush=True)
            del lines

        if not args.no_dlt:
            report["dlt"] = run_dlt(args, fake, pg, db_dsn, scratch, build_jql({"projects": ["BEN"]}, None),
                                    ",".join([*FIELDS, fake.story_points_field]))

        report["load_average_at_end"] = os.getloadavg()[0]
        report["summary"] = summary(report)
        print_summary(report)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, default=str))
            print(f"written to {args.json}")
        return 0 if all(r.status == "succeeded" for r in runs) else 1
    finally:
        if sampler:
            sampler.stop_flag.set()
        if workers:
            workers.stop()
        if fake:
            fake.stop()
        if "etl.db" in sys.modules:
            sys.modules["etl.db"].get_engine().dispose()
        pg.close()
        if vhost_made:
            vhost.delete()
        for path in scratch:
            shutil.rmtree(path, ignore_errors=True)


def run_dlt(args, fake, pg, db_dsn, scratch, jql, fields) -> dict:
    from bench.peers import dlt_peer
    from bench.procs import tree_cpu_seconds

    out = {}
    variants = [(0, "dlt_jira")] + ([(-1, "dlt_jira_nested")] if args.dlt_nested else [])
    for nesting, dataset in variants:
        pipelines_dir = tempfile.mkdtemp(prefix="pulse-bench-dlt-")
        scratch.append(pipelines_dir)
        label = "nesting 0" if nesting == 0 else "default nesting"
        for run_name in ("first run", "re-run unchanged"):
            fake.reset_requests()
            pg0 = tree_cpu_seconds([pg.pid])
            r = dlt_peer.run(url=fake.url, email=fake.email, token=fake.token, dsn=db_dsn,
                             pipelines_dir=pipelines_dir, jql=jql, fields=fields, nesting=nesting, dataset=dataset)
            r["cpu_postgres_s"] = tree_cpu_seconds([pg.pid]) - pg0  # includes the child's start and schema checks
            r["requests"] = len(fake.requests)
            r["issues_per_s"] = args.issues / r["wall_s"]
            r["cpu_ms_per_issue"] = 1000 * (r["cpu_s"] + r["cpu_postgres_s"]) / args.issues
            out[f"{label}, {run_name}"] = r
            tables = len([t for t in r["row_counts"] if not t.startswith("_dlt")])
            print(f"  dlt {label}, {run_name:16}: {r['issues_per_s']:7,.0f} issues/s ({r['wall_s']:.1f} s), "
                  f"{r['cpu_ms_per_issue']:.2f} CPU ms/issue (dlt + PostgreSQL), {tables} table(s), "
                  f"{r['requests']} requests", flush=True)
    return out


def print_pulse(runs) -> None:
    print("\npulse-etl (workers + private PostgreSQL):")
    print(f"  {'run':18} {'status':9} {'issues/s':>9} {'wall s':>7} {'CPU ms/issue':>12} {'(workers':>9} "
          f"{'postgres)':>9}  rows written raw / work_items / transitions; requests")
    for r in runs:
        w = r.rows_written
        print(f"  {r.name:18} {r.status:9} {r.issues_per_s:9,.0f} {r.wall_s:7.1f} {r.cpu_ms_per_issue:12.2f} "
              f"{1000 * r.cpu_workers_s / r.issues:9.2f} {1000 * r.cpu_postgres_s / r.issues:9.2f}  "
              f"{w['raw_extraction_data']:,} / {w['work_items']:,} / {w['work_item_transitions']:,}; "
              f"{sum(r.requests.values())} ({r.search_requests} search, {r.streams} stream(s))")
        if r.reconcile_wait_s is not None:
            print(f"  {'':18} then the reconcile a full sync triggers: {r.reconcile_wait_s:.1f} s, "
                  f"{r.reconcile_cpu_s:.1f} CPU s (not in the figures above)")


def summary(report: dict) -> dict:
    first, resync, incr = report["pulse"]
    copy = report.get("copy", {})
    dlt = report.get("dlt", {})
    dlt_first = dlt.get("nesting 0, first run", {}).get("issues_per_s")
    dlt_rerun = dlt.get("nesting 0, re-run unchanged", {}).get("issues_per_s")
    lz4 = copy.get("lz4", {}).get("issues_per_s")
    return {
        "pulse_issues_per_s": first["issues_per_s"],
        "pulse_resync_issues_per_s": resync["issues_per_s"],
        "dlt_nesting0_issues_per_s": dlt_first,
        "dlt_nesting0_rerun_issues_per_s": dlt_rerun,
        "copy_pglz_issues_per_s": copy.get("pglz", {}).get("issues_per_s"),
        "copy_lz4_issues_per_s": lz4,
        "pulse_over_dlt_nesting0": ratio(first["issues_per_s"], dlt_first),
        "pulse_resync_over_dlt_rerun": ratio(resync["issues_per_s"], dlt_rerun),
        "pulse_over_copy_lz4": ratio(first["issues_per_s"], lz4),
        "resync_speedup": ratio(resync["issues_per_s"], first["issues_per_s"]),
        "cpu_ms_per_issue_first_sync": first["cpu_ms_per_issue"],
        "cpu_ms_per_issue_resync": resync["cpu_ms_per_issue"],
        "cpu_ms_per_issue_dlt_nesting0": dlt.get("nesting 0, first run", {}).get("cpu_ms_per_issue"),
        "cpu_ms_per_issue_copy_lz4": copy.get("lz4", {}).get("cpu_ms_per_issue"),
        "resync_rows_written": sum(resync["rows_written"].values()),
        "incremental_rows_written": sum(incr["rows_written"].values()),
        "incremental_search_requests_per_stream": ratio(incr["search_requests"], incr["streams"]),
        "first_row_latency_s": report["first_row_latency_s"],
        "peak_worker_rss_mb": max(report["peak_worker_rss_mb"].values(), default=0),
        "largest_task_message_bytes": report["largest_task_message_bytes"],
    }


def print_summary(report: dict) -> None:
    s = report["summary"]
    rows = [
        ("pulse / dlt rest_api (nesting 0), first sync", fmt(s["pulse_over_dlt_nesting0"], ".2f") + "x", ">= 3x"),
        ("pulse / dlt, re-sync of unchanged data", fmt(s["pulse_resync_over_dlt_rerun"], ".2f") + "x", ""),
        ("pulse / raw lz4 COPY limit", fmt(s["pulse_over_copy_lz4"], ".0%", "n/a"), ">= 60%"),
        ("re-sync speed-up vs first sync", fmt(s["resync_speedup"], ".2f") + "x", ">= 3x"),
        ("CPU ms per issue, first sync (workers + PostgreSQL)", fmt(s["cpu_ms_per_issue_first_sync"], ".2f"),
         "1/3 of today's"),
        ("CPU ms per issue, re-sync", fmt(s["cpu_ms_per_issue_resync"], ".2f"), ""),
        ("CPU ms per issue, dlt nesting 0 / raw lz4 COPY",
         f"{fmt(s['cpu_ms_per_issue_dlt_nesting0'], '.2f')} / {fmt(s['cpu_ms_per_issue_copy_lz4'], '.2f')}", ""),
        ("rows written by the re-sync (3 tables)", fmt(s["resync_rows_written"], ","), "0"),
        ("rows written by the incremental sync", fmt(s["incremental_rows_written"], ","), "0"),
        ("incremental: search requests per stream", fmt(s["incremental_search_requests_per_stream"], ".0f"), "1"),
        ("trigger -> first work_items row", fmt(s["first_row_latency_s"], ".2f") + " s", "< 2 s"),
        ("peak worker RSS (largest process)", fmt(s["peak_worker_rss_mb"], ".0f") + " MB", "< 250 MB"),
        ("largest task message", fmt(s["largest_task_message_bytes"], ",") + " bytes", "< 1 MiB"),
    ]
    print(f"\nsummary, {report['issues']:,} issues (issues/s: pulse {fmt(s['pulse_issues_per_s'])}, "
          f"re-sync {fmt(s['pulse_resync_issues_per_s'])}, dlt nesting 0 {fmt(s['dlt_nesting0_issues_per_s'])}"
          f" / re-run {fmt(s['dlt_nesting0_rerun_issues_per_s'])}, COPY pglz {fmt(s['copy_pglz_issues_per_s'])}"
          f" / lz4 {fmt(s['copy_lz4_issues_per_s'])})")
    print(f"  (1-minute load average {report['load_average_at_start']:.1f} at the start, "
          f"{report['load_average_at_end']:.1f} at the end, on {os.cpu_count()} cores: other work on the machine "
          "moves the wall-time ratios; CPU ms per issue moves less)")
    width = max(len(r[0]) for r in rows)
    print(f"  {'what':{width}}  {'measured':>14}  issue 12 target")
    for what, value, target in rows:
        print(f"  {what:{width}}  {value:>14}  {target}")


if __name__ == "__main__":
    raise SystemExit(main())
