"""Paginators: small strategy objects that read a response and say how to ask for the next page,
or that there is none (STYLE.md 3). A cursor is a small JSON dict stored on the next batch, so any
worker can fetch the next page.

A page ends a stream only when the protocol says so in words: Jira Cloud's `isLast: true`, Data
Center's `startAt + len(issues) >= total`, GitHub's missing `next` link. A page that cannot vouch
for itself (an empty 200, a body without its items, no `isLast`, a token that repeats) is never
taken as the end of the data: it raises IncompletePage, a retriable error that names the page, and
the job fails with it when the retries run out. Taking it for the end would end the job
`succeeded` with the rest of the data missing."""
from __future__ import annotations

from etl.sources.http import RetriableError


class IncompletePage(RetriableError):
    """A page the protocol cannot vouch for: retried, never taken as the end of the data."""


def _items(body, key: str, where: str) -> list:
    if not isinstance(body, dict):
        raise IncompletePage(f"{where} answered without a JSON object (an empty or cut-short page?)")
    items = body.get(key)
    if not isinstance(items, list):
        raise IncompletePage(f"{where} answered without its {key!r} list")
    return items


class TokenPaginator:
    """Jira Cloud /search/jql: `nextPageToken` + `isLast`. No total; a short page is not the last."""

    def page_params(self, cursor: dict) -> dict:
        """The query parameters that ask for the cursor's page."""
        return {"nextPageToken": cursor["token"]} if cursor.get("token") else {}

    def next_cursor(self, body, cursor: dict) -> dict | None:
        where = f"the Jira search page {'after token ' + repr(cursor['token']) if cursor.get('token') else 'one'}"
        _items(body, "issues", where)
        is_last = body.get("isLast")
        if is_last is True:
            return None
        if is_last is not False:
            raise IncompletePage(f"{where} has no isLast: it cannot be taken as the last page")
        token = body.get("nextPageToken")
        if not token or not isinstance(token, str):
            raise IncompletePage(f"{where} says it is not the last page but gives no nextPageToken")
        if token == cursor.get("token"):
            raise IncompletePage(f"{where} gives the same nextPageToken again: the next page would repeat it")
        return {**cursor, "token": token}


class OffsetPaginator:
    """Jira Data Center /search: `startAt` + `total`."""

    def __init__(self, items_key: str):
        self.items_key = items_key

    def page_params(self, cursor: dict) -> dict:
        return {"startAt": cursor.get("start_at", 0)}

    def next_cursor(self, body, cursor: dict) -> dict | None:
        start = cursor.get("start_at", 0)
        where = f"the Jira search page at startAt {start}"
        items = _items(body, self.items_key, where)
        total = body.get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise IncompletePage(f"{where} has no total: it cannot be taken as the last page")
        nxt = start + len(items)
        if nxt >= total:
            return None
        if not items:
            raise IncompletePage(f"{where} is empty while total says {total}")
        return {**cursor, "start_at": nxt}


class LinkPaginator:
    """GitHub: follow the `Link` header's rel="next" URL (it carries the query)."""

    def next_cursor(self, headers, cursor: dict) -> dict | None:
        for part in (headers.get("Link") or "").split(","):
            url, _, rel = part.partition(";")
            if 'rel="next"' in rel:
                return {**cursor, "url": url.strip().strip("<>")}
        return None


def github_items(body, where: str) -> list:
    """A GitHub list page's items: a JSON array, or IncompletePage (an empty or cut-short 200 is
    not an empty list)."""
    if not isinstance(body, list):
        raise IncompletePage(f"{where} answered without a JSON array (an empty or cut-short page?)")
    return body
