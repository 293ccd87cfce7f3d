"""The GitHub transform as a plain function, on objects in the shape GitHub serves them (the fake
GitHub's generated pull requests, read without serving them, and small reviews and commits shaped
as the fake serves them): no database, broker or server, so it runs in seconds. The end-to-end path
(tests/sources/github/test_github.py) checks the same rows once they are loaded."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from etl.fakes.github import FakeGitHub
from etl.sources.base import TenantMappings, TransformContext
from etl.sources.github.client import COMMIT, PULL, REVIEW
from etl.sources.github.transform import transform_github

REPO = "acme/api"
PR_URL = f"https://api.github.com/repos/{REPO}/pulls/7"


def context(settings: dict | None = None) -> TransformContext:
    return TransformContext(uuid.uuid4(), uuid.uuid4(), "https://api.github.com", settings or {}, TenantMappings())


@pytest.fixture(scope="module")
def fake() -> FakeGitHub:
    return FakeGitHub(repos={REPO: 80}, work_item_keys=("ABC-12", "OPS-3"))


def user(login: str, kind: str = "User") -> dict:
    return {"login": login, "id": 1, "type": kind, "site_admin": False}


def review(rid: int, login: str, kind: str = "User", state: str | None = "APPROVED",
           submitted_at: str | None = "2025-09-02T10:00:00Z") -> dict:
    return {"id": rid, "node_id": f"PRR_{rid}", "user": user(login, kind), "body": "", "state": state,
            "html_url": f"https://github.com/{REPO}/pull/7#pullrequestreview-{rid}", "pull_request_url": PR_URL,
            "author_association": "MEMBER", "submitted_at": submitted_at, "commit_id": "c0ffee"}


def commit(sha: str, login: str | None, message: str, date: str = "2025-09-01T12:00:00Z") -> dict:
    who = {"name": "Ada Lovelace", "email": "ada@corp.example", "date": date}
    return {"sha": sha, "commit": {"author": who, "committer": who, "message": message},
            "author": user(login) if login else None, "committer": user(login) if login else None,
            "parents": []}


def pull(number: int = 7, **changes) -> dict:
    return {"number": number, "state": "closed", "title": "ABC-12: fix the login redirect", "draft": False,
            "user": user("ada"), "body": "Also OPS-3.", "created_at": "2025-09-01T10:00:00Z",
            "updated_at": "2025-09-03T10:00:00Z", "closed_at": "2025-09-03T10:00:00Z",
            "merged_at": "2025-09-03T10:00:00Z", "head": {"ref": "feature/ABC-12-login"},
            "base": {"ref": "main", "repo": {"full_name": REPO}}, "additions": 10, "deletions": 2,
            "changed_files": 3, "commits": 2, "html_url": f"https://github.com/{REPO}/pull/{number}", **changes}


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def test_every_generated_pull_request_becomes_the_row_the_source_describes(fake):
    numbers = fake.pr_numbers(REPO)
    raw = [(n, f"{REPO}#{number}", fake.pull(REPO, number)) for n, number in enumerate(numbers, 1)]
    ctx = context()
    result = transform_github(PULL, raw, ctx)

    assert result.failures == {} and result.ok_raw_ids == list(range(1, len(numbers) + 1))
    rows = {row["number"]: row for row in result.rows["pull_requests"]}
    assert list(rows) == numbers
    states, bots, linked = set(), 0, 0
    for n, number in enumerate(numbers, 1):
        exp, got = fake.expected(REPO, number), rows[number]
        states.add(got["state"])
        bots += got["author_is_bot"]
        linked += bool(got["work_item_keys"])
        assert (got["tenant_id"], got["integration_id"]) == (str(ctx.tenant_id), str(ctx.integration_id))
        assert (got["external_id"], got["repo"], got["raw_id"]) == (f"{REPO}#{number}", REPO, n)
        assert (got["state"], got["draft"], got["author"], got["title"]) == (
            exp["state"], exp["draft"], exp["author"], exp["title"])
        assert (got["author_is_bot"], got["head_ref"], got["base_ref"]) == (
            exp["author_is_bot"], exp["head_ref"], exp["base_ref"])
        assert (got["additions"], got["deletions"], got["changed_files"], got["commits_count"]) == (
            exp["additions"], exp["deletions"], exp["changed_files"], exp["commits"])
        assert (at(got["created_at"]), at(got["updated_at"]), at(got["merged_at"]), at(got["closed_at"])) == (
            exp["created"], exp["updated"], exp["merged"], exp["closed"])
        assert got["lead_time_seconds"] == (
            int((exp["merged"] - exp["created"]).total_seconds()) if exp["merged"] else None)
        assert set(exp["work_item_keys"]) <= set(got["work_item_keys"])
        assert (got["url"], got["deleted_at"]) == (f"https://github.com/{REPO}/pull/{number}", None)
        assert not {"review_count", "first_review_at", "time_to_first_review_seconds"} & set(got), \
            "derived after the load, never staged"
    assert states == {"open", "closed", "merged"} and bots and linked


def test_a_closed_pull_request_with_merged_at_is_merged():
    result = transform_github(PULL, [(1, "x", pull()), (2, "y", pull(8, merged_at=None)),
                                     (3, "z", pull(9, state="open", closed_at=None, merged_at=None))], context())
    assert [(r["state"], r["merged_at"], r["lead_time_seconds"]) for r in result.rows["pull_requests"]] == [
        ("merged", "2025-09-03T10:00:00+00:00", 2 * 24 * 3600), ("closed", None, None), ("open", None, None)]
    assert result.rows["pull_requests"][0]["work_item_keys"] == ["ABC-12", "OPS-3"]


def test_review_rows():
    raw = [(1, "11", review(11, "bob")), (2, "12", review(12, "dependabot[bot]", "Bot", state=None,
                                                            submitted_at=None))]
    result = transform_github(REVIEW, raw, context())
    assert result.failures == {} and result.ok_raw_ids == [1, 2]
    base = {k: v for k, v in result.rows["pr_reviews"][0].items() if k in ("tenant_id", "integration_id")}
    assert result.rows["pr_reviews"] == [
        {**base, "external_id": "11", "pr_external_id": f"{REPO}#7", "state": "APPROVED", "author": "bob",
         "author_is_bot": False, "submitted_at": "2025-09-02T10:00:00+00:00"},
        {**base, "external_id": "12", "pr_external_id": f"{REPO}#7", "state": "COMMENTED",
         "author": "dependabot[bot]", "author_is_bot": True, "submitted_at": None},
    ]


def test_commit_rows():
    raw = [(1, f"{REPO}#7:aaa", commit("aaa", "ada", "Fix the redirect\n\nLong explanation.")),
           (2, f"{REPO}#7:bbb", commit("bbb", None, "Unlinked author", date="2025-09-01T14:00:00+02:00")),
           (3, f"{REPO}#7:ccc", {"commit": {}})]  # nothing but the id it was stored under
    result = transform_github(COMMIT, raw, context())
    assert result.failures == {}
    assert [(r["external_id"], r["pr_external_id"], r["sha"], r["author"], r["message"], r["committed_at"])
            for r in result.rows["pr_commits"]] == [
        (f"{REPO}#7:aaa", f"{REPO}#7", "aaa", "ada", "Fix the redirect", "2025-09-01T12:00:00+00:00"),
        (f"{REPO}#7:bbb", f"{REPO}#7", "bbb", "Ada Lovelace", "Unlinked author", "2025-09-01T14:00:00+02:00"),
        (f"{REPO}#7:ccc", f"{REPO}#7", "ccc", None, "", None),
    ]


def bot_flags(settings: dict, *authors: tuple[str, str]) -> list[bool]:
    raw = [(n, str(n), review(n, login, kind)) for n, (login, kind) in enumerate(authors, 1)]
    return [r["author_is_bot"] for r in transform_github(REVIEW, raw, context(settings)).rows["pr_reviews"]]


def test_bots_are_github_bot_accounts_and_logins_that_match_the_patterns():
    authors = [("dependabot[bot]", "Bot"), ("renovate[bot]", "User"), ("ci-runner", "User"), ("ada", "User")]
    assert bot_flags({}, *authors) == [True, True, False, False]  # default pattern: a [bot] suffix
    # A tenant's patterns replace the default; GitHub's own Bot type always counts.
    assert bot_flags({"bot_patterns": ["^ci-"]}, *authors) == [True, False, True, False]
    # A pattern RE2 cannot compile (saved before patterns were checked) is skipped, not fatal.
    assert bot_flags({"bot_patterns": [r"(a)\1", "^ci-"]}, *authors) == [True, False, True, False]


def test_a_record_that_cannot_be_transformed_fails_alone_with_its_reason():
    raw = [(1, "a", pull(1, base={"ref": "main"})),
           (2, "b", pull(2, created_at="yesterday")),
           (3, "c", pull(3)),
           (4, "d", pull(4, user="ada"))]  # a string where GitHub sends an object
    result = transform_github(PULL, raw, context())
    assert result.failures == {
        1: "pull request has no base repository or number",
        2: "'yesterday' is not an ISO 8601 timestamp",
        4: "unexpected github_pull_request shape: AttributeError: 'str' object has no attribute 'get'",
    }
    assert result.ok_raw_ids == [3] and [r["number"] for r in result.rows["pull_requests"]] == [3]
    reviews = transform_github(REVIEW, [(5, "5", review(5, "bob", submitted_at="2025-13-01T00:00:00Z"))], context())
    assert reviews.failures == {5: "'2025-13-01T00:00:00Z' is not an ISO 8601 timestamp"}


def test_an_out_of_range_integer_is_refused_for_its_record_only():
    raw = [(1, "a", pull(2**31)), (2, "b", pull(8, additions="12")), (3, "c", pull(9, changed_files=True)),
           (4, "d", pull(10))]
    result = transform_github(PULL, raw, context())
    assert result.failures == {
        1: "field 'number': 2147483648 is out of range for pull_requests.number (-2147483648 to 2147483647)",
        2: "field 'additions': '12' is not an integer for pull_requests.additions (-2147483648 to 2147483647)",
        3: "field 'changed_files': True is not an integer for pull_requests.changed_files "
           "(-2147483648 to 2147483647)",
    }
    assert result.ok_raw_ids == [4] and [r["number"] for r in result.rows["pull_requests"]] == [10]


# GraphQL nodes, as the client extracts them now: the same rows as the REST objects above.
def actor(login: str, kind: str = "User") -> dict:
    return {"__typename": kind, "login": login}


def gql_pull(number: int = 7, **changes) -> dict:
    return {"__typename": "PullRequest", "id": "PR_x", "number": number, "title": "ABC-12: fix the login redirect",
            "body": "Also OPS-3.", "state": "MERGED", "isDraft": False, "url": f"https://github.com/{REPO}/pull/{number}",
            "createdAt": "2025-09-01T10:00:00Z", "updatedAt": "2025-09-03T10:00:00Z",
            "closedAt": "2025-09-03T10:00:00Z", "mergedAt": "2025-09-03T10:00:00Z", "additions": 10, "deletions": 2,
            "changedFiles": 3, "baseRefName": "main", "headRefName": "feature/ABC-12-login", "author": actor("ada"),
            "repository": {"nameWithOwner": REPO}, "reviews": {"totalCount": 1}, "commits": {"totalCount": 2},
            **changes}


def gql_review(rid: int, author: dict | None, state: str | None = "APPROVED",
               submitted_at: str | None = "2025-09-02T10:00:00Z") -> dict:
    return {"__typename": "PullRequestReview", "databaseId": rid, "state": state, "submittedAt": submitted_at,
            "author": author, "pullRequest": {"number": 7, "repository": {"nameWithOwner": REPO}}}


def gql_commit(sha: str, login: str | None, message: str, date: str = "2025-09-01T12:00:00Z") -> dict:
    return {"__typename": "PullRequestCommit", "commit": {
        "oid": sha, "message": message, "committedDate": date,
        "author": {"name": "Ada Lovelace", "user": {"login": login} if login else None}}}


def without_ids(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in ("tenant_id", "integration_id")} for row in rows]


def test_graphql_pull_requests_make_the_rows_rest_objects_make():
    ctx = context()
    pairs = [(pull(), gql_pull()), (pull(8, merged_at=None), gql_pull(8, state="CLOSED", mergedAt=None)),
             (pull(9, state="open", closed_at=None, merged_at=None, draft=True, body=None),
              gql_pull(9, state="OPEN", closedAt=None, mergedAt=None, isDraft=True, body=""))]
    rest = transform_github(PULL, [(n, "x", r) for n, (r, _) in enumerate(pairs, 1)], ctx)
    graphql = transform_github(PULL, [(n, "x", g) for n, (_, g) in enumerate(pairs, 1)], ctx)
    assert graphql.failures == {} and without_ids(graphql.rows["pull_requests"]) == without_ids(rest.rows["pull_requests"])
    assert [r["state"] for r in graphql.rows["pull_requests"]] == ["merged", "closed", "open"]


def test_graphql_reviews_name_bots_as_rest_does():
    """GraphQL says `dependabot` (a Bot) where REST says `dependabot[bot]`: the row keeps REST's login."""
    rest = transform_github(REVIEW, [(1, "11", review(11, "bob")), (2, "12", review(12, "dependabot[bot]", "Bot",
                                                                                      state=None, submitted_at=None))],
                            context())
    graphql = transform_github(REVIEW, [(1, "11", gql_review(11, actor("bob"))),
                                        (2, "12", gql_review(12, actor("dependabot", "Bot"), state=None,
                                                             submitted_at=None))], context())
    assert graphql.failures == {} and without_ids(graphql.rows["pr_reviews"]) == without_ids(rest.rows["pr_reviews"])
    assert graphql.rows["pr_reviews"][1]["author"] == "dependabot[bot]"
    orphan = transform_github(REVIEW, [(3, "13", {**gql_review(13, None), "pullRequest": None})], context())
    assert orphan.failures == {3: "review has no pull request (pullRequest.number and repository.nameWithOwner)"}


