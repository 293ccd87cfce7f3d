"""The dlt peer: dlt's `rest_api` source reading the SAME fake Jira (the same JQL, fields, changelog
expansion and page size as pulse-etl's client asks for, paginated by `nextPageToken` as the fake
serves Jira Cloud's /search/jql) into the same PostgreSQL, `write_disposition="merge"` on the
issue id, so a re-run of unchanged data is a real re-sync rather than a second copy.
`max_table_nesting=0` loads one table (nested objects as JSON columns); `--nesting -1` leaves dlt's
default nesting (child tables). dlt does not complete changelogs truncated to the newest 40
histories (pulse-etl does, with /changelog/bulkfetch): it does less work.

Run in its own process, one run per invocation (the pipeline's state lives in --pipelines-dir, so
the second invocation is the re-run), so its CPU is its own: it prints one JSON line with the wall
time and CPU seconds of `pipeline.run` and the rows it loaded. The caller adds the PostgreSQL
cluster's CPU. Needs `pip install -e '.[bench]'`.

    python -m bench.peers.dlt_peer --url URL --email E --token T --dsn DSN --pipelines-dir DIR
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="the fake Jira's base URL")
    p.add_argument("--email", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--dsn", required=True, help="postgresql://... of the destination database")
    p.add_argument("--pipelines-dir", required=True)
    p.add_argument("--jql", required=True)
    p.add_argument("--fields", required=True)
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--nesting", type=int, default=0, help="max_table_nesting; -1: dlt's default")
    p.add_argument("--dataset", default="dlt_jira")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import dlt
    from dlt.sources.rest_api import rest_api_source

    config = {
        "client": {
            "base_url": args.url.rstrip("/") + "/rest/api/3/",
            "auth": {"type": "http_basic", "username": args.email, "password": args.token},
            "paginator": {"type": "cursor", "cursor_path": "nextPageToken", "cursor_param": "nextPageToken"},
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{
            "name": "jira_issues",
            "endpoint": {
                "path": "search/jql",
                "params": {"jql": args.jql, "fields": args.fields, "expand": "changelog",
                           "maxResults": args.page_size},
                "data_selector": "issues",
            },
        }],
    }
    nesting = None if args.nesting < 0 else args.nesting
    source = rest_api_source(config, name="jira", max_table_nesting=nesting)
    pipeline = dlt.pipeline(pipeline_name=f"bench_jira_n{args.nesting}", pipelines_dir=args.pipelines_dir,
                            destination=dlt.destinations.postgres(credentials=args.dsn), dataset_name=args.dataset)
    cpu0, t0 = time.process_time(), time.monotonic()
    pipeline.run(source)
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    counts = pipeline.last_trace.last_normalize_info.row_counts
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "row_counts": dict(counts)}))
    return 0


def run(*, url: str, email: str, token: str, dsn: str, pipelines_dir: str, jql: str, fields: str,
        nesting: int = 0, dataset: str = "dlt_jira") -> dict:
    """One dlt run in a child process; returns its JSON line (wall_s, cpu_s, row_counts)."""
    if "://postgres@" in dsn:  # dlt insists on a password; the private cluster trusts loopback
        dsn = dsn.replace("://postgres@", "://postgres:unused@", 1)
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", "DLT_DATA_DIR": pipelines_dir,
           "DLT_PROJECT_DIR": pipelines_dir}
    done = subprocess.run(
        [sys.executable, "-m", "bench.peers.dlt_peer", "--url", url, "--email", email, "--token", token,
         "--dsn", dsn, "--pipelines-dir", pipelines_dir, "--jql", jql, "--fields", fields,
         "--nesting", str(nesting), "--dataset", dataset],
        cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the dlt peer failed ({done.returncode}): {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
