"""Jira REST client: Cloud (/rest/api/3/search/jql, nextPageToken) and Data Center
(/rest/api/2/search, startAt/total), as declared in streams.py. HTTP, auth, paging and changelog
completion; no SQL here."""
from __future__ import annotations

import base64
import logging
from datetime import datetime, timezone

from etl.sources.base import Page, Record
from etl.sources.http import FatalError, HttpClient, Response, parse_json
from etl.sources.jira.page import HistoryText, IssueText, split_changelog_page, split_search_page
from etl.sources.jira.streams import API, ISSUE, ISSUES
from etl.sources.pagination import IncompletePage

log = logging.getLogger(__name__)

# Jira Cloud returns only `id` unless fields are named (FIELD-NOTES).
FIELDS = [
    "summary", "description", "issuetype", "status", "priority", "assignee", "reporter", "creator",
    "created", "updated", "resolution", "resolutiondate", "labels", "components", "fixVersions",
    "parent", "project", "duedate",
]
STORY_POINT_NAMES = ("story point estimate", "story points", "story point")
BULK_CHANGELOG_ISSUES = 1000
# Id-only listings (reconciliation) ask for the largest pages each flavour serves: Cloud returns up
# to 5,000 issues per page when only `id` is requested, Data Center up to 1,000.
LIST_PAGE_SIZE = {"cloud": 5000, "dc": 1000}


def parse_jira_datetime(value: str | None) -> datetime | None:
    """Jira's `2024-03-05T10:11:12.345+0000`, always with its offset. fromisoformat rather than
    strptime: a changelog has thousands of these per page, and strptime was a tenth of a
    transform's time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (ValueError, TypeError):
        raise ValueError(f"{value!r} is not a Jira timestamp") from None
    if parsed.tzinfo is None or "T" not in value:
        raise ValueError(f"{value!r} is not a Jira timestamp (date, time and offset expected)")
    return parsed


def auth_headers(credentials: dict) -> dict[str, str]:
    """Cloud: email + API token (basic). Data Center: personal access token (bearer)."""
    if credentials.get("email"):
        pair = f"{credentials['email']}:{credentials['token']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {"Authorization": f"Bearer {credentials['token']}"}


def quote_jql(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_jql(settings: dict, since_ms: int | None) -> str:
    """Epoch milliseconds, never date strings: JQL reads those in the API user's time zone."""
    if settings.get("jql"):
        clauses = [f"({settings['jql']})"]
    else:
        clauses = ["project in (" + ", ".join(quote_jql(p) for p in settings["projects"]) + ")"]
    if since_ms is not None:
        clauses.append(f"updated >= {since_ms}")
    return " AND ".join(clauses) + " ORDER BY updated ASC, key ASC"


