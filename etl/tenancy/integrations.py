"""Creating integrations and reading their (decrypted) credentials. Validation lives here so the
API and the CLI give the same messages."""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlparse

import orjson
import requests
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.crypto import CredentialsError, decrypt_credentials, encrypt_credentials, rotate_credentials
from etl.errors import Conflict, Invalid
from etl.models import Integration
from etl.sources import outbound
from etl.sources.github.transform import (
    MAX_BOT_PATTERN_LENGTH,
    MAX_BOT_PATTERNS,
    InvalidBotPattern,
    compile_bot_pattern,
)
from etl.sources.http import FatalError
from etl.sources.registry import PROVIDERS, get_source

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")
CUSTOM_FIELD = re.compile(r"^customfield_\d+$")


class InvalidIntegration(Invalid, ValueError):
    pass


class TooManyIntegrations(Conflict, InvalidIntegration):
    """The tenant already has ETL_MAX_INTEGRATIONS_PER_TENANT integrations: a Conflict (HTTP 409; first in
    the bases, so it wins over Invalid), still an InvalidIntegration for the callers that catch that."""


def _check_settings_size(settings: dict) -> None:
    """PATCH merges settings into the stored ones, so the request body limit alone does not bound them."""
    limit = get_settings().max_settings_bytes
    try:
        size = len(orjson.dumps(settings))
    except orjson.JSONEncodeError:  # nested deeper than JSON encoders go
        raise InvalidIntegration("settings are nested too deeply; keep them to the documented keys") from None
    if size > limit:
        raise InvalidIntegration(f"settings take {size} bytes as JSON, more than {limit} (ETL_MAX_SETTINGS_BYTES); "
                                 "remove the keys the integration does not need")


def _check_count(what: str, items: list, limit: int, setting: str) -> None:
    if len(items) > limit:
        raise InvalidIntegration(f"{len(items)} {what} in one integration, more than {limit} ({setting}); "
                                 "split them over several integrations")


def validate_jira(base_url: str, credentials: dict, settings: dict) -> None:
    _check_settings_size(settings)
    _check_count("Jira project keys", settings.get("projects") or [], get_settings().max_projects_per_integration,
                 "ETL_MAX_PROJECTS_PER_INTEGRATION")
    if not settings.get("projects") and not settings.get("jql"):
        raise InvalidIntegration("a Jira integration needs at least one project key (or a JQL filter)")
    for key in settings.get("projects", []):
        if not PROJECT_KEY.match(key):
            raise InvalidIntegration(f"{key!r} is not a Jira project key (upper-case letters and digits, e.g. ABC)")
    field = settings.get("story_points_field")
    if field and not CUSTOM_FIELD.match(field):
        raise InvalidIntegration(f"story points field {field!r} must look like customfield_10016")
    if not credentials.get("token"):
        raise InvalidIntegration("a Jira integration needs a token (API token with an email, or a personal access token)")
    _check_credential_text(credentials)
    if settings.get("flavor", "cloud") not in ("cloud", "dc"):
        raise InvalidIntegration("Jira flavor must be 'cloud' or 'dc' (Data Center/Server)")


def _check_credential_text(credentials: dict) -> None:
    """Whitespace or control characters in a token are a paste accident (and no HTTP header can carry
    a line break), and so is a character outside Latin-1 such as €: headers, Basic auth included,
    are sent as Latin-1, so the request could never be made. The message names the field, never
    the value."""
    for field in ("email", "token"):
        value = credentials.get(field)
        if not isinstance(value, str):
            continue
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            raise InvalidIntegration(f"the credentials' {field} contains spaces, tabs or line breaks; "
                                     "paste it without them")
        if not _fits_http_header(value):
            raise InvalidIntegration(f"the credentials' {field} contains a character that cannot be sent in an "
                                     "HTTP header (such as € or a non-Latin letter); paste it exactly as the "
                                     "source issued it")


