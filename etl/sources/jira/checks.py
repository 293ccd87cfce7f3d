"""Jira's checks: the settings an integration needs (before anything is saved), the connection test
(asked of Jira), and the identity of raw issues pushed over the API."""
from __future__ import annotations

import re

from etl.config import get_settings
from etl.sources.checks import InvalidSettings, check_count, check_credential_text, failed, passed
from etl.sources.http import FatalError, OutboundRefused, SourceError
from etl.sources.jira.client import JiraClient, build_jql
from etl.sources.jira.streams import ISSUE

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")
CUSTOM_FIELD = re.compile(r"^customfield_\d+$")


def validate_settings(credentials: dict, settings: dict) -> None:
    check_count("Jira project keys", settings.get("projects") or [], get_settings().max_projects_per_integration,
                "ETL_MAX_PROJECTS_PER_INTEGRATION")
    if not settings.get("projects") and not settings.get("jql"):
        raise InvalidSettings("a Jira integration needs at least one project key (or a JQL filter)")
    for key in settings.get("projects", []):
        if not PROJECT_KEY.match(key):
            raise InvalidSettings(f"{key!r} is not a Jira project key (upper-case letters and digits, e.g. ABC)")
    field = settings.get("story_points_field")
    if field and not CUSTOM_FIELD.match(field):
        raise InvalidSettings(f"story points field {field!r} must look like customfield_10016")
    if not credentials.get("token"):
        raise InvalidSettings("a Jira integration needs a token (API token with an email, or a personal access token)")
    check_credential_text(credentials)
    if settings.get("flavor", "cloud") not in ("cloud", "dc"):
        raise InvalidSettings("Jira flavor must be 'cloud' or 'dc' (Data Center/Server)")


def check_connection(client: JiraClient) -> dict:
    """Ask Jira whether this integration can work: whose the credentials are (`/myself`), then
    each configured project, then the JQL filter if there is one. Never raises for what Jira
    answers. Returns {"ok": True, "account": ..., "checked": [...]} or {"ok": False, "error":
    <Jira's message and what to fix>, "problem": credentials | url | project | jql | unavailable}.
    The account is named by display name and account id (Cloud) or user name (Data Center),
    never by the email the credentials carry."""
    http, api, base = client.http, client.api, client.http.base_url
    try:
        me = http.request("GET", f"{api}/myself").body
        me = me if isinstance(me, dict) else {}
    except OutboundRefused as exc:
        return failed("url", exc.message)
    except FatalError as exc:
        if exc.status in (401, 403):
            what = "the email and API token" if client.cloud else "the personal access token"
            return failed("credentials", f"Jira at {base} rejected the credentials ({exc.message}); check {what}")
        if exc.status == 404:
            hint = ("if it is Jira Data Center/Server, use flavor dc with a personal access token" if client.cloud
                    else "if it is Jira Cloud, use flavor cloud with an email and API token")
            return failed("url", f"{base} does not answer {api}/myself (404): check the base URL; {hint}")
        return failed("url", f"Jira at {base} refused the check: {exc.message}")
    except SourceError as exc:
        return failed("unavailable", f"cannot check Jira at {base}: {exc.message}; check the base URL, "
                                     "or try again if Jira is down")
    checked = []
    for key in client.settings.get("projects") or []:
        try:
            http.request("GET", f"{api}/project/{key}")
        except FatalError as exc:
            if exc.status == 404:
                return failed("project", f"project {key} not found at {base} (or these credentials cannot see "
                                         f"it): {exc.message}; check the project keys")
            return failed("project", f"Jira refused project {key}: {exc.message}")
        except SourceError as exc:
            return failed("unavailable", f"cannot check project {key} at {base}: {exc.message}; try again later")
        checked.append(f"project {key}")
    if client.settings.get("jql"):
        try:
            client.search({"jql": build_jql(client.settings, None), "fields": "id", "maxResults": 1})
        except FatalError as exc:
            return failed("jql", f"Jira refused the JQL filter: {exc.message}; fix the jql setting")
        except SourceError as exc:
            return failed("unavailable", f"cannot check the JQL filter at {base}: {exc.message}; try again later")
        checked.append("jql filter")
    who = me.get("displayName")
    ident = me.get("accountId") if client.cloud else (me.get("name") or me.get("key"))
    account = f"{who} ({ident})" if who and ident else (who or ident or "unknown")
    return passed(account, checked)


def identity_problem(entity_type: str, external_id: str, payload: dict) -> tuple[tuple, str] | None:
    """The transform derives the work item's id from the payload: an external_id that disagrees
    with it would make two rows of one issue."""
    if entity_type != ISSUE:
        return None
    if payload.get("id") in (None, ""):
        return ("payload", "id"), f"a {entity_type} payload needs its `id`"
    if str(payload["id"]) != external_id:
        return ("external_id",), f"external_id {external_id!r} is not the payload's id {str(payload['id'])!r}"
    if not isinstance(payload.get("key"), str) or not payload["key"]:
        return ("payload", "key"), "a jira_issue payload needs its `key` (e.g. ABC-42)"
    if not isinstance(payload.get("fields"), dict):
        return ("payload", "fields"), "a jira_issue payload needs its `fields` object"
    return None
