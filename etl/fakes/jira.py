"""A faithful, fast local fake of the Jira REST API (Cloud and Data Center flavours).

Used by the Jira client's tests, the demo and the 20,000-issue benchmark, over real HTTP.

* Cloud: ``/rest/api/3/search/jql`` (nextPageToken/isLast, fields default to ``id`` only, embedded
  changelog truncated to the 40 most recent histories), ``/issue/{key}/changelog``,
  ``/changelog/bulkfetch``, ``POST /search/approximate-count`` (how many issues a JQL matches, for
  completeness checks; :attr:`FakeJira.approximate_count_offset` makes it disagree with the search);
  the removed ``/rest/api/{2,3}/search`` answers 410 Gone. Basic auth.
* Data Center: ``/rest/api/2/search`` with startAt/maxResults/total, full embedded changelog,
  wiki-markup descriptions; ``/rest/api/3/*`` is 404. Bearer personal access token.

Speed: every issue is kept in a compact form and its JSON is pre-serialized with orjson (one byte
string per top-level field and one per changelog history), cached per API version and invalidated
when the issue (or its parent/children, which embed it) changes. Pages are assembled by joining
bytes. Search walks a per-project index sorted by (updated, key).

Misbehaviour on demand: ``fake.faults.add(kind, ...)`` (:class:`Faults`) makes answers fail the way
real servers and proxies do: rate limits, 5xx, empty or cut-short bodies, HTML maintenance pages,
pages that break the pagination protocol.

Standalone: ``python -m etl.fakes.jira --port 8081 --issues 5000 --projects ABC,DEF``.
Only the standard library and orjson are used.
"""
from __future__ import annotations

import argparse
import base64
import bisect
import hashlib
import heapq
import http
import itertools
import random
import re
import sys
import threading
import time
import traceback
from array import array
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

import orjson

from etl.fakes.http import FakeHandler, FakeServer
from etl.fakes.http import Faults as _BaseFaults

__all__ = ["FakeJira", "Faults", "main"]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MS = 86_400_000

CLOUD_SEARCH_MAX = 100
CLOUD_SEARCH_ID_ONLY_MAX = 5000
DC_SEARCH_MAX = 1000
EMBEDDED_CHANGELOG_MAX = 40
CHANGELOG_PAGE_MAX = 100
BULKFETCH_MAX_ISSUES = 1000
BULKFETCH_MAX_RESULTS = 10000

ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"

# -- error bodies (as Jira sends them) ------------------------------------------------------------
MSG_401 = "You are not authenticated. Authentication required to perform this operation."
MSG_404_ISSUE = "Issue does not exist or you do not have permission to see it."
MSG_410 = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
MSG_UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
MSG_BAD_TOKEN = "The provided next page token is invalid or expired."


def _err(messages: Iterable[str] | str, errors: dict | None = None) -> bytes:
    if isinstance(messages, str):
        messages = [messages]
    return orjson.dumps({"errorMessages": list(messages), "errors": errors or {}})


# -- time helpers ---------------------------------------------------------------------------------
def _ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


_DAY_STR: dict[int, str] = {}


def _fmt_date(ms: int) -> str:
    day = ms // _DAY_MS
    s = _DAY_STR.get(day)
    if s is None:
        s = _DAY_STR[day] = f"{_EPOCH + timedelta(days=day):%Y-%m-%d}"
    return s


def _fmt(ms: int) -> str:
    """Jira's timestamp format: 2024-03-05T10:11:12.345+0000 (UTC)."""
    rem = ms % _DAY_MS
    sec, milli = divmod(rem, 1000)
    h, sec = divmod(sec, 3600)
    m, sec = divmod(sec, 60)
    return f"{_fmt_date(ms)}T{h:02d}:{m:02d}:{sec:02d}.{milli:03d}+0000"


# -- static catalogue -----------------------------------------------------------------------------
# name: (id, category key, description)
STATUSES: dict[str, tuple[str, str, str]] = {
    "Backlog": ("10001", "new", ""),
    "To Do": ("10000", "new", ""),
    "In Progress": ("3", "indeterminate", ""),
    "In Review": ("10002", "indeterminate", ""),
    "Blocked": ("10003", "indeterminate", ""),
    "Done": ("10004", "done", ""),
}
STATUS_BY_ID = {v[0]: k for k, v in STATUSES.items()}
# key: (id, name, colorName)
STATUS_CATEGORIES = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
# workflow graph used to generate histories and by touch(); weights favour forward moves
WORKFLOW: dict[str, list[tuple[str, int]]] = {
    "Backlog": [("To Do", 4), ("In Progress", 1)],
    "To Do": [("In Progress", 4), ("Backlog", 1)],
    "In Progress": [("In Review", 4), ("Done", 2), ("Blocked", 1), ("To Do", 1)],
    "In Review": [("Done", 4), ("In Progress", 2)],
    "Blocked": [("In Progress", 1)],
    "Done": [("To Do", 1), ("In Progress", 1)],
}
# name: (id, hierarchyLevel, subtask, avatarId, description, mix weight)
ISSUE_TYPES: dict[str, tuple[str, int, bool, int, str, float]] = {
    "Epic": ("10000", 1, False, 10307, "A collection of related work.", 0.05),
    "Story": ("10001", 0, False, 10315, "A user-facing feature.", 0.35),
    "Task": ("10002", 0, False, 10318, "A piece of work.", 0.25),
    "Bug": ("10003", 0, False, 10303, "A problem or error.", 0.20),
    "Spike": ("10004", 0, False, 10311, "Time-boxed research.", 0.03),
    "Sub-task": ("10005", -1, True, 10316, "Part of a larger task.", 0.12),
}
TYPE_BY_ID = {v[0]: k for k, v in ISSUE_TYPES.items()}
PRIORITIES: dict[str, tuple[str, str]] = {
    "Highest": ("1", "highest"), "High": ("2", "high"), "Medium": ("3", "medium"),
    "Low": ("4", "low"), "Lowest": ("5", "lowest"),
}
PRIORITY_WEIGHTS = [("Highest", 8), ("High", 20), ("Medium", 50), ("Low", 15), ("Lowest", 7)]
TARGET_STATUS_WEIGHTS = [("Backlog", 12), ("To Do", 18), ("In Progress", 20), ("In Review", 10),
                         ("Blocked", 3), ("Done", 37)]
STORY_POINTS = [1, 2, 3, 5, 8, 13]
LABELS = ["backend", "frontend", "api", "tech-debt", "customer", "security", "performance", "ux",
          "infra", "mobile", "regression", "needs-triage"]
COMPONENTS = ["Core", "Web", "Billing", "Integrations"]
_FIRST = ["Ava", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
          "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma",
          "Viktor", "Wen", "Yara"]
_LAST = ["Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Schmidt", "Costa", "Haddad", "Kowalski",
         "Nguyen", "Fischer", "Rossi", "Ivanova", "Brennan", "Sato", "Patel", "Larsen", "Mendes",
         "Weber", "Yilmaz", "Dubois", "Kaur", "Olsen", "Varga"]
_TZS = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/UTC", "Europe/London",
        "America/Los_Angeles", "Australia/Sydney"]
_VERBS = ["Fix", "Add", "Refactor", "Investigate", "Improve", "Remove", "Migrate", "Document",
          "Support", "Optimize", "Validate", "Expose", "Harden", "Split"]
_OBJECTS = ["login flow", "billing export", "search index", "webhook retries", "CSV import",
            "notification settings", "rate limiter", "audit log", "user avatars", "session cache",
            "report builder", "OAuth scopes", "invoice PDF", "dashboard widgets", "API pagination",
            "password reset", "feature flags", "data retention job", "mobile deep links", "SSO setup"]
_QUALIFIERS = ["for large tenants", "on Safari", "in the EU region", "after the upgrade",
               "when the token expires", "for archived projects", "under load", "in dark mode",
               "for admins", "behind the proxy", "", "", "", ""]
_WORDS = ("the a service request customer team should when after before data page timeout retry "
          "error value field user report query cache index latency export import release deploy "
          "config token session account project workflow status review handler queue job worker "
          "batch limit backlog metric alert dashboard endpoint response payload schema migration "
          "version client server build test coverage flaky regression spec edge case rollout "
          "because while returns missing duplicate slow correctly expected observed reproduce "
          "steps logs trace header mapping default").split()


def _make_sentences(n: int) -> list[str]:
    rnd = random.Random(20240305)
    out = []
    for _ in range(n):
        s = " ".join(_WORDS[rnd.randrange(len(_WORDS))] for _ in range(rnd.randint(6, 14)))
        out.append(s[0].upper() + s[1:] + ".")
    return out


_SENTENCES = _make_sentences(512)


def _weighted(rng: random.Random, pairs: list[tuple[Any, float]]) -> Any:
    r = rng.random() * sum(w for _, w in pairs)
    for v, w in pairs:
        r -= w
        if r < 0:
            return v
    return pairs[-1][0]


