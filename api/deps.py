"""Dependencies shared by the routers: a database session per request, the caller's tenant from
its API key (or a JWT, when ETL_JWT_SECRET is set), admin-only routes, and keyset pagination."""
from __future__ import annotations

import base64
import binascii
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Iterator

import orjson
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator
from sqlalchemy import Select, and_, or_
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from api import limits
from api.request_log import note_tenant
from etl.db import get_read_sessionmaker, get_sessionmaker, has_read_replica, scope_to_tenant
from etl.tenancy.keys import READ_WRITE, SCOPE_WRITE, InvalidJwt, authenticate, authenticate_jwt, looks_like_jwt

log = logging.getLogger(__name__)


def get_session() -> Iterator[Session]:
    """One session per request. Routes that write commit it themselves; anything left open is
    rolled back when the session closes. It sees no tenant's rows until the caller is known
    (current_principal scopes it to the caller's tenant; row-level security, etl.db)."""
    with get_sessionmaker()() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description=(
    "The tenant's API key, `Authorization: Bearer pk_...`, or (when the server sets ETL_JWT_SECRET) an "
    "HS256 JWT whose `tenant_id` claim names the tenant."))


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant, through one of its API keys (admin or not) or a JWT, and what
    it may do: ("read",) or ("read", "write")."""

    tenant_id: uuid.UUID
    is_admin: bool = False
    api_key_id: uuid.UUID | None = None  # None for a JWT
    scopes: tuple[str, ...] = READ_WRITE

    @property
    def can_write(self) -> bool:
        return SCOPE_WRITE in self.scopes


# Methods that change nothing. Everything else needs the write scope.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_principal(
    request: Request, session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, refused here (once for every route) when it asks to change something with a
    read-only key or token, or when it is over its rate limits (api.limits). From here on the
    request's session is scoped to the caller's tenant."""
    limits.refuse_blocked_address(request)
    try:
        principal = _authenticate(session, credentials)
    except HTTPException:
        if credentials is not None:  # a missing key guesses nothing; a wrong one may be a guess
            limits.count_failed_authentication(request)
        raise
    scope_to_tenant(session, principal.tenant_id)
    note_tenant(principal.tenant_id)
    limits.count_request(principal)
    if request.method not in READ_METHODS and not principal.can_write:
        raise _read_only(request, principal)
    return principal


def _authenticate(session: Session, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None:
        raise _unauthorized("missing API key: send Authorization: Bearer <key>")
    token = credentials.credentials
    if looks_like_jwt(token):
        try:
            tenant_id, scopes = authenticate_jwt(session, token)
        except InvalidJwt as exc:
            raise _unauthorized(str(exc)) from None
        return Principal(tenant_id, scopes=tuple(scopes))
    key = authenticate(session, token)
    if key is None:
        raise _unauthorized("invalid or revoked API key")
    return Principal(key.tenant_id, key.is_admin, key.id, tuple(key.scopes))


def _read_only(request: Request, principal: Principal) -> HTTPException:
    """403, not 401: the caller is known, its key's scope is what falls short. Says how to get one
    that can write."""
    route = f"{request.method} {request.url.path}"
    if principal.api_key_id is None:
        return HTTPException(status.HTTP_403_FORBIDDEN, (
            f"this JWT is read-only (scope read): {route} needs a token whose scope claim includes write "
            "(or has no scope claim), or an API key with the write scope"))
    return HTTPException(status.HTTP_403_FORBIDDEN, (
        f"this API key is read-only (scope read): {route} needs a key with the write scope; create one "
        "with `etl keys create --tenant NAME` or POST /api/v1/api-keys with a write key"))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_tenant(principal: PrincipalDep) -> uuid.UUID:
    """The tenant of the API key (or JWT) in the Authorization header. Every query filters on it,
    and the request's session is scoped to it in PostgreSQL too (row-level security, by
    current_principal): a query that forgot its filter still sees this tenant's rows only."""
    return principal.tenant_id


TenantId = Annotated[uuid.UUID, Depends(current_tenant)]


def admin_principal(principal: PrincipalDep) -> Principal:
    """Routes that manage tenants: the key's role, not an object's owner, so 403 rather than 404."""
    if not principal.is_admin:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this route manages tenants and needs an admin API key; this key is a tenant key "
            "(an operator creates an admin key with `etl keys create --tenant NAME --admin`)",
        )
    return principal


