"""The GitHub client's GraphQL pages against the fake GitHub over HTTP, without database or broker:
cursors, nested lists continued past their first page, the incremental stop at the watermark, the
budget and the errors GitHub answers with. The pipeline around it: test_github.py."""
from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest

from etl.fakes.github import FakeGitHub
from etl.sources.base import TenantMappings, TransformContext
from etl.sources.github.client import GitHubClient
from etl.sources.github.graphql import PULLS_QUERY, graphql_url
from etl.sources.github.streams import COMMIT, PULL, REVIEW
from etl.sources.github.transform import transform_github
from etl.sources.http import FatalError, RateLimited, RetriableError

REPO = "acme/api"


class State:
    """What the pipeline's ExtractState tells a connector: the PR versions already stored."""

    def __init__(self, stored: dict[str, str] | None = None):
        self.stored = stored or {}

    def stored_versions(self, entity_type: str, external_ids: list[str], field: str = "updated_at") -> dict:
        assert (entity_type, field) == (PULL, "updatedAt")
        return {i: self.stored[i] for i in external_ids if i in self.stored}


@pytest.fixture
def fake():
    fake = FakeGitHub(repos={REPO: 40}, seed=7)
    fake.serve()
    yield fake
    fake.stop()


def client(fake: FakeGitHub, page_size: int = 50, min_remaining: int = 0, base: str = "") -> GitHubClient:
    return GitHubClient(fake.url + base, fake.token, {"repos": [REPO]}, page_size=page_size, timeout=10,
                        min_remaining=min_remaining)


def sync(c: GitHubClient, since: datetime | None = None, state: State | None = None):
    pages, cursor = [], {"repo": REPO, "since": since.isoformat() if since else None}
    while cursor:
        pages.append(c.pulls_page(REPO, cursor, state or State()))
        cursor = pages[-1].next_cursor
    return pages


def of(pages, entity_type: str) -> list:
    return [r for p in pages for r in p.records if r.entity_type == entity_type]


def test_pages_follow_the_cursor_and_bring_every_pr_with_its_reviews_and_commits_once(fake):
    c = client(fake, page_size=7)
    pages = sync(c)
    assert len(pages) == 6 and [p.next_cursor.get("after") is not None for p in pages[:-1]] == [True] * 5
    assert pages[0].source_total == 40 and all(p.source_total is None for p in pages[1:])
    numbers = [r.payload["number"] for r in of(pages, PULL)]
    assert sorted(numbers) == fake.pr_numbers(REPO) and sum(p.listed for p in pages) == 40
    reviews = {r.external_id for r in of(pages, REVIEW)}
    commits = {r.external_id for r in of(pages, COMMIT)}
    for number in numbers:
        exp = fake.expected(REPO, number)
        assert {str(r[0]) for r in exp["reviews"]} <= reviews
        assert {f"{REPO}#{number}:{sha}" for sha in exp["commit_shas"][:250]} <= commits
    assert len(commits) == sum(min(250, fake.expected(REPO, n)["commits"]) for n in numbers)
    assert all(set(r.payload["commits"]) == {"totalCount"} for r in of(pages, PULL)), "nested lists are raw objects"
    assert c.graphql.points == 5000 - fake.graphql_budget(fake.token)[0] >= len(pages)
    assert fake.budget(fake.token)[0] == 5000, "no REST request"


def test_reviews_and_commits_past_the_first_100_are_continued_in_one_batched_query(fake):
    many = fake.pr_numbers(REPO)[5]
    added = {str(fake.add_review(REPO, many, state="COMMENTED")) for _ in range(130)}
    big = next(n for n in fake.pr_numbers(REPO) if fake.expected(REPO, n)["commits"] == 300)
    c = client(fake)
    fake.reset_requests()
    pages = sync(c)
    reviews = {r.external_id for r in of(pages, REVIEW) if r.metadata["pull"] == f"{REPO}#{many}"}
    assert added <= reviews and len(reviews) == len(fake.expected(REPO, many)["reviews"])
    shas = [r.external_id.rpartition(":")[2] for r in of(pages, COMMIT) if r.metadata["pull"] == f"{REPO}#{big}"]
    assert shas == fake.expected(REPO, big)["commit_shas"][:250]
    # One page of 40 PRs, then the second hundred of reviews and commits together, then the last commits.
    assert [r["graphql_cost"] for r in fake.requests] == [1, 1, 1] and c.graphql.points == 3


def test_a_pr_deleted_before_its_nested_lists_are_continued_keeps_what_its_page_brought(fake):
    big = next(n for n in fake.pr_numbers(REPO) if fake.expected(REPO, n)["commits"] == 300)
    c = client(fake, page_size=40)
    data = c.graphql.query(PULLS_QUERY, {"owner": "acme", "name": "api", "first": 40, "after": None})
    node = next(n for n in data["repository"]["pullRequests"]["nodes"] if n["number"] == big)
    fake.delete(REPO, big)
    c.complete_nested([node])
    assert len(node["commits"]["nodes"]) == 100