class _W:
    """A fixed weighted choice (cumulative weights precomputed)."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, pairs):
        self.values = [v for v, _ in pairs]
        self.cum = []
        acc = 0.0
        for _, w in pairs:
            acc += w
            self.cum.append(acc)
        self.total = acc

    def pick(self, rng: random.Random) -> Any:
        return self.values[min(bisect.bisect_right(self.cum, rng.random() * self.total), len(self.values) - 1)]


_TYPE_W = _W([(k, v[5]) for k, v in ISSUE_TYPES.items()])
_PRIORITY_W = _W(PRIORITY_WEIGHTS)
_TARGET_W = _W(TARGET_STATUS_WEIGHTS)
_NLABELS_W = _W([(0, 3), (1, 4), (2, 2), (3, 1)])
_NCOMPONENTS_W = _W([(0, 4), (1, 5), (2, 1)])
_EXTRA_STEPS_W = _W([(0, 10), (1, 2), (2, 2), (3, 1)])
_WORKFLOW_W = {k: _W(v) for k, v in WORKFLOW.items()}


def _reach_table(target: str, depth: int) -> list[frozenset[str]]:
    """R[k] = statuses from which `target` is reachable in exactly k workflow steps."""
    table = [frozenset([target])]
    for _ in range(depth):
        prev = table[-1]
        table.append(frozenset(s for s, nxt in WORKFLOW.items() if any(n in prev for n, _ in nxt)))
    return table


_REACH = {s: _reach_table(s, 160) for s in STATUSES}


def _status_walk(rng: random.Random, start: str, target: str, steps: int) -> list[str]:
    """A random workflow walk of exactly `steps` transitions (or fewer if impossible) from start to target."""
    reach = _REACH[target]
    steps = min(steps, len(reach) - 1)
    while steps > 0 and start not in reach[steps]:
        steps -= 1
    if start not in reach[steps]:
        return [start]  # unreachable in <= steps: caller handles (never happens with this graph)
    path = [start]
    cur = start
    for rem in range(steps, 0, -1):
        cands = [(n, w) for n, w in WORKFLOW[cur] if n in reach[rem - 1]]
        cur = _weighted(rng, cands)
        path.append(cur)
    return path


def _min_steps(start: str, target: str) -> int:
    for k, s in enumerate(_REACH[target]):
        if start in s:
            return k
    raise ValueError((start, target))


def _sp_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    f = float(v)
    return str(int(f)) if f.is_integer() else str(f)


# -- state ----------------------------------------------------------------------------------------
class _User:
    __slots__ = ("idx", "account_id", "name", "key", "display", "email", "active", "tz", "kind", "avatar_hash")

    def __init__(self, idx, account_id, name, key, display, email, active, tz, kind, avatar_hash):
        self.idx, self.account_id, self.name, self.key, self.display = idx, account_id, name, key, display
        self.email, self.active, self.tz, self.kind, self.avatar_hash = email, active, tz, kind, avatar_hash


class _Issue:
    """Compact state of one issue; rendering happens in FakeJira._render_*."""

    __slots__ = (
        "id", "key", "project", "num", "type", "status", "priority", "assignee", "reporter", "parent",
        "labels", "sp", "created", "updated", "resolved", "sc_change", "hist", "summary", "seed",
        "components", "fixversion", "duedate", "environment", "watches", "votes", "timetracking",
        "start_date", "flagged", "malformed", "half_emoji", "cache", "order",
    )

    def __init__(self):
        self.cache: dict = {}
        self.malformed = False
        self.half_emoji = False

    @property
    def pos(self) -> tuple[int, str, int]:
        return (self.updated, self.project, self.num)


# history: (id:int, author_idx:int, created_ms:int, items:tuple[(kind, from, to), ...])


class Faults(_BaseFaults):
    """Injected failures. ``add(kind, path_contains, times, every, retry_after, delay)``.

    A fault applies to requests whose path contains `path_contains`; it fires on every `every`-th
    matching request, `times` times in total (None = forever). Kinds, each a real wire behaviour:

    * "429" (with Retry-After), "500", "503", "401": that status with Jira's error body.
    * "slow": sleep `delay` seconds, then answer normally.
    * "malformed_json": 200, the first half of the page, with a Content-Length that matches it
      (the body arrives whole and is not valid JSON).
    * "empty_200": 200 with ``Content-Length: 0`` and no body.
    * "truncated": 200 whose Content-Length announces the whole page, but only its first half is
      sent before the connection is closed (a body cut short on the wire: ``requests`` raises
      ``ChunkedEncodingError`` while reading it).
    * "html_200": 200 ``text/html`` maintenance page, as a proxy in front of Jira serves it.
    * "no_issues": 200 JSON page without its ``issues`` key (other keys kept).
    * "missing_islast": Cloud search page without ``isLast`` (``nextPageToken`` kept when there is
      one, so the last page has neither). No effect on Data Center pages, which have no isLast.
    * "repeat_token": Cloud search page whose ``nextPageToken`` is the request's own token (and
      ``isLast: false``): following it asks for the same page again. It only fires on a request
      that carries a token, so it can be added before the job starts.

    The reshaping kinds (malformed_json, truncated, no_issues, missing_islast, repeat_token) touch
    only an answer that would have been a 200; anything else is served unchanged.
    """

    KINDS = frozenset({"429", "500", "503", "slow", "malformed_json", "401", "empty_200", "truncated",
                       "html_200", "no_issues", "missing_islast", "repeat_token"})
    # Faults that alter a routed 200 page instead of deciding the answer themselves.
    RESHAPING = frozenset({"malformed_json", "truncated", "no_issues", "missing_islast", "repeat_token"})


class _JqlError(Exception):
    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


class _Filter:
    __slots__ = ("projects", "keys", "lo", "hi", "clo", "chi", "bounded", "norm")

    def __init__(self):
        self.projects: set[str] | None = None
        self.keys: set[str] | None = None
        self.lo = None  # updated >= lo (ms, inclusive)
        self.hi = None  # updated <= hi (inclusive)
        self.clo = None  # created >= clo
        self.chi = None  # created <= chi
        self.bounded = False
        self.norm = ""


_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|=|>|<|~)"""
    r"""|(?P<punct>[(),])|(?P<word>[^\s"'(),=!<>~]+))"""
)
_ISSUE_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-(\d+)$")
_REL_RE = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.I)
_SELECT_ALL = "__all__"
_SYSTEM_FIELDS = (
    "statuscategorychangedate", "issuetype", "project", "fixVersions", "resolution", "resolutiondate",
    "watches", "created", "priority", "labels", "issuelinks", "assignee", "updated", "status", "components",
    "description", "timetracking", "summary", "subtasks", "reporter", "environment", "duedate", "votes", "parent",
)


_Server = FakeServer


class _Handler(FakeHandler):
    server_version = "FakeJira/1.0"
    fake: "FakeJira"

    def _handle(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            status, body, headers = self.fake._dispatch(method, self.path, self.headers, raw)
        except Exception:  # pragma: no cover - a bug in the fake: make it visible
            traceback.print_exc()
            status, body, headers = 500, _err("Internal server error"), None
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json;charset=UTF-8")
        # A route may announce more bytes than it sends (the "truncated" fault): the connection
        # is then closed after the short body, as when a proxy or the server dies mid-answer.
        declared = int(headers.pop("Content-Length", len(body)))
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}",
                f"Content-Type: {content_type}",
                f"Content-Length: {declared}",
                "Cache-Control: no-cache, no-store, no-transform",
                f"X-AREQUESTID: {next(_REQUEST_IDS)}x1"]
        head.extend(f"{k}: {v}" for k, v in headers.items())
        if self.close_connection:
            head.append("Connection: close")
        try:
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if declared > len(body):
            self.close_connection = True


_REASONS = {s.value: s.phrase for s in http.HTTPStatus}
MAINTENANCE_HTML = (b"<!DOCTYPE html>\n<html><head><title>Jira is down for maintenance</title></head>\n"
                    b"<body><h1>We'll be back soon</h1><p>Jira is undergoing scheduled maintenance. "
                    b"Please try again later.</p></body></html>\n")
_REQUEST_IDS = itertools.count(1)


