"""The HTTP layer every source client shares: one requests.Session (connection reuse), timeouts,
and failures classified once, under one error root (STYLE.md 4):

- RetriableError: 429, 5xx, connection errors, unreadable bodies. The task re-queues itself later,
  honouring Retry-After; a worker never sleeps through it.
- RateLimited (a RetriableError): the source's request budget is spent until its reset (GitHub's
  x-ratelimit-remaining 0, or nearly spent: see RateLimitPolicy.min_remaining); the integration
  pauses until then.
- FatalError: any other 4xx, carrying the source's own structured message (bad credentials, unknown
  project), never the body's text; a redirect to another host; a refused destination.

A source says how it signals rate limits with a RateLimitPolicy (which statuses may mean "slow down",
which headers carry the budget); HttpClient.check_status applies it, so no client classifies an
answer of its own. Callers only decide (the task base: retry, pause, fail; the connection test: which
setting to fix).

Every request goes only where the integration's base URL points (same scheme, host and port: a
pagination link or a redirect elsewhere is refused), and every connection only to an address the
outbound policy accepts (etl/sources/outbound.py), checked after DNS resolution at connect time.
"""
from __future__ import annotations

import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, DecodeError, HTTPError, NameResolutionError

from etl.config import get_settings
from etl.sources import outbound

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


class OutboundRefused(FatalError):
    """The destination is not one requests may go to (outbound policy, another host)."""


@dataclass(frozen=True)
class RateLimitPolicy:
    """How a source says "slow down" rather than "no".

    - `statuses`: answers that are a rate limit when they carry Retry-After or a spent budget
      (GitHub answers 403 as well as 429); otherwise a 429 is retried after `default_wait` (None:
      the task's own backoff) and any other of them is fatal.
    - `remaining_header` / `reset_header`: the budget left and its reset (epoch seconds), read on
      every answer; a budget of "0" on a limit status pauses the integration (RateLimited).
    - `min_remaining`: no request is made while the budget is at or below it (the rest is left to
      other users of the token); RateLimited until the reset.
    - `name`: how messages name the source."""

    name: str = "the source"
    statuses: tuple[int, ...] = (429,)
    remaining_header: str | None = None
    reset_header: str | None = None
    default_wait: float | None = None
    min_remaining: int = 0


@dataclass
class Response:
    status: int
    url: str
    headers: requests.structures.CaseInsensitiveDict
    body: object  # parsed JSON, or None for an empty body


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
        return orjson.loads(without_lone_surrogates(content))


def without_lone_surrogates(content: bytes) -> bytes:
    """JSON text with its lone surrogates made U+FFFD (parse_json's answer, for text kept as text:
    etl.sources.jira.page); PostgreSQL's JSONB refuses them too."""
    return _LONE_SURROGATE.sub(rb"\1\\ufffd", content)


SOURCE_MESSAGE_MAX = 300


def source_message(resp: requests.Response) -> str:
    """The source's own explanation, from its structured JSON error only: Jira's
    errorMessages/errors, GitHub's message; capped. Anything else (an HTML page, plain text, an
    internal service's answer) is never quoted: tenants read these messages."""
    host = urlsplit(resp.url).netloc
    try:
        data = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return f"the server at {host} answered HTTP {resp.status_code} with a non-JSON body"
    parts = []
    if isinstance(data, dict):
        errors = data.get("errorMessages")
        parts += [str(m) for m in errors] if isinstance(errors, list) else []
        errors = data.get("errors")
        parts += [f"{k}: {v}" for k, v in errors.items()] if isinstance(errors, dict) else []
        parts += [str(data["message"])] if data.get("message") else []
    if not parts:
        return f"the server at {host} answered HTTP {resp.status_code} without an error message"
    message = "; ".join(parts)
    return message if len(message) <= SOURCE_MESSAGE_MAX else message[:SOURCE_MESSAGE_MAX - 3] + "..."


class HeadersTooSlow(TimeoutError):
    """An answer's status line and headers did not all come within the read timeout. A
    TimeoutError, so urllib3 and requests take it for the read timeout it is (requests.ReadTimeout)
    and drop the connection instead of pooling it."""


