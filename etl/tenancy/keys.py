"""API keys (issued, hashed, scoped, revoked) and the optional JWTs: who is calling, for which
tenant, with which scopes."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import jwt
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.db import scope_to_tenant
from etl.errors import Forbidden, Unauthenticated
from etl.models import ApiKey, Tenant

KEY_PREFIX = "pk_"


JWT_ALGORITHM = "HS256"


JWT_TENANT_CLAIM = "tenant_id"


JWT_SCOPE_CLAIM = "scope"  # OAuth style: space-separated


# What a key (or JWT) may do. `read`: the GET routes; `write`: everything else too. Stored as
# ["read"] or ["read", "write"]: write implies read, so one membership test decides every request.
SCOPE_READ = "read"


SCOPE_WRITE = "write"


READ_WRITE = (SCOPE_READ, SCOPE_WRITE)


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    tenant_id: uuid.UUID
    secret: str  # only ever returned here


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """["read"] or ["read", "write"] (write implies read). ValueError for anything else."""
    given = set(scopes)
    unknown = sorted(given - set(READ_WRITE))
    if unknown:
        raise ValueError(f"unknown API key scope {', '.join(map(repr, unknown))}: the scopes are "
                         f"{SCOPE_READ!r} (read only) and {SCOPE_WRITE!r} (read and change)")
    if not given:
        raise ValueError(f"an API key needs a scope: {SCOPE_READ!r} (read only) or {SCOPE_WRITE!r} (read and change)")
    return list(READ_WRITE) if SCOPE_WRITE in given else [SCOPE_READ]


def issue_api_key(session: Session, tenant_id: uuid.UUID, name: str = "default", is_admin: bool = False,
                  scopes: Iterable[str] = READ_WRITE) -> IssuedKey:
    scopes = normalise_scopes(scopes)
    if is_admin and SCOPE_WRITE not in scopes:
        # An admin key exists to create tenants; a read-only one would be refused every time.
        raise ValueError("an admin key needs the write scope: it exists to manage tenants")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(tenant_id=tenant_id, name=name, prefix=secret[:10], key_hash=hash_api_key(secret), is_admin=is_admin,
                 scopes=scopes)
    session.add(key)
    session.flush()
    return IssuedKey(key.id, tenant_id, secret)


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The active key matching this secret, or None. Runs before the tenant is known, so through
    the SECURITY DEFINER function api_key_by_hash (migration 0010): it returns that one key and
    nothing else, and the caller's session needs no all-tenants scope."""
    if not secret or not secret.startswith(KEY_PREFIX):
        return None
    return session.scalar(
        select(ApiKey).from_statement(text("SELECT * FROM api_key_by_hash(:hash)")),
        {"hash": hash_api_key(secret)},
    )


class InvalidJwt(Unauthenticated):
    """A JWT that cannot be accepted; the message says why."""


def looks_like_jwt(token: str) -> bool:
    return not token.startswith(KEY_PREFIX) and token.count(".") == 2


def authenticate_jwt(session: Session, token: str) -> tuple[uuid.UUID, list[str]]:
    """The tenant selected by the `tenant_id` claim of an HS256 JWT signed with ETL_JWT_SECRET, and
    the scopes its optional `scope` claim grants (read and write without one). `exp` is required
    and may lie at most ETL_JWT_MAX_LIFETIME_SECONDS after `iat` (or after now, without `iat`):
    a token without one would work forever once leaked. `iss` and `aud` must match ETL_JWT_ISSUER
    and ETL_JWT_AUDIENCE when those are set; `nbf` is checked when present. Raises InvalidJwt
    naming the problem."""
    settings = get_settings()
    if settings.jwt_secret is None:
        raise InvalidJwt("JWT authentication is disabled on this server (ETL_JWT_SECRET is not set); "
                         "send an API key instead")
    claims = _decode_jwt(token, settings)
    _check_jwt_lifetime(claims, settings.jwt_max_lifetime_seconds)
    try:
        tenant_id = uuid.UUID(str(claims[JWT_TENANT_CLAIM]))
    except ValueError:
        raise InvalidJwt(f"JWT {JWT_TENANT_CLAIM} claim is not a tenant id (a UUID)") from None
    scope_to_tenant(session, tenant_id)  # row-level security shows a tenant its own row only
    if session.get(Tenant, tenant_id) is None:
        raise InvalidJwt(f"JWT {JWT_TENANT_CLAIM} claim names no tenant of this server: {tenant_id}")
    return tenant_id, _jwt_scopes(claims)