def test_graphql_commits_make_the_rows_rest_commits_make():
    rest = transform_github(COMMIT, [(1, f"{REPO}#7:aaa", commit("aaa", "ada", "Fix the redirect\n\nLong.")),
                                     (2, f"{REPO}#7:bbb", commit("bbb", None, "Unlinked author"))], context())
    graphql = transform_github(COMMIT, [(1, f"{REPO}#7:aaa", gql_commit("aaa", "ada", "Fix the redirect\n\nLong.")),
                                        (2, f"{REPO}#7:bbb", gql_commit("bbb", None, "Unlinked author"))], context())
    assert graphql.failures == {} and without_ids(graphql.rows["pr_commits"]) == without_ids(rest.rows["pr_commits"])


def test_pushed_graphql_objects_are_checked_against_their_external_id():
    from etl.sources.github.checks import identity_problem

    assert identity_problem(PULL, f"{REPO}#7", gql_pull()) is None
    assert identity_problem(PULL, f"{REPO}#8", gql_pull())[1] == f"external_id '{REPO}#8' is not '{REPO}#7' (owner/name#number)"
    assert identity_problem(REVIEW, "11", gql_review(11, actor("bob"))) is None
    assert identity_problem(REVIEW, "12", gql_review(11, actor("bob")))[1] == \
        "external_id '12' is not the payload's databaseId '11'"
    assert identity_problem(COMMIT, f"{REPO}#7:aaa", gql_commit("aaa", None, "x")) is None
    assert identity_problem(COMMIT, f"{REPO}#7:aaa", gql_commit("bbb", None, "x"))[1] == \
        "external_id ends in 'aaa' but the payload's sha is 'bbb'"
