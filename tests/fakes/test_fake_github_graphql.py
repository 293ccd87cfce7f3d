"""The fake GitHub's GraphQL endpoint over real HTTP (etl/fakes/github_graphql.py): the same data as
its REST endpoints, cursors, nested connections, costs and a budget that runs out, errors as GitHub
answers them."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import requests

from etl.fakes.github import FakeGitHub

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
TOKEN = "ghp_test"
PULLS = """query($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { ...P }
    }
  }
}
fragment P on PullRequest {
  __typename id number state updatedAt mergedAt additions commits(first: 100) { totalCount nodes { commit { oid } } }
  author { __typename login }
  reviews(first: 100) { totalCount nodes { databaseId state author { __typename login } } }
}"""


@pytest.fixture(scope="module")
def gh():
    fake = FakeGitHub(repos={"acme/api": 60}, seed=7, now=NOW)
    srv = fake.serve()
    yield fake
    srv.stop()


@pytest.fixture
def fresh():
    fake = FakeGitHub(repos={"acme/api": 30}, seed=3, now=NOW)
    srv = fake.serve()
    yield fake
    srv.stop()


def post(fake: FakeGitHub, query: str, path: str = "/graphql", **variables) -> requests.Response:
    return requests.post(fake.url + path, json={"query": query, "variables": variables},
                         headers={"Authorization": f"Bearer {fake.token}"}, timeout=10)


def walk(fake: FakeGitHub, first: int) -> tuple[list[dict], list[dict]]:
    nodes, answers, after = [], [], None
    while True:
        body = post(fake, PULLS, owner="acme", name="api", first=first, after=after).json()
        assert "errors" not in body, body
        answers.append(body["data"])
        conn = body["data"]["repository"]["pullRequests"]
        nodes += conn["nodes"]
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes, answers
        after = conn["pageInfo"]["endCursor"]


def test_cursor_paging_walks_every_pr_once_newest_update_first_with_the_rest_api_data(gh):
    nodes, answers = walk(gh, 7)
    assert len(answers) == 9 and all(a["repository"]["pullRequests"]["totalCount"] == 60 for a in answers)
    numbers = [n["number"] for n in nodes]
    assert sorted(numbers) == gh.pr_numbers("acme/api")
    assert [n["updatedAt"] for n in nodes] == sorted((n["updatedAt"] for n in nodes), reverse=True)
    for node in nodes:
        exp = gh.expected("acme/api", node["number"])
        assert node["state"] == exp["state"].upper() and node["additions"] == exp["additions"]
        assert node["commits"]["totalCount"] == exp["commits"]
        assert [c["commit"]["oid"] for c in node["commits"]["nodes"]] == exp["commit_shas"][:100]
        assert [r["databaseId"] for r in node["reviews"]["nodes"]] == [r[0] for r in exp["reviews"]]
        # GraphQL names a bot without REST's "[bot]" suffix, and says it is a Bot.
        assert (node["author"]["login"] + ("[bot]" if node["author"]["__typename"] == "Bot" else "")) == exp["author"]


def test_a_pr_updated_during_paging_does_not_shift_the_later_pages(fresh):
    order = [n["number"] for n in walk(fresh, 100)[0]]
    first = post(fresh, PULLS, owner="acme", name="api", first=10).json()["data"]["repository"]["pullRequests"]
    fresh.touch("acme/api", order[15])  # from a later page to the front: a position-based cursor would shift
    rest = post(fresh, PULLS, owner="acme", name="api", first=100,
                after=first["pageInfo"]["endCursor"]).json()["data"]["repository"]["pullRequests"]["nodes"]
    seen = [n["number"] for n in first["nodes"] + rest]
    assert seen == order[:15] + order[16:]  # nothing repeats; the touched PR waits for the next sync


def test_nested_lists_continue_through_node_ids_and_commits_stop_at_250(gh):
    big = next(n for n in gh.pr_numbers("acme/api") if gh.expected("acme/api", n)["commits"] == 300)
    query = """query($id: ID!, $after: String) { node(id: $id) { ... on PullRequest {
        commits(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { commit { oid } } } } } }"""
    pr_id = next(n["id"] for n in walk(gh, 100)[0] if n["number"] == big)
    shas, after = [], None
    while True:
        commits = post(gh, query, id=pr_id, after=after).json()["data"]["node"]["commits"]
        assert commits["totalCount"] == 300
        shas += [c["commit"]["oid"] for c in commits["nodes"]]
        if not commits["pageInfo"]["hasNextPage"]:
            break
        after = commits["pageInfo"]["endCursor"]
    assert shas == gh.expected("acme/api", big)["commit_shas"][:250]


def test_cost_follows_the_connections_and_is_taken_from_a_budget_of_its_own(fresh):
    rest_before = fresh.budget(fresh.token)[0]
    answer = post(fresh, PULLS, owner="acme", name="api", first=50)
    # pullRequests: 1 request; reviews and commits: one per PR each -> 101 requests -> 1 point
    assert answer.json()["data"]["rateLimit"]["cost"] == 1
    answer = post(fresh, PULLS, owner="acme", name="api", first=100)
    assert answer.json()["data"]["rateLimit"] == {"cost": 2, "remaining": 4997,
                                                  "resetAt": answer.json()["data"]["rateLimit"]["resetAt"]}
    assert answer.headers["x-ratelimit-resource"] == "graphql" and answer.headers["x-ratelimit-remaining"] == "4997"
    assert fresh.graphql_budget(fresh.token)[0] == 4997 and fresh.budget(fresh.token)[0] == rest_before


def test_a_spent_budget_is_a_200_with_rate_limited_then_recovers_at_the_reset(fresh):
    fresh.set_graphql_budget(fresh.token, remaining=1, reset_in=2)
    assert post(fresh, PULLS, owner="acme", name="api", first=100).json()["errors"][0]["type"] == "RATE_LIMITED"
    assert post(fresh, PULLS, owner="acme", name="api", first=10).json()["data"]["rateLimit"]["remaining"] == 0
    limited = post(fresh, PULLS, owner="acme", name="api", first=10)
    assert limited.status_code == 200 and limited.json() == {"errors": [{
        "type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": "API rate limit exceeded for user ID 1."}]}
    reset = int(limited.headers["x-ratelimit-reset"])
    assert reset <= time.time() + 3
    time.sleep(max(0.0, reset - time.time()) + 0.2)  # the fake's budget window is wall-clock time, as GitHub's
    assert post(fresh, PULLS, owner="acme", name="api", first=10).json()["data"]["rateLimit"]["remaining"] == 4999


def test_a_spent_budget_can_be_answered_403_with_remaining_0():
    fake = FakeGitHub(repos={"acme/api": 5}, now=NOW, graphql_limit=1, graphql_limit_status=403)
    fake.serve()
    try:
        assert post(fake, PULLS, owner="acme", name="api", first=5).status_code == 200
        limited = post(fake, PULLS, owner="acme", name="api", first=5)
        assert limited.status_code == 403 and limited.headers["x-ratelimit-remaining"] == "0"
        assert "API rate limit exceeded" in limited.json()["message"]
    finally:
        fake.stop()


@pytest.mark.parametrize("query, message, kind", [
    ('{ repository(owner: "acme", name: "api") { nope } }', "Field 'nope' doesn't exist on type 'Repository'", None),
    ('{ repository(owner: "acme", name: "api") { pullRequests { totalCount } } }',
     "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection.",
     "MISSING_PAGINATION_BOUNDARIES"),
    ('{ repository(owner: "acme", name: "api") { pullRequests(first: 101) { totalCount } } }',
     "Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records.",
     "EXCESSIVE_PAGINATION"),
    ('{ repository(owner: "acme", name: "api") { pullRequests(first: 10) }', None, None),
    ('{ repository(owner: "acme", name: "api") { name ', "Parse error on end of input", None),
])
def test_a_query_github_refuses_is_a_200_with_errors_and_no_data_and_costs_nothing(fresh, query, message, kind):
    answer = post(fresh, query)
    body = answer.json()
    assert answer.status_code == 200 and "data" not in body and len(body["errors"]) == 1
    if message:
        assert body["errors"][0]["message"] == message
    assert body["errors"][0].get("type") == kind
    assert fresh.graphql_budget(fresh.token)[0] == 5000


def test_unknown_repository_is_null_with_not_found_and_enterprise_serves_api_graphql(fresh):
    body = post(fresh, '{ repository(owner: "acme", name: "nope") { name } }').json()
    assert body["data"] == {"repository": None}
    assert body["errors"][0]["type"] == "NOT_FOUND" and "acme/nope" in body["errors"][0]["message"]
    pr = post(fresh, '{ repository(owner: "acme", name: "api") { pullRequest(number: 1) { url } } }',
              path="/api/graphql").json()["data"]["repository"]["pullRequest"]
    assert pr["url"] == f"{fresh.url}/acme/api/pull/1"  # Enterprise: html URLs on the server itself
    assert requests.post(fresh.url + "/graphql", json={"query": "{ viewer { login } }"}, timeout=10).status_code == 401


def test_faults_on_the_graphql_path(fresh):
    fresh.faults.add("secondary_403", path_contains="/graphql", times=1, retry_after=3)
    fresh.faults.add("forbidden", path_contains="/graphql", times=1)
    secondary = post(fresh, PULLS, owner="acme", name="api", first=5)
    assert secondary.status_code == 403 and secondary.headers["retry-after"] == "3"
    forbidden = post(fresh, PULLS, owner="acme", name="api", first=5).json()
    assert forbidden["errors"][0]["type"] == "FORBIDDEN" and forbidden["data"] == {"repository": None}
    assert post(fresh, PULLS, owner="acme", name="api", first=5).status_code == 200
