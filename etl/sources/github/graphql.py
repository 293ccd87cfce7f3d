"""GitHub's GraphQL API as the client uses it: the queries (a page of pull requests with their
reviews and commits nested; the rest of a nested list for the few pull requests with more than fit),
the endpoint, the budget each answer reports (`rateLimit { cost remaining resetAt }`) and the errors
GitHub answers with HTTP 200, classified under the shared error root like any HTTP answer.

Cost, as GitHub computes it: each connection needs one request per parent it is fetched for; the
sum divided by 100 and rounded is the query's points, at least 1. A page of N pull requests with
`reviews(first: 100)` and `commits(first: 100)` is 1 + 2N requests: 1 point up to N = 74, 2 at
N = 100. Nodes (limit 500,000 per query): N + 100N + 100N = 201N, 20,100 at most. The rest of a
nested list is fetched for up to FOLLOW_UP_BATCH pull requests at once, one aliased connection each:
FOLLOW_UP_BATCH requests, 1 point, 5,000 nodes."""
from __future__ import annotations

from datetime import datetime

from etl.sources.http import SOURCE_MESSAGE_MAX, FatalError, HttpClient, RateLimited, RetriableError
from etl.sources.pagination import IncompletePage

NESTED_PAGE = 100  # reviews and commits fetched with each pull request (GitHub's maximum)
FOLLOW_UP_BATCH = 50  # nested lists continued per query
NESTED = ("reviews", "commits")

_REVIEW = """fragment Review on PullRequestReview {
  __typename databaseId state submittedAt
  author { __typename login }
  pullRequest { number repository { nameWithOwner } }
}"""
_COMMIT = """fragment Commit on PullRequestCommit {
  __typename
  commit { oid message committedDate author { name user { login } } }
}"""
_NESTED_PAGE_INFO = "totalCount pageInfo { hasNextPage endCursor }"
PULLS_QUERY = f"""query PullRequests($owner: String!, $name: String!, $first: Int!, $after: String) {{
  rateLimit {{ cost remaining resetAt }}
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        __typename id number title body state isDraft url createdAt updatedAt closedAt mergedAt
        additions deletions changedFiles baseRefName headRefName
        author {{ __typename login }}
        repository {{ nameWithOwner }}
        reviews(first: {NESTED_PAGE}) {{ {_NESTED_PAGE_INFO} nodes {{ ...Review }} }}
        commits(first: {NESTED_PAGE}) {{ {_NESTED_PAGE_INFO} nodes {{ ...Commit }} }}
      }}
    }}
  }}
}}
{_REVIEW}
{_COMMIT}"""
_FRAGMENT = {"reviews": ("Review", _REVIEW), "commits": ("Commit", _COMMIT)}


def follow_up_query(wanted: list[tuple[str, str]]) -> str:
    """The rest of nested lists: one aliased `node(id:)` per (pull request id, list name), each
    continuing after its own cursor ($idN, $afterN)."""
    declared = ", ".join(f"$id{i}: ID!, $after{i}: String" for i in range(len(wanted)))
    parts = [f"  p{i}: node(id: $id{i}) {{ ... on PullRequest {{ {name}(first: {NESTED_PAGE}, after: $after{i}) "
             f"{{ {_NESTED_PAGE_INFO} nodes {{ ...{_FRAGMENT[name][0]} }} }} }} }}"
             for i, (_, name) in enumerate(wanted)]
    used = [_FRAGMENT[name][1] for name in NESTED if any(n == name for _, n in wanted)]
    return "\n".join([f"query MoreOfPullRequests({declared}) {{", "  rateLimit { cost remaining resetAt }",
                      *parts, "}", *used])


def graphql_url(base_url: str) -> str:
    """github.com: https://api.github.com/graphql; GitHub Enterprise: https://HOST/api/graphql
    beside the REST base https://HOST/api/v3."""
    base = base_url.rstrip("/")
    return base.removesuffix("/v3") + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


