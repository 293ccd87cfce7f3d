"""Tenants and their API keys. Keys are shown once at creation and stored as SHA-256 hashes."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.mappings import seed_default_mappings
from etl.models import ApiKey, Tenant

KEY_PREFIX = "pk_"
JWT_ALGORITHM = "HS256"
JWT_TENANT_CLAIM = "tenant_id"


class TenantExists(Exception):
    pass


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    tenant_id: uuid.UUID
    secret: str  # only ever returned here


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(session: Session, tenant_id: uuid.UUID, name: str = "default", is_admin: bool = False) -> IssuedKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(tenant_id=tenant_id, name=name, prefix=secret[:10], key_hash=hash_api_key(secret), is_admin=is_admin)
    session.add(key)
    session.flush()
    return IssuedKey(key.id, tenant_id, secret)


def create_tenant(session: Session, name: str) -> tuple[Tenant, IssuedKey]:
    """A tenant with the default mappings and a first API key."""
    name = name.strip()
    if not name:
        raise ValueError("tenant name must not be empty")
    if session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
        raise TenantExists(f"a tenant named {name!r} already exists")
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    seed_default_mappings(session, tenant.id)
    return tenant, issue_api_key(session, tenant.id)


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.name == name))


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The active key matching this secret, or None."""
    if not secret or not secret.startswith(KEY_PREFIX):
        return None
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_api_key(secret), ApiKey.revoked_at.is_(None))
    )


class InvalidJwt(Exception):
    """A JWT that cannot be accepted; the message says why."""


def looks_like_jwt(token: str) -> bool:
    return not token.startswith(KEY_PREFIX) and token.count(".") == 2


def authenticate_jwt(session: Session, token: str) -> uuid.UUID:
    """The tenant selected by the `tenant_id` claim of an HS256 JWT signed with ETL_JWT_SECRET.
    `exp` and `nbf` are checked when present. Raises InvalidJwt naming the problem."""
    secret = get_settings().jwt_secret
    if secret is None:
        raise InvalidJwt("JWT authentication is disabled on this server (ETL_JWT_SECRET is not set); "
                         "send an API key instead")
    try:
        claims = jwt.decode(token, secret.get_secret_value(), algorithms=[JWT_ALGORITHM],
                            options={"require": [JWT_TENANT_CLAIM]})
    except jwt.ExpiredSignatureError:
        raise InvalidJwt("JWT expired (its exp claim is in the past): get a new token") from None
    except jwt.InvalidSignatureError:
        raise InvalidJwt("JWT signature is invalid: the token was not signed with this server's ETL_JWT_SECRET") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidJwt(f"JWT has no {exc.claim} claim: it must name the tenant by id") from None
    except jwt.ImmatureSignatureError:
        raise InvalidJwt("JWT is not valid yet (its nbf or iat claim is in the future)") from None
    except jwt.InvalidAlgorithmError:
        raise InvalidJwt(f"JWT must be signed with {JWT_ALGORITHM}") from None
    except jwt.DecodeError as exc:
        raise InvalidJwt(f"JWT is malformed: {exc}") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidJwt(f"invalid JWT: {exc}") from None
    try:
        tenant_id = uuid.UUID(str(claims[JWT_TENANT_CLAIM]))
    except ValueError:
        raise InvalidJwt(f"JWT {JWT_TENANT_CLAIM} claim is not a tenant id (a UUID)") from None
    if session.get(Tenant, tenant_id) is None:
        raise InvalidJwt(f"JWT {JWT_TENANT_CLAIM} claim names no tenant of this server: {tenant_id}")
    return tenant_id


def tenant_api_keys(session: Session, tenant_id: uuid.UUID) -> list[ApiKey]:
    """A tenant's keys, revoked ones included, oldest first."""
    return list(session.scalars(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
    ))


def revoke_api_key(session: Session, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """Revoke one of the tenant's keys (again is harmless); None if the tenant has no such key."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id))
    if key is None:
        return None
    key.revoked_at = key.revoked_at or datetime.now(timezone.utc)
    session.flush()
    return key
