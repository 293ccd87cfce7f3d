"""Rate limits of the API: requests per API key (per tenant for a JWT), and failed authentications
per client address. Counted by the `limits` library in moving windows, in Redis when ETL_REDIS_URL
is set (so every API process shares the counts), else in this process's memory.

When Redis cannot be reached the limits are not enforced and a warning is logged once per outage:
a rate limiter that fails closed would turn a Redis restart into an outage of the whole API."""
from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from etl.config import get_settings

log = logging.getLogger(__name__)

# A rate limit check must not hold a request up: Redis answers on the local network in well under this.
REDIS_TIMEOUT_SECONDS = 0.5


class RateLimiter:
    """One limiter per storage, remembering whether its storage is failing (to warn once per outage)."""

    def __init__(self, redis_url: str | None):
        if redis_url:
            storage = storage_from_string(redis_url, wrap_exceptions=True,
                                          socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                          socket_timeout=REDIS_TIMEOUT_SECONDS)
        else:
            storage = MemoryStorage()
        self.where = "Redis" if redis_url else "memory"
        self.limiter = MovingWindowRateLimiter(storage)
        self.failing = False

    def hit(self, items: list[RateLimitItem], *identifiers: str) -> int | None:
        """Count one request against every item; the seconds until it would be allowed if any item
        is spent (None when allowed, or when the storage cannot be reached)."""
        return self._guarded(lambda: self._first_refusal(items, identifiers, consume=True))

    def test(self, items: list[RateLimitItem], *identifiers: str) -> int | None:
        """As hit, without counting."""
        return self._guarded(lambda: self._first_refusal(items, identifiers, consume=False))

    def _first_refusal(self, items, identifiers, consume: bool) -> int | None:
        for item in items:
            allowed = self.limiter.hit(item, *identifiers) if consume else self.limiter.test(item, *identifiers)
            if not allowed:
                reset_at = self.limiter.get_window_stats(item, *identifiers).reset_time
                return max(1, math.ceil(reset_at - time.time()))
        return None

    def _guarded(self, check) -> int | None:
        try:
            refusal = check()
        except StorageError as exc:
            if not self.failing:
                log.warning("rate limits not enforced: %s unreachable (%s)", self.where, exc.storage_error)
            self.failing = True
            return None
        if self.failing:
            log.warning("rate limits enforced again: %s is back", self.where)
            self.failing = False
        return refusal


@lru_cache(maxsize=4)
def _limiter(redis_url: str | None) -> RateLimiter:
    return RateLimiter(redis_url)


def current_limiter() -> RateLimiter:
    return _limiter(get_settings().redis_url)


def _client_address(request: Request) -> str:
    # Behind a reverse proxy, run uvicorn with --proxy-headers so that this is the client's address.
    return request.client.host if request.client else "unknown"


def refuse_blocked_address(request: Request) -> None:
    """Before a key is even looked up: an address that failed to authenticate too often waits,
    whatever it sends now (answering 401 or 200 would still tell a guesser which keys are real)."""
    settings = get_settings()
    address = _client_address(request)
    retry_after = current_limiter().test(parse_many(settings.auth_failure_limit_per_ip),
                                         settings.rate_limit_namespace, "auth-failures", address)
    if retry_after is not None:
        raise _too_many(
            f"too many failed authentications from {address} (at most {settings.auth_failure_limit_per_ip}, "
            f"ETL_AUTH_FAILURE_LIMIT_PER_IP): check the API key or token, then retry after {retry_after} s",
            retry_after)


def count_failed_authentication(request: Request) -> None:
    settings = get_settings()
    current_limiter().hit(parse_many(settings.auth_failure_limit_per_ip),
                          settings.rate_limit_namespace, "auth-failures", _client_address(request))


def count_request(principal) -> None:
    """One request of an authenticated caller: its API key, or for a JWT its tenant."""
    settings = get_settings()
    who = f"key {principal.api_key_id}" if principal.api_key_id else f"jwt {principal.tenant_id}"
    retry_after = current_limiter().hit(parse_many(settings.rate_limit_per_key),
                                        settings.rate_limit_namespace, "requests", who)
    if retry_after is not None:
        caller = "API key" if principal.api_key_id else "tenant's JWTs"
        raise _too_many(
            f"too many requests with this {caller} (at most {settings.rate_limit_per_key}, "
            f"ETL_RATE_LIMIT_PER_KEY): retry after {retry_after} s", retry_after)


def _too_many(message: str, retry_after: int) -> HTTPException:
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, message, headers={"Retry-After": str(retry_after)})
