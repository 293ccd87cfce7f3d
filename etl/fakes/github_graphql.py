"""The fake GitHub's GraphQL endpoint: ``POST /graphql`` (GitHub Enterprise: ``POST /api/graphql``),
serving the same pull requests, reviews and commits as the REST endpoints of etl/fakes/github.py.

What it answers as GitHub does:

* A parser and a schema for the part of GitHub's schema the client reads: ``repository(owner:,
  name:)`` with ``pullRequests(first|last, after, orderBy: {field, direction}, states)`` and
  ``pullRequest(number:)``, ``node(id:)``, ``viewer``, ``rateLimit``; a pull request's fields, its
  ``author`` (an Actor: a Bot's ``login`` has no ``[bot]`` suffix, unlike REST), ``reviews`` and
  ``commits`` connections (``totalCount``, ``pageInfo { hasNextPage endCursor }``, ``nodes``,
  ``edges { cursor node }``); aliases, variables, fragments and inline fragments.
* Validation before execution: an unknown field, a connection without ``first``/``last`` or with one
  outside 1-100, more than 500,000 nodes, a syntax error: HTTP 200 with ``errors`` and no ``data``.
  An unknown repository: ``data.repository`` null and an error of type NOT_FOUND.
* Cursors: a pull request list ordered by UPDATED_AT resumes after the last (updatedAt, number) it
  served, so an update during paging cannot shift a page; nested lists page by position.
* A PR's commits connection lists at most 250 commits, as REST's does (``totalCount`` is the real count).
* The primary rate limit, a budget of points per token separate from REST's: a query costs the
  requests its connections need, divided by 100 and rounded, at least 1 (each connection needs one
  request per parent it is fetched for: ``pullRequests(first: 50) { reviews(first: 100) }`` is 1 + 50
  requests, 1 point). ``x-ratelimit-*`` headers (resource ``graphql``) on every answer. A query that
  costs more than what is left is answered like GitHub does: HTTP 200 with an error of type
  RATE_LIMITED (``FakeGitHub(graphql_limit_status=403)``: HTTP 403 with ``x-ratelimit-remaining: 0``).
* Faults (FakeGitHub.faults with ``path_contains="/graphql"``): secondary limits, 500/502, slow and
  truncated answers as on REST; "forbidden" is GraphQL's FORBIDDEN error in a 200; "no_next_link"
  a pull request list that says hasNextPage false too early.

Only the standard library and orjson are used (the demo runs the fakes in the product image).
"""
from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

DOC = "https://docs.github.com/graphql"
MAX_NODES = 500_000
MAX_PAGE = 100
COMMITS_CAP = 250


class QueryError(Exception):
    """A query GitHub refuses before running it (HTTP 200, errors, no data)."""

    def __init__(self, message: str, line: int = 1, column: int = 1, **extra):
        super().__init__(message)
        self.error = {"message": message, "locations": [{"line": line, "column": column}], **extra}