class GuardedConnectionMixin:
    """Resolves the host once, keeps the addresses the outbound policy accepts, and connects to
    one of those (never to a second lookup's answer). The Host header and TLS (SNI, certificate
    check) still use the host name: urllib3 reads them from `host`, not from `_dns_host`.

    The read timeout also bounds the time until an answer's headers have all come (getresponse):
    it bounds each read only, and a server sending a byte just within it would hold the worker
    through up to 100 headers of 64 KiB."""

    def getresponse(self):
        if not isinstance(self.timeout, (int, float)):  # no timeout asked for (None)
            return super().getresponse()
        late = threading.Event()
        timer = threading.Timer(self.timeout, _cut_off, (self.sock, late))
        timer.daemon = True
        timer.start()
        try:
            response = super().getresponse()
        finally:
            timer.cancel()
            timer.join()  # a cut-off already begun has ended: `late` is final
            if late.is_set():  # whatever the cut socket gave (an error, or headers ended early) is not the answer
                raise HeadersTooSlow(f"the answer's headers took longer than {self.timeout:g} s")
        return response

    def _new_conn(self):
        host = self._dns_host
        try:
            addresses = outbound.checked_addresses(host, self.port)
        except outbound.Refused as exc:
            raise OutboundRefused(str(exc)) from None
        except (OSError, UnicodeError) as exc:  # the name does not resolve: reported as urllib3 reports it
            raise NameResolutionError(self.host, self, exc) from exc
        try:
            for i, address in enumerate(addresses):
                self._dns_host = address
                try:
                    return super()._new_conn()
                except ConnectTimeoutError:  # or NewConnectionError: try the next checked address
                    if i == len(addresses) - 1:
                        raise
        finally:
            self._dns_host = host


def _cut_off(sock: socket.socket, late: threading.Event) -> None:
    """Wakes the read blocked on `sock` (it sees the end of the stream). socket.socket's own
    shutdown even for a TLS socket: SSLSocket.shutdown also drops its TLS state, under the read."""
    late.set()
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class GuardedHTTPConnection(GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool,
                                                   "https": GuardedHTTPSConnectionPool}


@dataclass(frozen=True)
class Bounds:
    """What one request may take, its redirects included: each answer's body up to `limit` bytes,
    and all of it within `seconds` of `started` (time.monotonic)."""

    limit: int
    started: float
    seconds: float

    def time_left(self, url: str) -> float:
        left = self.started + self.seconds - time.monotonic()
        if left <= 0:
            raise RetriableError(f"{url} took longer than {self.seconds:g} s to send its answer", url=url)
        return left


class SameOriginSession(requests.Session):
    """Follows a redirect only to the same scheme, host and port (GitHub's moved repositories, a
    path that gained a slash), at most 5; a redirect elsewhere comes back as the 3xx answer, which
    HttpClient refuses. Environment proxies and .netrc are ignored (trust_env): a proxy would take
    the connection past the address check, and .netrc would add credentials.

    With `bounds` set (HttpClient, before each request), a request and its redirects share one
    deadline and a followed redirect's body is read within them; without, that body is dropped
    unread: requests itself would read it whole, without limit."""

    def __init__(self):
        super().__init__()
        self.max_redirects = 5  # requests.Session.__init__ sets 30 on the instance
        self.trust_env = False
        self.bounds: Bounds | None = None
        adapter = GuardedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request, **kwargs):
        if self.bounds is not None:  # a redirect's request gets only what is left of the first one's time
            kwargs["timeout"] = self.bounds.time_left(request.url)
        return super().send(request, **kwargs)

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target and outbound.origin(urljoin(resp.url, target)) != outbound.origin(resp.url):
            return None
        if target:
            self._read_redirect_body(resp)
        return target

    def _read_redirect_body(self, resp: requests.Response) -> None:
        # Before requests' resolve_redirects reads resp.content; it asks for the target twice per
        # redirect followed (Session.send's resp.next, then the loop), so only the first reads.
        if resp._content is not False:
            return
        if self.bounds is None:
            resp.close()
            resp._content = b""
        else:
            read_body(resp, self.bounds.limit, self.bounds.started, self.bounds.seconds)


# An answer's body is read in pieces of this size (decoded: urllib3 bounds the decompression of
# each read, so a compressed body cannot balloon past it in one step). requests read 10 KiB at a
# time: a 700 KB Jira page took 70 reads and a join, 7% of the extract's CPU (issue 12).
BODY_CHUNK = 256 * 1024


