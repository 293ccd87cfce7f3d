"""Benchmark: how fast the fake GitHub serves a large repository over real HTTP (a test fixture's
speed, not the pipeline's). Walks every pull request of one repository (100 per page, Link
headers) and fetches some of them one by one, then prints both timings.

    python bench/fake_github.py --prs 3000 --details 500

The suite's tests check what the fake answers; how fast it answers on a shared machine is a
figure to watch here, not a pass/fail assertion there.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl.fakes.github import FakeGitHub  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prs", type=int, default=3000, help="pull requests in the repository")
    p.add_argument("--details", type=int, default=500, help="pull requests fetched one by one")
    return p.parse_args()


def walk(session: requests.Session, url: str, **params) -> list:
    """Follow Link rel="next" to the end."""
    items = []
    while url:
        r = session.get(url, params=params)
        r.raise_for_status()
        items.extend(r.json())
        url, params = r.links.get("next", {}).get("url"), None
    return items


def main() -> int:
    args = parse_args()
    fake = FakeGitHub(repos={"big/repo": args.prs}, seed=5, rate_limit=100_000)
    srv = fake.serve()
    try:
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {fake.token}", "Accept": "application/vnd.github+json"})
        t0 = time.monotonic()
        items = walk(s, f"{srv.url}/repos/big/repo/pulls", state="all", sort="updated", direction="desc",
                     per_page=100)
        walk_s = time.monotonic() - t0
        t0 = time.monotonic()
        for it in items[: args.details]:
            s.get(it["url"]).raise_for_status()
        detail_s = time.monotonic() - t0
    finally:
        srv.stop()
    print(f"fake GitHub: listed {len(items)} pull requests in {walk_s:.2f}s ({len(items) / walk_s:,.0f}/s); "
          f"{min(args.details, len(items))} details in {detail_s:.2f}s "
          f"({min(args.details, len(items)) / detail_s:,.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