# -- the fake -------------------------------------------------------------------------------------
class FakeJira:
    """In-memory Jira with deterministic generated data, served over HTTP by :meth:`serve`."""

    def __init__(self, issues: int = 3000, projects: Iterable[str] = ("ABC",), flavor: str = "cloud",
                 seed: int = 1, email: str = "bot@example.com", token: str = "secret-token",
                 story_points_field: str = "customfield_10016", now: datetime | None = None):
        if flavor not in ("cloud", "dc"):
            raise ValueError("flavor must be 'cloud' or 'dc'")
        if isinstance(projects, str):
            projects = [p for p in projects.split(",") if p]
        self.projects = tuple(p.strip().upper() for p in projects)
        if not self.projects:
            raise ValueError("at least one project")
        self.flavor = flavor
        self.seed = seed
        self.email = email
        self.token = token
        self.story_points_field = story_points_field
        self.sp_name = "Story point estimate" if flavor == "cloud" else "Story Points"
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now_ms = _ms(now)
        self.now = _dt(self.now_ms)
        self._clock_ms = self.now_ms  # advances with touch()/add_issues()
        self.faults = Faults()
        # Added to what POST /search/approximate-count answers: a source whose count disagrees
        # with what its search returns (completeness checks).
        self.approximate_count_offset = 0
        self.requests: list[tuple[str, str, dict]] = []
        self._req_lock = threading.Lock()
        self._lock = threading.RLock()
        self._servers: list[_Server] = []
        self._base = "http://127.0.0.1"
        self._catalogs: dict[int, dict] = {}
        self._gen = 0
        self._match_cache: dict = {}
        self._rng = random.Random(seed)
        self._mut_rng = random.Random(seed * 7919 + 17)
        self._filler_ids = [f for f in ("customfield_10015", "customfield_10019", "customfield_10021",
                                        "customfield_10022", "customfield_10023")
                            if f != story_points_field][:3]
        order = list(_SYSTEM_FIELDS) + [story_points_field] + self._filler_ids
        self._field_order = order
        self._field_index = {name: i for i, name in enumerate(order)}
        self._field_prefix = [orjson.dumps(name) + b":" for name in order]
        self._project_ids = {p: str(10000 + i) for i, p in enumerate(self.projects)}
        self._project_by_id = {v: k for k, v in self._project_ids.items()}
        self._by_key: dict[str, _Issue] = {}
        self._by_id: dict[str, _Issue] = {}
        self._order: list[str] = []  # creation order (includes deleted, filtered on read)
        self._deleted: set[str] = set()
        self._children: dict[str, list[str]] = {}
        self._idx: dict[str, list[tuple[int, str, int]]] = {p: [] for p in self.projects}
        self._next_num = {p: 1 for p in self.projects}
        self._next_id = 10001
        self._next_hist = 100000
        self._max_updated = 0
        self._epics: dict[str, list[str]] = {p: [] for p in self.projects}
        self._standard: dict[str, list[str]] = {p: [] for p in self.projects}
        self._users = self._make_users()
        self._human = [u for u in self._users if u.kind == "atlassian" and u.active]
        self._generate(issues)

    # ------------------------------------------------------------------ generation
    def _make_users(self) -> list[_User]:
        rng = random.Random(self.seed * 31 + 5)
        users = []
        for i in range(24):
            first, last = _FIRST[i], _LAST[(i * 7 + self.seed) % len(_LAST)]
            acc = f"{rng.choice('56'):s}{rng.getrandbits(92):023x}"
            name = f"{first}.{last}".lower()
            users.append(_User(i, acc, name, f"JIRAUSER{10100 + i}",
                               f"{first} {last}", f"{name}@example.com", i not in (7, 19),
                               rng.choice(_TZS), "atlassian",
                               hashlib.md5(name.encode()).hexdigest()))
        users.append(_User(24, "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "automation",
                           "JIRAUSER10099", "Automation for Jira", None, True, "Etc/UTC", "app",
                           "automation"))
        return users

    def _generate(self, n: int) -> None:
        rng = self._rng
        now = self.now_ms
        start = now - 365 * _DAY_MS
        latest = now - 3_600_000
        created = sorted(rng.randrange(start, latest) for _ in range(n))
        for c in created:
            proj = self.projects[rng.randrange(len(self.projects))]
            st = self._new_issue(rng, proj, c, with_history=True)
            self._add_state(st)
        for lst in self._idx.values():
            lst.sort()

    def _pick_type(self, rng: random.Random, proj: str) -> tuple[str, str | None]:
        t = _TYPE_W.pick(rng)
        parent = None
        if t == "Sub-task":
            window = [k for k in self._standard[proj][-200:] if k in self._by_key]
            if not window:
                t = "Task"
            else:
                parent = window[rng.randrange(len(window))]
        if t in ("Story", "Task", "Bug", "Spike") and rng.random() < 0.7:
            window = [k for k in self._epics[proj][-15:] if k in self._by_key]
            if window:
                parent = window[rng.randrange(len(window))]
        return t, parent

    def _new_issue(self, rng: random.Random, proj: str, created: int, with_history: bool,
                   updated: int | None = None) -> _Issue:
        st = _Issue()
        st.id = str(self._next_id)
        self._next_id += 1
        st.project = proj
        st.num = self._next_num[proj]
        self._next_num[proj] += 1
        st.key = f"{proj}-{st.num}"
        st.type, st.parent = self._pick_type(rng, proj)
        st.seed = rng.getrandbits(32)
        q = rng.choice(_QUALIFIERS)
        st.summary = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}" + (f" {q}" if q else "")
        st.priority = _PRIORITY_W.pick(rng)
        st.reporter = rng.choice(self._human).idx
        st.assignee = None if rng.random() < 0.15 else rng.choice(self._human).idx
        st.labels = tuple(sorted(rng.sample(LABELS, _NLABELS_W.pick(rng))))
        # story points: numbers mostly, sometimes strings, sometimes null; epics/sub-tasks mostly null
        if st.type in ("Epic", "Sub-task"):
            st.sp = rng.choice(STORY_POINTS) if rng.random() < 0.1 else None
        else:
            r = rng.random()
            st.sp = (rng.choice(STORY_POINTS) if r < 0.75 else
                     str(rng.choice(STORY_POINTS)) if r < 0.85 else None)
        st.components = tuple(sorted(rng.sample(range(len(COMPONENTS)), _NCOMPONENTS_W.pick(rng))))
        st.fixversion = rng.randrange(3) if rng.random() < 0.3 else None
        st.duedate = created + rng.randrange(7, 60) * _DAY_MS if rng.random() < 0.2 else None
        st.start_date = created + rng.randrange(0, 10) * _DAY_MS if rng.random() < 0.25 else None
        st.environment = (f"{rng.choice(['Chrome', 'Firefox', 'Safari', 'iOS app', 'Android app'])}, "
                          f"release {rng.randint(20, 31)}.{rng.randint(0, 9)}") if st.type == "Bug" else None
        st.watches = rng.randint(1, 4)
        st.votes = rng.randint(0, 2) if rng.random() < 0.2 else 0
        st.timetracking = (rng.choice([4, 8, 16, 24]) * 3600, rng.randint(0, 8) * 3600) if rng.random() < 0.2 else None
        st.flagged = rng.random() < 0.04
        st.created = created
        st.hist = []
        initial = "To Do" if st.type == "Sub-task" or rng.random() < 0.6 else "Backlog"
        st.status = initial
        st.resolved = None
        st.sc_change = created
        if not with_history:
            st.updated = updated if updated is not None else created
            return st
        # --- a consistent history --------------------------------------------------------------
        big = rng.random() < 0.04
        # most issues have 2-15 histories (skewed low), untouched backlog items fewer, ~4% have 45-120
        if big:
            n_hist = rng.randint(45, 120)
        else:
            n_hist = int(13 * rng.random() ** 10) + (2 if rng.random() < 0.7 else rng.randint(0, 1))
        target = _TARGET_W.pick(rng)
        smin = _min_steps(initial, target)
        if big:
            s = max(smin, int(n_hist * rng.uniform(0.25, 0.5)))
        else:
            s = smin + _EXTRA_STEPS_W.pick(rng)
        path = _status_walk(rng, initial, target, s)
        if path[-1] != target:  # pragma: no cover - defensive
            path = _status_walk(rng, initial, target, smin)
        s = len(path) - 1
        n_hist = max(n_hist, s)
        rest = n_hist - s
        weights = [("assignee", 3), ("priority", 1), ("labels", 1)] + ([("sp", 2)] if st.sp is not None or st.type not in ("Epic", "Sub-task") else [])
        counts: dict[str, int] = {}
        for _ in range(rest):
            f = _weighted(rng, weights)
            counts[f] = counts.get(f, 0) + 1
        chains = {"status": list(zip(path, path[1:]))}
        for f, k in counts.items():
            chains[f] = self._chain(rng, f, st, k)
        slots = [f for f, ch in chains.items() for _ in ch]
        rng.shuffle(slots)
        end = created + int((self.now_ms - created) * (rng.random() ** 0.7))
        end = min(max(end, created + 60_000 * (len(slots) + 1)), self.now_ms)
        times = sorted(rng.sample(range(created + 1, end), len(slots) - 1)) + [end] if slots else []
        pos = {f: 0 for f in chains}
        for t, f in zip(times, slots):
            frm, to = chains[f][pos[f]]
            pos[f] += 1
            items: tuple = ((f, frm, to),)
            if f == "status":
                if to == "Done":
                    items = items + (("resolution", None, "Done"),)
                elif frm == "Done":
                    items = items + (("resolution", "Done", None),)
            author = 24 if rng.random() < 0.08 else rng.choice(self._human).idx
            self._append_history(st, author, t, items)
        st.updated = times[-1] if times else created
        return st

    def _chain(self, rng: random.Random, field: str, st: _Issue, k: int) -> list[tuple]:
        """k consecutive (from, to) changes of `field` ending at the issue's current value."""
        if field == "assignee":
            pool = [u.idx for u in self._human] + [None]
            cur = st.assignee
        elif field == "priority":
            pool = list(PRIORITIES)
            cur = st.priority
        elif field == "labels":
            pool = None
            cur = st.labels
        else:
            pool = STORY_POINTS + [None]
            cur = None if st.sp is None else (float(st.sp) if isinstance(st.sp, str) else st.sp)
            cur = int(cur) if isinstance(cur, float) and cur.is_integer() else cur
        vals = [cur]
        for _ in range(k):
            while True:
                if pool is None:
                    v = tuple(sorted(rng.sample(LABELS, rng.randint(0, 3))))
                else:
                    v = pool[rng.randrange(len(pool))]
                if v != vals[-1]:
                    break
            vals.append(v)
        vals.reverse()
        return list(zip(vals, vals[1:]))

    def _append_history(self, st: _Issue, author: int, t: int, items: tuple) -> None:
        st.hist.append((self._next_hist, author, t, items))
        self._next_hist += 1
        for kind, frm, to in items:
            if kind == "status":
                st.status = to
                if STATUSES[frm][1] != STATUSES[to][1]:
                    st.sc_change = t
                if to == "Done":
                    st.resolved = t
                elif frm == "Done":
                    st.resolved = None

    def _add_state(self, st: _Issue, sort: bool = False) -> None:
        self._by_key[st.key] = st
        self._by_id[st.id] = st
        st.order = len(self._order)
        self._order.append(st.key)
        if st.parent:
            self._children.setdefault(st.parent, []).append(st.key)
        if st.type == "Epic":
            self._epics[st.project].append(st.key)
        elif st.type != "Sub-task":
            self._standard[st.project].append(st.key)
        if sort:
            bisect.insort(self._idx[st.project], st.pos)
        else:
            self._idx[st.project].append(st.pos)
        self._max_updated = max(self._max_updated, st.updated)

    # ------------------------------------------------------------------ public API
    @property
    def url(self) -> str | None:
        return self._servers[-1].url if self._servers else None

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> _Server:
        """Serve over HTTP in a daemon thread; returns the server (``.url``, ``.stop()``)."""
        handler = type("FakeJiraHandler", (_Handler,), {"fake": self})
        srv = _Server((host, port), handler)
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        srv.url = f"http://{shown}:{srv.server_address[1]}"
        with self._lock:
            self._set_base(srv.url)
            self.warm()
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                             name=f"fake-jira-{srv.server_address[1]}", daemon=True)
        srv._thread = t
        t.start()
        self._servers.append(srv)
        return srv

    def stop(self) -> None:
        """Stop every server started by serve()."""
        while self._servers:
            self._servers.pop().stop()

    def warm(self) -> None:
        """Pre-serialize every issue for the flavour's main API version."""
        v = 3 if self.flavor == "cloud" else 2
        with self._lock:
            for st in self._by_key.values():
                self._cached(st, v)

    def issue_keys(self) -> list[str]:
        with self._lock:
            return [k for k in self._order if k not in self._deleted]

    def issue(self, key: str) -> dict:
        """The issue exactly as GET /rest/api/{3|2}/issue/{key}?expand=changelog serves it."""
        v = 3 if self.flavor == "cloud" else 2
        with self._lock:
            st = self._get(key)
            return orjson.loads(self._issue_bytes(st, v, _SELECT_ALL, "full"))

    def expected(self, key: str) -> dict:
        """Ground truth for tests. Besides the documented keys: assignee/reporter are the Cloud
        accountId (DC: username), plus assignee_display_name, reporter_display_name,
        changelog_total (number of histories) and malformed. parent_key is None once the parent
        is deleted (the served issue then has no parent)."""
        with self._lock:
            st = self._get(key)
            ident = (lambda i: None if i is None else (self._users[i].account_id if self.flavor == "cloud"
                                                       else self._users[i].name))
            display = lambda i: None if i is None else self._users[i].display  # noqa: E731
            transitions = [(frm, to, _dt(t)) for _, _, t, items in st.hist
                           for kind, frm, to in items if kind == "status"]
            return {
                "key": st.key, "id": st.id, "project": st.project, "summary": st.summary,
                "issuetype": st.type, "hierarchy_level": ISSUE_TYPES[st.type][1],
                "status": st.status, "status_category": STATUSES[st.status][1],
                "priority": st.priority, "assignee": ident(st.assignee), "reporter": ident(st.reporter),
                "assignee_display_name": display(st.assignee), "reporter_display_name": display(st.reporter),
                "parent_key": st.parent if st.parent in self._by_key else None, "labels": list(st.labels),
                "story_points": None if st.sp is None else float(st.sp),
                "created": _dt(st.created), "updated": _dt(st.updated),
                "resolved": None if st.resolved is None else _dt(st.resolved),
                "transitions": transitions, "changelog_total": len(st.hist), "malformed": st.malformed,
            }

    def _next_time(self, at: datetime | None) -> int:
        if at is None:
            t = max(self._clock_ms + 1000, self._max_updated + 1)
        else:
            t = _ms(at)
        self._clock_ms = max(self._clock_ms, t)
        return t

    def touch(self, keys_or_count: int | str | Iterable[str], at: datetime | None = None) -> list[str]:
        """Move each issue to a next workflow status at `at` (one changelog history each)."""
        with self._lock:
            if isinstance(keys_or_count, int):
                live = self.issue_keys()
                keys = self._mut_rng.sample(live, min(keys_or_count, len(live)))
            elif isinstance(keys_or_count, str):
                keys = [keys_or_count]
            else:
                keys = list(keys_or_count)
            sts = [self._get(k) for k in keys]
            t = self._next_time(at)
            for st in sts:
                self._index_remove(st)
                nxt = _WORKFLOW_W[st.status].pick(self._mut_rng)
                items: tuple = (("status", st.status, nxt),)
                if nxt == "Done":
                    items += (("resolution", None, "Done"),)
                elif st.status == "Done":
                    items += (("resolution", "Done", None),)
                self._append_history(st, self._mut_rng.choice(self._human).idx, t, items)
                st.updated = t
                self._max_updated = max(self._max_updated, t)
                bisect.insort(self._idx[st.project], st.pos)
                self._invalidate(st)
            return [st.key for st in sts]

    def delete(self, keys: str | Iterable[str]) -> None:
        with self._lock:
            if isinstance(keys, str):
                keys = [keys]
            for k in keys:
                st = self._get(k)
                self._index_remove(st)
                self._invalidate(st)
                del self._by_key[st.key]
                del self._by_id[st.id]
                self._deleted.add(st.key)

    def add_issues(self, n: int) -> list[str]:
        with self._lock:
            rng = self._mut_rng
            t0 = self._next_time(None)
            out = []
            for i in range(n):
                proj = self.projects[rng.randrange(len(self.projects))]
                t = t0 + i
                st = self._new_issue(rng, proj, t, with_history=False, updated=t)
                self._add_state(st, sort=True)
                self._invalidate(st)
                out.append(st.key)
            self._clock_ms = max(self._clock_ms, t0 + max(n - 1, 0))
            return out

    def make_malformed(self, key: str) -> None:
        """fields.created = "not-a-date" and fields.issuetype = null; still valid JSON, still served."""
        with self._lock:
            st = self._get(key)
            st.malformed = True
            self._invalidate(st)

    def make_half_emoji(self, key: str) -> None:
        """The summary ends with the first half of an emoji's UTF-16 surrogate pair (\\ud83d), as a
        source that cuts text at a length limit serves: valid JSON that strict parsers refuse."""
        with self._lock:
            st = self._get(key)
            st.half_emoji = True
            self._invalidate(st)

    def reset_requests(self) -> None:
        with self._req_lock:
            self.requests.clear()

    # ------------------------------------------------------------------ internals: state
    def _get(self, key_or_id: str) -> _Issue:
        st = self._lookup(key_or_id)
        if st is None:
            raise KeyError(key_or_id)
        return st

    def _lookup(self, key_or_id: Any) -> _Issue | None:
        s = str(key_or_id)
        st = self._by_key.get(s) or self._by_id.get(s)
        if st is None and not s.isdigit():
            st = self._by_key.get(s.upper())
        return st

    def _index_remove(self, st: _Issue) -> None:
        lst = self._idx[st.project]
        i = bisect.bisect_left(lst, st.pos)
        if i < len(lst) and lst[i] == st.pos:
            del lst[i]

    def _invalidate(self, st: _Issue) -> None:
        st.cache.clear()
        for k in ([st.parent] if st.parent else []) + self._children.get(st.key, []):
            other = self._by_key.get(k)
            if other is not None:
                other.cache.clear()
        self._gen += 1
        self._match_cache.clear()

    # ------------------------------------------------------------------ internals: rendering
    def _set_base(self, base: str) -> None:
        if base != self._base:
            self._base = base
            self._catalogs.clear()
            for st in self._by_key.values():
                st.cache.clear()

    def _catalog(self, v: int) -> dict:
        """Shared objects (statuses, types, users, ...) for API version v, as dicts and as
        pre-serialized orjson Fragments (embedded into issues without re-serializing)."""
        cat = self._catalogs.get(v)
        if cat is not None:
            return cat
        base = self._base
        api = f"{base}/rest/api/{v}"
        cloud = self.flavor == "cloud"
        cats = {k: {"self": f"{api}/statuscategory/{cid}", "id": cid, "key": k, "colorName": color, "name": name}
                for k, (cid, name, color) in STATUS_CATEGORIES.items()}
        statuses = {name: {"self": f"{api}/status/{sid}", "description": desc,
                           "iconUrl": f"{base}/images/icons/statuses/generic.png", "name": name,
                           "id": sid, "statusCategory": cats[ck]}
                    for name, (sid, ck, desc) in STATUSES.items()}
        types = {}
        for name, (tid, level, sub, avatar, desc, _) in ISSUE_TYPES.items():
            types[name] = {"self": f"{api}/issuetype/{tid}", "id": tid, "description": desc,
                           "iconUrl": f"{base}/images/icons/issuetypes/{avatar}.svg",
                           "name": name, "subtask": sub, "avatarId": avatar, "hierarchyLevel": level}
        prios = {name: {"self": f"{api}/priority/{pid}", "iconUrl": f"{base}/images/icons/priorities/{icon}.svg",
                        "name": name, "id": pid} for name, (pid, icon) in PRIORITIES.items()}
        users = [self._user_obj(u, v) for u in self._users]
        projects = {}
        for p, pid in self._project_ids.items():
            av = f"{base}/secure/projectavatar?size="
            projects[p] = {"self": f"{api}/project/{pid}", "id": pid, "key": p, "name": f"Project {p}",
                           "projectTypeKey": "software", "simplified": False,
                           "avatarUrls": {"48x48": av + "large", "24x24": av + "small",
                                          "16x16": av + "xsmall", "32x32": av + "medium"}}
        comps = {p: [{"self": f"{api}/component/{int(pid) * 10 + i}", "id": str(int(pid) * 10 + i), "name": c}
                     for i, c in enumerate(COMPONENTS)] for p, pid in self._project_ids.items()}
        versions = {p: [{"self": f"{api}/version/{int(pid) * 10 + i}", "id": str(int(pid) * 10 + i),
                         "description": "", "name": f"{p} 2.{i}", "archived": False, "released": i < 2,
                         **({"releaseDate": _fmt_date(self.now_ms - (2 - i) * 30 * _DAY_MS)} if i < 2 else {})}
                        for i in range(3)] for p, pid in self._project_ids.items()}
        resolution = {"self": f"{api}/resolution/10000", "id": "10000",
                      "description": "Work has been done on this issue.", "name": "Done"}
        frag = lambda o: orjson.Fragment(orjson.dumps(o))  # noqa: E731
        cat = {"api": api, "statuses": statuses, "types": types, "prios": prios, "users": users,
               "projects": projects, "components": comps, "versions": versions, "resolution": resolution,
               "cats": cats, "cloud": cloud,
               "F": {"status": {k: frag(o) for k, o in statuses.items()},
                     "type": {k: frag(o) for k, o in types.items()},
                     "prio": {k: frag(o) for k, o in prios.items()},
                     "user": [frag(o) for o in users],
                     "project": {k: frag(o) for k, o in projects.items()},
                     "components": {k: [frag(o) for o in lst] for k, lst in comps.items()},
                     "versions": {k: [frag(o) for o in lst] for k, lst in versions.items()},
                     "resolution": frag(resolution),
                     "flagged": frag([{"self": f"{api}/customFieldOption/10019", "value": "Impediment",
                                       "id": "10019"}])}}
        self._catalogs[v] = cat
        return cat

    def _user_obj(self, u: _User, v: int) -> dict:
        base = self._base
        if self.flavor == "cloud":
            av = f"https://avatar.example/{u.avatar_hash[:6]}/"
            d = {"self": f"{base}/rest/api/{v}/user?accountId={u.account_id}", "accountId": u.account_id}
            if u.email and u.idx % 5 == 0:  # most Cloud profiles hide the email address
                d["emailAddress"] = u.email
            d.update({"avatarUrls": {"48x48": av + "48", "24x24": av + "24", "16x16": av + "16", "32x32": av + "32"},
                      "displayName": u.display, "active": u.active, "timeZone": u.tz, "accountType": u.kind})
            return d
        av = f"{base}/secure/useravatar?ownerId={u.name}&avatarId=1012"
        return {"self": f"{base}/rest/api/2/user?username={u.name}", "name": u.name, "key": u.key,
                "emailAddress": u.email or "", "avatarUrls": {"48x48": av, "24x24": av + "&size=small",
                                                              "16x16": av + "&size=xsmall", "32x32": av + "&size=medium"},
                "displayName": u.display, "active": u.active, "timeZone": u.tz}

    def _description(self, st: _Issue, adf: bool) -> Any:
        rnd = random.Random(st.seed)
        if rnd.random() < 0.15:
            return None
        pool = _SENTENCES
        npool = len(pool)
        paras = [pool[rnd.randrange(npool)] for _ in range(1 if rnd.random() < 0.7 else 2)]
        bullets = [pool[rnd.randrange(npool)] for _ in range(rnd.randint(2, 3))] if rnd.random() < 0.2 else []
        if not adf:
            text = "h3. Context\n" + "\n\n".join(paras)
            if bullets:
                text += "\n\nh3. Acceptance criteria\n" + "\n".join("* " + b for b in bullets)
            return text
        content: list = [{"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paras]
        if bullets:
            content.append({"type": "heading", "attrs": {"level": 3},
                            "content": [{"type": "text", "text": "Acceptance criteria"}]})
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": b}]}]}
                for b in bullets]})
        return {"type": "doc", "version": 1, "content": content}

    def _mini(self, st: _Issue, cat: dict) -> dict:
        F = cat["F"]
        return {"id": st.id, "key": st.key, "self": f"{cat['api']}/issue/{st.id}",
                "fields": {"summary": st.summary, "status": F["status"][st.status],
                           "priority": F["prio"][st.priority], "issuetype": F["type"][st.type]}}

    def _fields(self, st: _Issue, v: int) -> dict:
        cat = self._catalog(v)
        F = cat["F"]
        api = cat["api"]
        users = F["user"]
        tt = st.timetracking
        if tt:
            orig, spent = tt
            remaining = max(orig - spent, 0)
            timetracking = {"originalEstimate": f"{orig // 3600}h", "remainingEstimate": f"{remaining // 3600}h",
                            "timeSpent": f"{spent // 3600}h", "originalEstimateSeconds": orig,
                            "remainingEstimateSeconds": remaining, "timeSpentSeconds": spent}
            if not spent:
                for k in ("timeSpent", "timeSpentSeconds"):
                    del timetracking[k]
        else:
            timetracking = {}
        resolved = st.resolved is not None
        fill = self._filler_ids
        f: dict[str, Any] = {
            "statuscategorychangedate": _fmt(st.sc_change),
            "issuetype": F["type"][st.type],
            "project": F["project"][st.project],
            "fixVersions": [F["versions"][st.project][st.fixversion]] if st.fixversion is not None else [],
            "resolution": F["resolution"] if resolved else None,
            "resolutiondate": _fmt(st.resolved) if resolved else None,
            "watches": {"self": f"{api}/issue/{st.key}/watchers", "watchCount": st.watches, "isWatching": False},
            "created": _fmt(st.created),
            "priority": F["prio"][st.priority],
            "labels": list(st.labels),
            "issuelinks": [],
            "assignee": None if st.assignee is None else users[st.assignee],
            "updated": _fmt(st.updated),
            "status": F["status"][st.status],
            "components": [F["components"][st.project][i] for i in st.components],
            "description": self._description(st, adf=(v == 3)),
            "timetracking": timetracking,
            "summary": st.summary,
            "subtasks": [],
            "reporter": users[st.reporter],
            "environment": st.environment,
            "duedate": None if st.duedate is None else _fmt_date(st.duedate),
            "votes": {"self": f"{api}/issue/{st.key}/votes", "votes": st.votes, "hasVoted": False},
            self.story_points_field: st.sp,
            fill[0]: None if st.start_date is None else _fmt_date(st.start_date),  # Start date
            fill[1]: f"0|i{st.order + 1000:05x}:",                                   # Rank
            fill[2]: F["flagged"] if st.flagged else None,                          # Flagged
        }
        children = self._children.get(st.key)
        if children:
            by_key = self._by_key
            f["subtasks"] = [self._mini(ch, cat) for ch in (by_key.get(k) for k in children)
                             if ch is not None and ch.type == "Sub-task"]
        if st.parent:
            parent = self._by_key.get(st.parent)
            if parent is not None:
                f["parent"] = self._mini(parent, cat)
        if st.malformed:
            f["created"] = "not-a-date"
            f["issuetype"] = None
        return f

    def _history_obj(self, h: tuple, v: int, only: set | None = None) -> dict | None:
        hid, author, t, items = h
        cat = self._catalog(v)
        cloud = self.flavor == "cloud"
        out = []
        for kind, frm, to in items:
            fid = self.story_points_field if kind == "sp" else kind
            if only is not None and fid not in only:
                continue
            if kind == "status":
                d = {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": STATUSES[frm][0],
                     "fromString": frm, "to": STATUSES[to][0], "toString": to}
            elif kind == "resolution":
                d = {"field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
                     "from": "10000" if frm else None, "fromString": frm,
                     "to": "10000" if to else None, "toString": to}
            elif kind == "assignee":
                fu = None if frm is None else self._users[frm]
                tu = None if to is None else self._users[to]
                fi = None if fu is None else (fu.account_id if cloud else fu.name)
                ti = None if tu is None else (tu.account_id if cloud else tu.name)
                d = {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                     "from": fi, "fromString": fu.display if fu else None,
                     "to": ti, "toString": tu.display if tu else None}
                if cloud:
                    d["tmpFromAccountId"] = fi
                    d["tmpToAccountId"] = ti
            elif kind == "priority":
                d = {"field": "priority", "fieldtype": "jira", "fieldId": "priority",
                     "from": PRIORITIES[frm][0], "fromString": frm, "to": PRIORITIES[to][0], "toString": to}
            elif kind == "labels":
                d = {"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                     "fromString": " ".join(frm), "to": None, "toString": " ".join(to)}
            else:  # story points
                d = {"field": self.sp_name, "fieldtype": "custom", "fieldId": self.story_points_field,
                     "from": None, "fromString": _sp_str(frm), "to": None, "toString": _sp_str(to)}
            if not cloud:
                del d["fieldId"]
            out.append(d)
        if not out:
            return None
        return {"id": str(hid), "author": cat["F"]["user"][author], "created": _fmt(t), "items": out}

    def _cached(self, st: _Issue, v: int) -> tuple[bytes, bytes, array, bytes, array]:
        """(head, fields bytes without braces, [start, end) of each field's segment in them,
        histories joined with commas, start offset of each history (+ one past the end)).

        Each issue is a handful of exact-size bytes objects: no per-request serialization and
        little memory (orjson's output buffers are over-allocated, joined copies are not)."""
        c = st.cache.get(v)
        if c is None:
            fields = self._fields(st, v)
            dumps = orjson.dumps
            index = self._field_index
            prefix = self._field_prefix
            offs = array("I", [0]) * (2 * len(index))
            segs = []
            pos = 0
            for name, val in fields.items():
                i = index[name]
                seg = prefix[i] + dumps(val)
                if name == "summary" and st.half_emoji:
                    seg = seg[:-1] + b'\\ud83d"'  # orjson cannot write a lone surrogate itself
                if segs:
                    pos += 1
                offs[2 * i] = pos
                pos += len(seg)
                offs[2 * i + 1] = pos
                segs.append(seg)
            head = ('{"expand":"%s","id":"%s","self":"%s/rest/api/%d/issue/%s","key":"%s"'
                    % (ISSUE_EXPAND, st.id, self._base, v, st.id, st.key)).encode()
            hist = [dumps(self._history_obj(h, v)) for h in st.hist]
            hoff = array("I", [0]) * (len(hist) + 1)
            pos = 0
            for k, hb in enumerate(hist):
                hoff[k] = pos
                pos += len(hb) + 1
            hoff[len(hist)] = pos
            c = st.cache[v] = (head, b",".join(segs), offs, b",".join(hist), hoff)
        return c

    @staticmethod
    def _hist_join(c: tuple, i: int, j: int) -> bytes:
        """Histories [i, j) of a cached issue, comma-separated."""
        hoff = c[4]
        n = len(hoff) - 1
        i, j = max(0, min(i, n)), max(0, min(j, n))
        if j <= i:
            return b""
        return c[3][hoff[i]:hoff[j] - 1]

    def _issue_bytes(self, st: _Issue, v: int, fsel: Any, changelog: str | None) -> bytes:
        """fsel: None (only id: Cloud's default), _SELECT_ALL, or a tuple of field indexes."""
        c = self._cached(st, v)
        head, fb, offs = c[0], c[1], c[2]
        if fsel is None:
            parts = [b'{"id":"', st.id.encode(), b'"']
        else:
            if fsel is not _SELECT_ALL:
                fb = b",".join([fb[offs[2 * i]:offs[2 * i + 1]] for i in fsel if offs[2 * i + 1]])
            parts = [head, b',"fields":{', fb, b"}"]
        if changelog:
            total = len(c[4]) - 1
            first = max(0, total - EMBEDDED_CHANGELOG_MAX) if changelog == "trunc" else 0
            parts.append(b',"changelog":{"startAt":0,"maxResults":%d,"total":%d,"histories":['
                         % (total - first, total))
            parts.append(self._hist_join(c, first, total))
            parts.append(b"]}")
        parts.append(b"}")
        return b"".join(parts)

    # ------------------------------------------------------------------ internals: JQL
    def _parse_jql(self, jql: str) -> _Filter:
        toks: list[tuple[str, str, int]] = []
        i = 0
        while i < len(jql):
            m = _TOKEN_RE.match(jql, i)
            if not m or m.end() == i:
                if jql[i:].strip() == "":
                    break
                raise _JqlError(f"Error in the JQL Query: The character '{jql[i]}' is a reserved JQL character. "
                                f"You must enclose it in a string or use the escape '\\u{ord(jql[i]):04x}' instead. "
                                f"(line 1, character {i + 1})")
            kind = m.lastgroup
            val = m.group(kind)
            toks.append((kind, val, m.start(kind) + 1))
            i = m.end()
        flt = _Filter()
        p = 0
        n = len(toks)

        def peek_word(k=0) -> str:
            if p + k < n and toks[p + k][0] == "word":
                return toks[p + k][1].lower()
            return ""

        def got(k=0) -> str:
            return toks[p + k][1] if p + k < n else "EOF"

        def where(k=0) -> int:
            return toks[p + k][2] if p + k < n else len(jql) + 1

        def unquote(kind: str, val: str) -> str:
            if kind == "str":
                return re.sub(r"\\(.)", r"\1", val[1:-1])
            return val

        def punct(ch: str) -> bool:
            return p < n and toks[p][0] == "punct" and toks[p][1] == ch

        clauses = []
        order = None
        depth = 0  # parentheses around AND-ed clauses, e.g. "(project = ABC) AND updated >= 1"
        while p < n:
            if peek_word() == "order" and peek_word(1) == "by":
                if depth:
                    raise _JqlError(f"Error in the JQL Query: Expecting ')' but got 'ORDER'. "
                                    f"(line 1, character {where()})")
                p += 2
                order = []
                while True:
                    if p >= n or toks[p][0] not in ("word", "str"):
                        raise _JqlError(f"Error in the JQL Query: Expecting a field name but got '{got()}'. "
                                        f"(line 1, character {where()})")
                    fname = unquote(toks[p][0], toks[p][1]).lower()
                    p += 1
                    direction = "asc"
                    if peek_word() in ("asc", "desc"):
                        direction = peek_word()
                        p += 1
                    order.append((fname, direction))
                    if p < n and toks[p] == ("punct", ",", toks[p][2]):
                        p += 1
                        continue
                    break
                if p < n:
                    raise _JqlError(f"Error in the JQL Query: Expecting either a ',' or end of query but got "
                                    f"'{got()}'. (line 1, character {where()})")
                break
            if clauses:
                w = peek_word()
                if w == "and":
                    p += 1
                elif w == "or":
                    raise _JqlError("FakeJira supports only AND between JQL clauses, not OR. "
                                    f"(line 1, character {where()})")
                else:
                    raise _JqlError(f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{got()}'. "
                                    f"(line 1, character {where()})")
            while punct("("):
                depth += 1
                p += 1
            if p >= n or toks[p][0] not in ("word", "str"):
                raise _JqlError(f"Error in the JQL Query: Expecting a field name but got '{got()}'. "
                                f"(line 1, character {where()})")
            field = unquote(toks[p][0], toks[p][1])
            p += 1
            if p < n and toks[p][0] == "op":
                op = toks[p][1]
                p += 1
            elif peek_word() == "in":
                op = "in"
                p += 1
            elif peek_word() == "not" and peek_word(1) == "in":
                op = "not in"
                p += 2
            else:
                raise _JqlError(f"Error in the JQL Query: Expecting operator but got '{got()}'. The valid "
                                f"operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
                                f"'IS' and 'IS NOT'. (line 1, character {where()})")
            if op in ("in", "not in"):
                if not (p < n and toks[p][1] == "("):
                    raise _JqlError(f"Error in the JQL Query: Expecting '(' but got '{got()}'. "
                                    f"(line 1, character {where()})")
                p += 1
                values = []
                while True:
                    if p >= n or toks[p][0] not in ("word", "str"):
                        raise _JqlError(f"Error in the JQL Query: Expecting either a value, list or function "
                                        f"but got '{got()}'. (line 1, character {where()})")
                    values.append(unquote(toks[p][0], toks[p][1]))
                    p += 1
                    if p < n and toks[p][1] == ",":
                        p += 1
                        continue
                    if p < n and toks[p][1] == ")":
                        p += 1
                        break
                    raise _JqlError(f"Error in the JQL Query: Expecting ')' but got '{got()}'. "
                                    f"(line 1, character {where()})")
            else:
                if p >= n or toks[p][0] not in ("word", "str"):
                    raise _JqlError(f"Error in the JQL Query: Expecting either a value, list or function but got "
                                    f"'{got()}'. (line 1, character {where()})")
                values = [unquote(toks[p][0], toks[p][1])]
                p += 1
            clauses.append((field, op, values))
            while depth and punct(")"):
                depth -= 1
                p += 1
        if depth:
            raise _JqlError(f"Error in the JQL Query: Expecting ')' but got 'EOF'. (line 1, character {len(jql) + 1})")
        self._apply_clauses(flt, clauses, order)
        flt.norm = orjson.dumps([[c[0].lower(), c[1], c[2]] for c in clauses]).decode()
        return flt

    def _jql_date(self, field: str, value: str) -> int:
        v = value.strip()
        if re.fullmatch(r"-?\d+", v):
            return int(v)
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                return _ms(datetime.strptime(v, fmt).replace(tzinfo=UTC))
            except ValueError:
                pass
        m = _REL_RE.match(v)
        if m:
            total = 0
            for num, unit in re.findall(r"(\d+)\s*([wdhm])", m.group(2), re.I):
                total += int(num) * {"w": 7 * _DAY_MS, "d": _DAY_MS, "h": 3_600_000, "m": 60_000}[unit.lower()]
            return self._clock_ms + (-total if m.group(1) == "-" else total)
        raise _JqlError(f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
                        f"'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                        f"format e.g. '-5d', '4w 2d'.")

    def _apply_clauses(self, flt: _Filter, clauses: list, order: list | None) -> None:
        errors = []
        for field, op, values in clauses:
            lf = field.lower()
            if lf in ("project", "proj"):
                if op not in ("=", "in"):
                    raise _JqlError(f"The operator '{op.upper()}' is not supported by the 'project' field in FakeJira.")
                found = set()
                for val in values:
                    u = val.upper()
                    if u in self._idx:
                        found.add(u)
                    elif val in self._project_by_id:
                        found.add(self._project_by_id[val])
                    else:
                        byname = [p for p in self.projects if f"project {p}".lower() == val.lower()]
                        if byname:
                            found.add(byname[0])
                        else:
                            errors.append(f"The value '{val}' does not exist for the field 'project'.")
                flt.projects = found if flt.projects is None else (flt.projects & found)
                flt.bounded = True
            elif lf in ("updated", "updateddate", "created", "createddate"):
                if op not in (">=", ">", "<=", "<", "="):
                    raise _JqlError(f"The operator '{op.upper()}' is not supported by the '{field}' field.")
                t = self._jql_date(field, values[0])
                lo = hi = None
                if op == ">=":
                    lo = t
                elif op == ">":
                    lo = t + 1
                elif op == "<=":
                    hi = t
                elif op == "<":
                    hi = t - 1
                else:
                    lo = hi = t
                if lf.startswith("updated"):
                    if lo is not None:
                        flt.lo = lo if flt.lo is None else max(flt.lo, lo)
                    if hi is not None:
                        flt.hi = hi if flt.hi is None else min(flt.hi, hi)
                else:
                    if lo is not None:
                        flt.clo = lo if flt.clo is None else max(flt.clo, lo)
                    if hi is not None:
                        flt.chi = hi if flt.chi is None else min(flt.chi, hi)
                flt.bounded = True
            elif lf in ("key", "issuekey", "id"):
                if op not in ("=", "in"):
                    raise _JqlError(f"The operator '{op.upper()}' is not supported by the '{field}' field in FakeJira.")
                keys = set()
                for val in values:
                    if not _ISSUE_KEY_RE.match(val) and not val.isdigit():
                        errors.append(f"The issue key '{val}' for field '{field}' is invalid.")
                        continue
                    st = self._lookup(val)
                    if st is None:
                        errors.append(f"An issue with key '{val}' does not exist for field '{field}'.")
                    else:
                        keys.add(st.key)
                flt.keys = keys if flt.keys is None else (flt.keys & keys)
                flt.bounded = True
            elif lf in ("status", "assignee", "issuetype", "type", "labels", "resolution", "priority",
                        "reporter", "summary", "text", "statuscategory", "sprint", "parent", "resolved"):
                raise _JqlError(f"FakeJira does not support the field '{field}' in JQL; supported: project, "
                                f"updated, created, key.")
            else:
                errors.append(f"Field '{field}' does not exist or you do not have permission to view it.")
        if errors:
            raise _JqlError(*errors)
        if order is not None:
            norm = [(f, d) for f, d in order]
            ok = (norm in ([("updated", "asc")], [("updated", "asc"), ("key", "asc")],
                           [("updated", "asc"), ("issuekey", "asc")]))
            if not ok:
                known = {"updated", "key", "issuekey", "created", "id", "priority", "status", "rank"}
                for f, _ in norm:
                    if f not in known:
                        raise _JqlError(f"Not able to sort using field '{f}'.")
                raise _JqlError("FakeJira only supports ORDER BY updated ASC, key ASC.")

    def _matches(self, flt: _Filter) -> list[tuple[int, str, int]]:
        """Sorted (updated, project, num) positions matching the filter (cached until a mutation)."""
        ck = (flt.norm, flt.lo, flt.hi)
        hit = self._match_cache.get(ck)
        if hit is not None:
            return hit
        projects = sorted(flt.projects) if flt.projects is not None else list(self.projects)
        runs = []
        for p in projects:
            lst = self._idx[p]
            start = bisect.bisect_left(lst, (flt.lo,)) if flt.lo is not None else 0
            runs.append(lst[start:])
        out = runs[0] if len(runs) == 1 else list(heapq.merge(*runs))
        if flt.hi is not None or flt.clo is not None or flt.chi is not None or flt.keys is not None:
            keys, hi, clo, chi = flt.keys, flt.hi, flt.clo, flt.chi
            res = []
            for pos in out:
                if hi is not None and pos[0] > hi:
                    break
                k = f"{pos[1]}-{pos[2]}"
                if keys is not None and k not in keys:
                    continue
                if clo is not None or chi is not None:
                    c = self._by_key[k].created
                    if (clo is not None and c < clo) or (chi is not None and c > chi):
                        continue
                res.append(pos)
            out = res
        if len(self._match_cache) > 64:
            self._match_cache.clear()
        self._match_cache[ck] = out
        return out

    # ------------------------------------------------------------------ internals: HTTP
    def _record(self, method: str, path: str, query: dict, body: Any) -> None:
        rec = dict(query)
        if isinstance(body, dict):
            rec.update(body)
        with self._req_lock:
            self.requests.append((method, path, rec))

    def _authorized(self, headers) -> bool:
        auth = headers.get("Authorization") or ""
        if self.flavor == "cloud":
            if not auth[:6].lower() == "basic ":
                return False
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return False
            return decoded == f"{self.email}:{self.token}"
        return auth[:7].lower() == "bearer " and auth[7:].strip() == self.token

    def _dispatch(self, method: str, raw_path: str, headers, raw_body: bytes) -> tuple[int, bytes, dict | None]:
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body: Any = None
        body_error = False
        if raw_body:
            try:
                body = orjson.loads(raw_body)
            except orjson.JSONDecodeError:
                body_error = True
        self._record(method, path, query, body)

        token = query.get("nextPageToken") or (body.get("nextPageToken") if isinstance(body, dict) else None)
        reshape = None
        for f in self.faults._fire(path, applies=lambda f: f.kind != "repeat_token" or bool(token)):
            if f.kind == "slow":
                time.sleep(f.delay)
            elif f.kind in Faults.RESHAPING:
                reshape = f.kind
            elif f.kind == "empty_200":
                return 200, b"", None
            elif f.kind == "html_200":
                return 200, MAINTENANCE_HTML, {"Content-Type": "text/html;charset=UTF-8"}
            elif f.kind == "429":
                reset = _dt(self._clock_ms + int(float(f.retry_after) * 1000))
                return 429, _err("Rate limit exceeded."), {
                    "Retry-After": str(f.retry_after), "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                    "RateLimit-Reason": "jira-burst-based"}
            elif f.kind == "500":
                return 500, _err("Internal server error"), None
            elif f.kind == "503":
                return 503, _err("Service Unavailable: Jira is temporarily unable to handle the request."), None
            elif f.kind == "401":
                return 401, _err(MSG_401), {"WWW-Authenticate": 'Basic realm="protected-area"'}

        if not self._authorized(headers):
            return 401, _err(MSG_401), {"WWW-Authenticate": 'Basic realm="protected-area"'
                                        if self.flavor == "cloud" else "Bearer"}
        if body_error:
            return 400, _err("Unexpected character in the request body: it is not valid JSON."), None
        status, out, extra = self._route(method, path, query, body if isinstance(body, dict) else {})
        if reshape and status == 200:
            out, extra = self._reshape(reshape, out, extra, token)
        return status, out, extra

    @staticmethod
    def _reshape(kind: str, out: bytes, extra: dict | None, token: str | None) -> tuple[bytes, dict | None]:
        """A 200 answer altered by one of Faults.RESHAPING."""
        if kind == "malformed_json":
            return out[: max(1, len(out) // 2)], extra
        if kind == "truncated":
            return out[: len(out) // 2], {**(extra or {}), "Content-Length": str(len(out))}
        page = orjson.loads(out)
        if not isinstance(page, dict):
            return out, extra
        if kind == "no_issues":
            page.pop("issues", None)
        elif kind == "missing_islast":
            page.pop("isLast", None)
        elif kind == "repeat_token":
            page["nextPageToken"] = token
            page["isLast"] = False
        return orjson.dumps(page), extra

    def _route(self, method: str, path: str, q: dict, body: dict) -> tuple[int, bytes, dict | None]:
        m = re.match(r"^/rest/api/(2|3|latest)(/.*)?$", path)
        if not m:
            return self._not_found(path)
        v = 2 if m.group(1) in ("2", "latest") else 3
        sub = (m.group(2) or "").rstrip("/")
        cloud = self.flavor == "cloud"
        if not cloud and v == 3:
            return self._not_found(path)
        get = method == "GET"
        post = method == "POST"

        if sub == "/search":
            if cloud:
                return 410, _err(MSG_410), None
            if get:
                return self._search_dc(q)
            if post:
                return self._search_dc(body)
            return self._method_not_allowed()
        if sub in ("/search/jql", "/search/approximate-count"):
            if not cloud:
                return self._not_found(path)
            if sub == "/search/approximate-count":
                return self._approx_count(body) if post else self._method_not_allowed()
            if get:
                return self._search_jql(v, q)
            if post:
                return self._search_jql(v, body)
            return self._method_not_allowed()
        im = re.match(r"^/issue/([^/]+)(/changelog)?$", sub)
        if im:
            if not get:
                return self._method_not_allowed()
            if im.group(2):
                if not cloud:
                    return self._not_found(path)
                return self._changelog(v, im.group(1), q)
            return self._issue(v, im.group(1), q)
        if sub == "/changelog/bulkfetch":
            if not cloud:
                return self._not_found(path)
            return self._bulkfetch(v, body) if post else self._method_not_allowed()
        if not get:
            return self._not_found(path) if sub not in ("/field", "/status", "/issuetype", "/priority",
                                                        "/myself", "/serverInfo", "/project") else \
                self._method_not_allowed()
        with self._lock:
            cat = self._catalog(v)
        if sub == "/field":
            return 200, orjson.dumps(self._field_list()), None
        if sub == "/status":
            return 200, orjson.dumps([{**s, "untranslatedName": s["name"], "scope": None} if cloud else s
                                      for s in cat["statuses"].values()]), None
        if sub == "/statuscategory":
            return 200, orjson.dumps(list(cat["cats"].values())), None
        if sub == "/issuetype":
            return 200, orjson.dumps([{**t, "untranslatedName": t["name"]} if cloud else t
                                      for t in cat["types"].values()]), None
        if sub == "/priority":
            return 200, orjson.dumps([{**p, "statusColor": "#cccccc", "description": p["name"]}
                                      for p in cat["prios"].values()]), None
        if sub == "/myself":
            return 200, orjson.dumps(self._myself(v)), None
        if sub == "/serverInfo":
            return 200, orjson.dumps(self._server_info()), None
        if sub == "/project":
            return 200, orjson.dumps(list(cat["projects"].values())), None
        if sub == "/project/search" and cloud:
            vals = list(cat["projects"].values())
            return 200, orjson.dumps({"self": f"{cat['api']}/project/search?maxResults=50&startAt=0",
                                      "maxResults": 50, "startAt": 0, "total": len(vals), "isLast": True,
                                      "values": vals}), None
        pm = re.match(r"^/project/([^/]+)$", sub)
        if pm:
            k = pm.group(1)
            p = k.upper() if k.upper() in cat["projects"] else self._project_by_id.get(k)
            if p is None:
                return 404, _err(f"No project could be found with key '{k}'."), None
            return 200, orjson.dumps({**cat["projects"][p], "description": "",
                                      "issueTypes": list(cat["types"].values()),
                                      "lead": cat["users"][0], "components": cat["components"][p],
                                      "versions": cat["versions"][p]}), None
        return self._not_found(path)

    def _not_found(self, path: str):
        return 404, orjson.dumps({"message": f"null for uri: {self._base}{path}", "status-code": 404}), None

    def _method_not_allowed(self):
        return 405, _err("Method Not Allowed"), None

    # -- handlers
    @staticmethod
    def _int_param(params: dict, name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            raise ValueError(name)
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError(name) from None

    @staticmethod
    def _list_param(raw: Any) -> list[str] | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return [x.strip() for x in raw.split(",") if x.strip()]
        if isinstance(raw, (list, tuple)):
            out = []
            for x in raw:
                out.extend(y.strip() for y in str(x).split(",") if y.strip())
            return out
        return [str(raw)]

    def _fields_select(self, raw: Any, default: Any) -> Any:
        """None (id only), _SELECT_ALL, or a tuple of field indexes (unknown names are ignored, as Jira does)."""
        names = self._list_param(raw)
        if not names:
            return default
        include_all = False
        inc: list[str] = []
        exc: set[str] = set()
        for n in names:
            if n in ("*all", "*navigable"):
                include_all = True
            elif n.startswith("-"):
                exc.add(n[1:])
            elif n not in ("id", "key", "*none"):
                inc.append(n)
        if include_all and not exc:
            return _SELECT_ALL
        index = self._field_index
        wanted = set(index) if include_all else set(inc)
        return tuple(i for name, i in index.items() if name in wanted and name not in exc)

    def _token(self, pos: tuple, norm: str) -> str:
        h = hashlib.sha1(norm.encode()).hexdigest()[:10]
        raw = orjson.dumps([pos[0], pos[1], pos[2], h])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _untoken(self, tok: str, norm: str) -> tuple:
        try:
            raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
            u, p, n, h = orjson.loads(raw)
            assert isinstance(u, int) and isinstance(p, str) and isinstance(n, int)
        except Exception:
            raise ValueError(MSG_BAD_TOKEN) from None
        if h != hashlib.sha1(norm.encode()).hexdigest()[:10]:
            raise ValueError(MSG_BAD_TOKEN)
        return (u, p, n)

    def _search_jql(self, v: int, params: dict):
        jql = params.get("jql") or ""
        if not isinstance(jql, str):
            return 400, _err("The JQL must be a string."), None
        try:
            flt = self._parse_jql(jql)
            maxr = self._int_param(params, "maxResults", 50)
        except _JqlError as e:
            return 400, _err(e.messages), None
        except ValueError as e:
            return 400, _err(f"The value for '{e}' is invalid."), None
        if not flt.bounded:
            return 400, _err(MSG_UNBOUNDED), None
        fsel = self._fields_select(params.get("fields"), None)
        expand = self._list_param(params.get("expand")) or []
        changelog = "trunc" if "changelog" in expand else None
        # Jira Cloud serves its largest pages when only ids are asked for.
        maxr = max(1, min(maxr, CLOUD_SEARCH_MAX if (fsel or changelog) else CLOUD_SEARCH_ID_ONLY_MAX))
        token = params.get("nextPageToken")
        with self._lock:
            start = 0
            matches = self._matches(flt)
            if token:
                try:
                    pos = self._untoken(str(token), flt.norm)
                except ValueError as e:
                    return 400, _err(str(e)), None
                start = bisect.bisect_right(matches, pos)
            page = matches[start:start + maxr]
            is_last = start + maxr >= len(matches)
            by_key = self._by_key
            parts = [self._issue_bytes(by_key[f"{p}-{n}"], v, fsel, changelog) for _, p, n in page]
        out = [b'{"issues":[', b",".join(parts), b"]"]
        if not is_last:
            out.append(b',"nextPageToken":"%s"' % self._token(page[-1], flt.norm).encode())
        out.append(b',"isLast":true}' if is_last else b',"isLast":false}')
        return 200, b"".join(out), None

    def _approx_count(self, body: dict):
        try:
            flt = self._parse_jql(body.get("jql") or "")
        except _JqlError as e:
            return 400, _err(e.messages), None
        if not flt.bounded:
            return 400, _err(MSG_UNBOUNDED), None
        with self._lock:
            count = len(self._matches(flt)) + self.approximate_count_offset
        return 200, orjson.dumps({"count": max(0, count)}), None

    def _search_dc(self, params: dict):
        jql = params.get("jql") or ""
        try:
            flt = self._parse_jql(str(jql))
            start = self._int_param(params, "startAt", 0)
            maxr = self._int_param(params, "maxResults", 50)
        except _JqlError as e:
            return 400, _err(e.messages), None
        except ValueError as e:
            return 400, _err(f"The value for '{e}' is invalid."), None
        start = max(0, start)
        maxr = max(0, min(maxr, DC_SEARCH_MAX))
        fsel = self._fields_select(params.get("fields"), _SELECT_ALL)
        expand = self._list_param(params.get("expand")) or []
        changelog = "full" if "changelog" in expand else None
        with self._lock:
            matches = self._matches(flt)
            page = matches[start:start + maxr]
            by_key = self._by_key
            parts = [self._issue_bytes(by_key[f"{p}-{n}"], 2, fsel, changelog) for _, p, n in page]
            total = len(matches)
        return 200, b"".join([b'{"expand":"schema,names","startAt":%d,"maxResults":%d,"total":%d,"issues":['
                              % (start, maxr, total), b",".join(parts), b"]}"]), None

    def _issue(self, v: int, key_or_id: str, q: dict):
        fsel = self._fields_select(q.get("fields"), _SELECT_ALL)
        expand = self._list_param(q.get("expand")) or []
        with self._lock:
            st = self._lookup(key_or_id)
            if st is None:
                return 404, _err(MSG_404_ISSUE), None
            return 200, self._issue_bytes(st, v, fsel, "full" if "changelog" in expand else None), None

    def _changelog(self, v: int, key_or_id: str, q: dict):
        try:
            start = max(0, self._int_param(q, "startAt", 0))
            maxr = self._int_param(q, "maxResults", CHANGELOG_PAGE_MAX)
        except ValueError as e:
            return 400, _err(f"The value for '{e}' is invalid."), None
        maxr = max(1, min(maxr, CHANGELOG_PAGE_MAX))
        with self._lock:
            st = self._lookup(key_or_id)
            if st is None:
                return 404, _err(MSG_404_ISSUE), None
            c = self._cached(st, v)
            total = len(c[4]) - 1
            vals = self._hist_join(c, start, start + maxr)
            is_last = start + maxr >= total
            url = f"{self._base}/rest/api/{v}/issue/{key_or_id}/changelog"
        out = [b'{"self":', orjson.dumps(f"{url}?maxResults={maxr}&startAt={start}")]
        if not is_last:
            out += [b',"nextPage":', orjson.dumps(f"{url}?maxResults={maxr}&startAt={start + maxr}")]
        out.append(b',"maxResults":%d,"startAt":%d,"total":%d,"isLast":%s,"values":['
                   % (maxr, start, total, b"true" if is_last else b"false"))
        out += [vals, b"]}"]
        return 200, b"".join(out), None

    def _bulkfetch(self, v: int, body: dict):
        ids = body.get("issueIdsOrKeys")
        if not isinstance(ids, list) or not ids:
            return 400, _err("issueIdsOrKeys must not be empty."), None
        if len(ids) > BULKFETCH_MAX_ISSUES:
            return 400, _err(f"The number of issueIdsOrKeys must not exceed {BULKFETCH_MAX_ISSUES}."), None
        try:
            maxr = self._int_param(body, "maxResults", 1000)
        except ValueError:
            return 400, _err("The value for 'maxResults' is invalid."), None
        maxr = max(1, min(maxr, BULKFETCH_MAX_RESULTS))
        field_ids = body.get("fieldIds")
        only = set(map(str, field_ids)) if isinstance(field_ids, list) and field_ids else None
        norm = orjson.dumps([ids, sorted(only) if only else None]).decode()
        i0, j0 = 0, 0
        tok = body.get("nextPageToken")
        if tok:
            try:
                u, _, n = self._untoken(str(tok), norm)
                i0, j0 = u, n
            except ValueError as e:
                return 400, _err(str(e)), None
        out = []
        budget = maxr
        next_pos = None
        with self._lock:
            sts = [self._lookup(x) for x in ids]
            for i in range(i0, len(sts)):
                st = sts[i]
                if st is None:
                    continue
                if only is None:
                    c = self._cached(st, v)
                    total = len(c[4]) - 1
                    chunk = (lambda a, b, c=c: self._hist_join(c, a, b))
                else:
                    lst = self._filtered_histories(st, v, only)
                    total = len(lst)
                    chunk = (lambda a, b, lst=lst: b",".join(lst[a:b]))
                start = j0 if i == i0 else 0
                if start >= total:
                    continue
                if budget == 0:
                    next_pos = (i, start)
                    break
                end = min(total, start + budget)
                budget -= end - start
                out.append(b'{"issueId":"%s","changeHistories":[%s]}' % (st.id.encode(), chunk(start, end)))
                if end < total:
                    next_pos = (i, end)
                    break
        parts = [b'{"issueChangeLogs":[', b",".join(out), b"]"]
        if next_pos is not None:
            parts.append(b',"nextPageToken":"%s"' % self._token((next_pos[0], "", next_pos[1]), norm).encode())
        parts.append(b"}")
        return 200, b"".join(parts), None

    def _filtered_histories(self, st: _Issue, v: int, only: set) -> list[bytes]:
        """bulkfetch with fieldIds: histories touching those fields, with only those items."""
        c = self._cached(st, v)
        out = []
        for k, h in enumerate(st.hist):
            fids = {self.story_points_field if kind == "sp" else kind for kind, _, _ in h[3]}
            if fids <= only:
                out.append(self._hist_join(c, k, k + 1))
            elif fids & only:
                out.append(orjson.dumps(self._history_obj(h, v, only)))
        return out

    def _field_list(self) -> list[dict]:
        cloud = self.flavor == "cloud"

        def system(fid, name, typ, items=None, navigable=True):
            schema = {"type": typ, "system": fid}
            if items:
                schema["items"] = items
            d = {"id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                 "navigable": navigable, "searchable": True, "clauseNames": [fid], "schema": schema}
            if not cloud:
                del d["key"]
            return d

        out = [
            system("summary", "Summary", "string"), system("status", "Status", "status"),
            system("issuetype", "Issue Type", "issuetype"), system("priority", "Priority", "priority"),
            system("assignee", "Assignee", "user"), system("reporter", "Reporter", "user"),
            system("creator", "Creator", "user"), system("created", "Created", "datetime"),
            system("updated", "Updated", "datetime"), system("resolutiondate", "Resolved", "datetime"),
            system("resolution", "Resolution", "resolution"), system("labels", "Labels", "array", "string"),
            system("components", "Components", "array", "component"),
            system("fixVersions", "Fix versions", "array", "version"),
            system("versions", "Affects versions", "array", "version"),
            system("project", "Project", "project"), system("description", "Description", "string"),
            system("environment", "Environment", "string"), system("duedate", "Due date", "date"),
            system("timetracking", "Time tracking", "timetracking", navigable=False),
            system("watches", "Watchers", "watches"), system("votes", "Votes", "votes"),
            system("subtasks", "Sub-tasks", "array", "issuelinks"),
            system("issuelinks", "Linked Issues", "array", "issuelinks"),
            system("attachment", "Attachment", "array", "attachment"),
            system("statuscategorychangedate", "Status Category Changed", "datetime"),
            system("lastViewed", "Last Viewed", "datetime"),
        ]
        if cloud:
            out.append(system("parent", "Parent", "any"))
        spid = int(self.story_points_field.rsplit("_", 1)[-1]) if self.story_points_field.rsplit("_", 1)[-1].isdigit() else 10016

        def custom(fid, name, typ, ctype, items=None):
            cid = int(fid.rsplit("_", 1)[-1])
            schema = {"type": typ, "custom": ctype, "customId": cid}
            if items:
                schema["items"] = items
            d = {"id": fid, "key": fid, "name": name, "untranslatedName": name, "custom": True, "orderable": True,
                 "navigable": True, "searchable": True, "clauseNames": [f"cf[{cid}]", name], "schema": schema}
            if not cloud:
                del d["key"], d["untranslatedName"]
            return d

        if cloud:
            out.append(custom(self.story_points_field, self.sp_name, "number",
                              "com.pyxis.greenhopper.jira:jsw-story-points"))
        else:
            out.append(custom(self.story_points_field, self.sp_name, "number",
                              "com.atlassian.jira.plugin.system.customfieldtypes:float"))
        out[-1]["schema"]["customId"] = spid
        f0, f1, f2 = self._filler_ids
        out.append(custom(f0, "Start date", "date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"))
        out.append(custom(f1, "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"))
        out.append(custom(f2, "Flagged", "array", "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
                          "option"))
        return out

    def _myself(self, v: int) -> dict:
        base = self._base
        if self.flavor == "cloud":
            acc = "712020:" + hashlib.sha1(self.email.encode()).hexdigest()[:32]
            av = f"https://secure.gravatar.com/avatar/{hashlib.md5(self.email.encode()).hexdigest()}?d=mm&s="
            return {"self": f"{base}/rest/api/{v}/user?accountId={acc}", "accountId": acc,
                    "accountType": "atlassian", "emailAddress": self.email,
                    "avatarUrls": {s: av + s.split("x")[0] for s in ("48x48", "24x24", "16x16", "32x32")},
                    "displayName": "ETL Bot", "active": True, "timeZone": "Etc/UTC", "locale": "en_US",
                    "groups": {"size": 1, "items": []}, "applicationRoles": {"size": 1, "items": []},
                    "expand": "groups,applicationRoles"}
        av = f"{base}/secure/useravatar?avatarId=10122"
        return {"self": f"{base}/rest/api/2/user?username=etl-bot", "key": "JIRAUSER10000", "name": "etl-bot",
                "emailAddress": self.email, "avatarUrls": {"48x48": av, "24x24": av + "&size=small",
                                                           "16x16": av + "&size=xsmall", "32x32": av + "&size=medium"},
                "displayName": "ETL Bot", "active": True, "deleted": False, "timeZone": "Etc/UTC",
                "locale": "en_US", "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []}, "expand": "groups,applicationRoles"}

    def _server_info(self) -> dict:
        now = _fmt(self._clock_ms)
        if self.flavor == "cloud":
            return {"baseUrl": self._base, "displayUrl": self._base, "displayUrlServicedeskHelpCenter": self._base,
                    "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
                    "buildNumber": 100289, "buildDate": "2025-11-20T00:00:00.000+0000", "serverTime": now,
                    "scmInfo": "fakejira", "serverTitle": "Jira", "defaultLocale": {"locale": "en_US"},
                    "serverTimeZone": "Etc/UTC"}
        return {"baseUrl": self._base, "version": "9.12.15", "versionNumbers": [9, 12, 15],
                "deploymentType": "Server", "buildNumber": 9120015, "buildDate": "2024-10-01T00:00:00.000+0000",
                "databaseBuildNumber": 9120015, "serverTime": now, "scmInfo": "fakejira", "serverTitle": "Jira"}


# -- standalone -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m etl.fakes.jira",
                                 description="Run the fake Jira REST API in the foreground.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--issues", type=int, default=5000)
    ap.add_argument("--projects", default="ABC")
    ap.add_argument("--flavor", choices=("cloud", "dc"), default="cloud")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--email", default="bot@example.com")
    ap.add_argument("--token", default="secret-token")
    ap.add_argument("--story-points-field", default="customfield_10016")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    fake = FakeJira(issues=args.issues, projects=[p for p in args.projects.split(",") if p.strip()],
                    flavor=args.flavor, seed=args.seed, email=args.email, token=args.token,
                    story_points_field=args.story_points_field)
    srv = fake.serve(args.host, args.port)
    print(f"Fake Jira ({args.flavor}) with {args.issues} issues in {','.join(fake.projects)} "
          f"ready in {time.monotonic() - t0:.1f}s at {srv.url}", flush=True)
    if args.flavor == "cloud":
        print(f"  auth: basic  email={fake.email}  token={fake.token}", flush=True)
        print(f"  try:  curl -u {fake.email}:{fake.token} '{srv.url}/rest/api/3/search/jql?"
              f"jql=project%3D{fake.projects[0]}&fields=summary,status&maxResults=2'", flush=True)
    else:
        print(f"  auth: bearer token={fake.token}", flush=True)
        print(f"  try:  curl -H 'Authorization: Bearer {fake.token}' '{srv.url}/rest/api/2/search?"
              f"jql=project%3D{fake.projects[0]}&fields=summary,status&maxResults=2'", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