def test_an_incremental_sync_stops_at_the_watermark_and_skips_prs_stored_at_their_version(fake):
    full = of(sync(client(fake)), PULL)
    newest = sorted(full, key=lambda r: r.updated_at, reverse=True)
    since = newest[9].updated_at  # ten PRs updated at or after the watermark
    stored = {r.external_id: r.payload["updatedAt"] for r in newest[3:]}  # three changed since stored
    c = client(fake, page_size=4)
    pages = sync(c, since=since, state=State(stored))
    assert len(pages) == 3 and pages[-1].next_cursor is None, "stopped at the first PR older than the watermark"
    assert sum(p.listed for p in pages) == 10
    assert [r.external_id for r in of(pages, PULL)] == [r.external_id for r in newest[:3]]
    assert c.graphql.points == 3

    unchanged = client(fake)
    pages = sync(unchanged, since=newest[0].updated_at + timedelta(seconds=1), state=State(stored))
    assert [p.records for p in pages] == [[]] and unchanged.graphql.points == 1, "one point per repository"


def test_a_spent_budget_raises_rate_limited_until_the_reset_and_the_reserve_pauses_after_the_page(fake):
    fake.set_graphql_budget(fake.token, remaining=0, reset_in=30)
    with pytest.raises(RateLimited) as limited:
        client(fake).pulls_page(REPO, {"repo": REPO}, State())
    assert 25 <= limited.value.retry_after <= 32 and "RATE_LIMITED" not in limited.value.message
    assert "API rate limit exceeded" in limited.value.message

    fake.set_graphql_budget(fake.token, remaining=11, reset_in=30)
    c = client(fake, page_size=10, min_remaining=10)
    page = c.pulls_page(REPO, {"repo": REPO}, State())
    assert page.records and 25 <= page.pause_for <= 32, "the reserve is reached: pause once this page is stored"
    with pytest.raises(RateLimited):  # and this client spends no more of it
        c.pulls_page(REPO, page.next_cursor, State())
    assert fake.graphql_budget(fake.token)[0] == 10


def test_a_budget_spent_answered_403_pauses_too():
    fake = FakeGitHub(repos={REPO: 5}, graphql_limit=0, graphql_limit_status=403)
    fake.serve()
    try:
        with pytest.raises(RateLimited) as limited:
            client(fake).pulls_page(REPO, {"repo": REPO}, State())
        assert limited.value.status == 403
    finally:
        fake.stop()


def test_errors_github_answers_with_200_are_classified(fake):
    with pytest.raises(FatalError) as missing:
        GitHubClient(fake.url, fake.token, {}, page_size=5, timeout=10, min_remaining=0).pulls_page(
            "acme/nope", {"repo": "acme/nope"}, State())
    assert missing.value.status == 404 and "Could not resolve to a Repository with the name 'acme/nope'" in \
        missing.value.message
    fake.faults.add("forbidden", path_contains="/graphql")
    with pytest.raises(FatalError) as forbidden:
        client(fake).pulls_page(REPO, {"repo": REPO}, State())
    assert forbidden.value.status == 403 and "Resource not accessible by integration" in forbidden.value.message
    fake.faults.add("malformed_json", path_contains="/graphql")
    with pytest.raises(RetriableError):
        client(fake).pulls_page(REPO, {"repo": REPO}, State())


def test_graphql_endpoint_of_github_and_of_github_enterprise(fake):
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.corp/api/v3/") == "https://ghe.corp/api/graphql"
    fake.reset_requests()
    pages = sync(client(fake, base="/api/v3"))
    assert len(of(pages, PULL)) == 40 and {r["path"] for r in fake.requests} == {"/api/graphql"}


def test_graphql_records_make_the_rows_the_rest_objects_made(fake):
    """The same PRs as GraphQL nodes (now) and as REST objects (stored before, or pushed over the
    API) transform into the same rows: the final tables do not change with the extraction."""
    records = [r for p in sync(client(fake)) for r in p.records]
    ctx = TransformContext(fake.url, fake.url, fake.url, {}, TenantMappings())
    cat = fake._catalog("")
    rest: dict[str, list] = {PULL: [], REVIEW: [], COMMIT: []}
    for number in fake.pr_numbers(REPO):
        pr, pid = fake._get(REPO, number), f"{REPO}#{number}"
        rest[PULL].append((0, pid, orjson.loads(fake._detail(pr, cat))))
        rest[REVIEW] += [(0, str(orjson.loads(b)["id"]), orjson.loads(b)) for b in fake._review_items(pr, cat)]
        rest[COMMIT] += [(0, f"{pid}:{orjson.loads(b)['sha']}", orjson.loads(b)) for b in fake._commit_items(pr, cat)]
    for entity_type, rest_raw in rest.items():
        graphql_raw = [(0, r.external_id, r.payload) for r in records if r.entity_type == entity_type]
        got, want = transform_github(entity_type, graphql_raw, ctx), transform_github(entity_type, rest_raw, ctx)
        assert got.failures == want.failures == {}
        (table, rows), = got.rows.items()
        assert sorted(rows, key=lambda r: r["external_id"]) == sorted(want.rows[table], key=lambda r: r["external_id"])
