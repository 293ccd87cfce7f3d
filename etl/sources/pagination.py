"""Paginators: small strategy objects that read a response and say how to ask for the next page,
or that there is none (STYLE.md 3). A cursor is a small JSON dict stored on the next batch, so any
worker can fetch the next page."""
from __future__ import annotations


class TokenPaginator:
    """Jira Cloud /search/jql: `nextPageToken` + `isLast`. No total; a short page is not the last."""

    def next_cursor(self, body: dict, cursor: dict) -> dict | None:
        token = body.get("nextPageToken")
        if body.get("isLast", token is None) or not token:
            return None
        return {**cursor, "token": token}


class OffsetPaginator:
    """Jira Data Center /search: `startAt` + `total`."""

    def __init__(self, items_key: str):
        self.items_key = items_key

    def next_cursor(self, body: dict, cursor: dict) -> dict | None:
        items = body.get(self.items_key) or []
        start = int(body.get("startAt", cursor.get("start_at", 0)))
        nxt = start + len(items)
        if not items or nxt >= int(body.get("total", 0)):
            return None
        return {**cursor, "start_at": nxt}


class LinkPaginator:
    """GitHub: follow the `Link` header's rel="next" URL (it carries the query)."""

    def next_cursor(self, headers, cursor: dict) -> dict | None:
        for part in (headers.get("Link") or "").split(","):
            url, _, rel = part.partition(";")
            if 'rel="next"' in rel:
                return {**cursor, "url": url.strip().strip("<>")}
        return None