class BodyTooLarge(FatalError):
    """The answer's body passed ETL_MAX_RESPONSE_BYTES: the source (a tenant's URL) could send
    without end, and a worker must not hold it all."""


def read_body(resp: requests.Response, limit: int, started: float, seconds: float) -> bytes:
    """The whole body of a streamed answer, at most `limit` bytes once decoded, all of it within
    `seconds` of `started` (time.monotonic): requests' timeout bounds each read from the socket, not
    the answer, so a server dripping bytes would hold the worker for ever (read1: one socket read
    per call, so the deadline is checked as the bytes come). A body cut short or garbled on the way raises
    RetriableError, as requests' own reading did (ChunkedEncodingError, ContentDecodingError)."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(resp, limit)
    chunks, size = [], 0
    try:
        while chunk := resp.raw.read1(BODY_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise _too_large(resp, limit)
            if time.monotonic() - started > seconds:
                raise RetriableError(f"{resp.url} took longer than {seconds:g} s to send its answer",
                                     url=resp.url, status=resp.status_code)
            chunks.append(chunk)
    except (HTTPError, OSError) as exc:  # urllib3's ProtocolError, ReadTimeoutError, DecodeError, SSLError
        kind = "garbled" if isinstance(exc, DecodeError) else "cut short"
        raise RetriableError(f"the answer of {resp.url} was {kind} on the way: {exc.__class__.__name__}",
                             url=resp.url, status=resp.status_code) from exc
    finally:
        resp.close()
    body = b"".join(chunks)  # one chunk: that chunk itself, not a copy (CPython)
    resp._content = body  # resp.content (source_message) reads what was read here
    return body


def _too_large(resp: requests.Response, limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"{resp.request.method} {resp.url} answered more than {limit // (1024 * 1024)} MiB "
                        "(ETL_MAX_RESPONSE_BYTES); lower the page size or raise the limit",
                        url=resp.url, status=resp.status_code)


# What the wire can do to a request, all retriable: refused or reset connections, TLS failures
# (SSLError is a ConnectionError), timeouts, and a body cut short or garbled on the way
# (ChunkedEncodingError, ContentDecodingError are not ConnectionErrors). Only a source's answer
# that means "fix your configuration" is fatal.
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)


def _refuse_unsendable_headers(headers: dict[str, str]) -> None:
    """Credentials stored before they were checked may hold characters no HTTP header can carry
    (`€`): say so in words instead of failing inside the HTTP library on every request."""
    for name, value in headers.items():
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise FatalError(f"the credentials in the {name} header contain characters an HTTP header cannot carry; "
                             "send the credentials again") from None


class HttpClient:
    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 30.0,
                 rate_limits: RateLimitPolicy = RateLimitPolicy()):
        self.base_url = base_url.rstrip("/")
        self.origin = outbound.origin(self.base_url)
        self.timeout = timeout
        self.deadline: float | None = None
        self.rate_limits = rate_limits
        _refuse_unsendable_headers(headers)
        self.session = SameOriginSession()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "pulse-etl", **headers})
        self.requests_made = 0
        self.remaining: int | None = None  # the budget last seen (rate_limits.remaining_header)
        self.reset_at: float | None = None  # when it resets, epoch seconds

    def limit_total_time(self, seconds: float) -> None:
        """Every request from now on must end within `seconds` in all (a connection test)."""
        self.deadline = time.monotonic() + seconds

    def url_for(self, path_or_url: str) -> str:
        """The URL to request, refused unless it is on the base URL's scheme, host and port: an
        absolute URL comes from the source (a Link header, a next-page URL), and the credentials
        must not follow it elsewhere."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}{path_or_url}"
        problem = outbound.url_part_problem(self.base_url)
        if problem:  # stored before base URLs were checked for these
            raise OutboundRefused(f"the base URL {problem}; change it", url=self.base_url)
        if outbound.origin(url) != self.origin:
            scheme, host, port = outbound.origin(url)
            raise OutboundRefused(f"refused to follow a link to {scheme}://{host}:{port}: requests go only to the "
                                  f"integration's base URL {self.base_url}")
        return url

    def _request_timeout(self) -> float:
        if self.deadline is None:
            return self.timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RetriableError(f"{self.base_url} did not answer in time")
        return min(self.timeout, remaining)

    def request(self, method: str, path_or_url: str, *, params=None, json=None, decode=parse_json) -> Response:
        """`decode` turns a non-empty body into Response.body (raising orjson.JSONDecodeError for
        one that is not JSON)."""
        self._refuse_spending_the_reserve()
        url = self.url_for(path_or_url)
        self.requests_made += 1
        timeout, started = self._request_timeout(), time.monotonic()
        limit = get_settings().max_response_bytes
        self.session.bounds = Bounds(limit, started, timeout)
        try:
            resp = self.session.request(method, url, params=params, json=json, timeout=timeout, stream=True)
        except requests.ReadTimeout as exc:  # body reads come later (read_body): this is the headers' wait
            raise RetriableError(f"{self.base_url} took longer than {timeout:g} s to send its answer's headers",
                                 url=url) from exc
        except TRANSPORT_ERRORS as exc:
            raise RetriableError(f"cannot reach {self.base_url}: {exc.__class__.__name__}", url=url) from exc
        except requests.RequestException as exc:  # its text may quote a URL or a header: the name only
            raise FatalError(f"cannot ask {self.base_url}: {exc.__class__.__name__}", url=url) from exc
        content = read_body(resp, limit, started, timeout)
        self.check_status(resp)
        try:
            body = decode(content) if content else None
        except orjson.JSONDecodeError as exc:
            # A truncated or garbled body is a transport problem more often than a contract change.
            raise RetriableError(f"{method} {url} returned a body that is not valid JSON", url=url,
                                 status=resp.status_code) from exc
        return Response(resp.status_code, resp.url, resp.headers, body)

    def seconds_to_reset(self) -> float:
        """How long until the budget last seen resets (a minute when no reset was seen), at least 1 s."""
        return max(1.0, (self.reset_at or time.time() + 60) - time.time() + 1)

    def reserve_reached(self) -> bool:
        """Whether the budget last seen is down to the reserve the source must keep (min_remaining)."""
        return self.remaining is not None and self.remaining <= self.rate_limits.min_remaining and bool(self.reset_at)

    def _refuse_spending_the_reserve(self) -> None:
        if self.reserve_reached():
            raise RateLimited(f"{self.rate_limits.name} rate limit nearly spent ({self.remaining} left); waiting for "
                              "the reset", retry_after=self.seconds_to_reset())

    def _read_budget(self, resp: requests.Response) -> None:
        policy = self.rate_limits
        remaining = resp.headers.get(policy.remaining_header) if policy.remaining_header else None
        reset = resp.headers.get(policy.reset_header) if policy.reset_header else None
        if remaining is not None and remaining.isdigit():
            self.remaining = int(remaining)
        if reset is not None and reset.isdigit():
            self.reset_at = float(reset)

    def check_status(self, resp: requests.Response) -> None:
        """Every answer is classified here, once: a non-2xx answer raises the error class that
        says what to do with it, in words a tenant may read."""
        self._read_budget(resp)
        policy = self.rate_limits
        status = resp.status_code
        # No request is conditional, so a 304 Not Modified answers nothing asked: not a redirect, it
        # ends as a FatalError below like any other answer this client cannot use.
        if 300 <= status < 400 and status != 304:
            raise OutboundRefused(f"{resp.request.method} {resp.url} -> {status}: a redirect that is not followed "
                                  "(only redirects on the same host are); set the base URL to the address the source "
                                  "answers on",
                                  status=status, url=resp.url)
        if status < 300:
            return
        message = f"{resp.request.method} {resp.url} -> {status}: {source_message(resp)}"
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        if status in policy.statuses:
            if retry_after is not None:  # a secondary limit: retried after that delay
                raise RetriableError(message, status=status, url=resp.url, retry_after=retry_after)
            if policy.remaining_header and resp.headers.get(policy.remaining_header) == "0":
                raise RateLimited(message, status=status, url=resp.url, retry_after=self.seconds_to_reset())
            if status == 429:
                raise RetriableError(message, status=status, url=resp.url, retry_after=policy.default_wait)
        if status == 429 or status >= 500:
            raise RetriableError(message, status=status, url=resp.url, retry_after=retry_after)
        raise FatalError(message, status=status, url=resp.url)

    def close(self) -> None:
        self.session.close()
