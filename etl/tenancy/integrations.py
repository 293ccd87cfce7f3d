"""Creating integrations and reading their (decrypted) credentials. Validation is asked of the
source (its checks.py) through here, so the API and the CLI give the same messages."""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone
from urllib.parse import urlparse

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.crypto import Unreadable, decrypt_credentials, encrypt_credentials, rotate_stored
from etl.errors import Conflict, Invalid
from etl.models import Integration, IntegrationLogo
from etl.sources import outbound
from etl.sources.checks import InvalidSettings
from etl.sources.registry import PROVIDERS, get_source


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


def validate_settings(provider: str, credentials: dict, settings: dict) -> None:
    """The settings and credentials an integration of `provider` needs, checked by its source;
    InvalidIntegration with the source's words."""
    _check_settings_size(settings)
    try:
        get_source(provider).validate_settings(credentials, settings)
    except InvalidSettings as exc:
        raise InvalidIntegration(str(exc)) from None


def _validate_url(base_url: str) -> str:
    """The base URL without its trailing slash, or InvalidIntegration. Never quoted back: user
    info in it may be a password."""
    problem = outbound.url_part_problem(base_url)
    if problem != "is not a valid URL" and urlparse(base_url).scheme not in ("http", "https"):
        problem = "must start with http:// or https://"
    if problem:
        raise InvalidIntegration(f"the base URL {problem}, e.g. https://yourcompany.atlassian.net")
    return base_url.rstrip("/")


def validate_new_integration(provider: str, name: str | None, base_url: str, credentials: dict,
                             settings: dict) -> str:
    """What a new integration must pass, with the messages create gives (InvalidIntegration);
    returns the base URL as it would be stored. `name` None: not checked (a connection test
    before the form is named)."""
    if provider not in PROVIDERS:
        raise InvalidIntegration(f"provider must be one of {', '.join(sorted(PROVIDERS))}, not {provider!r}")
    if name is not None and not name.strip():
        raise InvalidIntegration("integration name must not be empty")
    base_url = _validate_url(base_url)
    validate_settings(provider, credentials, settings)
    return base_url


def create_integration(
    session: Session,
    tenant_id: uuid.UUID,
    provider: str,
    name: str,
    base_url: str,
    credentials: dict,
    settings: dict,
) -> Integration:
    base_url = validate_new_integration(provider, name, base_url, credentials, settings)
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
    new_url, _, new_settings = _changed_connection(integration, base_url, settings, credentials,
                                                    "send the credentials for it in the same request")
    changed = [field for field, old, new in (("name", integration.name, new_name),
                                             ("base_url", integration.base_url, new_url),
                                             ("settings", integration.settings, new_settings)) if old != new]
    integration.name, integration.base_url, integration.settings = new_name, new_url, new_settings
    if credentials is not None:
        integration.credentials_encrypted = encrypt_credentials(credentials)
        changed.append("credentials")
    session.flush()
    return changed


def _changed_connection(integration: Integration, base_url: str | None, settings: dict | None,
                        credentials: dict | None, ask: str) -> tuple[str, dict, dict]:
    """(base URL, credentials, settings) with the changes applied and checked: settings merged into
    the stored ones (a key set to None is removed), credentials replacing the stored ones whole.
    A new host without new credentials is refused (`ask` says how to send them): otherwise anyone
    with a write key could send the stored token to a server of theirs."""
    new_url = integration.base_url if base_url is None else _validate_url(base_url)
    if credentials is None and outbound.origin(new_url) != outbound.origin(integration.base_url):
        raise InvalidIntegration(f"the new base URL is on another host (or scheme or port): {ask}; the stored "
                                 "credentials are only ever sent to the current host")
    new_settings = dict(integration.settings or {})
    for key, value in (settings or {}).items():
        if value is None:
            new_settings.pop(key, None)
        else:
            new_settings[key] = value
    # Unchanged credentials are checked as stored (CredentialsError if they no longer decrypt).
    creds = credentials if credentials is not None else credentials_of(integration)
    validate_settings(integration.provider, creds, new_settings)
    return new_url, creds, new_settings