class JiraClient:
    def __init__(self, base_url: str, credentials: dict, settings: dict, page_size: int = 100, timeout: float = 30.0):
        self.settings = settings
        self.flavor = "cloud" if settings.get("flavor", "cloud") == "cloud" else "dc"
        self.cloud = self.flavor == "cloud"
        self.page_size = page_size
        self.http = HttpClient(base_url, auth_headers(credentials), timeout=timeout)
        self.api = API[self.flavor]
        self.issues = ISSUES[self.flavor]
        self.paginator = self.issues.paginator

    def close(self) -> None:
        self.http.close()

    # --- discovery ----------------------------------------------------------------------------

    def find_story_points_field(self) -> str | None:
        fields = self.http.request("GET", f"{self.api}/field").body or []
        by_name = {str(f.get("name", "")).lower(): f for f in fields if str(f.get("id", "")).startswith("customfield_")}
        for name in STORY_POINT_NAMES:
            if name in by_name:
                return by_name[name]["id"]
        return None

    # --- issues -------------------------------------------------------------------------------

    def search(self, params: dict, cursor: dict | None = None, decode=parse_json) -> Response:
        """GET the issue search of this flavor with `params` (jql, fields ...), at the cursor's page
        when there is one (the paginator's parameters). Every search request is built here."""
        if cursor is not None:
            params = {**params, **self.paginator.page_params(cursor)}
        return self.http.request("GET", self.issues.path, params=params, decode=decode)

    def search_page(self, cursor: dict) -> Page:
        """One page of issues for the cursor, each with its full changelog."""
        before = self.http.requests_made
        settings_update = None
        sp_field = self.settings.get("story_points_field")
        if not sp_field and "story_points_field" not in self.settings:
            sp_field = self.find_story_points_field()
            settings_update = {"story_points_field": sp_field}
        fields = ",".join(FIELDS + ([sp_field] if sp_field else []))
        resp = self.search({"jql": build_jql(self.settings, cursor.get("since_ms")), "fields": fields,
                            "expand": "changelog", "maxResults": self.page_size}, cursor,
                           decode=self._split_page)
        next_cursor = self.paginator.next_cursor(resp.body, cursor)  # refuses a page it cannot vouch for
        issues = resp.body[self.issues.records_key]
        source_total = self.expected_total(resp.body) if _is_first_page_of_a_complete_read(cursor) else None
        issues = self.complete_changelogs(issues)
        fetched_at = datetime.now(timezone.utc).isoformat()
        records = [self.issue_record(i, resp.url, cursor, fetched_at) for i in issues]
        return Page(records, next_cursor, requests_made=self.http.requests_made - before,
                    settings_update=settings_update, source_total=source_total)

    def expected_total(self, first_page: dict) -> int | None:
        """How many issues the JQL matches, for the completeness check: Data Center's `total`;
        on Cloud, which dropped it, POST /search/approximate-count with the same JQL. None when
        the site has no such endpoint (the check is then skipped, never failed)."""
        if not self.cloud:
            total = first_page.get("total")
            return total if isinstance(total, int) and not isinstance(total, bool) else None
        jql = build_jql(self.settings, None).split(" ORDER BY ", 1)[0]
        try:
            body = self.http.request("POST", f"{self.api}/search/approximate-count", json={"jql": jql}).body
        except FatalError as exc:
            log.warning("no approximate count from %s (%s): completeness not checked", self.http.base_url, exc.message)
            return None
        count = body.get("count") if isinstance(body, dict) else None
        if not isinstance(count, int) or isinstance(count, bool):
            raise IncompletePage("the approximate-count answer has no count")
        return count

    def list_issue_ids(self):
        """Yield the id of every issue the integration covers (id-only pages, same JQL as a full
        sync). A failure on any page raises: a caller must not act on a partial listing."""
        cursor: dict | None = {}
        params = {"jql": build_jql(self.settings, None), "fields": "id", "maxResults": LIST_PAGE_SIZE[self.flavor]}
        while cursor is not None:
            body = self.search(params, cursor).body
            next_cursor = self.paginator.next_cursor(body, cursor)
            for issue in body[self.issues.records_key]:
                yield str(issue["id"])
            cursor = next_cursor

    def issue_in_scope(self, issue_id: str) -> bool:
        """Whether an issue still exists and still matches the integration's projects / JQL (an
        issue moved to another project is gone for us). Used to confirm a missing id before it is
        marked deleted."""
        try:
            self.http.request("GET", f"{self.api}/issue/{issue_id}", params={"fields": "id"})
        except FatalError as exc:
            if exc.status == 404:  # deleted, or no longer visible to these credentials
                return False
            raise
        jql = build_jql(self.settings, None).replace(" ORDER BY", f" AND id = {int(issue_id)} ORDER BY", 1)
        body = self.search({"jql": jql, "fields": "id", "maxResults": 1}).body
        return bool((body or {}).get("issues"))

    def _split_page(self, content: bytes):
        return split_search_page(content, self.issues.records_key)

    def issue_record(self, issue: IssueText | dict, url: str, cursor: dict, fetched_at: str) -> Record:
        """The record of an issue kept as its text (etl.sources.jira.page) or, after a changelog
        completion or for an unexpected shape, parsed."""
        if isinstance(issue, IssueText):
            ext_id, key, updated, payload, text = issue.id, issue.key, issue.updated, None, issue.text
        else:
            ext_id, key, payload, text = issue["id"], issue.get("key"), issue, None
            updated = (issue.get("fields") or {}).get("updated")
        try:
            updated = parse_jira_datetime(updated)
        except ValueError:
            updated = None  # the transform reports the bad record; extraction keeps it
        return Record(ISSUE, str(ext_id), payload, updated,
                      {"request_url": url, "page_token": cursor.get("token"), "start_at": cursor.get("start_at"),
                       "fetched_at": fetched_at, "key": key}, text=text)

    def complete_changelogs(self, issues: list) -> list:
        """The embedded changelog holds only the latest histories; fetch the rest in bulk, one call
        per page of issues rather than one per issue. Returns the page's issues, completed."""
        truncated = [i for i in issues if _needs_completion(i)]
        if not truncated:
            return issues
        if self.cloud:
            histories = self.bulk_changelogs([_id_of(i) for i in truncated])
        else:
            histories = {_id_of(i): self.issue_changelog_dc(_key_of(i)) for i in truncated}
        completed = {id(i): _completed(i, sorted(histories.get(_id_of(i), []), key=history_order)) for i in truncated}
        return [completed.get(id(i), i) for i in issues]

    def bulk_changelogs(self, issue_ids: list[str]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for start in range(0, len(issue_ids), BULK_CHANGELOG_ISSUES):
            body: dict = {"issueIdsOrKeys": issue_ids[start:start + BULK_CHANGELOG_ISSUES], "maxResults": 1000}
            while True:
                page = self.http.request("POST", f"{self.api}/changelog/bulkfetch", json=body,
                                         decode=split_changelog_page).body
                if not isinstance(page, dict) or not isinstance(page.get("issueChangeLogs"), list):
                    # Taken as "no more histories", it would store truncated changelogs as complete.
                    raise IncompletePage("a changelog bulkfetch page answered without its issueChangeLogs list")
                for entry in page["issueChangeLogs"]:
                    out.setdefault(str(entry["issueId"]), []).extend(entry.get("changeHistories", []))
                if not page.get("nextPageToken"):
                    break
                body = {**body, "nextPageToken": page["nextPageToken"]}
        return out

    def issue_changelog_dc(self, key: str) -> list[dict]:
        body = self.http.request("GET", f"{self.api}/issue/{key}", params={"fields": "id", "expand": "changelog"}).body
        histories = ((body if isinstance(body, dict) else {}).get("changelog") or {}).get("histories")
        if not isinstance(histories, list):
            raise IncompletePage(f"issue {key} answered without its changelog histories")
        return histories


def _is_first_page_of_a_complete_read(cursor: dict) -> bool:
    """A stream's first page with no `updated >=` bound: the whole JQL is read (full syncs, and a
    first sync), so the source's count of it can be compared with what the pages held."""
    return cursor.get("since_ms") is None and not cursor.get("token") and not cursor.get("start_at")


def _needs_completion(issue) -> bool:
    if isinstance(issue, IssueText):
        return issue.changelog_truncated
    return _is_truncated(issue.get("changelog"))


def _id_of(issue) -> str:
    return str(issue.id if isinstance(issue, IssueText) else issue["id"])


def _key_of(issue):
    return issue.key if isinstance(issue, IssueText) else issue["key"]


def history_order(history: HistoryText | dict) -> tuple:
    """Oldest first, by creation time then id."""
    if isinstance(history, HistoryText):
        return history.created, int(history.id)
    return history.get("created", ""), int(history.get("id", 0))


def _completed(issue, histories: list) -> IssueText | dict:
    """The issue with its whole changelog: in its text when it and its histories are texts, else
    parsed, with the changelog the embedded one would be if Jira embedded them all."""
    if isinstance(issue, IssueText) and all(isinstance(h, HistoryText) for h in histories):
        return issue.with_histories(histories)
    issue = issue.parsed() if isinstance(issue, IssueText) else issue
    full = [h.parsed() if isinstance(h, HistoryText) else h for h in histories]
    issue["changelog"] = {"startAt": 0, "maxResults": len(full), "total": len(full), "histories": full}
    return issue


def _is_truncated(changelog: dict | None) -> bool:
    if not changelog:
        return False
    return int(changelog.get("total", 0)) > len(changelog.get("histories") or [])
