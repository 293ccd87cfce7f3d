"""Raw GitHub objects -> pull_requests, pr_reviews, pr_commits rows. Pure functions.

Raw objects come in two shapes: GraphQL nodes (what the client extracts, marked by `__typename`) and
REST objects (stored before the client moved to GraphQL, and what the raw-data API may be sent).
GraphQL nodes are read into the REST fields the row builders use, so both make the same rows."""
from __future__ import annotations

import logging
import re

import re2

from etl.models import PrCommit, PrReview, PullRequest
from etl.sources.base import TransformContext, TransformError, TransformResult, unfit_value
from etl.sources.github.client import parse_github_datetime
from etl.sources.github.streams import COMMIT, PULL, REVIEW, pull_id, pull_id_from_url

log = logging.getLogger(__name__)

WORK_ITEM_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9_]{0,49}-[1-9][0-9]*)(?![A-Za-z0-9])")
DEFAULT_BOT_PATTERNS = (r"\[bot\]$",)
MAX_BOT_PATTERNS = 50
MAX_BOT_PATTERN_LENGTH = 200


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a tenant's bad pattern is our InvalidBotPattern, not a line on stderr
    return options


_RE2_OPTIONS = _re2_options()


class InvalidBotPattern(ValueError):
    """A bot pattern RE2 cannot compile; the message is RE2's."""


def compile_bot_pattern(pattern: str):
    """Tenants' bot patterns run on shared transform workers: RE2 matches in time linear in the
    login, where Python's re backtracks exponentially on patterns such as ^(a+)+$."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        raise InvalidBotPattern(exc.args[0].decode(errors="replace") if exc.args else str(exc)) from None


def compile_bot_patterns(patterns) -> list:
    """The patterns that compile. Settings saved before patterns were checked by RE2 may hold one
    that does not (a backreference, a lookaround): it is skipped rather than failing every PR."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(compile_bot_pattern(pattern))
        except (InvalidBotPattern, TypeError):
            log.warning("bot pattern %r skipped: RE2 cannot compile it", pattern)
    return compiled


def work_item_keys(*texts: str | None) -> list[str]:
    """Jira-style keys (ABC-123) mentioned in a title, a branch name or a body."""
    found = set()
    for value in texts:
        found.update(WORK_ITEM_KEY.findall(value or ""))
    return sorted(found)


def is_bot(user: dict | None, patterns) -> bool:
    """`patterns` compiled by compile_bot_patterns."""
    if not user:
        return False
    login = user.get("login") or ""
    return user.get("type") == "Bot" or any(p.search(login) for p in patterns)


def _iso(value: str | None) -> str | None:
    try:
        dt = parse_github_datetime(value)
    except ValueError:
        raise TransformError(f"{value!r} is not an ISO 8601 timestamp") from None
    return dt.isoformat() if dt else None