def _decode_jwt(token: str, settings) -> dict:
    required = [JWT_TENANT_CLAIM, "exp"] + [c for c, v in (("iss", settings.jwt_issuer),
                                                             ("aud", settings.jwt_audience)) if v]
    try:
        return jwt.decode(token, settings.jwt_secret.get_secret_value(), algorithms=[JWT_ALGORITHM],
                          issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                          options={"require": required})
    except jwt.ExpiredSignatureError:
        raise InvalidJwt("JWT expired (its exp claim is in the past): get a new token") from None
    except jwt.InvalidSignatureError:
        raise InvalidJwt("JWT signature is invalid: the token was not signed with this server's ETL_JWT_SECRET") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidJwt(f"JWT has no {exc.claim} claim: {_REQUIRED_CLAIM_HINT.get(exc.claim, 'it is required')}") from None
    except jwt.ImmatureSignatureError:
        raise InvalidJwt("JWT is not valid yet (its nbf or iat claim is in the future)") from None
    except jwt.InvalidAlgorithmError:
        raise InvalidJwt(f"JWT must be signed with {JWT_ALGORITHM}") from None
    except jwt.InvalidIssuerError:
        raise InvalidJwt(f"JWT iss claim is not this server's issuer ({settings.jwt_issuer})") from None
    except jwt.InvalidAudienceError:
        expected = settings.jwt_audience or "none: this server sets no ETL_JWT_AUDIENCE"
        raise InvalidJwt(f"JWT aud claim is not this server's audience ({expected})") from None
    except jwt.DecodeError as exc:
        raise InvalidJwt(f"JWT is malformed: {exc}") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidJwt(f"invalid JWT: {exc}") from None


_REQUIRED_CLAIM_HINT = {
    JWT_TENANT_CLAIM: "it must name the tenant by id",
    "exp": "every token must expire (set exp, at most ETL_JWT_MAX_LIFETIME_SECONDS ahead)",
    "iss": "this server requires its issuer (ETL_JWT_ISSUER)",
    "aud": "this server requires its audience (ETL_JWT_AUDIENCE)",
}


def _check_jwt_lifetime(claims: dict, max_lifetime: int) -> None:
    issued = claims.get("iat")
    start = issued if isinstance(issued, (int, float)) and not isinstance(issued, bool) else datetime.now(timezone.utc).timestamp()
    lifetime = claims["exp"] - start
    if lifetime > max_lifetime:
        raise InvalidJwt(f"JWT lives {int(lifetime)}s (exp - {'iat' if start == issued else 'now'}), longer than this "
                         f"server allows ({max_lifetime}s, ETL_JWT_MAX_LIFETIME_SECONDS): mint a shorter-lived token")


def _jwt_scopes(claims: dict) -> list[str]:
    """The `scope` claim, OAuth style ("read write"). Scopes of other services in the same token
    are ignored; a claim that grants neither of ours is refused rather than read as full access."""
    if JWT_SCOPE_CLAIM not in claims:
        return list(READ_WRITE)  # tokens minted before scopes existed keep working as they did
    claim = claims[JWT_SCOPE_CLAIM]
    if not isinstance(claim, str):
        raise InvalidJwt(f"JWT {JWT_SCOPE_CLAIM} claim must be a space-separated string, e.g. \"read\" or \"read write\"")
    ours = set(claim.split()) & set(READ_WRITE)
    if not ours:
        raise InvalidJwt(f"JWT {JWT_SCOPE_CLAIM} claim {claim!r} grants neither {SCOPE_READ!r} nor {SCOPE_WRITE!r}: "
                         "include read (read only) or write (read and change), or leave the claim out for both")
    return normalise_scopes(ours)


def tenant_api_keys(session: Session, tenant_id: uuid.UUID) -> list[ApiKey]:
    """A tenant's keys, revoked ones included, oldest first."""
    return list(session.scalars(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
    ))


class AdminKeyProtected(Forbidden):
    """A key that is not an admin key tried to revoke one."""


def revoke_api_key(session: Session, tenant_id: uuid.UUID, key_id: uuid.UUID, *, by_admin: bool) -> ApiKey | None:
    """Revoke one of the tenant's keys (again is harmless); None if the tenant has no such key.
    Only an admin key revokes an admin key: otherwise a leaked tenant key could lock the operator
    out of tenant management."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id))
    if key is None:
        return None
    if key.is_admin and not by_admin:
        raise AdminKeyProtected(f"API key {key_id} is an admin key: only an admin key can revoke it")
    key.revoked_at = key.revoked_at or datetime.now(timezone.utc)
    session.flush()
    return key