def merged_for_test(integration: Integration, *, base_url: str | None = None, settings: dict | None = None,
                    credentials: dict | None = None) -> tuple[str, str, dict, dict]:
    """(provider, base URL, credentials, settings) of the integration with these changes applied
    as update_integration would apply them, checked by the same rules and messages, and nothing
    saved: what the edit form tests before it saves. A new host without new credentials is refused,
    as PATCH refuses it: the stored token is only ever sent to the current host."""
    new_url, creds, new_settings = _changed_connection(integration, base_url, settings, credentials,
                                                        "send the credentials for it to test it")
    return integration.provider, new_url, creds, new_settings


def check_connection(provider: str, base_url: str, credentials: dict, settings: dict) -> dict:
    """Ask the source whether these credentials and settings work (its checks.py check_connection):
    {"ok": True, "account", "checked"} or {"ok": False, "error", "problem"}. Works on an integration
    that is not saved yet (the CLI checks before saving). The whole check ends within
    ETL_CONNECTION_TEST_TIMEOUT."""
    try:
        base_url = _validate_url(base_url)
    except InvalidIntegration as exc:
        return {"ok": False, "problem": "url", "error": str(exc)}
    probe = Integration(provider=provider, base_url=base_url, settings=settings)
    return get_source(provider).check_connection(probe, credentials, get_settings().connection_test_timeout)


CREDENTIALS = "integration credentials"  # the kind of value rotate-key counts and reports


def rotate_all_credentials(session: Session, tenant_id: uuid.UUID | None = None) -> tuple[int, list[Unreadable]]:
    """Re-encrypt every integration's credentials (or one tenant's) with the first key of
    ETL_SECRET_KEY, in the caller's transaction. Credentials no configured key decrypts are left as
    they are and returned (by integration id and name); the others are re-encrypted all the same.
    Returns (how many were re-encrypted, those left)."""
    query = select(Integration).order_by(Integration.created_at, Integration.id).with_for_update()
    if tenant_id is not None:
        query = query.where(Integration.tenant_id == tenant_id)
    rotated, unreadable = rotate_stored(session.scalars(query), {"credentials_encrypted": CREDENTIALS})
    session.flush()
    return rotated[CREDENTIALS], unreadable


# --- logos ---------------------------------------------------------------------------------------

# The types a logo may be, told by its first bytes (never by what the client declares).
LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP"}


def sniff_logo_type(data: bytes) -> str | None:
    """image/png, image/jpeg or image/webp from the file's signature; None for anything else
    (SVG, HTML, GIF...)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class UnsupportedLogo(Invalid, ValueError):
    """The bytes are not a PNG, JPEG or WebP image."""


def logo_of(session: Session, integration_id: uuid.UUID, tenant_id: uuid.UUID) -> IntegrationLogo | None:
    return session.scalar(select(IntegrationLogo).where(IntegrationLogo.integration_id == integration_id,
                                                        IntegrationLogo.tenant_id == tenant_id))


def logo_times(session: Session, tenant_id: uuid.UUID, ids: list[uuid.UUID] | None = None) -> dict[uuid.UUID, datetime]:
    """integration id -> when its logo last changed, for the tenant's integrations that have one."""
    query = select(IntegrationLogo.integration_id, IntegrationLogo.updated_at).where(
        IntegrationLogo.tenant_id == tenant_id)
    if ids is not None:
        query = query.where(IntegrationLogo.integration_id.in_(ids))
    return {integration_id: updated_at for integration_id, updated_at in session.execute(query)}


def set_logo(session: Session, integration: Integration, data: bytes) -> IntegrationLogo:
    """Store (or replace) the integration's logo; UnsupportedLogo when its bytes are not an image
    of LOGO_TYPES."""
    content_type = sniff_logo_type(data)
    if content_type is None:
        raise UnsupportedLogo(f"a logo must be a {', '.join(LOGO_TYPES.values())} image "
                              f"({', '.join(LOGO_TYPES)}); these bytes are none of them")
    row = logo_of(session, integration.id, integration.tenant_id)
    if row is None:
        row = IntegrationLogo(integration_id=integration.id, tenant_id=integration.tenant_id)
        session.add(row)
    row.content_type, row.data, row.sha256 = content_type, data, hashlib.sha256(data).hexdigest()
    row.updated_at = datetime.now(timezone.utc)
    session.flush()
    return row


def delete_logo(session: Session, integration: Integration) -> bool:
    row = logo_of(session, integration.id, integration.tenant_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