def _seconds(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return int((parse_github_datetime(end) - parse_github_datetime(start)).total_seconds())


def _base(ctx: TransformContext) -> dict:
    return {"tenant_id": str(ctx.tenant_id), "integration_id": str(ctx.integration_id)}


def pull_row(pr: dict, ctx: TransformContext, patterns) -> dict:
    repo = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    if not repo or not pr.get("number"):
        raise TransformError("pull request has no base repository or number")
    merged = pr.get("merged_at")
    created = _iso(pr.get("created_at"))
    head_ref = (pr.get("head") or {}).get("ref")
    return {
        **_base(ctx),
        "external_id": pull_id(repo, pr["number"]),
        "repo": repo,
        "number": pr["number"],
        "title": pr.get("title"),
        # A closed PR with merged_at was merged.
        "state": "merged" if merged else pr.get("state"),
        "draft": bool(pr.get("draft")),
        "author": (pr.get("user") or {}).get("login"),
        "author_is_bot": is_bot(pr.get("user"), patterns),
        "base_ref": (pr.get("base") or {}).get("ref"),
        "head_ref": head_ref,
        "created_at": created,
        "updated_at": _iso(pr.get("updated_at")),
        "merged_at": _iso(merged),
        "closed_at": _iso(pr.get("closed_at")),
        "additions": pr.get("additions"),
        "deletions": pr.get("deletions"),
        "changed_files": pr.get("changed_files"),
        "commits_count": pr.get("commits"),
        "lead_time_seconds": _seconds(pr.get("created_at"), merged),
        "work_item_keys": work_item_keys(pr.get("title"), head_ref, pr.get("body")),
        "url": pr.get("html_url"),
        "deleted_at": None,
    }


def review_row(review: dict, pr_external_id: str, ctx: TransformContext, patterns) -> dict:
    return {
        **_base(ctx),
        "external_id": str(review["id"]),
        "pr_external_id": pr_external_id,
        "state": review.get("state") or "COMMENTED",
        "author": (review.get("user") or {}).get("login"),
        "author_is_bot": is_bot(review.get("user"), patterns),
        "submitted_at": _iso(review.get("submitted_at")),
    }


def commit_row(external_id: str, commit: dict, ctx: TransformContext) -> dict:
    pr_external_id, _, sha = external_id.rpartition(":")
    detail = commit.get("commit") or {}
    author = (commit.get("author") or {}).get("login") or (detail.get("author") or {}).get("name")
    return {
        **_base(ctx),
        "external_id": external_id,
        "pr_external_id": pr_external_id,
        "sha": commit.get("sha") or sha,
        "author": author,
        "message": (detail.get("message") or "").split("\n", 1)[0],
        "committed_at": _iso((detail.get("committer") or detail.get("author") or {}).get("date")),
    }


def graphql_user(actor: dict | None) -> dict | None:
    """A GraphQL Actor as REST's user: GraphQL names a bot `dependabot` where REST says `dependabot[bot]`."""
    if not actor:
        return None
    kind = actor.get("__typename")
    login = actor.get("login")
    return {"login": f"{login}[bot]" if kind == "Bot" and login else login, "type": kind}


def rest_pull(node: dict) -> dict:
    """A GraphQL PullRequest node in REST's fields (state MERGED is REST's closed with merged_at)."""
    state = (node.get("state") or "").lower()
    return {
        "number": node.get("number"), "title": node.get("title"), "body": node.get("body"),
        "state": "closed" if state == "merged" else state, "draft": node.get("isDraft"),
        "user": graphql_user(node.get("author")), "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "merged_at": node.get("mergedAt"), "closed_at": node.get("closedAt"),
        "head": {"ref": node.get("headRefName")},
        "base": {"ref": node.get("baseRefName"), "repo": {"full_name": (node.get("repository") or {}).get("nameWithOwner")}},
        "additions": node.get("additions"), "deletions": node.get("deletions"),
        "changed_files": node.get("changedFiles"), "commits": (node.get("commits") or {}).get("totalCount"),
        "html_url": node.get("url"),
    }


def rest_review(node: dict) -> tuple[dict, str]:
    """A GraphQL PullRequestReview node in REST's fields, and its pull request's external id."""
    pull = node.get("pullRequest") or {}
    repo = (pull.get("repository") or {}).get("nameWithOwner")
    if not repo or not pull.get("number"):
        raise TransformError("review has no pull request (pullRequest.number and repository.nameWithOwner)")
    review = {"id": node["databaseId"], "state": node.get("state"), "user": graphql_user(node.get("author")),
              "submitted_at": node.get("submittedAt")}
    return review, pull_id(repo, pull["number"])


def rest_commit(node: dict) -> dict:
    """A GraphQL PullRequestCommit node in REST's fields: the linked GitHub user is the author's."""
    commit = node.get("commit") or {}
    author = commit.get("author") or {}
    return {"sha": commit.get("oid"), "author": author.get("user"),
            "commit": {"author": {"name": author.get("name")}, "message": commit.get("message"),
                       "committer": {"date": commit.get("committedDate")}}}


def is_graphql(payload: dict) -> bool:
    return "__typename" in payload


def row_of(entity_type: str, external_id: str, payload: dict, ctx: TransformContext, patterns) -> dict:
    graphql = is_graphql(payload)
    if entity_type == PULL:
        return pull_row(rest_pull(payload) if graphql else payload, ctx, patterns)
    if entity_type == REVIEW:
        review, pr_external_id = rest_review(payload) if graphql else (
            payload, pull_id_from_url(payload.get("pull_request_url")))
        return review_row(review, pr_external_id, ctx, patterns)
    return commit_row(external_id, rest_commit(payload) if graphql else payload, ctx)


TABLES = {PULL: PullRequest.__table__, REVIEW: PrReview.__table__, COMMIT: PrCommit.__table__}


def transform_github(entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
    table = str(TABLES[entity_type].name)  # a quoted_name, which orjson refuses as a key
    patterns = compile_bot_patterns(ctx.settings.get("bot_patterns") or DEFAULT_BOT_PATTERNS)
    result = TransformResult(rows={table: []})
    for raw_id, external_id, payload in raw:
        try:
            row = row_of(entity_type, external_id, payload, ctx, patterns)
            if entity_type == PULL:
                row["raw_id"] = raw_id
        except TransformError as exc:
            result.failures[raw_id] = str(exc)
            continue
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.failures[raw_id] = f"unexpected {entity_type} shape: {exc.__class__.__name__}: {exc}"
            continue
        problem = unfit_value(TABLES[entity_type], row)
        if problem:
            result.failures[raw_id] = problem
            continue
        result.rows[table].append(row)
        result.ok_raw_ids.append(raw_id)
    return result