# -- parser ---------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$()\:=@\[\]{}|&])
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
""", re.VERBOSE)


@dataclass
class Field:
    name: str
    alias: str
    args: dict
    selections: list | None
    line: int
    column: int


@dataclass
class Fragment:  # an inline fragment, or a named fragment spread (resolved at execution)
    on: str | None
    selections: list | None = None
    spread: str | None = None
    line: int = 1
    column: int = 1


@dataclass
class Var:
    name: str


@dataclass
class Enum:
    value: str


@dataclass
class Document:
    selections: list
    variables: dict = field(default_factory=dict)  # name -> (type text, default)
    fragments: dict = field(default_factory=dict)  # name -> Fragment


class Parser:
    def __init__(self, text: str):
        self.tokens: list[tuple[str, str, int, int]] = []
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            line = next(i for i in range(len(line_starts) - 1, -1, -1) if line_starts[i] <= pos) + 1
            col = pos - line_starts[line - 1] + 1
            if not m:
                raise QueryError(f"Parse error on \"{text[pos]}\" at [{line}, {col}]", line, col)
            if m.lastgroup != "skip":
                self.tokens.append((m.lastgroup, m.group(), line, col))
            pos = m.end()
        self.i = 0

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        return value is None or self.tokens[self.i][1] == value

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str, int, int]:
        if self.i >= len(self.tokens):
            last = self.tokens[-1] if self.tokens else ("", "", 1, 1)
            raise QueryError("Parse error on end of input", last[2], last[3])
        tok = self.tokens[self.i]
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            raise QueryError(f"Parse error on \"{tok[1]}\" ({tok[0].upper()}) at [{tok[2]}, {tok[3]}]", tok[2], tok[3])
        self.i += 1
        return tok

    def document(self) -> Document:
        doc, operations = Document([]), 0
        while self.peek():
            if self.peek("fragment"):
                self.take()
                name = self.take(kind="name")[1]
                self.take("on")
                on = self.take(kind="name")[1]
                doc.fragments[name] = Fragment(on, self.selection_set())
                continue
            operations += 1
            if operations > 1:
                tok = self.tokens[self.i]
                raise QueryError("this fake serves one operation per document", tok[2], tok[3])
            if self.peek("query"):
                self.take()
                if self.peek() and self.tokens[self.i][0] == "name":
                    self.take()
                if self.peek("("):
                    doc.variables = self.variable_definitions()
            elif not self.peek("{"):
                tok = self.tokens[self.i]
                raise QueryError(f"Parse error on \"{tok[1]}\" ({tok[0].upper()}) at [{tok[2]}, {tok[3]}]",
                                 tok[2], tok[3])
            doc.selections = self.selection_set()
        if not operations:
            raise QueryError("No operation given")
        return doc

    def variable_definitions(self) -> dict:
        self.take("(")
        out = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")[1]
            self.take(":")
            kind = self.type_text()
            default = self.value() if self.peek("=") and self.take("=") else None
            out[name] = (kind, default)
        self.take(")")
        return out

    def type_text(self) -> str:
        if self.peek("["):
            self.take()
            inner = self.type_text()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")[1]
        if self.peek("!"):
            self.take()
            text += "!"
        return text

    def selection_set(self) -> list:
        self.take("{")
        out = []
        while not self.peek("}"):
            if self.peek("..."):
                _, _, line, col = self.take()
                if self.peek("on"):
                    self.take()
                    on = self.take(kind="name")[1]
                    out.append(Fragment(on, self.selection_set(), line=line, column=col))
                elif self.peek("{"):
                    out.append(Fragment(None, self.selection_set(), line=line, column=col))
                else:
                    out.append(Fragment(None, spread=self.take(kind="name")[1], line=line, column=col))
                continue
            _, name, line, col = self.take(kind="name")
            alias = name
            if self.peek(":"):
                self.take()
                name = self.take(kind="name")[1]
            args = {}
            if self.peek("("):
                self.take()
                while not self.peek(")"):
                    arg = self.take(kind="name")[1]
                    self.take(":")
                    args[arg] = self.value()
                self.take(")")
            out.append(Field(name, alias, args, self.selection_set() if self.peek("{") else None, line, col))
        self.take("}")
        if not out:
            raise QueryError("Parse error on \"}\" (RCURLY): a selection set cannot be empty")
        return out

    def value(self):
        kind, text, _, _ = self.tokens[self.i] if self.peek() else ("", "", 1, 1)
        if text == "$":
            self.take()
            return Var(self.take(kind="name")[1])
        if text == "[":
            self.take()
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        if text == "{":
            self.take()
            obj = {}
            while not self.peek("}"):
                key = self.take(kind="name")[1]
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        tok = self.take()
        if tok[0] == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if tok[0] == "string":
            return orjson.loads(text.encode())
        if tok[0] == "name":
            return {"true": True, "false": False, "null": None}.get(text, Enum(text))
        raise QueryError(f"Parse error on \"{text}\" ({kind.upper()}) at [{tok[2]}, {tok[3]}]", tok[2], tok[3])


# -- schema ---------------------------------------------------------------------------------------
# type -> field -> (type of the value, whether it is a connection). Scalars are the names below.
SCALARS = {"String", "Int", "Boolean", "ID", "DateTime", "URI", "GitObjectID", "GitTimestamp",
           "PullRequestState", "PullRequestReviewState"}
_CONN = {"totalCount": ("Int", False), "pageInfo": ("PageInfo", False)}
SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "Query": {"repository": ("Repository", False), "node": ("Node", False), "viewer": ("User", False),
              "rateLimit": ("RateLimit", False)},
    "RateLimit": {k: ("Int", False) for k in ("cost", "limit", "remaining", "used", "nodeCount")} |
                 {"resetAt": ("DateTime", False)},
    "Repository": {"id": ("ID", False), "databaseId": ("Int", False), "name": ("String", False),
                   "nameWithOwner": ("String", False), "url": ("URI", False), "owner": ("User", False),
                   "pullRequests": ("PullRequestConnection", True), "pullRequest": ("PullRequest", False)},
    "PullRequest": {**{k: ("String", False) for k in ("title", "body", "baseRefName", "headRefName")},
                    **{k: ("Int", False) for k in ("number", "databaseId", "additions", "deletions", "changedFiles")},
                    **{k: ("DateTime", False) for k in ("createdAt", "updatedAt", "closedAt", "mergedAt")},
                    "id": ("ID", False), "url": ("URI", False), "state": ("PullRequestState", False),
                    "isDraft": ("Boolean", False), "merged": ("Boolean", False), "headRefOid": ("GitObjectID", False),
                    "author": ("Actor", False), "mergedBy": ("Actor", False), "repository": ("Repository", False),
                    "baseRepository": ("Repository", False), "reviews": ("PullRequestReviewConnection", True),
                    "commits": ("PullRequestCommitConnection", True)},
    "PullRequestReview": {"id": ("ID", False), "databaseId": ("Int", False), "state": ("PullRequestReviewState", False),
                          "body": ("String", False), "submittedAt": ("DateTime", False), "url": ("URI", False),
                          "author": ("Actor", False), "pullRequest": ("PullRequest", False)},
    "PullRequestCommit": {"id": ("ID", False), "url": ("URI", False), "commit": ("Commit", False)},
    "Commit": {"oid": ("GitObjectID", False), "message": ("String", False), "messageHeadline": ("String", False),
               "committedDate": ("DateTime", False), "authoredDate": ("DateTime", False), "url": ("URI", False),
               "author": ("GitActor", False), "committer": ("GitActor", False)},
    "GitActor": {"name": ("String", False), "email": ("String", False), "date": ("GitTimestamp", False),
                 "user": ("User", False)},
    "User": {"login": ("String", False), "id": ("ID", False), "databaseId": ("Int", False), "url": ("URI", False),
             "name": ("String", False)},
    "Bot": {"login": ("String", False), "id": ("ID", False), "databaseId": ("Int", False), "url": ("URI", False)},
    "Actor": {"login": ("String", False), "url": ("URI", False)},
    "Node": {"id": ("ID", False)},
    "PageInfo": {"hasNextPage": ("Boolean", False), "hasPreviousPage": ("Boolean", False),
                 "endCursor": ("String", False), "startCursor": ("String", False)},
}
for _name, _node in (("PullRequest", "PullRequest"), ("PullRequestReview", "PullRequestReview"),
                     ("PullRequestCommit", "PullRequestCommit")):
    SCHEMA[f"{_name}Connection"] = {**_CONN, "nodes": (_node, False), "edges": (f"{_name}Edge", False)}
    SCHEMA[f"{_name}Edge"] = {"cursor": ("String", False), "node": (_node, False)}
ABSTRACT = {"Actor": {"User", "Bot"}, "Node": {"PullRequest", "PullRequestReview", "PullRequestCommit", "User", "Bot",
                                               "Repository"}}


# -- validation: unknown fields, pagination bounds, node count and cost ---------------------------
@dataclass
class Plan:
    requests: int = 0  # one per connection per parent it is fetched for
    nodes: int = 0

    @property
    def cost(self) -> int:
        return max(1, int(self.requests / 100 + 0.5))


def _arg(args: dict, name: str, variables: dict):
    value = args.get(name)
    return variables.get(value.name) if isinstance(value, Var) else value


def _fragment_selections(frag: Fragment, doc: Document) -> tuple[str | None, list]:
    if frag.spread is None:
        return frag.on, frag.selections
    named = doc.fragments.get(frag.spread)
    if named is None:
        raise QueryError(f"Fragment {frag.spread} was used, but not defined", frag.line, frag.column)
    return named.on, named.selections


def plan(doc: Document, variables: dict) -> Plan:
    out = Plan()
    _plan(doc, "Query", doc.selections, variables, 1, out, [])
    if out.nodes > MAX_NODES:
        raise QueryError(f"By the time this query traverses to the commits connection, it is requesting up to "
                         f"{out.nodes:,} possible nodes which exceeds the maximum limit of {MAX_NODES:,}.",
                         type="MAX_NODE_LIMIT_EXCEEDED")
    return out


def _plan(doc: Document, type_name: str, selections: list, variables: dict, parents: int, out: Plan,
          path: list) -> None:
    for sel in selections:
        if isinstance(sel, Fragment):
            on, subs = _fragment_selections(sel, doc)
            if on is not None and on not in SCHEMA:
                raise QueryError(f"No such type {on}, so it can't be a fragment condition", sel.line, sel.column)
            _plan(doc, on or type_name, subs, variables, parents, out, path)
            continue
        if sel.name == "__typename":
            continue
        fields = SCHEMA[type_name]
        if sel.name not in fields:
            raise QueryError(f"Field '{sel.name}' doesn't exist on type '{type_name}'", sel.line, sel.column,
                             path=["query", *path, sel.alias],
                             extensions={"code": "undefinedField", "typeName": type_name, "fieldName": sel.name})
        target, connection = fields[sel.name]
        if target in SCALARS and sel.selections:
            raise QueryError(f"Selections can't be made on scalars (field '{sel.name}' returns {target} but has "
                             f"selections [...])", sel.line, sel.column)
        if target not in SCALARS and not sel.selections:
            raise QueryError(f"Field must have selections (field '{sel.name}' returns {target} but has no "
                             f"selections. Did you mean '{sel.name} {{ ... }}'?)", sel.line, sel.column)
        inner = parents
        if connection:
            first, last = _arg(sel.args, "first", variables), _arg(sel.args, "last", variables)
            if first is None and last is None:
                raise QueryError(f"You must provide a `first` or `last` value to properly paginate the "
                                 f"`{sel.name}` connection.", sel.line, sel.column, type="MISSING_PAGINATION_BOUNDARIES")
            size = first if first is not None else last
            if not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
                raise QueryError(f"Requesting {size} records on the `{sel.name}` connection exceeds the "
                                 f"`{'first' if first is not None else 'last'}` limit of {MAX_PAGE} records.",
                                 sel.line, sel.column, type="EXCESSIVE_PAGINATION")
            out.requests += parents
            out.nodes += parents * size
            inner = parents * size
        if sel.selections:
            _plan(doc, target, sel.selections, variables, inner, out, [*path, sel.alias])


# -- execution ------------------------------------------------------------------------------------
def _cursor(*parts) -> str:
    return base64.b64encode(("cursor:v2:" + orjson.dumps(parts).decode()).encode()).decode()


def _uncursor(value) -> list | None:
    if value is None:
        return None
    try:
        text = base64.b64decode(str(value), validate=True).decode()
        parts = orjson.loads(text.removeprefix("cursor:v2:")) if text.startswith("cursor:v2:") else None
    except (ValueError, orjson.JSONDecodeError):
        parts = None
    if not isinstance(parts, list):
        raise _FieldError("`after` is not a valid cursor.", "INVALID_CURSOR_ARGUMENTS")
    return parts


class _FieldError(Exception):
    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.message, self.kind = message, kind


class Executor:
    """Runs a validated document against the fake's state (its lock held by the caller): `fake` is
    the FakeGitHub, whose _Repo and _PR objects the resolvers read (not imported: it imports us)."""

    def __init__(self, fake, cat: dict, doc: Document, variables: dict, plan_: Plan, budget: dict):
        self.fake, self.cat, self.doc, self.vars = fake, cat, doc, variables
        self.plan, self.budget = plan_, budget
        self.errors: list[dict] = []

    def run(self) -> dict:
        return self.select("Query", None, self.doc.selections, [])

    def select(self, type_name: str, obj, selections: list, path: list) -> dict:
        out: dict[str, Any] = {}
        for sel in selections:
            if isinstance(sel, Fragment):
                on, subs = _fragment_selections(sel, self.doc)
                if on is None or on == type_name or type_name in ABSTRACT.get(on, ()):
                    out.update(self.select(type_name, obj, subs, path))
                continue
            if sel.name == "__typename":
                out[sel.alias] = type_name
                continue
            args = {k: (self.vars.get(v.name) if isinstance(v, Var) else v) for k, v in sel.args.items()}
            try:
                value = getattr(self, f"_{type_name}_{sel.name}", None)
                value = value(obj, args) if value else self._plain(type_name, obj, sel.name)
            except _FieldError as exc:
                self.errors.append({"type": exc.kind, "path": [*path, sel.alias], "locations": [
                    {"line": sel.line, "column": sel.column}], "message": exc.message})
                out[sel.alias] = None
                continue
            out[sel.alias] = self.render(SCHEMA[type_name][sel.name][0], value, sel.selections, [*path, sel.alias])
        return out

    def render(self, type_name: str, value, selections, path: list):
        if value is None or selections is None:
            return value
        if isinstance(value, list):
            return [self.render(type_name, v, selections, [*path, i]) for i, v in enumerate(value)]
        if isinstance(value, tuple):  # (concrete type, object) for abstract types
            type_name, value = value
        return self.select(type_name, value, selections, path)

    @staticmethod
    def _plain(type_name: str, obj, name: str):
        return obj.get(name) if isinstance(obj, dict) else None

    # Query
    def _Query_rateLimit(self, _, args):
        return {"cost": self.plan.cost, "nodeCount": self.plan.nodes, **self.budget}

    def _Query_viewer(self, _, args):
        return ("User", {"login": self.budget["viewer"]})

    def _Query_repository(self, _, args):
        repo = self.fake._repo_by_lower.get(f"{args.get('owner')}/{args.get('name')}".lower())
        if repo is None:
            raise _FieldError(f"Could not resolve to a Repository with the name '{args.get('owner')}/"
                              f"{args.get('name')}'.", "NOT_FOUND")
        return repo

    def _Query_node(self, _, args):
        found = self.fake.node(str(args.get("id") or ""))
        if found is None:
            raise _FieldError(f"Could not resolve to a node with the global id of '{args.get('id')}'", "NOT_FOUND")
        return found

    # Repository
    def _Repository_nameWithOwner(self, repo, args):
        return repo.full

    def _Repository_name(self, repo, args):
        return repo.name

    def _Repository_databaseId(self, repo, args):
        return repo.id

    def _Repository_id(self, repo, args):
        return self.fake._node_id_of(repo)

    def _Repository_url(self, repo, args):
        return f"{self.cat['html']}/{repo.full}"

    def _Repository_owner(self, repo, args):
        return {"login": repo.owner}

    def _Repository_pullRequest(self, repo, args):
        pr = repo.prs.get(args.get("number"))
        if pr is None:
            raise _FieldError(f"Could not resolve to a PullRequest with the number of {args.get('number')}.",
                              "NOT_FOUND")
        return pr

    def _Repository_pullRequests(self, repo, args):
        order = args.get("orderBy") or {}
        field_ = getattr(order.get("field"), "value", "CREATED_AT")
        desc = getattr(order.get("direction"), "value", "ASC") == "DESC"
        states = {getattr(s, "value", s) for s in args.get("states") or ()}
        prs = [pr for pr in repo.prs.values() if not states or self._state(pr) in states]
        key = (lambda p: (p.updated, p.number)) if field_ == "UPDATED_AT" else (lambda p: (p.created, p.number))
        prs.sort(key=key, reverse=desc)
        after = _uncursor(args.get("after"))
        if after is not None:
            mark = tuple(after)
            prs = [p for p in prs if (key(p) < mark if desc else key(p) > mark)]
        return self._page(prs, args, lambda p: _cursor(*key(p)), total=len(repo.prs) if not states else None,
                          all_=[p for p in repo.prs.values() if not states or self._state(p) in states])

    def _page(self, items: list, args, cursor_of, total=None, all_=None, start: int = 0) -> dict:
        size = args.get("first") or args.get("last")
        page = items[:size] if args.get("first") else items[-size:]
        more = len(items) > len(page)
        return {"totalCount": len(all_ if all_ is not None else items) if total is None else total,
                "pageInfo": {"hasNextPage": more if args.get("first") else False,
                             "hasPreviousPage": start > 0 or (more and not args.get("first")),
                             "endCursor": cursor_of(page[-1]) if page else None,
                             "startCursor": cursor_of(page[0]) if page else None},
                "nodes": page, "edges": [{"cursor": cursor_of(p), "node": p} for p in page]}

    def _positional(self, items: list, args, total: int) -> dict:
        after = _uncursor(args.get("after"))
        start = int(after[0]) + 1 if after else 0
        indexed = list(enumerate(items))[start:]
        page = self._page(indexed, args, lambda iv: _cursor(iv[0]), total=total, start=start)
        page["nodes"] = [v for _, v in page["nodes"]]
        page["edges"] = [{"cursor": e["cursor"], "node": e["node"][1]} for e in page["edges"]]
        return page

    # PullRequest
    @staticmethod
    def _state(pr) -> str:
        return "MERGED" if pr.merged is not None else pr.state.upper()

    def _PullRequest_state(self, pr, args):
        return self._state(pr)

    def _PullRequest_id(self, pr, args):
        return self.fake._node_id_of(pr)

    def _PullRequest_databaseId(self, pr, args):
        return pr.id

    def _PullRequest_number(self, pr, args):
        return pr.number

    def _PullRequest_title(self, pr, args):
        return pr.title

    def _PullRequest_body(self, pr, args):
        return pr.body or ""  # GraphQL's body is non-null: an empty description is ""

    def _PullRequest_isDraft(self, pr, args):
        return pr.draft

    def _PullRequest_merged(self, pr, args):
        return pr.merged is not None

    def _PullRequest_url(self, pr, args):
        return f"{self.cat['html']}/{pr.repo.full}/pull/{pr.number}"

    def _PullRequest_createdAt(self, pr, args):
        return _iso(pr.created)

    def _PullRequest_updatedAt(self, pr, args):
        return _iso(pr.updated)

    def _PullRequest_closedAt(self, pr, args):
        return _iso(pr.closed)

    def _PullRequest_mergedAt(self, pr, args):
        return _iso(pr.merged)

    def _PullRequest_additions(self, pr, args):
        return pr.additions

    def _PullRequest_deletions(self, pr, args):
        return pr.deletions

    def _PullRequest_changedFiles(self, pr, args):
        return pr.changed_files

    def _PullRequest_baseRefName(self, pr, args):
        return pr.base_ref

    def _PullRequest_headRefName(self, pr, args):
        return pr.head_ref

    def _PullRequest_headRefOid(self, pr, args):
        return self.fake._sha(pr, pr.ncommits - 1)

    def _PullRequest_author(self, pr, args):
        return self._actor(pr.user)

    def _PullRequest_mergedBy(self, pr, args):
        return None if pr.merged_by is None else self._actor(pr.merged_by)

    def _PullRequest_repository(self, pr, args):
        return pr.repo

    _PullRequest_baseRepository = _PullRequest_repository

    def _PullRequest_reviews(self, pr, args):
        listed = [("PullRequestReview", (pr, rv)) for rv in pr.reviews if rv.state != "PENDING"]
        return self._positional(listed, args, len(listed))

    def _PullRequest_commits(self, pr, args):
        commits = self.fake._commit_list(pr)
        listed = [("PullRequestCommit", (pr, c)) for c in commits[:COMMITS_CAP]]
        return self._positional(listed, args, len(commits))

    def _actor(self, idx: int):
        u = self.fake._users[idx]
        if u.bot:  # GraphQL names a GitHub App's bot by its slug: no "[bot]" suffix (REST has one)
            return ("Bot", {"login": u.login.removesuffix("[bot]"), "databaseId": u.id,
                            "url": f"{self.cat['html']}/apps/{u.app}"})
        return ("User", {"login": u.login, "databaseId": u.id, "name": u.name, "url": f"{self.cat['html']}/{u.login}"})

    # PullRequestReview: obj is (pr, review)
    def _PullRequestReview_id(self, obj, args):
        return f"PRR_fake{obj[1].id}"

    def _PullRequestReview_databaseId(self, obj, args):
        return obj[1].id

    def _PullRequestReview_state(self, obj, args):
        return obj[1].state

    def _PullRequestReview_body(self, obj, args):
        return obj[1].body

    def _PullRequestReview_submittedAt(self, obj, args):
        return _iso(obj[1].submitted)

    def _PullRequestReview_url(self, obj, args):
        pr = obj[0]
        return f"{self.cat['html']}/{pr.repo.full}/pull/{pr.number}#pullrequestreview-{obj[1].id}"

    def _PullRequestReview_author(self, obj, args):
        return self._actor(obj[1].user)

    def _PullRequestReview_pullRequest(self, obj, args):
        return obj[0]

    # PullRequestCommit: obj is (pr, (sha, time, user idx, linked, message))
    def _PullRequestCommit_id(self, obj, args):
        return f"PURC_fake{obj[1][0][:12]}"

    def _PullRequestCommit_url(self, obj, args):
        pr = obj[0]
        return f"{self.cat['html']}/{pr.repo.full}/pull/{pr.number}/commits/{obj[1][0]}"

    def _PullRequestCommit_commit(self, obj, args):
        pr, (sha, t, uid, linked, msg) = obj
        u = self.fake._users[uid]
        email = u.email if linked else f"{u.login.split('-')[0]}@corp.example"
        # GitActor.user is a User: a bot's commits have none (their name carries the "[bot]" login).
        user = {"login": u.login, "databaseId": u.id} if linked and not u.bot else None
        who = {"name": u.name, "email": email, "date": _iso(t), "user": None if user is None else ("User", user)}
        return {"oid": sha, "message": msg, "messageHeadline": msg.split("\n", 1)[0], "committedDate": _iso(t),
                "authoredDate": _iso(t), "url": f"{self.cat['html']}/{pr.repo.full}/commit/{sha}",
                "author": who, "committer": who}


def _iso(s: int | None) -> str | None:
    return None if s is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))


# -- serving --------------------------------------------------------------------------------------
def _json_error(message: str) -> bytes:
    return orjson.dumps({"message": message, "documentation_url": DOC})


def serve(fake, prefix: str, body: bytes, token: str, rid: str, rec: dict) -> tuple[int, bytes, dict]:
    """(status, body, headers) for one POST to the GraphQL endpoint, the token already authenticated."""
    try:
        request = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        return 400, _json_error("Problems parsing JSON"), fake._graphql_headers(token)
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return 200, orjson.dumps({"errors": [{"message": "A query attribute must be specified and must be a string."}]}), \
            fake._graphql_headers(token)
    variables = request.get("variables") or {}
    try:
        doc = Parser(request["query"]).document()
        _check_variables(doc, variables)
        cost = plan(doc, {**{k: d for k, (_, d) in doc.variables.items()}, **variables})
    except QueryError as exc:
        return 200, orjson.dumps({"errors": [exc.error]}), fake._graphql_headers(token)
    rec["graphql_cost"] = cost.cost
    window = fake._graphql_reserve(token, cost.cost)
    if window is None:
        return fake._graphql_limited(token, rid)
    with fake._lock:
        cat = fake._catalog(prefix)
        budget = fake._graphql_budget_view(token)
        executor = Executor(fake, cat, doc, {**{k: d for k, (_, d) in doc.variables.items()}, **variables}, cost,
                            budget)
        data = executor.run()
    out = {"data": data}
    if executor.errors:
        out["errors"] = executor.errors
    return 200, orjson.dumps(out), fake._graphql_headers(token)


def without_next_page(body: bytes) -> bytes:
    """The "no_next_link" fault: the pull request list says it is the last page when it is not."""
    answer = orjson.loads(body)
    conn = ((answer.get("data") or {}).get("repository") or {}).get("pullRequests")
    if isinstance(conn, dict) and isinstance(conn.get("pageInfo"), dict):
        conn["pageInfo"]["hasNextPage"] = False
    return orjson.dumps(answer)


def _check_variables(doc: Document, variables) -> None:
    if not isinstance(variables, dict):
        raise QueryError("Variables are invalid JSON.")
    for name, (kind, default) in doc.variables.items():
        if kind.endswith("!") and variables.get(name) is None and default is None:
            raise QueryError(f"Variable ${name} of type {kind} was provided invalid value",
                             extensions={"value": None, "problems": [{"path": [], "explanation": "Expected value to not be null"}]})
