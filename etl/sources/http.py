"""The HTTP layer every source client shares: one requests.Session (connection reuse), timeouts,
and failures classified once, under one error root (STYLE.md 4):

- RetriableError: 429, 5xx, connection errors, unreadable bodies. The task re-queues itself later,
  honouring Retry-After; a worker never sleeps through it.
- FatalError: any other 4xx, carrying the source's own message (bad credentials, unknown project).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import orjson
import requests

log = logging.getLogger(__name__)


class SourceError(Exception):
    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.url = url


class RetriableError(SourceError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimited(RetriableError):
    """The source's budget is spent until retry_after seconds from now: pause the integration."""


class FatalError(SourceError):
    pass


@dataclass
class Response:
    status: int
    url: str
    headers: requests.structures.CaseInsensitiveDict
    body: object  # parsed JSON, or None for 304


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


# A UTF-16 surrogate escape without its pair (\ud83d alone: an emoji cut in half by the source),
# where the backslash before it is not itself escaped. JSON allows it; orjson, Python's UTF-8 and
# PostgreSQL's JSONB refuse it.
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)((?:\\\\)*)(\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})")


def parse_json(content: bytes):
    """orjson, but a lone surrogate in one string (which orjson refuses) becomes U+FFFD instead of
    failing the whole page, forever, on every retry."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise
        return orjson.loads(_LONE_SURROGATE.sub(rb"\1\\ufffd", content))


def source_message(resp: requests.Response) -> str:
    """The source's own explanation: Jira's errorMessages/errors, GitHub's message."""
    try:
        data = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        text = resp.text.strip()
        return text[:300] or resp.reason or f"HTTP {resp.status_code}"
    if isinstance(data, dict):
        parts = list(data.get("errorMessages") or [])
        parts += [f"{k}: {v}" for k, v in (data.get("errors") or {}).items()] if isinstance(data.get("errors"), dict) else []
        if data.get("message"):
            parts.append(str(data["message"]))
        if parts:
            return "; ".join(parts)
    return resp.reason or f"HTTP {resp.status_code}"


class HttpClient:
    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "pulse-etl", **headers})
        self.requests_made = 0

    def url_for(self, path_or_url: str) -> str:
        return path_or_url if path_or_url.startswith("http") else f"{self.base_url}{path_or_url}"

    def request(self, method: str, path_or_url: str, *, params=None, json=None, headers=None,
                allow_304: bool = False) -> Response:
        url = self.url_for(path_or_url)
        self.requests_made += 1
        try:
            resp = self.session.request(method, url, params=params, json=json, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetriableError(f"cannot reach {self.base_url}: {exc.__class__.__name__}", url=url) from exc
        self.check_status(resp)
        if resp.status_code == 304 and allow_304:
            return Response(304, resp.url, resp.headers, None)
        try:
            body = parse_json(resp.content) if resp.content else None
        except orjson.JSONDecodeError as exc:
            # A truncated or garbled body is a transport problem more often than a contract change.
            raise RetriableError(f"{method} {url} returned a body that is not valid JSON", url=url,
                                 status=resp.status_code) from exc
        return Response(resp.status_code, resp.url, resp.headers, body)

    def check_status(self, resp: requests.Response) -> None:
        status = resp.status_code
        if status < 400 or status == 304:
            return
        message = f"{resp.request.method} {resp.url} -> {status}: {source_message(resp)}"
        if status == 429 or status >= 500:
            raise RetriableError(message, status=status, url=resp.url,
                                 retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        raise FatalError(message, status=status, url=resp.url)

    def close(self) -> None:
        self.session.close()
