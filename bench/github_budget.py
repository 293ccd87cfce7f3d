"""Benchmark: GitHub budget points the GitHub source spends (issue 12 item 4), against the fake
GitHub over real HTTP: a full sync of a generated repository, an incremental sync of the same data
unchanged, and one after a few pull requests changed. The points are what the fake's GraphQL
budget lost (GitHub's cost formula, etl/fakes/github_graphql.py), measured at the connector: the
pipeline around it spends nothing on GitHub.

    python bench/github_budget.py --prs 2000

For comparison it prints what the REST client before it spent on the same data, computed from its
request pattern (a list page of 25 PRs, then per changed PR its detail, its reviews and its commits
in pages of 100, each page until a short one; an unchanged incremental sync was one conditional
request answered 304, which costs nothing): that client is gone, its requests are easy to count.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ETL_SOURCE_ALLOW", "127.0.0.1")  # the fake listens on loopback

from etl.config import get_settings  # noqa: E402
from etl.fakes.github import FakeGitHub  # noqa: E402
from etl.sources.github.client import GitHubClient  # noqa: E402
from etl.sources.github.streams import PULL  # noqa: E402

REPO = "acme/big"
REST_LIST_PAGE = 25  # the REST client's ETL_GITHUB_PAGE_SIZE


class State:
    """The versions the pipeline has stored (empty on a full sync)."""

    def __init__(self, stored: dict[str, str] | None = None):
        self.stored = stored or {}

    def stored_versions(self, entity_type: str, external_ids: list[str], field: str = "updated_at") -> dict:
        return {i: self.stored[i] for i in external_ids if i in self.stored}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prs", type=int, default=2000, help="pull requests in the repository")
    p.add_argument("--page-size", type=int, default=get_settings().github_page_size, help="PRs per GraphQL query")
    p.add_argument("--changed", type=int, default=10, help="PRs changed before the last incremental sync")
    return p.parse_args()


def sync(fake: FakeGitHub, page_size: int, since=None, state: State | None = None):
    """(points, queries, seconds, records) of one sync of the repository."""
    client = GitHubClient(fake.url, fake.token, {"repos": [REPO]}, page_size=page_size, timeout=60, min_remaining=0)
    before, started = fake.graphql_budget(fake.token)[0], time.monotonic()
    cursor, queries, records = {"repo": REPO, "since": since.isoformat() if since else None}, 0, []
    try:
        while cursor:
            page = client.pulls_page(REPO, cursor, state or State())
            queries += page.requests_made
            records += page.records
            cursor = page.next_cursor
    finally:
        client.close()
    return before - fake.graphql_budget(fake.token)[0], queries, time.monotonic() - started, records


def rest_points(fake: FakeGitHub, numbers: list[int]) -> int:
    """Requests the REST client made for these PRs changed: list pages, then detail, reviews, commits."""
    listed = math.ceil(len(fake.pr_numbers(REPO)) / REST_LIST_PAGE) if len(numbers) > REST_LIST_PAGE else 1
    per_pr = 0
    for number in numbers:
        exp = fake.expected(REPO, number)
        per_pr += 1 + (len(exp["reviews"]) // 100 + 1) + (min(250, exp["commits"]) // 100 + 1)
    return listed + per_pr


def main() -> int:
    args = parse_args()
    fake = FakeGitHub(repos={REPO: args.prs}, seed=1, graphql_limit=10_000_000, rate_limit=10_000_000)
    fake.serve()
    try:
        prs = len(fake.pr_numbers(REPO))
        points, queries, seconds, records = sync(fake, args.page_size)
        pulls = [r for r in records if r.entity_type == PULL]
        assert len(pulls) == prs, f"the full sync saw {len(pulls)} of {prs} PRs"
        stored = {r.external_id: r.payload["updatedAt"] for r in pulls}
        watermark = max(r.updated_at for r in pulls) - timedelta(seconds=get_settings().sync_overlap_seconds)
        same_points, same_queries, _, same_records = sync(fake, args.page_size, watermark, State(stored))
        changed = fake.pr_numbers(REPO)[:: max(1, prs // args.changed)][: args.changed]
        for number in changed:
            fake.touch(REPO, number)
        changed_points, changed_queries, _, changed_records = sync(fake, args.page_size, watermark, State(stored))
        rest_full = rest_points(fake, fake.pr_numbers(REPO))
        rest_changed = rest_points(fake, changed)
    finally:
        fake.stop()

    print(f"GitHub budget, one repository of {prs} PRs, {args.page_size} PRs per GraphQL query "
          f"(ETL_GITHUB_PAGE_SIZE), {len(records)} raw objects")
    print(f"  full sync:                  {points} points in {queries} queries, {seconds:.1f}s: "
          f"{points / prs:.4f} points per PR (target <= 0.05)")
    print(f"  incremental, unchanged:     {same_points} point(s) in {same_queries} queries, "
          f"{len(same_records)} records (target: a handful per repository)")
    print(f"  incremental, {len(changed)} PRs changed: {changed_points} point(s) in {changed_queries} queries, "
          f"{sum(r.entity_type == PULL for r in changed_records)} PRs re-stored")
    print(f"  REST client before (computed): full {rest_full} points = {rest_full / prs:.2f} per PR; "
          f"unchanged incremental 0 (a 304); {len(changed)} PRs changed {rest_changed}")
    print(f"  ratio REST / GraphQL on the full sync: {rest_full / max(points, 1):.0f}x fewer points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