AdminDep = Annotated[Principal, Depends(admin_principal)]


def get_read_session(principal: PrincipalDep, primary: SessionDep) -> Iterator[Session]:
    """A session on the read replica (ETL_DATABASE_READ_URL) for routes that only read and need
    not see a write made a moment ago: it may lag the primary by the replica's replay delay (README
    "Read replica"). The caller is authenticated on the primary first (PrincipalDep); this session
    is scoped to its tenant the same way (row-level security). An unreachable replica answers 503
    in words, not 500. Without a replica: the request's own primary session, as before (a second
    connection from the same pool per request could starve the pool)."""
    if not has_read_replica():
        yield primary
        return
    primary.rollback()  # authenticated: give the primary's connection back while the replica answers
    with get_read_sessionmaker()() as session:
        scope_to_tenant(session, principal.tenant_id)
        try:
            session.connection()  # connect now: a replica that is down answers before the route runs
            yield session
        except (OperationalError, InterfaceError) as exc:
            raise _read_database_unavailable(exc) from None


def _read_database_unavailable(exc: Exception) -> HTTPException:
    """What the caller may read: no address or driver text (the log has it)."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    log.warning("read replica unavailable: %s", said.splitlines()[0] if said else exc.__class__.__name__)
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, (
        "the read replica (ETL_DATABASE_READ_URL) is unavailable, so this read cannot be answered now; writes, "
        "job details and integrations still work on the primary. Try again shortly; an operator restarts the "
        "replica, or unsets ETL_DATABASE_READ_URL to read from the primary"), headers={"Retry-After": "5"})


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def _to_utc(value: datetime | None) -> datetime | None:
    """Any ISO 8601 offset the client sends (even +16:00, which PostgreSQL refuses), as UTC; a
    time without an offset is read as UTC. 9999-12-31T23:00-05:00 is past year 9999 in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("out of range once converted to UTC (years 1 to 9999)") from None


UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]


# --- keyset pagination ------------------------------------------------------------------------


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: tuple[datetime | None, Any] | None  # (sort value, id) of the last row of the previous page


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="page size")] = 50,
    cursor: Annotated[str | None, Query(description="the `next` value of the previous page")] = None,
) -> PageParams:
    if not cursor:
        return PageParams(limit, None)
    try:
        sort_value, row_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
        if sort_value is not None:
            sort_value = datetime.fromisoformat(sort_value)
    except (ValueError, TypeError, binascii.Error):
        raise _bad_cursor() from None
    return PageParams(limit, (sort_value, row_id))


def _bad_cursor() -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "cursor: not a `next` value returned by this endpoint")


PageDep = Annotated[PageParams, Depends(page_params)]


def paginate(session: Session, query: Select, sort_col, id_col, page: PageParams) -> tuple[list, str | None]:
    """Run `query` newest first on (sort_col desc nulls last, id_col desc), one page after the cursor.
    Returns the rows and the cursor of the next page (None on the last one)."""
    if page.after is not None:
        sort_value, row_id = page.after
        try:
            row_id = id_col.type.python_type(row_id)
        except (ValueError, TypeError, AttributeError):
            raise _bad_cursor() from None
        if sort_value is None:  # already among the rows without a sort value
            query = query.where(sort_col.is_(None), id_col < row_id)
        else:
            query = query.where(
                or_(sort_col < sort_value, and_(sort_col == sort_value, id_col < row_id), sort_col.is_(None))
            )
    rows = list(session.scalars(query.order_by(sort_col.desc().nulls_last(), id_col.desc()).limit(page.limit + 1)))
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = rows[-1]
    sort_value = getattr(last, sort_col.key)
    row_id = getattr(last, id_col.key)
    token = orjson.dumps([sort_value, row_id])  # orjson writes datetimes as ISO 8601 and UUIDs as strings
    return rows, base64.urlsafe_b64encode(token).decode().rstrip("=")