def _fits_http_header(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def validate_github(base_url: str, credentials: dict, settings: dict) -> None:
    _check_settings_size(settings)
    repos = settings.get("repos") or []
    _check_count("repositories", repos, get_settings().max_repos_per_integration, "ETL_MAX_REPOS_PER_INTEGRATION")
    if not repos:
        raise InvalidIntegration("a GitHub integration needs at least one repository (owner/name)")
    for repo in repos:
        if not isinstance(repo, str) or not REPO.match(repo):
            raise InvalidIntegration(f"{repo!r} is not a repository; write it as owner/name, e.g. octocat/hello-world")
    if not credentials.get("token"):
        raise InvalidIntegration("a GitHub integration needs a token")
    _check_credential_text(credentials)
    _check_bot_patterns(settings.get("bot_patterns"))


def _check_bot_patterns(patterns) -> None:
    """Regular expressions in RE2's syntax (Python's without backreferences and lookaround), few
    and short: they run on every author of every pull request, on shared workers."""
    if patterns is None:
        return
    if not isinstance(patterns, list):
        raise InvalidIntegration("bot patterns must be a list of regular expressions, e.g. [\"\\\\[bot\\\\]$\"]")
    if len(patterns) > MAX_BOT_PATTERNS:
        raise InvalidIntegration(f"{len(patterns)} bot patterns; at most {MAX_BOT_PATTERNS}")
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str):
            raise InvalidIntegration(f"bot pattern {i + 1} is not a regular expression (a string)")
        if len(pattern) > MAX_BOT_PATTERN_LENGTH:
            raise InvalidIntegration(f"bot pattern {i + 1} is {len(pattern)} characters long; at most "
                                     f"{MAX_BOT_PATTERN_LENGTH}")
        try:
            compile_bot_pattern(pattern)
        except InvalidBotPattern as exc:
            raise InvalidIntegration(f"bot pattern {pattern!r} is not a regular expression RE2 accepts: {exc} "
                                     "(RE2 has no backreferences or lookaround)") from None


def _validate_url(base_url: str) -> str:
    """The base URL without its trailing slash, or InvalidIntegration. Never quoted back: user
    info in it may be a password."""
    problem = outbound.url_part_problem(base_url)
    if problem != "is not a valid URL" and urlparse(base_url).scheme not in ("http", "https"):
        problem = "must start with http:// or https://"
    if problem:
        raise InvalidIntegration(f"the base URL {problem}, e.g. https://yourcompany.atlassian.net")
    return base_url.rstrip("/")


def create_integration(
    session: Session,
    tenant_id: uuid.UUID,
    provider: str,
    name: str,
    base_url: str,
    credentials: dict,
    settings: dict,
) -> Integration:
    if provider not in PROVIDERS:
        raise InvalidIntegration(f"provider must be one of {', '.join(sorted(PROVIDERS))}, not {provider!r}")
    if not name.strip():
        raise InvalidIntegration("integration name must not be empty")
    base_url = _validate_url(base_url)
    if provider == "jira":
        validate_jira(base_url, credentials, settings)
    elif provider == "github":
        validate_github(base_url, credentials, settings)
    _refuse_over_integration_cap(session, tenant_id)
    integration = Integration(
        tenant_id=tenant_id,
        provider=provider,
        name=name.strip(),
        base_url=base_url,
        credentials_encrypted=encrypt_credentials(credentials),
        settings=settings,
    )
    session.add(integration)
    session.flush()
    return integration


