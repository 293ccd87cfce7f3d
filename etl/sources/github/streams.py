"""GitHub's entity types and its stream, declared: one `pulls:<owner>/<repo>` stream per
repository. Its pages come from GraphQL (graphql.py: pull requests newest update first, each with
its reviews and commits, `updatedAt` compared with the watermark); `path`, `params` and `paginator`
are the REST listing of every PR number that finds deletions (etl.ops.reconcile)."""
from __future__ import annotations

import re

from etl.models import PullRequest
from etl.sources.base import StreamSpec
from etl.sources.pagination import LinkPaginator

PULL = "github_pull_request"
REVIEW = "github_pr_review"
COMMIT = "github_pr_commit"

PULLS = StreamSpec(name="pulls", entity_type=PULL, path="/repos/{repo}/pulls", paginator=LinkPaginator(),
                   replication_key="updatedAt", params={"state": "all", "per_page": 100},
                   reconcile_table=PullRequest.__table__)
STREAMS = (PULLS,)
STREAM_PREFIX = PULLS.name + ":"

# Whether a PR missing from the listing is really gone (404), over REST.
PULL_DETAIL = "/repos/{repo}/pulls/{number}"


def stream_name(repo: str) -> str:
    return STREAM_PREFIX + repo


def repo_of(stream: str) -> str:
    return stream.removeprefix(STREAM_PREFIX)


def pull_id(repo: str, number: int) -> str:
    """A pull request's external id: owner/name#number."""
    return f"{repo}#{number}"


PULL_URL = re.compile(r"/repos/([^/]+/[^/]+)/pulls/(\d+)")


def pull_id_from_url(url: str) -> str:
    m = PULL_URL.search(url or "")
    if not m:
        raise ValueError(f"{url!r} is not a pull request URL")
    return pull_id(m.group(1), int(m.group(2)))
