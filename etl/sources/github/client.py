"""GitHub REST client (github.com or GitHub Enterprise /api/v3): pull requests with their detail,
reviews and commits, as declared in streams.py. Rate limits as GitHub documents them (classified by
the shared layer with GITHUB_RATE_LIMITS), conditional requests, Link paging."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from etl.sources.base import Page, Record
from etl.sources.github.streams import (
    COMMIT,
    ID_LISTING_PARAMS,
    PULL,
    PULL_DETAIL,
    PULLS,
    REVIEW,
    SUB_RESOURCES,
    pull_id,
)
from etl.sources.http import FatalError, HttpClient, RateLimitPolicy, Response
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
    def __init__(self, base_url: str, token: str, settings: dict, *, page_size: int, timeout: float,
                 min_remaining: int):
        self.settings = settings
        self.page_size = page_size
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                                          "X-GitHub-Api-Version": "2022-11-28"},
                               timeout=timeout, rate_limits=rate_limits(min_remaining))
        self.paginator = PULLS.paginator

    def close(self) -> None:
        self.http.close()

    def pulls_page(self, repo: str, cursor: dict, state) -> Page:
        """One page of a repository's PRs, newest update first, down to the watermark. For each PR
        that changed since it was stored: its detail, reviews and commits."""
        before = self.http.requests_made
        first = not cursor.get("url")
        url = cursor.get("url") or PULLS.path.format(repo=repo)
        params = None if cursor.get("url") else {**PULLS.params, "per_page": self.page_size}
        if first and state.stream_etag:
            # Nothing in the repository changed since the last complete sync: one free request.
            resp = self.http.request("GET", url, params=params, headers={"If-None-Match": state.stream_etag},
                                     allow_304=True)
        else:
            resp = self.http.request("GET", url, params=params)
        if resp.status == 304:
            return Page([], None, requests_made=self.http.requests_made - before, not_modified=1,
                        stream_etag=state.stream_etag)

        since = parse_github_datetime(cursor.get("since"))
        items = github_items(resp.body, f"the pull request list of {repo} ({resp.url})")
        key = PULLS.replication_key
        fresh = [pr for pr in items if since is None or parse_github_datetime(pr[key]) >= since]
        reached_watermark = len(fresh) < len(items)
        stored = state.stored_versions(PULL, [pull_id(repo, pr["number"]) for pr in fresh])
        records: list[Record] = []
        for pr in fresh:
            if stored.get(pull_id(repo, pr["number"])) == pr[key]:
                continue  # stored and processed at this version: no sub-requests
            records += self.pull_records(repo, pr["number"], state)
        next_cursor = None if reached_watermark else self.paginator.next_cursor(resp.headers, cursor)
        self.http.not_modified, not_modified = 0, self.http.not_modified
        complete_read = first and since is None
        return Page(records, next_cursor, requests_made=self.http.requests_made - before,
                    not_modified=not_modified, stream_etag=resp.headers.get("ETag") if first else None,
                    listed=len(fresh), source_total=self.listed_at_least(resp.headers, items) if complete_read else None)

    def listed_at_least(self, first_page_headers, items: list) -> int:
        """How many PRs a complete listing must reach: GitHub gives no total, but its first page's
        rel="last" link says how many pages there are, so at least (last - 1) full pages and one
        more PR (a single page: its items)."""
        last = self.paginator.last_page(first_page_headers)
        return len(items) if last is None else (last - 1) * self.page_size + 1

    def pull_records(self, repo: str, number: int, state) -> list[Record]:
        fetched_at = datetime.now(timezone.utc).isoformat()
        pid = pull_id(repo, number)
        out = []
        detail = self.get_conditional(PULL_DETAIL.format(repo=repo, number=number), None, state)
        if detail.status == 200:
            pr = detail.body
            out.append(Record(PULL, pid, pr, parse_github_datetime(pr.get(PULLS.replication_key)),
                              {"request_url": detail.url, "fetched_at": fetched_at}))
        for review in self.paged(SUB_RESOURCES[REVIEW].format(repo=repo, number=number), state):
            out.append(Record(REVIEW, str(review["id"]), review, None, {"pull": pid, "fetched_at": fetched_at}))
        for commit in self.paged(SUB_RESOURCES[COMMIT].format(repo=repo, number=number), state):
            out.append(Record(COMMIT, f"{pid}:{commit['sha']}", commit, None, {"pull": pid, "fetched_at": fetched_at}))
        return out

    def paged(self, path: str, state, per_page: int = 100):
        """Every item of a paginated sub-list. Pages are addressed by number so that a page
        answered 304 (unchanged, already stored) does not hide the pages after it."""
        page = 1
        while True:
            resp = self.get_conditional(path, {"per_page": per_page, "page": page}, state)
            if resp.status == 200:
                items = github_items(resp.body, f"{path} page {page}")
                yield from items
                if len(items) < per_page:
                    return
            page += 1

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
        url, params, numbers = PULLS.path.format(repo=repo), ID_LISTING_PARAMS, set()
        while url:
            resp = self.http.request("GET", url, params=params)
            numbers.update(pr["number"] for pr in github_items(resp.body, f"the pull request list of {repo}"))
            url, params = (self.paginator.next_cursor(resp.headers, {}) or {}).get("url"), None
        return numbers


    def get_conditional(self, url: str, params: dict | None, state) -> Response:
        """GET with the stored validators; remembers new ones in `state` (saved with the data)."""
        full_url = self.http.url_for(url) + ("?" + urlencode(params) if params else "")
        etag, last_modified = state.validators(full_url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        resp = self.http.request("GET", full_url, headers=headers, allow_304=True)
        if resp.status == 200:
            state.remember(full_url, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
        return resp
