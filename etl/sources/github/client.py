"""GitHub REST client (github.com or GitHub Enterprise /api/v3): pull requests with their detail,
reviews and commits. Rate limits as GitHub documents them, conditional requests, Link paging."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import requests

from etl.sources.base import Page, Record
from etl.sources.http import (
    FatalError,
    HttpClient,
    OutboundRefused,
    RateLimited,
    Response,
    RetriableError,
    parse_retry_after,
    source_message,
)
from etl.sources.pagination import LinkPaginator, github_items

PULL = "github_pull_request"
REVIEW = "github_pr_review"
COMMIT = "github_pr_commit"
SECONDARY_LIMIT_WAIT = 60  # GitHub: without retry-after, wait at least a minute


def parse_github_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class GitHubHttp(HttpClient):
    """GitHub's failure rules on top of the shared layer:
    - 403/429 with retry-after: a secondary limit, retried after that delay;
    - 403/429 with x-ratelimit-remaining 0: the primary budget is spent until x-ratelimit-reset:
      the integration pauses (RateLimited);
    - any other 403: a permission problem, fatal, with GitHub's message.
    It also keeps the budget it last saw and refuses to spend the last `min_remaining` requests."""

    def __init__(self, base_url: str, token: str, timeout: float, min_remaining: int):
        super().__init__(base_url, {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                                    "X-GitHub-Api-Version": "2022-11-28"}, timeout=timeout)
        self.min_remaining = min_remaining
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.not_modified = 0

    def request(self, method, path_or_url, **kw) -> Response:
        if self.remaining is not None and self.remaining <= self.min_remaining and self.reset_at:
            raise RateLimited(f"GitHub rate limit nearly spent ({self.remaining} left); waiting for the reset",
                              retry_after=max(1.0, self.reset_at - time.time() + 1))
        resp = super().request(method, path_or_url, **kw)
        if resp.status == 304:
            self.not_modified += 1
        return resp

    def check_status(self, resp: requests.Response) -> None:
        self._read_budget(resp)
        status = resp.status_code
        if status in (403, 429):
            message = f"{resp.request.method} {resp.url} -> {status}: {source_message(resp)}"
            retry_after = parse_retry_after(resp.headers.get("retry-after"))
            if retry_after is not None:
                raise RetriableError(message, status=status, url=resp.url, retry_after=retry_after)
            if resp.headers.get("x-ratelimit-remaining") == "0":
                wait = max(1.0, (self.reset_at or time.time() + 60) - time.time() + 1)
                raise RateLimited(message, status=status, url=resp.url, retry_after=wait)
            if status == 429:
                raise RetriableError(message, status=status, url=resp.url, retry_after=SECONDARY_LIMIT_WAIT)
            raise FatalError(message, status=status, url=resp.url)
        super().check_status(resp)

    def _read_budget(self, resp: requests.Response) -> None:
        remaining, reset = resp.headers.get("x-ratelimit-remaining"), resp.headers.get("x-ratelimit-reset")
        if remaining is not None and remaining.isdigit():
            self.remaining = int(remaining)
        if reset is not None and reset.isdigit():
            self.reset_at = float(reset)

    def get_conditional(self, url: str, params: dict | None, state) -> Response:
        """GET with the stored validators; remembers new ones in `state` (saved with the data)."""
        full_url = self.url_for(url) + ("?" + urlencode(params) if params else "")
        etag, last_modified = state.validators(full_url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        resp = self.request("GET", full_url, headers=headers, allow_304=True)
        if resp.status == 200:
            state.remember(full_url, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
        return resp


class GitHubClient:
    def __init__(self, base_url: str, token: str, settings: dict, *, page_size: int, timeout: float,
                 min_remaining: int):
        self.settings = settings
        self.page_size = page_size
        self.http = GitHubHttp(base_url, token, timeout, min_remaining)
        self.paginator = LinkPaginator()

    def close(self) -> None:
        self.http.close()

    def check_connection(self) -> dict:
        """Ask GitHub whether this integration can work: whose the token is (`/user`), then each
        configured repository. Never raises for what GitHub answers. Returns {"ok": True,
        "account": <login>, "checked": [...]} or {"ok": False, "error": <GitHub's message and what to
        fix>, "problem": credentials | url | repository | unavailable}."""
        base = self.http.base_url

        def failed(problem: str, error: str) -> dict:
            return {"ok": False, "problem": problem, "error": error}

        try:
            me = self.http.request("GET", "/user").body
            me = me if isinstance(me, dict) else {}
        except OutboundRefused as exc:
            return failed("url", exc.message)
        except FatalError as exc:
            if exc.status in (401, 403):
                return failed("credentials", f"GitHub at {base} rejected the token ({exc.message}); check the token")
            if exc.status == 404:
                return failed("url", f"{base} does not answer /user (404): check the base URL "
                                     "(https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise)")
            return failed("url", f"GitHub at {base} refused the check: {exc.message}")
        except RetriableError as exc:  # unreachable, 5xx, rate limited
            return failed("unavailable", f"cannot check GitHub at {base}: {exc.message}; check the base URL, "
                                         "or try again later")
        checked = []
        for repo in self.settings.get("repos") or []:
            try:
                self.http.request("GET", f"/repos/{repo}")
            except FatalError as exc:
                if exc.status == 404:
                    return failed("repository", f"repository {repo} not found at {base} (or the token cannot see "
                                                f"it): {exc.message}; check the repositories and the token's access")
                return failed("repository", f"GitHub refused repository {repo}: {exc.message}; give the token "
                                            "read access to it")
            except RetriableError as exc:
                return failed("unavailable", f"cannot check repository {repo} at {base}: {exc.message}; "
                                             "try again later")
            checked.append(f"repository {repo}")
        return {"ok": True, "account": me.get("login") or "unknown", "checked": checked}

    def pulls_page(self, repo: str, cursor: dict, state) -> Page:
        """One page of a repository's PRs, newest update first, down to the watermark. For each PR
        that changed since it was stored: its detail, reviews and commits."""
        before = self.http.requests_made
        first = not cursor.get("url")
        url = cursor.get("url") or f"/repos/{repo}/pulls"
        params = None if cursor.get("url") else {"state": "all", "sort": "updated", "direction": "desc",
                                                 "per_page": self.page_size}
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
        fresh = [pr for pr in items if since is None or parse_github_datetime(pr["updated_at"]) >= since]
        reached_watermark = len(fresh) < len(items)
        stored = state.stored_versions(PULL, [pull_id(repo, pr["number"]) for pr in fresh])
        records: list[Record] = []
        for pr in fresh:
            if stored.get(pull_id(repo, pr["number"])) == pr["updated_at"]:
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
        detail = self.http.get_conditional(f"/repos/{repo}/pulls/{number}", None, state)
        if detail.status == 200:
            pr = detail.body
            out.append(Record(PULL, pid, pr, parse_github_datetime(pr.get("updated_at")),
                              {"request_url": detail.url, "fetched_at": fetched_at}))
        for review in self.paged(f"/repos/{repo}/pulls/{number}/reviews", state):
            out.append(Record(REVIEW, str(review["id"]), review, None, {"pull": pid, "fetched_at": fetched_at}))
        for commit in self.paged(f"/repos/{repo}/pulls/{number}/commits", state):
            out.append(Record(COMMIT, f"{pid}:{commit['sha']}", commit, None, {"pull": pid, "fetched_at": fetched_at}))
        return out

    def paged(self, path: str, state, per_page: int = 100):
        """Every item of a paginated sub-list. Pages are addressed by number so that a page
        answered 304 (unchanged, already stored) does not hide the pages after it."""
        page = 1
        while True:
            resp = self.http.get_conditional(path, {"per_page": per_page, "page": page}, state)
            if resp.status == 200:
                items = github_items(resp.body, f"{path} page {page}")
                yield from items
                if len(items) < per_page:
                    return
            page += 1

    def pull_exists(self, external_id: str) -> bool:
        repo, _, number = external_id.rpartition("#")
        try:
            self.http.request("GET", f"/repos/{repo}/pulls/{number}")
        except FatalError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def list_repo_numbers(self, repo: str) -> set[int]:
        url, params, numbers = f"/repos/{repo}/pulls", {"state": "all", "per_page": 100}, set()
        while url:
            resp = self.http.request("GET", url, params=params)
            numbers.update(pr["number"] for pr in github_items(resp.body, f"the pull request list of {repo}"))
            url, params = (self.paginator.next_cursor(resp.headers, {}) or {}).get("url"), None
        return numbers


def pull_id(repo: str, number: int) -> str:
    return f"{repo}#{number}"


PULL_URL = re.compile(r"/repos/([^/]+/[^/]+)/pulls/(\d+)")


def pull_id_from_url(url: str) -> str:
    m = PULL_URL.search(url or "")
    if not m:
        raise ValueError(f"{url!r} is not a pull request URL")
    return pull_id(m.group(1), int(m.group(2)))
