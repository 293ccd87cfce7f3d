"""A faithful, fast local fake of the GitHub REST API (github.com and GitHub Enterprise ``/api/v3``).

Used by the GitHub client's tests, the demo and the benchmark, over real HTTP on 127.0.0.1.

* ``/repos/{o}/{r}/pulls`` (state/sort/direction/base/head, per_page max 100, ``Link`` header with
  next/last/first/prev as GitHub writes it: absolute ``/repositories/{id}/pulls?...&page=N`` URLs that
  keep the query), ``/pulls/{n}`` (the detail: merged, additions, ...), ``/pulls/{n}/reviews`` and
  ``/pulls/{n}/commits`` (capped at 250), ``/repos/{o}/{r}``, ``/user``, ``/rate_limit``; all of them
  also under ``/repositories/{id}/...`` and under the Enterprise prefix ``/api/v3``.
* Auth ``Authorization: Bearer <token>`` or ``token <token>``; 401 "Bad credentials" otherwise.
* Primary rate limit per token (``x-ratelimit-*`` headers on every answer, 403 "API rate limit exceeded"
  at 0 until the reset epoch, in real wall-clock time); ``/rate_limit`` is free. No ETag or
  Last-Modified: no client sends a conditional request since pull requests come from GraphQL.
* ``POST /graphql`` (Enterprise: ``/api/graphql``): the same pull requests, reviews and commits through
  GitHub's GraphQL API, with its own budget of points per token; see etl/fakes/github_graphql.py.
* Injected faults: secondary limits (403/429 + retry-after), a plain 403 "Resource not accessible by
  integration", 500, 502, slow answers, truncated JSON.

Speed: every pull request's list item, detail, reviews and commits are pre-serialized with orjson
(shared objects such as users and repositories are embedded as ``orjson.Fragment``), cached per URL
prefix and invalidated when that pull request changes. Pages are assembled by joining bytes.

Standalone: ``python -m etl.fakes.github --port 8082 --repos acme/api:120,acme/web:80``.
Only the standard library and orjson are used.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http
import itertools
import math
import random
import re
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any, Iterable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import orjson

from etl.fakes import github_graphql
from etl.fakes.http import FakeHandler, FakeServer
from etl.fakes.http import Faults as _BaseFaults

__all__ = ["FakeGitHub", "Faults", "main"]

UTC = timezone.utc
ENTERPRISE_PREFIX = "/api/v3"
GRAPHQL_PATHS = ("/graphql", "/api/graphql")  # github.com, GitHub Enterprise
PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100
COMMITS_CAP = 250  # /pulls/{n}/commits lists at most 250 commits
WINDOW = 3600  # primary rate-limit window (seconds)
ANON_LIMIT = 60
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")

# -- error bodies (as GitHub sends them) ----------------------------------------------------------
DOCS = "https://docs.github.com/rest"
DOC_LIST = "https://docs.github.com/rest/pulls/pulls#list-pull-requests"
DOC_GET = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
DOC_REVIEWS = "https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request"
DOC_COMMITS = "https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request"
DOC_REPO = "https://docs.github.com/rest/repos/repos#get-a-repository"
DOC_PRIMARY = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
DOC_SECONDARY = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
MSG_SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                 "If you reach out to GitHub Support for help, please include the request ID {rid} and "
                 "timestamp {ts}.")
MSG_PRIMARY = ("API rate limit exceeded for user ID {uid}. If you reach out to GitHub Support for help, please "
               "include the request ID {rid} and timestamp {ts}.")
MSG_FORBIDDEN = "Resource not accessible by integration"

_DOC_BY_KIND = {"list": DOC_LIST, "detail": DOC_GET, "reviews": DOC_REVIEWS, "commits": DOC_COMMITS,
                "repo": DOC_REPO}


def _err(message: str, doc: str = DOCS, status: int | None = None, errors: list | None = None) -> bytes:
    d: dict[str, Any] = {"message": message}
    if errors is not None:
        d["errors"] = errors
    d["documentation_url"] = doc
    if status is not None:
        d["status"] = str(status)
    return orjson.dumps(d)


# -- time helpers ---------------------------------------------------------------------------------
def _iso(s: int | None) -> str | None:
    """GitHub's timestamp format: 2024-03-05T10:11:12Z."""
    if s is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))


def _dt(s: int | None) -> datetime | None:
    return None if s is None else datetime.fromtimestamp(s, UTC)


def _num(v: float) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else str(f)


# -- static catalogue -----------------------------------------------------------------------------
_FIRST = ["Ava", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
          "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Rosa", "Sven"]
_LAST = ["Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Schmidt", "Costa", "Haddad", "Kowalski",
         "Nguyen", "Fischer", "Rossi", "Ivanova", "Brennan", "Sato", "Patel", "Larsen", "Mendes"]
# login, id, app slug
BOTS = [("dependabot[bot]", 49699333, "dependabot"), ("renovate[bot]", 29139614, "renovate")]
_VERBS = ["Fix", "Add", "Refactor", "Improve", "Remove", "Migrate", "Document", "Support", "Optimize",
          "Validate", "Expose", "Harden", "Split", "Simplify", "Cache"]
_OBJECTS = ["login flow", "billing export", "search index", "webhook retries", "CSV import",
            "notification settings", "rate limiter", "audit log", "user avatars", "session cache",
            "report builder", "OAuth scopes", "invoice PDF", "dashboard widgets", "API pagination",
            "password reset", "feature flags", "data retention job", "mobile deep links", "SSO setup"]
_QUALIFIERS = ["for large tenants", "on Safari", "in the EU region", "after the upgrade",
               "when the token expires", "for archived projects", "under load", "in dark mode",
               "", "", "", "", ""]
_BRANCH_KINDS = ["feature", "feature", "fix", "fix", "chore", "refactor"]
_WORDS = ("the a service request customer team should when after before data page timeout retry "
          "error value field user report query cache index latency export import release deploy "
          "config token session account project workflow status review handler queue job worker "
          "batch limit metric alert dashboard endpoint response payload schema migration version "
          "client server build test coverage flaky regression edge case rollout because while returns "
          "missing duplicate slow correctly expected observed steps logs trace header mapping default").split()
_COMMIT_MSGS = ["Address review comments", "Fix tests", "Update snapshots", "Refactor helper", "Add missing tests",
                "WIP", "Fix lint", "Rename variable", "Handle empty response", "Tidy up", "Add docs",
                "Revert accidental change", "Use the new client", "Extract function"]
_NPM = ["lodash", "axios", "eslint", "typescript", "react", "webpack", "jest", "express", "@types/node",
        "prettier", "vite", "date-fns", "zod", "undici"]
# name, color, description, default
LABELS = [("bug", "d73a4a", "Something isn't working", True),
          ("enhancement", "a2eeef", "New feature or request", True),
          ("documentation", "0075ca", "Improvements or additions to documentation", True),
          ("dependencies", "0366d6", "Pull requests that update a dependency file", False),
          ("javascript", "168700", "Pull requests that update Javascript code", False),
          ("needs review", "fbca04", "", False),
          ("tech-debt", "c5def5", "", False),
          ("security", "b60205", "", False),
          ("performance", "5319e7", "", False)]
_HUMAN_LABELS = [0, 1, 2, 5, 6, 7, 8]

_KEY_RE = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]*-[0-9]+(?![0-9])")


def _sentences(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        s = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14)))
        out.append(s[0].upper() + s[1:] + ".")
    return " ".join(out)


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def _node_id(prefix: str, *parts: int) -> str:
    raw = b"\x93" + b"".join(p.to_bytes(8, "big") for p in parts)
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- state ----------------------------------------------------------------------------------------
class _User:
    __slots__ = ("idx", "login", "id", "name", "bot", "app")

    def __init__(self, idx: int, login: str, uid: int, name: str, bot: bool, app: str | None = None):
        self.idx, self.login, self.id, self.name, self.bot, self.app = idx, login, uid, name, bot, app

    @property
    def email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.github.com"


class _Review:
    __slots__ = ("id", "user", "state", "submitted", "body", "commit")

    def __init__(self, rid: int, user: int, state: str, submitted: int | None, body: str, commit: int):
        self.id, self.user, self.state, self.submitted, self.body, self.commit = rid, user, state, submitted, body, commit


class _Repo:
    __slots__ = ("full", "owner", "name", "id", "org_id", "prs", "sorted", "created")

    def __init__(self, full: str, rid: int, org_id: int, created: int):
        self.full = full
        self.owner, self.name = full.split("/", 1)
        self.id = rid
        self.org_id = org_id
        self.prs: dict[int, _PR] = {}
        self.sorted: dict[tuple, list[_PR]] = {}
        self.created = created


