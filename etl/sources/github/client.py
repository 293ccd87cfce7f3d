"""GitHub client (github.com or GitHub Enterprise /api/v3): pull requests with their reviews and
commits in GraphQL pages (graphql.py), as declared in streams.py; REST for the connection test and the
listing of numbers that finds deletions. Rate limits as GitHub documents them (classified by the shared
layer with rate_limits() below, and by graphql.py for what GraphQL answers with HTTP 200)."""
from __future__ import annotations

from datetime import datetime, timezone

from etl.sources.base import Page, Record
from etl.sources.github.graphql import (
    FOLLOW_UP_BATCH,
    NESTED,
    PULLS_QUERY,
    GraphQL,
    connection_nodes,
    follow_up_query,
    graphql_url,
)
from etl.sources.github.streams import COMMIT, PULL, PULL_DETAIL, PULLS, REVIEW, pull_id
from etl.sources.http import FatalError, HttpClient, RateLimitPolicy
from etl.sources.pagination import github_items

SECONDARY_LIMIT_WAIT = 60  # GitHub: without retry-after, wait at least a minute


def parse_github_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rate_limits(min_remaining: int) -> RateLimitPolicy:
    """GitHub's failure rules, applied by etl.sources.http:
    - 403/429 with retry-after: a secondary limit, retried after that delay;
    - 403/429 with x-ratelimit-remaining 0: the primary budget is spent until x-ratelimit-reset:
      the integration pauses (RateLimited);
    - any other 429: retried after a minute; any other 403: a permission problem, fatal, with
      GitHub's message.
    The budget last seen is kept, and the last `min_remaining` requests are never spent."""
    return RateLimitPolicy(name="GitHub", statuses=(403, 429), remaining_header="x-ratelimit-remaining",
                           reset_header="x-ratelimit-reset", default_wait=SECONDARY_LIMIT_WAIT,
                           min_remaining=min_remaining)


class GitHubClient:
    """Pull requests with their reviews and commits through the GraphQL API, a page of
    `page_size` pull requests per query (etl/sources/github/graphql.py); REST for the connection
    test and the reconciliation of deletions (a listing of numbers only)."""

    def __init__(self, base_url: str, token: str, settings: dict, *, page_size: int, timeout: float,
                 min_remaining: int):
        self.settings = settings
        self.page_size = page_size
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        self.http = HttpClient(base_url, headers, timeout=timeout, rate_limits=rate_limits(min_remaining))
        # GraphQL's budget is not REST's: a client of its own keeps the remaining budget it saw.
        self.graphql = GraphQL(HttpClient(base_url, headers, timeout=timeout, rate_limits=rate_limits(min_remaining)),
                               graphql_url(base_url))
        self.paginator = PULLS.paginator

    def close(self) -> None:
        self.http.close()
        self.graphql.http.close()

    def pulls_page(self, repo: str, cursor: dict, state) -> Page:
        """One page of a repository's PRs, newest update first, down to the watermark, each with
        its reviews and commits; records only for PRs not already stored at this version."""
        before = self.http.requests_made + self.graphql.http.requests_made
        owner, name = repo.split("/", 1)
        data = self.graphql.query(PULLS_QUERY, {"owner": owner, "name": name, "first": self.page_size,
                                                "after": cursor.get("after")})
        connection = (data.get("repository") or {}).get("pullRequests")
        nodes = connection_nodes(connection, f"the pull requests of {repo}")
        since = parse_github_datetime(cursor.get("since"))
        fresh = [pr for pr in nodes if since is None or parse_github_datetime(pr[PULLS.replication_key]) >= since]
        stored = state.stored_versions(PULL, [pull_id(repo, pr["number"]) for pr in fresh],
                                       field=PULLS.replication_key)
        changed = [pr for pr in fresh if stored.get(pull_id(repo, pr["number"])) != pr[PULLS.replication_key]]
        self.complete_nested(changed)
        fetched_at = datetime.now(timezone.utc).isoformat()
        records = [r for pr in changed for r in pull_records(repo, pr, self.graphql.url, fetched_at)]
        reached_watermark = len(fresh) < len(nodes)
        page_info = connection["pageInfo"]
        more = page_info.get("hasNextPage") and not reached_watermark
        complete_read = not cursor.get("after") and since is None
        return Page(records, {**cursor, "after": page_info["endCursor"]} if more else None,
                    requests_made=self.http.requests_made + self.graphql.http.requests_made - before,
                    listed=len(fresh), source_total=connection.get("totalCount") if complete_read else None,
                    pause_for=self.graphql.http.seconds_to_reset() if self.graphql.http.reserve_reached() else None)

    def complete_nested(self, prs: list[dict]) -> None:
        """The reviews or commits of PRs that have more than one query's page of them (a few per
        repository): continued in batches of FOLLOW_UP_BATCH lists per query, appended in place."""
        wanted = []
        for pr in prs:
            for name in NESTED:
                connection_nodes(pr.get(name), f"the {name} of pull request #{pr.get('number')}")
                if pr[name]["pageInfo"].get("hasNextPage"):
                    wanted.append((pr, name))
        while wanted:
            batch, wanted = wanted[:FOLLOW_UP_BATCH], wanted[FOLLOW_UP_BATCH:]
            variables = {}
            for i, (pr, name) in enumerate(batch):
                variables[f"id{i}"], variables[f"after{i}"] = pr["id"], pr[name]["pageInfo"]["endCursor"]
            data = self.graphql.query(follow_up_query([(pr["id"], name) for pr, name in batch]), variables,
                                      missing_ok=True)
            for i, (pr, name) in enumerate(batch):
                if data.get(f"p{i}") is None:  # deleted since its page was read: reconciliation marks it
                    continue
                more = data[f"p{i}"].get(name)
                pr[name]["nodes"] += connection_nodes(more, f"the {name} of pull request #{pr['number']}")
                pr[name]["pageInfo"] = more["pageInfo"]
                if more["pageInfo"].get("hasNextPage"):
                    wanted.append((pr, name))

    def pull_exists(self, external_id: str) -> bool:
        repo, _, number = external_id.rpartition("#")
        try:
            self.http.request("GET", PULL_DETAIL.format(repo=repo, number=number))
        except FatalError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def list_repo_numbers(self, repo: str) -> set[int]:
        """Every PR number of a repository over REST (100 per request, no nested data)."""
        url, params, numbers = PULLS.path.format(repo=repo), PULLS.params, set()
        while url:
            resp = self.http.request("GET", url, params=params)
            numbers.update(pr["number"] for pr in github_items(resp.body, f"the pull request list of {repo}"))
            url, params = (self.paginator.next_cursor(resp.headers, {}) or {}).get("url"), None
        return numbers


def pull_records(repo: str, pr: dict, url: str, fetched_at: str) -> list[Record]:
    """A PR node as three kinds of raw objects, as the REST client stored them: the PR (its nested
    lists reduced to their totalCount), each review, each commit."""
    pid = pull_id(repo, pr["number"])
    payload = {**pr, **{name: {"totalCount": pr[name].get("totalCount")} for name in NESTED}}
    out = [Record(PULL, pid, payload, parse_github_datetime(pr.get(PULLS.replication_key)),
                  {"request_url": url, "fetched_at": fetched_at})]
    for review in pr["reviews"]["nodes"]:
        out.append(Record(REVIEW, str(review["databaseId"]), review, None, {"pull": pid, "fetched_at": fetched_at}))
    for commit in pr["commits"]["nodes"]:
        out.append(Record(COMMIT, f"{pid}:{commit['commit']['oid']}", commit, None,
                          {"pull": pid, "fetched_at": fetched_at}))
    return out