def connection_nodes(connection, where: str) -> list:
    """A connection's nodes, or IncompletePage: a cut-short answer is not an empty list."""
    if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list) \
            or not isinstance(connection.get("pageInfo"), dict):
        raise IncompletePage(f"{where} answered without its nodes and pageInfo")
    if connection["pageInfo"].get("hasNextPage") and not connection["pageInfo"].get("endCursor"):
        raise IncompletePage(f"{where} says there is more but gives no endCursor")
    return connection["nodes"]


def _capped(message: str) -> str:
    return message if len(message) <= SOURCE_MESSAGE_MAX else message[:SOURCE_MESSAGE_MAX - 3] + "..."


class GraphQL:
    """POSTs queries to the endpoint through an HttpClient of its own: the GraphQL budget is not
    REST's, so each keeps the remaining budget it last saw, and the last `min_remaining` points
    are never spent (the HttpClient refuses the request: RateLimited until the reset)."""

    def __init__(self, http: HttpClient, url: str):
        self.http = http
        self.url = url
        self.points = 0  # the cost GitHub reported for every query answered

    def query(self, text: str, variables: dict, missing_ok: bool = False) -> dict:
        """The answer's data. `missing_ok`: objects GitHub no longer finds (NOT_FOUND) are null in
        it rather than an error (a pull request deleted since its page was read)."""
        resp = self.http.request("POST", self.url, json={"query": text, "variables": variables})
        body = resp.body
        if not isinstance(body, dict):
            raise RetriableError(f"POST {self.url} answered without a JSON object (an empty or cut-short answer?)",
                                 url=self.url, status=resp.status)
        data = body.get("data") if isinstance(body.get("data"), dict) else None
        self._read_budget((data or {}).get("rateLimit"))
        errors = body.get("errors")
        if missing_ok and data is not None and isinstance(errors, list) \
                and all(isinstance(e, dict) and e.get("type") == "NOT_FOUND" for e in errors):
            errors = None
        self._raise_for_errors(errors, resp.headers)
        if data is None:
            raise RetriableError(f"POST {self.url} answered without data", url=self.url, status=resp.status)
        return data

    def _read_budget(self, rate_limit) -> None:
        """The budget as the answer's rateLimit states it, read after (and over) the headers."""
        if not isinstance(rate_limit, dict):
            return
        if isinstance(rate_limit.get("cost"), int):
            self.points += rate_limit["cost"]
        if isinstance(rate_limit.get("remaining"), int):
            self.http.remaining = rate_limit["remaining"]
        try:
            self.http.reset_at = datetime.fromisoformat(str(rate_limit["resetAt"]).replace("Z", "+00:00")).timestamp()
        except (KeyError, ValueError):
            pass

    def _raise_for_errors(self, errors, headers) -> None:
        """GitHub answers most GraphQL failures with HTTP 200 and `errors`: a spent budget
        (RATE_LIMITED, lately also RATE_LIMIT) pauses the integration until the reset; an
        unknown repository or one the token may not read, and a query GitHub refuses, are fatal
        with GitHub's message; a timeout on GitHub's side ("Something went wrong") is retried."""
        if not errors:
            return
        errors = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        kinds = {str(e.get("type") or "") for e in errors}
        message = _capped("; ".join(str(e.get("message") or "") for e in errors) or "GitHub answered with errors")
        where = f"POST {self.url}: {message}"
        if kinds & {"RATE_LIMITED", "RATE_LIMIT"}:
            reset = headers.get("x-ratelimit-reset")
            if reset and reset.isdigit():
                self.http.reset_at = float(reset)
            self.http.remaining = 0
            raise RateLimited(where, url=self.url, status=200, retry_after=self.http.seconds_to_reset())
        if kinds & {"NOT_FOUND", "FORBIDDEN"}:
            raise FatalError(where, url=self.url, status=404 if "NOT_FOUND" in kinds else 403)
        if any(str(e.get("message") or "").startswith("Something went wrong") for e in errors):
            raise RetriableError(where, url=self.url, status=200)
        raise FatalError(where, url=self.url, status=200)