def _refuse_over_integration_cap(session: Session, tenant_id: uuid.UUID) -> None:
    """Counted under a per-tenant lock held until the transaction ends, so parallel creates cannot
    all slip under the cap."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"pulse-etl integrations {tenant_id}"})
    limit = get_settings().max_integrations_per_tenant
    count = session.scalar(select(func.count()).select_from(Integration).where(Integration.tenant_id == tenant_id))
    if count >= limit:
        raise TooManyIntegrations(
            f"the tenant has {count} integrations, the most allowed (ETL_MAX_INTEGRATIONS_PER_TENANT = {limit}); "
            "delete one it no longer needs, or ask the operator to raise the limit")


def credentials_of(integration: Integration) -> dict:
    return decrypt_credentials(integration.credentials_encrypted)


def _validate(provider: str, base_url: str, credentials: dict, settings: dict) -> None:
    if provider == "jira":
        validate_jira(base_url, credentials, settings)
    elif provider == "github":
        validate_github(base_url, credentials, settings)


def update_integration(
    session: Session,
    integration: Integration,
    *,
    name: str | None = None,
    base_url: str | None = None,
    settings: dict | None = None,
    credentials: dict | None = None,
) -> list[str]:
    """Change an integration, checked by the same rules and messages as a new one; nothing is
    changed when anything is invalid. `settings` is merged into the stored settings (a key set to
    None is removed); `credentials` replace the stored ones as a whole and are encrypted with the
    first key of ETL_SECRET_KEY. Returns the names of the fields that changed (for logs: never values)."""
    new_name = integration.name if name is None else name.strip()
    if not new_name:
        raise InvalidIntegration("integration name must not be empty")
    new_url = integration.base_url if base_url is None else _validate_url(base_url)
    if credentials is None and outbound.origin(new_url) != outbound.origin(integration.base_url):
        # Otherwise anyone with a write key could send the stored token to a server of theirs.
        raise InvalidIntegration("the new base URL is on another host (or scheme or port): send the credentials for "
                                 "it in the same request; the stored ones are only ever sent to the current host")
    new_settings = dict(integration.settings or {})
    for key, value in (settings or {}).items():
        if value is None:
            new_settings.pop(key, None)
        else:
            new_settings[key] = value
    # Unchanged credentials are checked as stored (CredentialsError if they no longer decrypt).
    _validate(integration.provider, new_url, credentials if credentials is not None else credentials_of(integration),
              new_settings)
    changed = [field for field, old, new in (("name", integration.name, new_name),
                                             ("base_url", integration.base_url, new_url),
                                             ("settings", integration.settings, new_settings)) if old != new]
    integration.name, integration.base_url, integration.settings = new_name, new_url, new_settings
    if credentials is not None:
        integration.credentials_encrypted = encrypt_credentials(credentials)
        changed.append("credentials")
    session.flush()
    return changed


def check_connection(provider: str, base_url: str, credentials: dict, settings: dict) -> dict:
    """Ask the source whether these credentials and settings work, through its client's
    check_connection(): {"ok": True, "account", "checked"} or {"ok": False, "error", "problem"}.
    Works on an integration that is not saved yet (the CLI checks before saving). The whole check
    ends within ETL_CONNECTION_TEST_TIMEOUT."""
    try:
        base_url = _validate_url(base_url)
    except InvalidIntegration as exc:
        return {"ok": False, "problem": "url", "error": str(exc)}
    probe = Integration(provider=provider, base_url=base_url, settings=settings)
    try:
        connector = get_source(provider).connect(probe, credentials)
    except FatalError as exc:  # credentials no request can carry
        return {"ok": False, "problem": "credentials", "error": exc.message}
    connector.client.http.limit_total_time(get_settings().connection_test_timeout)
    try:
        return connector.client.check_connection()
    except requests.RequestException as exc:  # e.g. a URL requests cannot use; its text may quote a header
        return {"ok": False, "problem": "url",
                "error": f"cannot ask {provider} at {probe.base_url}: {exc.__class__.__name__}; check the base URL"}
    finally:
        connector.close()


def rotate_all_credentials(session: Session, tenant_id: uuid.UUID | None = None) -> int:
    """Re-encrypt every integration's credentials (or one tenant's) with the first key of
    ETL_SECRET_KEY. All or nothing: if any cannot be decrypted with the configured keys, nothing
    is changed and CredentialsError names them. Returns how many were re-encrypted."""
    query = select(Integration).order_by(Integration.created_at, Integration.id).with_for_update()
    if tenant_id is not None:
        query = query.where(Integration.tenant_id == tenant_id)
    rows = list(session.scalars(query))
    undecryptable = []
    for row in rows:
        try:
            row.credentials_encrypted = rotate_credentials(row.credentials_encrypted)
        except CredentialsError:
            undecryptable.append(f"{row.id} ({row.name})")
    if undecryptable:
        raise CredentialsError(
            f"{len(undecryptable)} integration(s) cannot be decrypted with any key in ETL_SECRET_KEY: "
            f"{', '.join(undecryptable)}. Nothing was re-encrypted: add the key they were encrypted with to "
            "ETL_SECRET_KEY (or delete those integrations), then run rotate-key again."
        )
    session.flush()
    return len(rows)
