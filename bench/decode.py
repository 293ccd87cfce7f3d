"""The transform stage's decode + transform per Jira issue: the full orjson parse it did before
(psycopg2 parsing the jsonb) against the subset decoder (etl.sources.jira.decode), in one process.

    python bench/decode.py [--issues 2000] [--reps 15]

The issues are the fake Jira's (seed 7, project BEN) as the stage reads them: stored the way the
raw layer stores them and printed by PostgreSQL's jsonb (`raw_data::text`; a SELECT, no table).
They go through in batches of 400 (4 pages of 100, the default), nothing kept across batches, so
the garbage collector sees what a worker's does. The two ways alternate, so drift hits both alike.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import uuid

import orjson
import psycopg2

from etl.fakes.jira import FakeJira
from etl.mappings.defaults import (
    DEFAULT_STATUS_MAPPINGS,
    DEFAULT_STATUSES,
    DEFAULT_WIT_MAPPINGS,
    DEFAULT_WITS,
    DEFAULT_WORKFLOW,
)
from etl.pipeline.raw import serialize
from etl.sources.base import MappedStatus, MappedWit, TenantMappings, TransformContext
from etl.sources.jira.decode import decode_issue
from etl.sources.jira.transform import transform_issues

DSN = os.environ.get("PULSE_BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 400


def jsonb_texts(issues: int) -> tuple[list[str], str]:
    fake = FakeJira(issues=issues, projects=("BEN",), seed=7)
    stored = [serialize(fake.issue(key)).decode() for key in fake.issue_keys()]
    with psycopg2.connect(DSN) as conn, conn.cursor() as cur:
        cur.execute("SELECT t::jsonb::text FROM unnest(%s::text[]) t", (stored,))
        return [row[0] for row in cur.fetchall()], fake.story_points_field


def context(story_points_field: str) -> TransformContext:
    mappings = TenantMappings(
        wits={src: MappedWit(wit, DEFAULT_WITS[wit]) for src, wit in DEFAULT_WIT_MAPPINGS.items()},
        statuses={src: MappedStatus(name, DEFAULT_STATUSES[name]) for src, name in DEFAULT_STATUS_MAPPINGS.items()},
        step_positions={name: i for i, (name, _, _) in enumerate(DEFAULT_WORKFLOW)},
        commitment_position=next(i for i, (_, commit, _) in enumerate(DEFAULT_WORKFLOW) if commit),
        done_position=next(i for i, (_, _, done) in enumerate(DEFAULT_WORKFLOW) if done))
    return TransformContext(uuid.uuid4(), uuid.uuid4(), "https://acme.atlassian.net",
                            {"story_points_field": story_points_field}, mappings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    texts, sp_field = jsonb_texts(args.issues)
    ctx = context(sp_field)
    batches = [texts[i:i + BATCH] for i in range(0, len(texts), BATCH)]

    def full(batch):
        return [(n, "", orjson.loads(t)) for n, t in enumerate(batch)]

    def subset(batch):
        return [(n, "", decode_issue(t, ctx.settings)) for n, t in enumerate(batch)]

    assert all(transform_issues(full(b), ctx) == transform_issues(subset(b), ctx) for b in batches)
    ways = {"decode, full parse": full, "decode, subset": subset,
            "decode+transform, full parse": lambda b: transform_issues(full(b), ctx),
            "decode+transform, subset": lambda b: transform_issues(subset(b), ctx)}
    took: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.reps):
        for name, way in ways.items():
            gc.collect()
            start = time.perf_counter()
            for batch in batches:
                way(batch)
            took[name].append((time.perf_counter() - start) / len(texts) * 1e6)
    print(f"{len(texts)} issues, {sum(map(len, texts)) / len(texts):.0f} characters each on average")
    for name, us in took.items():
        print(f"{name:30s} median {statistics.median(us):6.1f} us/issue  "
              f"min {min(us):6.1f}  max {max(us):6.1f}  ({args.reps} reps)")


if __name__ == "__main__":
    main()