class _PR:
    """Compact state of one pull request; rendering happens in FakeGitHub._render_*."""

    __slots__ = (
        "repo", "number", "id", "seed", "title", "body", "state", "draft", "user", "head_ref", "base_ref",
        "created", "updated", "merged", "closed", "merged_by", "additions", "deletions", "changed_files",
        "ncommits", "first_commit", "last_commit", "pushed", "commit_cache", "reviews", "comments",
        "review_comments", "labels", "requested", "assignee", "fork", "mergeable", "assoc", "keys", "cache",
    )

    def __init__(self):
        self.cache: dict = {}
        self.commit_cache: list | None = None
        self.pushed: list[tuple[int, int, str]] = []  # commits pushed after generation: (time, user, message)
        self.reviews: list[_Review] = []
        self.keys: tuple[str, ...] = ()


class Faults(_BaseFaults):
    """Injected failures. ``add(kind, path_contains, times, every, retry_after, delay)``.

    kinds: "secondary_403" / "secondary_429" (secondary rate limit, with ``retry-after``),
    "forbidden" (403 "Resource not accessible by integration", no retry-after, budget left),
    "500", "502", "slow" (sleep `delay` then answer), "malformed_json" (200 with a truncated body),
    "no_next_link" (the Link header loses its rel="next", a GraphQL pull request list says
    hasNextPage false: a client that trusts it stops early).
    A fault applies to authenticated requests whose path contains `path_contains`; it fires on every
    `every`-th matching request, `times` times in total (None = forever). Answers decided by a fault
    cost no primary budget.
    """

    KINDS = frozenset({"secondary_403", "secondary_429", "forbidden", "500", "502", "slow", "malformed_json",
                       "no_next_link"})
    PASSIVE = frozenset({"slow", "malformed_json", "no_next_link"})


# -- HTTP server ----------------------------------------------------------------------------------
_Server = FakeServer


_REASONS = {s.value: s.phrase for s in http.HTTPStatus}
_REQUEST_IDS = itertools.count(1)


def _request_id() -> str:
    n = next(_REQUEST_IDS)
    return f"C0DE:{n % 65536:04X}:{n * 2654435761 % (1 << 32):08X}:{n:08X}:{int(time.time()) & 0xFFFFFFFF:08X}"


class _Handler(FakeHandler):
    server_version = "GitHub.com"
    fake: "FakeGitHub"

    def version_string(self) -> str:
        return "github.com"

    def _handle(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        payload = self.rfile.read(length) if length > 0 else b""
        rid = _request_id()
        try:
            status, body, headers = self.fake._dispatch(method, self.path, self.headers, rid, payload)
        except Exception:  # pragma: no cover - a bug in the fake: make it visible
            traceback.print_exc()
            status, body, headers = 500, orjson.dumps({"message": "Server Error"}), {}
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}",
                "Server: github.com",
                f"Date: {formatdate(usegmt=True)}"]
        head.append("Content-Type: application/json; charset=utf-8")
        head.append(f"Content-Length: {len(body or b'')}")
        head += ["Cache-Control: private, max-age=60, s-maxage=60",
                 "Vary: Accept, Authorization, Cookie, X-GitHub-OTP",
                 "X-GitHub-Media-Type: github.v3; format=json",
                 "x-github-api-version-selected: 2022-11-28"]
        head.extend(f"{k}: {v}" for k, v in headers.items())
        head.append(f"X-GitHub-Request-Id: {rid}")
        if self.close_connection:
            head.append("Connection: close")
        out = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if body and method != "HEAD":
            out += body
        try:
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# -- the fake -------------------------------------------------------------------------------------
_REPO_RE = re.compile(r"^/repos/([^/]+)/([^/]+)(/.*)?$")
_REPOID_RE = re.compile(r"^/repositories/(\d+)(/.*)?$")
_SUB_RE = re.compile(r"^/pulls/(\d+)(/reviews|/commits)?$")


