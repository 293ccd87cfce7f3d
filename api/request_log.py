"""The API's logs (etl/logs.py): a request id on every line a request logs, one access line per
request written by us (uvicorn's own access log is switched off: it cannot carry the request id,
the tenant or the duration, and it prints the query string), and uvicorn's lines in our format."""
from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etl import logs

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept when it is a short plain token (a proxy's or a client's correlation id);
# anything else (long, spaces, quotes, control characters) could forge or flood log lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_LOGGED_PATH = 200

access_log = logging.getLogger("api.access")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def logged_path(scope: Scope) -> str:
    """The path only: no query string (filters, cursors), cut to a readable length."""
    path = scope.get("path", "")
    return path if len(path) <= MAX_LOGGED_PATH else path[:MAX_LOGGED_PATH] + "..."


class RequestLog:
    """Pure ASGI (not BaseHTTPMiddleware), so that the context it sets is the one the routes and
    their dependencies run in: api.deps adds the tenant once the caller is known."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        method, path = scope.get("method", ""), logged_path(scope)
        client = scope.get("client")
        token = logs.set_context(request_id=request_id, method=method, path=path,
                                 client=f"{client[0]}:{client[1]}" if client else None)
        status = 500  # what the caller gets when the app raises (ServerErrorMiddleware answers)
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            logs.update_context(status=status, duration_ms=duration_ms)
            access_log.info('%s - "%s %s" %s %.1fms', logs.current_context().get("client", "-"), method, path,
                            status, duration_ms)
            logs.reset_context(token)


def note_tenant(tenant_id: uuid.UUID) -> None:
    """The authenticated tenant, on the request's later lines and its access line."""
    logs.update_context(tenant_id=tenant_id)


def setup_api_logging() -> None:
    """Our format on the root logger (the app's own lines, the access line) and on uvicorn's
    handlers, which uvicorn has configured before it imports the app. ETL_LOG_LEVEL, default INFO."""
    try:
        from etl.config import get_settings

        level = get_settings().log_level or "INFO"
    except Exception:  # noqa: BLE001 - the lifespan reports a bad setting
        level = "INFO"
    try:
        from uvicorn.logging import DefaultFormatter

        base: logging.Formatter = DefaultFormatter("%(levelprefix)s %(message)s")
    except ImportError:  # served by another ASGI server
        base = logging.Formatter("%(levelname)s: %(message)s")
    logs.setup(level, base)
    logs.install_on([logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")])
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.setLevel(logging.WARNING)  # uvicorn skips its access line below INFO
    uvicorn_access.disabled = True
