"""GitHub's checks: the settings an integration needs (repositories, token, bot patterns), the
connection test (asked of GitHub), and the identity of raw objects pushed over the API."""
from __future__ import annotations

import re

from etl.config import get_settings
from etl.sources.checks import InvalidSettings, check_count, check_credential_text, failed, passed
from etl.sources.github.client import GitHubClient
from etl.sources.github.streams import COMMIT, PULL, REVIEW, pull_id
from etl.sources.github.transform import (
    MAX_BOT_PATTERN_LENGTH,
    MAX_BOT_PATTERNS,
    InvalidBotPattern,
    compile_bot_pattern,
)
from etl.sources.http import FatalError, OutboundRefused, RetriableError

REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
PULL_ID = re.compile(r"^[^/\s]+/[^#\s]+#[1-9][0-9]*$")


def validate_settings(credentials: dict, settings: dict) -> None:
    repos = settings.get("repos") or []
    check_count("repositories", repos, get_settings().max_repos_per_integration, "ETL_MAX_REPOS_PER_INTEGRATION")
    if not repos:
        raise InvalidSettings("a GitHub integration needs at least one repository (owner/name)")
    for repo in repos:
        if not isinstance(repo, str) or not REPO.match(repo):
            raise InvalidSettings(f"{repo!r} is not a repository; write it as owner/name, e.g. octocat/hello-world")
    if not credentials.get("token"):
        raise InvalidSettings("a GitHub integration needs a token")
    check_credential_text(credentials)
    check_bot_patterns(settings.get("bot_patterns"))


def check_bot_patterns(patterns) -> None:
    """Regular expressions in RE2's syntax (Python's without backreferences and lookaround), few
    and short: they run on every author of every pull request, on shared workers."""
    if patterns is None:
        return
    if not isinstance(patterns, list):
        raise InvalidSettings("bot patterns must be a list of regular expressions, e.g. [\"\\\\[bot\\\\]$\"]")
    if len(patterns) > MAX_BOT_PATTERNS:
        raise InvalidSettings(f"{len(patterns)} bot patterns; at most {MAX_BOT_PATTERNS}")
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str):
            raise InvalidSettings(f"bot pattern {i + 1} is not a regular expression (a string)")
        if len(pattern) > MAX_BOT_PATTERN_LENGTH:
            raise InvalidSettings(f"bot pattern {i + 1} is {len(pattern)} characters long; at most "
                                  f"{MAX_BOT_PATTERN_LENGTH}")
        try:
            compile_bot_pattern(pattern)
        except InvalidBotPattern as exc:
            raise InvalidSettings(f"bot pattern {pattern!r} is not a regular expression RE2 accepts: {exc} "
                                  "(RE2 has no backreferences or lookaround)") from None


def check_connection(client: GitHubClient) -> dict:
    """Ask GitHub whether this integration can work: whose the token is (`/user`), then each
    configured repository. Never raises for what GitHub answers. Returns {"ok": True,
    "account": <login>, "checked": [...]} or {"ok": False, "error": <GitHub's message and what to
    fix>, "problem": credentials | url | repository | unavailable}."""
    http, base = client.http, client.http.base_url
    try:
        me = http.request("GET", "/user").body
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
    for repo in client.settings.get("repos") or []:
        try:
            http.request("GET", f"/repos/{repo}")
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
    return passed(me.get("login") or "unknown", checked)


def _dig(value, *path):
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def identity_problem(entity_type: str, external_id: str, payload: dict) -> tuple[tuple, str] | None:
    """The transform derives the final row's id from the payload: an external_id that disagrees
    with it would make two rows of one object. Payloads in GraphQL's shape (with `__typename`) or
    REST's, as the transform reads both."""
    graphql = "__typename" in payload
    if entity_type == REVIEW:
        key = "databaseId" if graphql else "id"
        if payload.get(key) in (None, ""):
            return ("payload", key), f"a {entity_type} payload needs its `{key}`"
        if str(payload[key]) != external_id:
            return ("external_id",), f"external_id {external_id!r} is not the payload's {key} {str(payload[key])!r}"
    elif entity_type == PULL:
        repo = _dig(payload, "repository", "nameWithOwner") if graphql else _dig(payload, "base", "repo", "full_name")
        number = payload.get("number")
        if not repo or not isinstance(number, int):
            where = "`repository.nameWithOwner`" if graphql else "`base.repo.full_name`"
            return ("payload",), f"a github_pull_request payload needs `number` and {where}"
        if pull_id(repo, number) != external_id:
            return ("external_id",), f"external_id {external_id!r} is not {pull_id(repo, number)!r} (owner/name#number)"
    elif entity_type == COMMIT:
        pr, _, sha = external_id.rpartition(":")
        if not PULL_ID.match(pr) or not sha:
            return ("external_id",), f"external_id {external_id!r} is not owner/name#number:sha"
        given = _dig(payload, "commit", "oid") if graphql else payload.get("sha")
        if given not in (None, sha):
            return ("external_id",), f"external_id ends in {sha!r} but the payload's sha is {given!r}"
    return None