class FakeGitHub:
    """In-memory GitHub with deterministic generated pull requests, served over HTTP by :meth:`serve`."""

    def __init__(self, repos: dict[str, int] | Iterable[str] | str | None = None, seed: int = 1,
                 tokens: Iterable[str] | str = ("ghp_test",), rate_limit: int = 5000,
                 now: datetime | None = None, work_item_keys: Iterable[str] | None = None,
                 nul_bodies: bool = True, primary_limit_status: int = 403, graphql_limit: int = 5000,
                 graphql_limit_status: int = 200):
        if repos is None:
            repos = {"acme/api": 120, "acme/web": 80}
        if isinstance(repos, str):
            repos = _parse_repos(repos)
        elif not isinstance(repos, dict):
            repos = {r: 100 for r in repos}
        if not repos:
            raise ValueError("at least one repository")
        for full in repos:
            if full.count("/") != 1 or not all(full.split("/")):
                raise ValueError(f"repository {full!r} is not owner/name")
        if isinstance(tokens, str):
            tokens = (tokens,)
        self.tokens = tuple(tokens)
        if not self.tokens:
            raise ValueError("at least one token")
        self.seed = seed
        self.rate_limit = int(rate_limit)
        self.primary_limit_status = primary_limit_status
        self.graphql_limit = int(graphql_limit)
        # How a spent GraphQL budget is answered: 200 with an error of type RATE_LIMITED (GitHub's
        # usual answer), or 403/429 with x-ratelimit-remaining 0.
        self.graphql_limit_status = graphql_limit_status
        self.nul_bodies = nul_bodies
        self.work_item_keys = tuple(work_item_keys) if work_item_keys else ()
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now_s = int(now.timestamp())
        self.now = _dt(self.now_s)
        self._clock = self.now_s  # advances with mutations (seconds)
        self._max_updated = 0
        self.faults = Faults()
        self.requests: list[dict] = []
        self._req_lock = threading.Lock()
        self._lock = threading.RLock()
        self._budget_lock = threading.Lock()
        t0 = time.time()
        self._budgets: dict[str, list] = {t: [self.rate_limit, math.ceil(t0 + WINDOW)] for t in self.tokens}
        self._anon = [0, math.ceil(t0 + WINDOW)]
        self._graphql_budgets: dict[str, list] = {t: [self.graphql_limit, math.ceil(t0 + WINDOW)] for t in self.tokens}
        self._servers: list[_Server] = []
        self._base = "http://127.0.0.1"
        self._catalogs: dict[str, dict] = {}
        self._mut_rng = random.Random(seed * 7919 + 17)
        self._users = self._make_users()
        self._humans = [u.idx for u in self._users if not u.bot]
        self._bots = [u.idx for u in self._users if u.bot]
        self._by_login = {u.login: u for u in self._users}
        self._next_pr_id = 1_700_000_000 + (seed % 1000) * 1000
        self._next_review_id = 2_000_000_000 + (seed % 1000) * 1000
        self._repos: dict[str, _Repo] = {}
        self._repo_by_lower: dict[str, _Repo] = {}
        self._repo_by_id: dict[int, _Repo] = {}
        for full, n in repos.items():
            self._add_repo(full, int(n))

    # ------------------------------------------------------------------ generation
    def _make_users(self) -> list[_User]:
        rng = random.Random(self.seed * 31 + 5)
        users = []
        for i in range(len(_FIRST)):
            first, last = _FIRST[i], _LAST[(i * 7 + self.seed) % len(_LAST)]
            users.append(_User(i, f"{first}-{last}".lower(), rng.randint(1_000_000, 160_000_000),
                               f"{first} {last}", False))
        for j, (login, uid, app) in enumerate(BOTS):
            users.append(_User(len(_FIRST) + j, login, uid, login, True, app))
        return users

    def _add_repo(self, full: str, n: int) -> _Repo:
        h = int(hashlib.sha1(f"{self.seed}:{full}".encode()).hexdigest()[:8], 16)
        owner = full.split("/")[0]
        org_id = 10_000_000 + int(hashlib.sha1(owner.encode()).hexdigest()[:6], 16)
        repo = _Repo(full, 300_000_000 + h % 500_000_000, org_id, self.now_s - 900 * 86400 - h % 86400)
        self._repos[full] = repo
        self._repo_by_lower[full.lower()] = repo
        self._repo_by_id[repo.id] = repo
        rng = random.Random(f"{self.seed}:{full}")
        now = self.now_s
        start, latest = now - 180 * 86400, now - 3600
        created = sorted(rng.randrange(start, latest) for _ in range(n))
        num = 0
        for c in created:
            num += 1 + (rng.randint(1, 3) if rng.random() < 0.2 else 0)  # issues share the numbering
            self._new_pr(rng, repo, num, c, generated=True)
        # one long-lived PR with 300 commits exercises the 250 cap of /pulls/{n}/commits
        cands = [pr for pr in repo.prs.values() if pr.merged is not None and not self._users[pr.user].bot]
        if len(repo.prs) >= 10 and cands:
            big = cands[len(cands) // 2]
            big.ncommits = 300
            big.first_commit = min(big.first_commit, big.created - 20 * 86400)
        self._max_updated = max([self._max_updated] + [pr.updated for pr in repo.prs.values()])
        return repo

    def _pick_keys(self, rng: random.Random) -> tuple[str, ...]:
        keys = self.work_item_keys
        if not keys or rng.random() >= 0.44:
            return ()
        k = 2 if rng.random() < 0.25 and len(keys) > 1 else 1
        return tuple(rng.sample(keys, k))

    def _text(self, rng: random.Random, pr: _PR, user: _User) -> None:
        """title, head ref, body (and the work-item keys they mention)."""
        if user.bot:
            pkg = rng.choice(_NPM)
            a = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
            major = int(a.split(".")[0])
            if user.app == "dependabot":
                b = f"{major}.{rng.randint(int(a.split('.')[1]), 40)}.{rng.randint(0, 20)}"
                if b == a:
                    b = f"{major + 1}.0.0"
                pr.title = f"Bump {pkg} from {a} to {b}"
                pr.head_ref = f"dependabot/npm_and_yarn/{pkg.replace('@', '').replace('/', '-')}-{b}"
                pr.body = (f"Bumps [{pkg}](https://github.com/npm/{_slug(pkg)}) from {a} to {b}.\n"
                           f"<details>\n<summary>Release notes</summary>\n\n{_sentences(rng, 2)}\n</details>\n\n"
                           f"[![Dependabot compatibility score](https://dependabot-badges.githubapp.com/badges/"
                           f"compatibility_score?dependency-name={pkg}&package-manager=npm_and_yarn&previous-version="
                           f"{a}&new-version={b})](https://docs.github.com/en/github/managing-security-vulnerabilities)"
                           f"\n\nDependabot will resolve any conflicts with this PR as long as you don't alter it "
                           f"yourself.")
            else:
                pr.title = f"Update dependency {pkg} to v{major + 1}"
                pr.head_ref = f"renovate/{_slug(pkg)}-{major + 1}.x"
                pr.body = (f"This PR contains the following updates:\n\n| Package | Change |\n|---|---|\n"
                           f"| {pkg} | `{a}` -> `{major + 1}.0.0` |\n\n---\n\n### Configuration\n\n"
                           f"This PR has been generated by [Renovate Bot](https://github.com/renovatebot/renovate).")
            pr.keys = ()
            return
        verb, obj = rng.choice(_VERBS), rng.choice(_OBJECTS)
        q = rng.choice(_QUALIFIERS)
        title = f"{verb} {obj}" + (f" {q}" if q else "")
        kind = rng.choice(_BRANCH_KINDS)
        slug = _slug(obj)
        if q and rng.random() < 0.5:
            slug += "-" + _slug(q)
        elif rng.random() < 0.5:
            slug += f"-{rng.randint(2, 99)}"
        keys = self._pick_keys(rng)
        in_title = in_ref = in_body = ()
        if keys:
            where = rng.choice(["title", "title", "ref", "ref", "body", "title+ref", "title+body"])
            if len(keys) == 1:
                in_title = keys if "title" in where else ()
                in_ref = keys if "ref" in where else ()
                in_body = keys if "body" in where else ()
            else:  # two keys: the first in the title or branch, the second in the body
                if where.startswith("ref"):
                    in_ref = keys[:1]
                else:
                    in_title = keys[:1]
                in_body = keys[1:]
        if in_title:
            title = (f"{in_title[0]}: {verb.lower()} {obj}" if rng.random() < 0.7
                     else f"[{in_title[0]}] {title}")
        pr.title = title
        pr.head_ref = f"{kind}/{in_ref[0]}-{slug}" if in_ref else f"{kind}/{slug}"
        if rng.random() < 0.1 and not in_body:
            pr.body = None
        else:
            parts = ["## Summary", _sentences(rng, rng.randint(1, 3))]
            if in_body:
                parts.append(" ".join(f"{rng.choice(['Closes', 'Fixes', 'Relates to'])} {k}." for k in in_body))
            if rng.random() < 0.3:
                parts.append(f"Follow-up of #{rng.randint(1, 400)}.")
            parts += ["## Testing", "- [x] unit tests\n- [ ] manual check on staging"]
            if self.nul_bodies and rng.random() < 0.01:
                parts.append("Log excerpt: `worker exited\u0000 unexpectedly`")
            pr.body = "\r\n\r\n".join(parts) if rng.random() < 0.3 else "\n\n".join(parts)
        pr.keys = tuple(dict.fromkeys(in_title + in_ref + in_body))

    def _new_pr(self, rng: random.Random, repo: _Repo, number: int, created: int, generated: bool) -> _PR:
        pr = _PR()
        pr.repo = repo
        pr.number = number
        self._next_pr_id += rng.randint(1, 4000)
        pr.id = self._next_pr_id
        pr.seed = rng.getrandbits(63)
        bot = rng.random() < 0.10
        user = self._users[rng.choice(self._bots)] if bot else self._users[rng.choice(self._humans)]
        pr.user = user.idx
        self._text(rng, pr, user)
        pr.base_ref = "main" if rng.random() < 0.92 else rng.choice(["develop", "release/2.4"])
        pr.created = created
        pr.comments = 0 if bot else int(rng.random() ** 2 * 9)
        pr.review_comments = 0
        pr.fork = None
        if not bot and rng.random() < 0.05:
            pr.fork = "deleted" if rng.random() < 0.2 else "fork"
        pr.assoc = "CONTRIBUTOR" if bot or pr.fork else rng.choice(["MEMBER", "MEMBER", "MEMBER", "COLLABORATOR"])
        pr.labels = ((3, 4) if bot else tuple(sorted(rng.sample(_HUMAN_LABELS, rng.choice([0, 0, 1, 1, 2])))))
        pr.assignee = pr.user if not bot and rng.random() < 0.5 else None
        pr.requested = []
        pr.merged_by = None
        pr.merged = pr.closed = None
        pr.draft = False
        pr.mergeable = rng.choice([True, True, True, True, False, None])
        end_limit = self.now_s - 120
        # sizes
        if bot:
            pr.additions, pr.deletions, pr.changed_files = rng.randint(1, 40), rng.randint(1, 40), rng.randint(1, 2)
        else:
            pr.additions = min(int(rng.lognormvariate(3.8, 1.4)) + 1, 25_000)
            pr.deletions = int(pr.additions * rng.uniform(0.0, 0.8))
            pr.changed_files = max(1, min(int(rng.lognormvariate(1.2, 0.9)) + 1, pr.additions + pr.deletions, 300))
        if not generated:  # a new open PR (add_pulls)
            pr.state = "open"
            pr.draft = rng.random() < 0.1
            pr.ncommits = rng.randint(1, 3)
            pr.first_commit = created - rng.randint(60, 86400)
            pr.last_commit = created
            pr.updated = created
            self._add_pr(pr)
            return pr
        r = rng.random()
        outcome = "merged" if r < 0.70 else "closed" if r < 0.85 else "open"
        if bot:
            pr.ncommits = 1
        elif rng.random() < 0.03:
            pr.ncommits = rng.randint(101, 180)
        else:
            pr.ncommits = 1 + int(39 * rng.random() ** 2.5)
        if outcome == "open":
            pr.state = "open"
            pr.draft = rng.random() < 0.10
            activity_end = end_limit
        else:
            pr.state = "closed"
            dur = int(rng.lognormvariate(math.log(20 * 3600), 1.3))
            close_t = created + max(300, min(dur, 30 * 86400))
            if close_t > end_limit:  # would close in the future: closed some time before now instead
                close_t = rng.randint(min(created + 60, end_limit), end_limit)
            pr.closed = close_t
            if outcome == "merged":
                pr.merged = close_t
                pr.merged_by = rng.choice(self._humans)
            pr.mergeable = None
            activity_end = close_t
        span = max(activity_end - created, 60)
        pr.first_commit = created - rng.randint(60, 3 * 86400 if pr.ncommits > 1 else 2 * 86400)
        if pr.ncommits == 1:
            pr.last_commit = pr.first_commit
        else:
            pr.last_commit = created + int((span - 60) * rng.random() ** 2)
        # reviews by other humans
        if bot:
            nrev = 1 if rng.random() < 0.6 else 0
        else:
            nrev = rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6])
        others = [i for i in self._humans if i != pr.user]
        times = sorted(created + int(span * rng.uniform(0.05, 1.0)) for _ in range(nrev))
        for k, t in enumerate(times):
            t = min(t, activity_end)
            if outcome == "merged" and k == nrev - 1:
                state = "APPROVED"
            else:
                state = rng.choices(["APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED"], [40, 33, 18, 9])[0]
            body = "" if state == "APPROVED" and rng.random() < 0.7 else _sentences(rng, 1)
            commit = min(pr.ncommits - 1, int(pr.ncommits * (t - created) / span))
            self._next_review_id += rng.randint(1, 5000)
            pr.reviews.append(_Review(self._next_review_id, rng.choice(others), state, t, body, commit))
            if state in ("COMMENTED", "CHANGES_REQUESTED"):
                pr.review_comments += rng.randint(0, 4)
        if outcome == "open" and not bot and rng.random() < 0.05:  # a pending review: never listed
            self._next_review_id += rng.randint(1, 5000)
            pr.reviews.append(_Review(self._next_review_id, rng.choice(others), "PENDING", None, "", pr.ncommits - 1))
        if outcome == "open" and not pr.reviews and not bot and rng.random() < 0.5:
            pr.requested = rng.sample(others, rng.randint(1, 2))
        latest = max([created, pr.closed or 0, pr.last_commit] + [rv.submitted or 0 for rv in pr.reviews])
        extra = rng.randint(0, 3 * 86400) if rng.random() < 0.15 else rng.randint(0, 600)
        pr.updated = max(latest, min(end_limit, latest + extra))
        self._add_pr(pr)
        return pr

    def _add_pr(self, pr: _PR) -> None:
        pr.repo.prs[pr.number] = pr
        pr.repo.sorted.clear()

    # ------------------------------------------------------------------ public API
    @property
    def url(self) -> str | None:
        return self._servers[-1].url if self._servers else None

    @property
    def token(self) -> str:
        return self.tokens[0]

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> _Server:
        """Serve over HTTP in a daemon thread; returns the server (``.url``, ``.stop()``)."""
        handler = type("FakeGitHubHandler", (_Handler,), {"fake": self})
        srv = _Server((host, port), handler)
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        srv.url = f"http://{shown}:{srv.server_address[1]}"
        with self._lock:
            self._set_base(srv.url)
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                             name=f"fake-github-{srv.server_address[1]}", daemon=True)
        srv._thread = t
        t.start()
        self._servers.append(srv)
        return srv

    def stop(self) -> None:
        """Stop every server started by serve()."""
        while self._servers:
            self._servers.pop().stop()

    def warm(self, prefix: str = "") -> None:
        """Pre-serialize every pull request's list item and detail for one URL prefix."""
        with self._lock:
            cat = self._catalog(prefix)
            for repo in self._repos.values():
                for pr in repo.prs.values():
                    self._detail(pr, cat)

    def repos(self) -> list[str]:
        return list(self._repos)

    def pr_numbers(self, repo: str) -> list[int]:
        with self._lock:
            return sorted(self._repo(repo).prs)

    def pull(self, repo: str, number: int) -> dict:
        """The detail payload exactly as GET /repos/{o}/{r}/pulls/{n} serves it (no prefix)."""
        with self._lock:
            return orjson.loads(self._detail(self._get(repo, number), self._catalog("")))

    def expected(self, repo: str, number: int) -> dict:
        """Ground truth for tests. Besides the documented keys: id, head_sha, merged_by, labels,
        requested_reviewers. `commits` is the PR's real commit count and `commit_shas` all of them,
        oldest first (the endpoint serves the first 250); `reviews` are the listed ones (no PENDING),
        oldest first; `work_item_keys` is sorted()."""
        with self._lock:
            pr = self._get(repo, number)
            u = self._users
            return {
                "number": pr.number, "id": pr.id, "title": pr.title,
                "state": "merged" if pr.merged is not None else pr.state,
                "draft": pr.draft, "author": u[pr.user].login, "author_is_bot": u[pr.user].bot,
                "head_ref": pr.head_ref, "base_ref": pr.base_ref, "head_sha": self._sha(pr, pr.ncommits - 1),
                "body": pr.body, "created": _dt(pr.created), "updated": _dt(pr.updated),
                "merged": _dt(pr.merged), "closed": _dt(pr.closed),
                "merged_by": None if pr.merged_by is None else u[pr.merged_by].login,
                "additions": pr.additions, "deletions": pr.deletions, "changed_files": pr.changed_files,
                "commits": pr.ncommits,
                "reviews": [(rv.id, rv.state, u[rv.user].login, _dt(rv.submitted))
                            for rv in pr.reviews if rv.state != "PENDING"],
                "commit_shas": [c[0] for c in self._commit_list(pr)],
                "labels": [LABELS[i][0] for i in pr.labels],
                "requested_reviewers": [u[i].login for i in pr.requested],
                "work_item_keys": sorted(pr.keys),
            }

    def users(self) -> list[str]:
        """Logins of the user pool (humans, then bots)."""
        return [u.login for u in self._users]

    def _next_time(self) -> int:
        t = max(self._clock + 1, self._max_updated + 1)
        self._clock = t
        return t

    def _bump(self, pr: _PR, t: int) -> None:
        pr.updated = t
        self._max_updated = max(self._max_updated, t)
        self._invalidate(pr)

    def add_review(self, repo: str, number: int, state: str = "APPROVED", author: str | None = None) -> int:
        """Submit a review; returns its id. Bumps the PR's updated_at past every existing one
        (a PENDING review is stored but, as on GitHub, neither listed nor bumping anything)."""
        state = state.upper()
        if state not in REVIEW_STATES:
            raise ValueError(f"state must be one of {REVIEW_STATES}")
        with self._lock:
            pr = self._get(repo, number)
            if author is None:
                uid = self._mut_rng.choice([i for i in self._humans if i != pr.user])
            else:
                if author not in self._by_login:
                    raise ValueError(f"unknown user {author!r}; see users()")
                uid = self._by_login[author].idx
            self._next_review_id += self._mut_rng.randint(1, 5000)
            rid = self._next_review_id
            if state == "PENDING":
                pr.reviews.append(_Review(rid, uid, state, None, "", pr.ncommits - 1))
                return rid
            t = self._next_time()
            body = "" if state == "APPROVED" else _sentences(self._mut_rng, 1)
            pr.reviews.append(_Review(rid, uid, state, t, body, pr.ncommits - 1))
            if uid in pr.requested:
                pr.requested.remove(uid)
            self._bump(pr, t)
            return rid

    def touch(self, repo: str, number: int) -> None:
        """Bump updated_at and change something visible: an open PR gets a new commit pushed (head sha,
        commits, additions, deletions change); a closed or merged one gets its body edited."""
        with self._lock:
            pr = self._get(repo, number)
            rng = self._mut_rng
            t = self._next_time()
            if pr.state == "open":
                self._commit_list(pr)  # materialize the generated ones first
                pr.pushed.append((t, pr.user, rng.choice(_COMMIT_MSGS)))
                pr.ncommits += 1
                pr.commit_cache = None
                pr.additions += rng.randint(1, 60)
                pr.deletions += rng.randint(0, 20)
                if rng.random() < 0.3:
                    pr.changed_files += 1
            else:
                pr.body = (pr.body or "") + f"\n\n_Edited on {_iso(t)}._"
            self._bump(pr, t)

    def merge(self, repo: str, number: int, by: str | None = None) -> None:
        """Merge an open PR now (state closed, merged_at = closed_at = updated_at)."""
        with self._lock:
            pr = self._get(repo, number)
            if pr.state != "open":
                raise ValueError(f"{repo}#{number} is not open")
            t = self._next_time()
            pr.state, pr.merged, pr.closed, pr.draft, pr.mergeable = "closed", t, t, False, None
            pr.merged_by = self._by_login[by].idx if by else self._mut_rng.choice(self._humans)
            pr.requested = []
            self._bump(pr, t)

    def close(self, repo: str, number: int) -> None:
        """Close an open PR without merging it."""
        with self._lock:
            pr = self._get(repo, number)
            if pr.state != "open":
                raise ValueError(f"{repo}#{number} is not open")
            t = self._next_time()
            pr.state, pr.closed, pr.mergeable = "closed", t, None
            pr.requested = []
            self._bump(pr, t)

    def add_pulls(self, repo: str, n: int) -> list[int]:
        """Open n new pull requests (1-3 commits, no reviews), each updated after everything else."""
        with self._lock:
            r = self._repo(repo)
            out = []
            num = max(r.prs, default=0)
            for _ in range(n):
                num += 1
                t = self._next_time()
                pr = self._new_pr(self._mut_rng, r, num, t, generated=False)
                self._bump(pr, t)
                out.append(num)
            return out

    def delete(self, repo: str, number: int) -> None:
        """Gone from every list; the detail, reviews and commits answer 404."""
        with self._lock:
            pr = self._get(repo, number)
            del pr.repo.prs[number]
            self._invalidate(pr)

    def set_budget(self, token: str, remaining: int, reset_in: float = 60) -> None:
        """Set a token's primary budget; when the reset epoch passes it is restored to rate_limit."""
        with self._budget_lock:
            b = self._budgets[token]
            b[0] = int(remaining)
            b[1] = math.ceil(time.time() + reset_in)

    def budget(self, token: str) -> tuple[int, int]:
        """(remaining, reset epoch seconds) of a token's primary budget."""
        with self._budget_lock:
            b = self._budgets[token]
            self._roll(b)
            return b[0], b[1]

    def set_graphql_budget(self, token: str, remaining: int, reset_in: float = 60) -> None:
        """Set a token's GraphQL budget (points); when the reset epoch passes it is restored to graphql_limit."""
        with self._budget_lock:
            b = self._graphql_budgets[token]
            b[0] = int(remaining)
            b[1] = math.ceil(time.time() + reset_in)

    def graphql_budget(self, token: str) -> tuple[int, int]:
        """(remaining points, reset epoch seconds) of a token's GraphQL budget."""
        with self._budget_lock:
            b = self._graphql_budgets[token]
            self._roll(b, self.graphql_limit)
            return b[0], b[1]

    def node(self, node_id: str):
        """The object a pull request's global node id (as REST's node_id) names, or None."""
        try:
            raw = base64.urlsafe_b64decode(node_id.removeprefix("PR_kwDO") + "=" * (-len(node_id) % 4))
        except (ValueError, TypeError):
            return None
        if not node_id.startswith("PR_kwDO") or len(raw) != 17:
            return None
        repo = self._repo_by_id.get(int.from_bytes(raw[1:9], "big"))
        pr_id = int.from_bytes(raw[9:17], "big")
        return next((("PullRequest", pr) for pr in (repo.prs.values() if repo else ()) if pr.id == pr_id), None)

    @staticmethod
    def _node_id_of(obj) -> str:
        """A pull request's or repository's global node id, as REST's node_id writes it."""
        if isinstance(obj, _PR):
            return _node_id("PR_kwDO", obj.repo.id, obj.id)
        return _node_id("R_kgDO", obj.id)

    def reset_requests(self) -> None:
        with self._req_lock:
            self.requests.clear()

    # ------------------------------------------------------------------ internals: state
    def _repo(self, full: str) -> _Repo:
        r = self._repo_by_lower.get(str(full).lower())
        if r is None:
            raise KeyError(full)
        return r

    def _get(self, repo: str, number: int) -> _PR:
        pr = self._repo(repo).prs.get(int(number))
        if pr is None:
            raise KeyError(f"{repo}#{number}")
        return pr

    def _invalidate(self, pr: _PR) -> None:
        pr.cache.clear()
        pr.repo.sorted.clear()

    @staticmethod
    def _sha(pr: _PR, i: int) -> str:
        return hashlib.sha1(b"commit:%d:%d:%d" % (pr.seed, pr.id, i)).hexdigest()

    def _commit_list(self, pr: _PR) -> list[tuple[str, int, int, bool, str]]:
        """All commits, oldest first: (sha, time, user idx, linked to the GitHub user, message)."""
        if pr.commit_cache is not None:
            return pr.commit_cache
        rng = random.Random(pr.seed ^ 0x5EED)
        n0 = pr.ncommits - len(pr.pushed)
        first, last = pr.first_commit, pr.last_commit
        if n0 <= 1:
            times = [last][:n0]
        else:
            times = [first] + sorted(rng.randint(first, max(first, last)) for _ in range(n0 - 2)) + [last]
        bot = self._users[pr.user].bot
        others = [i for i in self._humans if i != pr.user]
        out = []
        for i, t in enumerate(times):
            if i == 0:
                msg = pr.title
            elif not bot and rng.random() < 0.05:
                msg = f"Merge branch '{pr.base_ref}' into {pr.head_ref}"
            else:
                msg = rng.choice(_COMMIT_MSGS)
            uid = pr.user if bot or rng.random() < 0.85 else rng.choice(others)
            linked = bot or rng.random() < 0.92
            out.append((self._sha(pr, i), t, uid, linked, msg))
        for j, (t, uid, msg) in enumerate(pr.pushed):
            out.append((self._sha(pr, n0 + j), t, uid, True, msg))
        pr.commit_cache = out
        return out

    # ------------------------------------------------------------------ internals: rendering
    def _set_base(self, base: str) -> None:
        if base != self._base:
            self._base = base
            self._catalogs.clear()
            for repo in self._repos.values():
                for pr in repo.prs.values():
                    pr.cache.clear()

    def _user_obj(self, u: _User, api: str, html: str) -> dict:
        login_q = quote(u.login)
        uurl = f"{api}/users/{login_q}"
        return {
            "login": u.login, "id": u.id,
            "node_id": _node_id("BOT_kgDO" if u.bot else "U_kgDO", u.id),
            "avatar_url": (f"https://avatars.githubusercontent.com/in/{u.id % 100000}?v=4" if u.bot
                           else f"https://avatars.githubusercontent.com/u/{u.id}?v=4"),
            "gravatar_id": "", "url": uurl,
            "html_url": f"{html}/apps/{u.app}" if u.bot else f"{html}/{u.login}",
            "followers_url": f"{uurl}/followers", "following_url": f"{uurl}/following{{/other_user}}",
            "gists_url": f"{uurl}/gists{{/gist_id}}", "starred_url": f"{uurl}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{uurl}/subscriptions", "organizations_url": f"{uurl}/orgs",
            "repos_url": f"{uurl}/repos", "events_url": f"{uurl}/events{{/privacy}}",
            "received_events_url": f"{uurl}/received_events", "type": "Bot" if u.bot else "User",
            "user_view_type": "public", "site_admin": False,
        }

    def _repo_obj(self, owner: dict, rid: int, full: str, api: str, html: str, created: int,
                  fork: bool, private: bool) -> dict:
        name = full.split("/", 1)[1]
        r = f"{api}/repos/{full}"
        return {
            "id": rid, "node_id": _node_id("R_kgDO", rid), "name": name, "full_name": full, "private": private,
            "owner": owner, "html_url": f"{html}/{full}", "description": f"The {name} service." if not fork else None,
            "fork": fork, "url": r, "forks_url": f"{r}/forks", "keys_url": f"{r}/keys{{/key_id}}",
            "collaborators_url": f"{r}/collaborators{{/collaborator}}", "teams_url": f"{r}/teams",
            "hooks_url": f"{r}/hooks", "issue_events_url": f"{r}/issues/events{{/number}}",
            "events_url": f"{r}/events", "assignees_url": f"{r}/assignees{{/user}}",
            "branches_url": f"{r}/branches{{/branch}}", "tags_url": f"{r}/tags",
            "blobs_url": f"{r}/git/blobs{{/sha}}", "git_tags_url": f"{r}/git/tags{{/sha}}",
            "git_refs_url": f"{r}/git/refs{{/sha}}", "trees_url": f"{r}/git/trees{{/sha}}",
            "statuses_url": f"{r}/statuses/{{sha}}", "languages_url": f"{r}/languages",
            "stargazers_url": f"{r}/stargazers", "contributors_url": f"{r}/contributors",
            "subscribers_url": f"{r}/subscribers", "subscription_url": f"{r}/subscription",
            "commits_url": f"{r}/commits{{/sha}}", "git_commits_url": f"{r}/git/commits{{/sha}}",
            "comments_url": f"{r}/comments{{/number}}", "issue_comment_url": f"{r}/issues/comments{{/number}}",
            "contents_url": f"{r}/contents/{{+path}}", "compare_url": f"{r}/compare/{{base}}...{{head}}",
            "merges_url": f"{r}/merges", "archive_url": f"{r}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{r}/downloads", "issues_url": f"{r}/issues{{/number}}",
            "pulls_url": f"{r}/pulls{{/number}}", "milestones_url": f"{r}/milestones{{/number}}",
            "notifications_url": f"{r}/notifications{{?since,all,participating}}",
            "labels_url": f"{r}/labels{{/name}}", "releases_url": f"{r}/releases{{/id}}",
            "deployments_url": f"{r}/deployments",
            "created_at": _iso(created), "updated_at": _iso(self.now_s - 86400), "pushed_at": _iso(self.now_s - 3600),
            "git_url": f"git://{html.split('://', 1)[-1]}/{full}.git", "ssh_url": f"git@github.com:{full}.git",
            "clone_url": f"{html}/{full}.git", "svn_url": f"{html}/{full}", "homepage": None,
            "size": rid % 90_000 + 500, "stargazers_count": rid % 300, "watchers_count": rid % 300,
            "language": "Python" if rid % 2 else "TypeScript", "has_issues": True, "has_projects": True,
            "has_downloads": True, "has_wiki": False, "has_pages": False, "has_discussions": False,
            "forks_count": rid % 40, "mirror_url": None, "archived": False, "disabled": False,
            "open_issues_count": rid % 70, "license": None, "allow_forking": True, "is_template": False,
            "web_commit_signoff_required": False, "topics": [], "visibility": "private" if private else "public",
            "forks": rid % 40, "open_issues": rid % 70, "watchers": rid % 300, "default_branch": "main",
        }

    def _catalog(self, prefix: str) -> dict:
        """Shared objects (users, repositories, labels) for one URL prefix, as orjson Fragments."""
        cat = self._catalogs.get(prefix)
        if cat is not None:
            return cat
        api = self._base + prefix
        html = "https://github.com" if not prefix else self._base
        frag = lambda o: orjson.Fragment(orjson.dumps(o))  # noqa: E731
        users = [self._user_obj(u, api, html) for u in self._users]
        repos = {}
        for full, r in self._repos.items():
            owner = {**users[0], "login": r.owner, "id": r.org_id, "node_id": _node_id("O_kgDO", r.org_id),
                     "avatar_url": f"https://avatars.githubusercontent.com/u/{r.org_id}?v=4",
                     "url": f"{api}/users/{r.owner}", "html_url": f"{html}/{r.owner}", "type": "Organization"}
            for k in ("followers_url", "following_url", "gists_url", "starred_url", "subscriptions_url",
                      "organizations_url", "repos_url", "events_url", "received_events_url"):
                owner[k] = owner[k].replace(users[0]["url"], owner["url"])
            obj = self._repo_obj(owner, r.id, full, api, html, r.created, fork=False, private=True)
            labels = [frag({"id": 900_000_000 + r.id % 1_000_000 * 10 + i, "node_id": _node_id("LA_kwDO", r.id, i),
                            "url": f"{api}/repos/{full}/labels/{quote(name)}", "name": name, "color": color,
                            "default": default, "description": desc or None})
                      for i, (name, color, desc, default) in enumerate(LABELS)]
            repos[full] = {"obj": obj, "F": frag(obj), "owner": frag(owner), "labels": labels}
        cat = {"api": api, "html": html, "users": users, "U": [frag(u) for u in users], "repos": repos,
               "forks": {}}
        self._catalogs[prefix] = cat
        return cat

    def _fork(self, cat: dict, pr: _PR) -> orjson.Fragment:
        key = (pr.user, pr.repo.full)
        f = cat["forks"].get(key)
        if f is None:
            u = self._users[pr.user]
            full = f"{u.login}/{pr.repo.name}"
            rid = 600_000_000 + (pr.repo.id * 31 + u.id) % 300_000_000
            f = cat["forks"][key] = orjson.Fragment(orjson.dumps(
                self._repo_obj(cat["users"][pr.user], rid, full, cat["api"], cat["html"],
                               pr.repo.created + 86400 * 30, fork=True, private=False)))
        return f

    def _item(self, pr: _PR, cat: dict) -> bytes:
        """The list item's bytes (cached)."""
        ck = ("item", cat["api"])
        hit = pr.cache.get(ck)
        if hit is not None:
            return hit
        r = pr.repo
        api, html = cat["api"], cat["html"]
        U = cat["U"]
        rc = cat["repos"][r.full]
        rurl = f"{api}/repos/{r.full}"
        purl = f"{rurl}/pulls/{pr.number}"
        hurl = f"{html}/{r.full}/pull/{pr.number}"
        iurl = f"{rurl}/issues/{pr.number}"
        head_sha = self._sha(pr, pr.ncommits - 1)
        base_sha = hashlib.sha1(b"base:%d:%d" % (pr.seed, pr.id)).hexdigest()
        author = self._users[pr.user]
        if pr.fork is None:
            head = {"label": f"{r.owner}:{pr.head_ref}", "ref": pr.head_ref, "sha": head_sha,
                    "user": rc["owner"], "repo": rc["F"]}
        else:
            head = {"label": f"{author.login}:{pr.head_ref}", "ref": pr.head_ref, "sha": head_sha,
                    "user": U[pr.user], "repo": self._fork(cat, pr) if pr.fork == "fork" else None}
        d = {
            "url": purl, "id": pr.id, "node_id": _node_id("PR_kwDO", r.id, pr.id), "html_url": hurl,
            "diff_url": f"{hurl}.diff", "patch_url": f"{hurl}.patch", "issue_url": iurl,
            "number": pr.number, "state": pr.state, "locked": False, "title": pr.title, "user": U[pr.user],
            "body": pr.body, "created_at": _iso(pr.created), "updated_at": _iso(pr.updated),
            "closed_at": _iso(pr.closed), "merged_at": _iso(pr.merged),
            "merge_commit_sha": hashlib.sha1(b"merge:%d:%d:%d" % (pr.seed, pr.id, pr.ncommits)).hexdigest(),
            "assignee": None if pr.assignee is None else U[pr.assignee],
            "assignees": [] if pr.assignee is None else [U[pr.assignee]],
            "requested_reviewers": [U[i] for i in pr.requested], "requested_teams": [],
            "labels": [rc["labels"][i] for i in pr.labels], "milestone": None, "draft": pr.draft,
            "commits_url": f"{purl}/commits", "review_comments_url": f"{purl}/comments",
            "review_comment_url": f"{rurl}/pulls/comments{{/number}}", "comments_url": f"{iurl}/comments",
            "statuses_url": f"{rurl}/statuses/{head_sha}",
            "head": head,
            "base": {"label": f"{r.owner}:{pr.base_ref}", "ref": pr.base_ref, "sha": base_sha,
                     "user": rc["owner"], "repo": rc["F"]},
            "_links": {"self": {"href": purl}, "html": {"href": hurl}, "issue": {"href": iurl},
                       "comments": {"href": f"{iurl}/comments"},
                       "review_comments": {"href": f"{purl}/comments"},
                       "review_comment": {"href": f"{rurl}/pulls/comments{{/number}}"},
                       "commits": {"href": f"{purl}/commits"},
                       "statuses": {"href": f"{rurl}/statuses/{head_sha}"}},
            "author_association": pr.assoc, "auto_merge": None, "active_lock_reason": None,
        }
        hit = pr.cache[ck] = orjson.dumps(d)
        return hit

    def _detail(self, pr: _PR, cat: dict) -> bytes:
        """The detail's bytes (cached)."""
        ck = ("detail", cat["api"])
        hit = pr.cache.get(ck)
        if hit is not None:
            return hit
        item = self._item(pr, cat)
        merged = pr.merged is not None
        if pr.state == "open":
            mergeable = pr.mergeable
            mstate = ("draft" if pr.draft else "unknown" if mergeable is None else
                      "clean" if mergeable else "dirty")
        else:
            mergeable, mstate = None, "unknown"
        extra = {
            "merged": merged, "mergeable": mergeable, "rebaseable": mergeable, "mergeable_state": mstate,
            "merged_by": cat["U"][pr.merged_by] if merged and pr.merged_by is not None else None,
            "comments": pr.comments, "review_comments": pr.review_comments,
            "maintainer_can_modify": pr.fork == "fork", "commits": pr.ncommits,
            "additions": pr.additions, "deletions": pr.deletions, "changed_files": pr.changed_files,
        }
        hit = pr.cache[ck] = item[:-1] + b"," + orjson.dumps(extra)[1:]
        return hit

    def _review_items(self, pr: _PR, cat: dict) -> list[bytes]:
        ck = ("reviews", cat["api"])
        hit = pr.cache.get(ck)
        if hit is not None:
            return hit
        r = pr.repo
        purl = f"{cat['api']}/repos/{r.full}/pulls/{pr.number}"
        hurl = f"{cat['html']}/{r.full}/pull/{pr.number}"
        out = []
        for rv in pr.reviews:
            if rv.state == "PENDING":
                continue
            html = f"{hurl}#pullrequestreview-{rv.id}"
            out.append(orjson.dumps({
                "id": rv.id, "node_id": _node_id("PRR_kwDO", r.id, rv.id), "user": cat["U"][rv.user],
                "body": rv.body, "state": rv.state, "html_url": html, "pull_request_url": purl,
                "author_association": "MEMBER",
                "_links": {"html": {"href": html}, "pull_request": {"href": purl}},
                "submitted_at": _iso(rv.submitted), "commit_id": self._sha(pr, rv.commit),
            }))
        pr.cache[ck] = out
        return out

    def _commit_items(self, pr: _PR, cat: dict) -> list[bytes]:
        ck = ("commits", cat["api"])
        hit = pr.cache.get(ck)
        if hit is not None:
            return hit
        r = pr.repo
        rurl = f"{cat['api']}/repos/{r.full}"
        chtml = f"{cat['html']}/{r.full}/commit"
        U = cat["U"]
        out = []
        prev = hashlib.sha1(b"base:%d:%d" % (pr.seed, pr.id)).hexdigest()
        for sha, t, uid, linked, msg in self._commit_list(pr)[:COMMITS_CAP]:
            u = self._users[uid]
            email = u.email if linked else f"{u.login.split('-')[0]}@corp.example"
            who = {"name": u.name, "email": email, "date": _iso(t)}
            tree = hashlib.sha1(b"tree:" + sha.encode()).hexdigest()
            out.append(orjson.dumps({
                "sha": sha, "node_id": _node_id("C_kwDO", r.id, int(sha[:12], 16)),
                "commit": {"author": who, "committer": who, "message": msg,
                           "tree": {"sha": tree, "url": f"{rurl}/git/trees/{tree}"},
                           "url": f"{rurl}/git/commits/{sha}", "comment_count": 0,
                           "verification": {"verified": False, "reason": "unsigned", "signature": None,
                                            "payload": None, "verified_at": None}},
                "url": f"{rurl}/commits/{sha}", "html_url": f"{chtml}/{sha}",
                "comments_url": f"{rurl}/commits/{sha}/comments",
                "author": U[uid] if linked else None, "committer": U[uid] if linked else None,
                "parents": [{"sha": prev, "url": f"{rurl}/commits/{prev}", "html_url": f"{chtml}/{prev}"}],
            }))
            prev = sha
        pr.cache[ck] = out
        return out

    # ------------------------------------------------------------------ internals: rate limits
    def _roll(self, b: list, limit: int | None = None) -> None:
        now = time.time()
        if now >= b[1]:
            b[0] = self.rate_limit if limit is None else limit
            b[1] = math.ceil(now + WINDOW)

    def _reserve(self, token: str) -> int | None:
        """Take one request from the token's budget; returns the window (reset epoch) it was taken
        from, or None when the budget is exhausted."""
        with self._budget_lock:
            b = self._budgets[token]
            self._roll(b)
            if b[0] <= 0:
                return None
            b[0] -= 1
            return b[1]

    def _refund(self, token: str, window: int | None) -> None:
        """Give back a reserved request (an answer decided by a fault)."""
        if window is None:
            return
        with self._budget_lock:
            b = self._budgets[token]
            if b[1] == window:
                b[0] += 1

    def _graphql_reserve(self, token: str, cost: int) -> int | None:
        """Take a query's cost from the token's GraphQL budget; None when less than that is left."""
        with self._budget_lock:
            b = self._graphql_budgets[token]
            self._roll(b, self.graphql_limit)
            if b[0] < cost:
                return None
            b[0] -= cost
            return b[1]

    def _graphql_budget_view(self, token: str) -> dict:
        """The rateLimit object's fields (and the viewer's login) after this query's cost was taken."""
        with self._budget_lock:
            remaining, reset = self._graphql_budgets[token]
        i = self.tokens.index(token)
        return {"limit": self.graphql_limit, "remaining": max(0, remaining), "used": self.graphql_limit - remaining,
                "resetAt": _iso(reset), "viewer": "pulse-bot" if i == 0 else f"pulse-bot-{i + 1}"}

    def _graphql_headers(self, token: str, remaining: int | None = None) -> dict:
        with self._budget_lock:
            b = self._graphql_budgets[token]
            left = max(0, b[0]) if remaining is None else remaining
            return {"x-ratelimit-limit": str(self.graphql_limit), "x-ratelimit-remaining": str(left),
                    "x-ratelimit-reset": str(b[1]), "x-ratelimit-used": str(max(0, self.graphql_limit - left)),
                    "x-ratelimit-resource": "graphql"}

    def _graphql_limited(self, token: str, rid: str) -> tuple[int, bytes, dict]:
        uid = self.tokens.index(token) + 1
        if self.graphql_limit_status == 200:
            body = orjson.dumps({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit",
                                             "message": f"API rate limit exceeded for user ID {uid}."}]})
            return 200, body, self._graphql_headers(token)
        ts = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        return (self.graphql_limit_status, _err(MSG_PRIMARY.format(uid=uid, rid=rid, ts=ts), DOC_PRIMARY),
                self._graphql_headers(token, remaining=0))

    def _rl_headers(self, token: str | None) -> dict:
        with self._budget_lock:
            if token is None:
                b = self._anon
                if time.time() >= b[1]:
                    b[0], b[1] = 0, math.ceil(time.time() + WINDOW)
                limit, remaining, reset = ANON_LIMIT, max(0, ANON_LIMIT - b[0]), b[1]
            else:
                b = self._budgets[token]
                limit, remaining, reset = self.rate_limit, max(0, b[0]), b[1]
        return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(reset), "x-ratelimit-used": str(max(0, limit - remaining)),
                "x-ratelimit-resource": "core"}

    def _token_of(self, headers) -> str | None:
        auth = (headers.get("Authorization") or "").strip()
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
        return None

    # ------------------------------------------------------------------ internals: HTTP
    def _dispatch(self, method: str, raw_path: str, headers, rid: str, payload: bytes = b"") -> tuple[int, bytes | None, dict]:
        parts = urlsplit(raw_path)
        path = parts.path
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        token = self._token_of(headers)
        rec = {"method": method, "path": path, "query": query, "status": 0, "token": token, "repo": None}
        if path in GRAPHQL_PATHS:
            status, body, hdrs = self._serve_graphql(method, path, payload, token, rid, rec)
        else:
            status, body, hdrs = self._serve_request(method, path, pairs, query, token, rid, rec)
        rec["status"] = status
        with self._req_lock:
            self.requests.append(rec)
        return status, body, hdrs

    def _serve_graphql(self, method, path, payload, token, rid, rec):
        """POST /graphql (GitHub Enterprise: /api/graphql): etl/fakes/github_graphql.py. Its own
        budget of points; the faults that fire on its path as on REST ("forbidden" as GraphQL's
        FORBIDDEN error)."""
        if token not in self._budgets:
            return 401, _err("Bad credentials", "https://docs.github.com/graphql", 401), self._rl_headers(None)
        if method != "POST":
            return 404, _err("Not Found", "https://docs.github.com/graphql"), {}
        malformed = drop_next = False
        # "no_next_link" bites only a page of a pull request list (a query of the rest of a PR's
        # reviews or commits does not count towards `every`).
        for f in self.faults._fire(path, lambda f: f.kind != "no_next_link" or b"pullRequests(" in payload):
            if f.kind == "slow":
                time.sleep(f.delay)
            elif f.kind == "malformed_json":
                malformed = True
            elif f.kind == "no_next_link":
                drop_next = True
            elif f.kind in ("secondary_403", "secondary_429"):
                ts = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
                return (403 if f.kind == "secondary_403" else 429,
                        _err(MSG_SECONDARY.format(rid=rid, ts=ts), DOC_SECONDARY),
                        {**self._graphql_headers(token), "retry-after": _num(f.retry_after)})
            elif f.kind == "forbidden":
                body = orjson.dumps({"data": {"repository": None}, "errors": [
                    {"type": "FORBIDDEN", "path": ["repository"], "locations": [{"line": 1, "column": 1}],
                     "message": MSG_FORBIDDEN}]})
                return 200, body, self._graphql_headers(token)
            elif f.kind in ("500", "502"):
                return int(f.kind), orjson.dumps({"message": "Server Error"}), self._graphql_headers(token)
        status, body, hdrs = github_graphql.serve(self, ENTERPRISE_PREFIX if path == "/api/graphql" else "", payload,
                                                  token, rid, rec)
        if drop_next and status == 200:
            body = github_graphql.without_next_page(body)
        if malformed and status == 200:
            body = body[: max(1, len(body) // 2)]
        return status, body, hdrs

    def _serve_request(self, method, path, pairs, query, token, rid, rec):
        prefix, sub = "", path
        if path == ENTERPRISE_PREFIX or path.startswith(ENTERPRISE_PREFIX + "/"):
            prefix, sub = ENTERPRISE_PREFIX, path[len(ENTERPRISE_PREFIX):] or "/"
        if len(sub) > 1:
            sub = sub.rstrip("/")
        if token not in self._budgets:
            with self._budget_lock:
                self._anon[0] += 1
            return 401, _err("Bad credentials", DOCS, 401), self._rl_headers(None)
        free = sub == "/rate_limit"
        window = None if free else self._reserve(token)
        if not free and window is None:
            ts = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            uid = self.tokens.index(token) + 1
            return (self.primary_limit_status, _err(MSG_PRIMARY.format(uid=uid, rid=rid, ts=ts), DOC_PRIMARY),
                    self._rl_headers(token))
        malformed = drop_next = False
        for f in self.faults._fire(path):
            if f.kind == "no_next_link":
                drop_next = True
                continue
            if f.kind == "slow":
                time.sleep(f.delay)
                continue
            if f.kind == "malformed_json":
                malformed = True
                continue
            self._refund(token, window)
            hdrs = self._rl_headers(token)
            if f.kind in ("secondary_403", "secondary_429"):
                ts = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
                hdrs["retry-after"] = _num(f.retry_after)
                return (403 if f.kind == "secondary_403" else 429,
                        _err(MSG_SECONDARY.format(rid=rid, ts=ts), DOC_SECONDARY), hdrs)
            if f.kind == "forbidden":
                return 403, _err(MSG_FORBIDDEN, DOCS, 403), hdrs
            if f.kind == "500":
                return 500, orjson.dumps({"message": "Server Error"}), hdrs
            if f.kind == "502":
                return 502, orjson.dumps({"message": "Server Error"}), hdrs
        if method not in ("GET", "HEAD"):
            status, body, extra = 404, _err("Not Found", DOCS, 404), {}
        else:
            with self._lock:
                status, body, extra = self._route(prefix, sub, pairs, query, rec)
        if free and status == 200:
            return status, body, {**self._rl_headers(token)}
        if status == 200:
            if malformed:
                body = body[: max(1, len(body) // 2)]
            if drop_next and extra.get("Link"):
                extra["Link"] = ", ".join(p for p in extra["Link"].split(", ") if 'rel="next"' not in p)
        extra.update(self._rl_headers(token))
        return status, body, extra

    def _route(self, prefix: str, sub: str, pairs: list, q: dict, rec: dict):
        """(status, body, extra headers)."""
        cat = self._catalog(prefix)
        if sub == "/rate_limit":
            return 200, self._rate_limit_body(rec["token"]), {}
        if sub == "/user":
            return 200, orjson.dumps(self._me(rec["token"], cat)), {}
        if sub == "/":
            api = cat["api"]
            body = orjson.dumps({"current_user_url": f"{api}/user",
                                 "rate_limit_url": f"{api}/rate_limit",
                                 "repository_url": f"{api}/repos/{{owner}}/{{repo}}",
                                 "user_url": f"{api}/users/{{user}}"})
            return 200, body, {}
        m = _REPO_RE.match(sub)
        if m:
            repo = self._repo_by_lower.get(f"{m.group(1)}/{m.group(2)}".lower())
            rest = m.group(3) or ""
        else:
            m = _REPOID_RE.match(sub)
            if not m:
                return 404, _err("Not Found", DOCS, 404), {}
            repo = self._repo_by_id.get(int(m.group(1)))
            rest = m.group(2) or ""
        kind = "repo" if rest == "" else "list" if rest == "/pulls" else None
        sm = _SUB_RE.match(rest) if kind is None else None
        if sm:
            kind = {None: "detail", "/reviews": "reviews", "/commits": "commits"}[sm.group(2)]
        if kind is None:
            return 404, _err("Not Found", DOCS, 404), {}
        if repo is None:
            return 404, _err("Not Found", _DOC_BY_KIND[kind], 404), {}
        rec["repo"] = repo.full
        if kind == "repo":
            return 200, orjson.dumps(cat["repos"][repo.full]["obj"]), {}
        if kind == "list":
            return self._list(repo, cat, prefix, rest, pairs, q)
        pr = repo.prs.get(int(sm.group(1)))
        if pr is None:
            return 404, _err("Not Found", _DOC_BY_KIND[kind], 404), {}
        if kind == "detail":
            return 200, self._detail(pr, cat), {}
        items = self._review_items(pr, cat) if kind == "reviews" else self._commit_items(pr, cat)
        per_page, page = self._paging(q)
        start = (page - 1) * per_page
        body = b"[" + b",".join(items[start:start + per_page]) + b"]"
        extra = {}
        link = self._link(repo, prefix, rest, pairs, page, per_page, len(items))
        if link:
            extra["Link"] = link
        return 200, body, extra

    @staticmethod
    def _paging(q: dict) -> tuple[int, int]:
        try:
            per_page = int(q.get("per_page") or PER_PAGE_DEFAULT)
        except ValueError:
            per_page = PER_PAGE_DEFAULT
        if per_page < 1:
            per_page = PER_PAGE_DEFAULT
        per_page = min(per_page, PER_PAGE_MAX)
        try:
            page = max(1, int(q.get("page") or 1))
        except ValueError:
            page = 1
        return per_page, page

    def _link(self, repo: _Repo, prefix: str, rest: str, pairs: list, page: int, per_page: int, total: int) -> str:
        """GitHub's Link header: absolute /repositories/{id}/... URLs keeping the query, page replaced."""
        last = max(1, math.ceil(total / per_page))
        if last == 1 and page == 1:
            return ""
        base = f"{self._base}{prefix}/repositories/{repo.id}{rest}"

        def url(p: int) -> str:
            out, seen = [], False
            for k, v in pairs:
                if k == "page":
                    if not seen:
                        out.append(("page", str(p)))
                        seen = True
                    continue
                out.append((k, v))
            if not seen:
                out.append(("page", str(p)))
            return f"{base}?{urlencode(out, quote_via=quote, safe='/:,')}"

        links = []
        if page > 1:
            links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
            links.append(f'<{url(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{url(1)}>; rel="first"')
        return ", ".join(links)

    def _list(self, repo: _Repo, cat: dict, prefix: str, rest: str, pairs: list, q: dict):
        state = q.get("state") or "open"
        sort = q.get("sort") or "created"
        direction = q.get("direction") or ("desc" if sort == "created" else "asc")
        errors = []
        if state not in ("open", "closed", "all"):
            errors.append({"resource": "Issue", "field": "state", "code": "invalid"})
        if sort not in ("created", "updated", "popularity", "long-running"):
            errors.append({"resource": "Issue", "field": "sort", "code": "invalid"})
        if direction not in ("asc", "desc"):
            errors.append({"resource": "Issue", "field": "direction", "code": "invalid"})
        if errors:
            return 422, _err("Validation Failed", DOC_LIST, 422, errors), {}
        base, head = q.get("base") or None, q.get("head") or None
        ck = (state, sort, direction, base, head)
        lst = repo.sorted.get(ck)
        if lst is None:
            prs = [pr for pr in repo.prs.values() if state == "all" or pr.state == state]
            if base:
                prs = [pr for pr in prs if pr.base_ref == base]
            if head:
                prs = [pr for pr in prs if self._head_label(pr) == head or
                       (":" not in head and pr.head_ref == head)]
            key = {"created": lambda p: (p.created, p.number),
                   "updated": lambda p: (p.updated, p.number),
                   "popularity": lambda p: (p.comments, p.number),
                   "long-running": lambda p: (p.updated - p.created, p.number)}[sort]
            lst = repo.sorted[ck] = sorted(prs, key=key, reverse=direction == "desc")
        per_page, page = self._paging(q)
        start = (page - 1) * per_page
        body = b"[" + b",".join(self._item(pr, cat) for pr in lst[start:start + per_page]) + b"]"
        extra = {}
        link = self._link(repo, prefix, rest, pairs, page, per_page, len(lst))
        if link:
            extra["Link"] = link
        return 200, body, extra

    def _head_label(self, pr: _PR) -> str:
        return f"{pr.repo.owner if pr.fork is None else self._users[pr.user].login}:{pr.head_ref}"

    def _me(self, token: str, cat: dict) -> dict:
        i = self.tokens.index(token)
        login = "pulse-bot" if i == 0 else f"pulse-bot-{i + 1}"
        u = _User(-1, login, i + 1, "Pulse ETL", False)
        d = self._user_obj(u, cat["api"], cat["html"])
        d.update({"name": "Pulse ETL", "company": None, "blog": "", "location": None, "email": None,
                  "hireable": None, "bio": None, "twitter_username": None, "notification_email": None,
                  "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
                  "created_at": "2020-01-01T00:00:00Z", "updated_at": _iso(self.now_s - 86400)})
        return d

    def _rate_limit_body(self, token: str) -> bytes:
        with self._budget_lock:
            b = self._budgets[token]
            self._roll(b)
            core = {"limit": self.rate_limit, "used": max(0, self.rate_limit - b[0]), "remaining": max(0, b[0]),
                    "reset": b[1]}
            g = self._graphql_budgets[token]
            self._roll(g, self.graphql_limit)
            graphql = {"limit": self.graphql_limit, "used": max(0, self.graphql_limit - g[0]),
                       "remaining": max(0, g[0]), "reset": g[1]}
        t = int(time.time())

        def fresh(limit: int, window: int = WINDOW) -> dict:
            return {"limit": limit, "used": 0, "remaining": limit, "reset": t + window}

        return orjson.dumps({"resources": {
            "core": core, "search": fresh(30, 60), "graphql": graphql, "integration_manifest": fresh(5000),
            "source_import": fresh(100, 60), "code_scanning_upload": fresh(1000), "actions_runner_registration":
            fresh(10000), "scim": fresh(15000), "dependency_snapshots": fresh(100, 60), "audit_log": fresh(1750),
            "audit_log_streaming": fresh(15), "code_search": fresh(10, 60)}, "rate": core})


def _parse_repos(spec: str) -> dict[str, int]:
    out = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, n = part.partition(":")
        out[name.strip()] = int(n) if n.strip() else 100
    return out


def _parse_work_items(spec: str) -> list[str]:
    """"ABC:200,DEF-1,DEF-7" -> ABC-1..ABC-200, DEF-1, DEF-7."""
    keys: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            proj, n = part.split(":", 1)
            keys += [f"{proj.strip().upper()}-{i}" for i in range(1, int(n) + 1)]
        else:
            keys.append(part)
    return keys


# -- standalone -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m etl.fakes.github",
                                 description="Run the fake GitHub REST API in the foreground.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8082)
    ap.add_argument("--repos", default="acme/api:120,acme/web:80", help="owner/name:count,...")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokens", default="ghp_test", help="comma-separated accepted tokens")
    ap.add_argument("--rate-limit", type=int, default=5000)
    ap.add_argument("--work-items", default="", help="keys to mention, e.g. ABC:200,DEF:50 or ABC-1,ABC-2")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    fake = FakeGitHub(repos=_parse_repos(args.repos), seed=args.seed,
                      tokens=[t for t in args.tokens.split(",") if t.strip()], rate_limit=args.rate_limit,
                      work_item_keys=_parse_work_items(args.work_items) or None)
    srv = fake.serve(args.host, args.port)
    total = sum(len(fake.pr_numbers(r)) for r in fake.repos())
    print(f"Fake GitHub with {total} pull requests in {','.join(fake.repos())} ready in "
          f"{time.monotonic() - t0:.1f}s at {srv.url} (Enterprise: {srv.url}{ENTERPRISE_PREFIX})", flush=True)
    print(f"  auth: bearer token={fake.token}", flush=True)
    print(f"  try:  curl -i -H 'Authorization: Bearer {fake.token}' "
          f"'{srv.url}/repos/{fake.repos()[0]}/pulls?state=all&sort=updated&direction=desc&per_page=2'", flush=True)
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
