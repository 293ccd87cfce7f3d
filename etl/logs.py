"""Logs every process writes (workers, beat, the API, the CLI): text for humans or one JSON object
per line (ETL_LOG_FORMAT), the ids of what a line is about, and never a credential.

- Context: the ids a line is about (job, tenant, integration, batch, stage, task; request id,
  method, path, status, duration and tenant on API lines) live in a context variable, set by the
  task base (etl.pipeline.task_base) around a task and by the API's middleware (api.logging)
  around a request. ContextFilter copies them onto every record, so a line logged deep in a
  stage function carries them without being passed anything.
- Redaction: RedactFilter masks API keys, GitHub and Atlassian tokens, Authorization values,
  JWTs, Fernet keys, Slack webhook URLs, the configured secrets and passwords in URLs in the
  message, its arguments and the exception text, on every handler we install, before any
  formatter sees the record.
- install(handler, ...) puts both filters and our formatter on a handler: Celery's own handlers
  (etl.broker.app), uvicorn's (api.logging), or the stderr handler of setup() (the CLI, the API).
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

FORMATS = ("text", "json")

# Every id a line may carry, in the order JSON lines and text suffixes show them.
TASK_FIELDS = ("job_id", "tenant_id", "integration_id", "batch_id", "stage", "task_id")
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client")
CONTEXT_FIELDS = TASK_FIELDS + ("task_name",) + REQUEST_FIELDS
# What the text format appends ("[job_id=... tenant_id=...]"): ids to search by; an access line's
# method, path and status are already in its message.
TEXT_SUFFIX_FIELDS = TASK_FIELDS + ("request_id",)

# The context of the current task or request. A dict that update_context() changes in place, so
# that a value set in a copy of the context (a sync FastAPI dependency runs in a worker thread
# with a copy) is seen by the middleware that created it.
_context: ContextVar[dict[str, Any] | None] = ContextVar("etl_log_context", default=None)


def set_context(**fields: Any) -> Token:
    """Start a new context (a task, a request) with these fields; reset_context(token) ends it."""
    return _context.set({k: v for k, v in fields.items() if v is not None})


def update_context(**fields: Any) -> None:
    """Add fields to the current context (what a task or request learns as it runs)."""
    current = _context.get()
    if current is None:
        _context.set({k: v for k, v in fields.items() if v is not None})
        return
    current.update({k: v for k, v in fields.items() if v is not None})


def reset_context(token: Token | None = None) -> None:
    if token is not None:
        try:
            _context.reset(token)
            return
        except ValueError:  # set in another context (a task's before_start vs its after_return)
            pass
    _context.set(None)


def current_context() -> dict[str, Any]:
    return dict(_context.get() or {})


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = set_context(**fields)
    try:
        yield
    finally:
        reset_context(token)


class ContextFilter(logging.Filter):
    """Puts the current context on the record as `record.log_context` (fields given with
    `extra=` win over the context's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        for field in CONTEXT_FIELDS:
            value = record.__dict__.get(field)
            if value is not None and field not in ("task_id", "task_name"):  # Celery's TaskFormatter sets those
                context[field] = value
        record.log_context = {k: context[k] for k in CONTEXT_FIELDS if context.get(k) is not None}
        return True


# --- redaction ------------------------------------------------------------------------------------

MASK = "***"
# Each pattern keeps what tells a reader what was there (pk_, ghp_, Bearer, the URL's user) and
# masks the secret part. The first group, when there is one, is kept.
_PATTERNS = [
    # our API keys (etl.tenancy.keys): pk_ + 43 characters; the 10-character prefix listings show stays
    re.compile(r"(?<![A-Za-z0-9])(pk_)[A-Za-z0-9_-]{8,}"),
    # webhook signing secrets (etl.notify.secrets): whsec_ + 43 characters
    re.compile(r"(?<![A-Za-z0-9])(whsec_)[A-Za-z0-9_-]{8,}"),
    # Slack incoming-webhook URLs' paths (/services/T.../B.../token): whoever has one posts to the
    # channel. Webhook URLs are never logged on purpose (etl.notify.secrets); this catches a library's
    # debug line (urllib3 logs the path it POSTs to) or an exception that quotes one.
    re.compile(r"(/services/)T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}"),
    # GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh, fine-grained
    re.compile(r"(?<![A-Za-z0-9])(gh[pousr]_)[A-Za-z0-9]{16,}"),
    re.compile(r"(?<![A-Za-z0-9])(github_pat_)[A-Za-z0-9_]{16,}"),
    # Atlassian API tokens (Jira Cloud)
    re.compile(r"(?<![A-Za-z0-9])(ATATT)[A-Za-z0-9_=+/-]{16,}"),
    # JWTs: header.payload.signature, both first parts base64url JSON
    re.compile(r"(?<![A-Za-z0-9_-])(eyJ)[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),
    # Authorization header values, whatever their scheme
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;}]+(?:[ \t]+[^\"'\s,;}]+)?"),
    # Bearer / Basic credentials in prose: a token has a digit, punctuation or a capital after its
    # first letter; the words of "basic authentication" or "Bearer Token" do not
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-]|[A-Za-z0-9._~+/=-]+(?-i:[A-Z]))"
               r"[A-Za-z0-9._~+/=-]{8,}"),
    # passwords in URLs: scheme://user:PASSWORD@host
    re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)"),
    # Fernet keys (ETL_SECRET_KEY): 32 bytes, urlsafe base64, 44 characters ending in =
    re.compile(r"(?<![A-Za-z0-9_=-])()[A-Za-z0-9_-]{43}=(?![A-Za-z0-9_=-])"),
]
MIN_LITERAL = 8  # shorter configured secrets ("guest") would mask ordinary words


def _mask(match: re.Match) -> str:
    return (match.group(1) if match.re.groups else "") + MASK


def redact(text: str, literals: Iterable[str] = ()) -> str:
    """`text` with every credential we know the shape (or the value) of masked."""
    for literal in literals:
        if literal in text:
            text = text.replace(literal, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text


def configured_secrets() -> list[str]:
    """The values of the secret settings (each ETL_SECRET_KEY, the JWT secret, the metrics token,
    the database and broker passwords), to mask wherever they appear. Empty when the settings
    cannot be read (the CLI still logs; the patterns still apply)."""
    try:
        from etl.config import get_settings  # a bad .env must not stop logging from being set up

        settings = get_settings()
    except Exception:  # noqa: BLE001 - the command that needs the settings reports them
        return []
    values = [k.strip() for k in settings.secret_key.get_secret_value().split(",")]
    for secret in (settings.jwt_secret, settings.metrics_token):
        if secret is not None:
            values.append(secret.get_secret_value())
    for url in (settings.database_url, settings.broker_url, settings.redis_url or ""):
        password = re.match(r"[^:]+://[^:/@]*:([^@/]+)@", url)
        if password:
            values.append(password.group(1))
    return sorted({v for v in values if len(v) >= MIN_LITERAL}, key=len, reverse=True)


class RedactFilter(logging.Filter):
    """Masks credentials in the message, its arguments and the exception text (rendered here,
    so that no formatter renders it again from the live exception)."""

    _plain = logging.Formatter()

    def __init__(self, literals: Iterable[str] = ()):
        super().__init__()
        self.literals = list(literals)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_etl_redacted", False):  # several handlers see the same record
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: log what was given
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = redact(message, self.literals), None
        if record.exc_info and not record.exc_text:
            exc_info = sys.exc_info() if record.exc_info is True else record.exc_info
            if isinstance(exc_info, tuple) and exc_info[0] is not None:
                record.exc_text = self._plain.formatException(exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.literals)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.literals)
        record._etl_redacted = True
        return True


# --- formats --------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO-8601 UTC), level, logger, message, the context fields
    that are set, and exc_info (the traceback as a string) when there is one."""

    def __init__(self, literals: Iterable[str] = ()):
        super().__init__()
        self.literals = list(literals)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field, value in getattr(record, "log_context", {}).items():
            line[field] = redact(value, self.literals) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The process's usual text format (Celery's, uvicorn's, the CLI's bare message), with the
    ids of the context after the message: `... message [job_id=... tenant_id=...]`."""

    def __init__(self, base: logging.Formatter | None = None, literals: Iterable[str] = ()):
        super().__init__()
        self.base = base or logging.Formatter("%(message)s")
        self.literals = list(literals)

    def format(self, record: logging.LogRecord) -> str:
        context = getattr(record, "log_context", {})
        ids = " ".join(f"{k}={redact(str(context[k]), self.literals)}" for k in TEXT_SUFFIX_FIELDS if k in context)
        if not ids:
            return self.base.format(record)
        suffixed = logging.makeLogRecord(record.__dict__)
        suffixed.msg, suffixed.args = f"{record.getMessage()} [{ids}]", None
        return self.base.format(suffixed)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return self.base.formatException(ei)


def log_format() -> str:
    """ETL_LOG_FORMAT, from the settings; from the environment alone when the settings cannot be
    read (so a bad .env is still reported in the chosen format)."""
    try:
        from etl.config import get_settings

        return get_settings().log_format
    except Exception:  # noqa: BLE001
        value = os.environ.get("ETL_LOG_FORMAT", "text").strip().lower()
        return value if value in FORMATS else "text"


def install(handler: logging.Handler, fmt: str | None = None, literals: Iterable[str] | None = None) -> None:
    """Our filters and formatter on `handler`, keeping its own formatter as the text base.
    Idempotent: a handler set up twice is not wrapped twice."""
    fmt = fmt or log_format()
    literals = configured_secrets() if literals is None else list(literals)
    for existing in list(handler.filters):
        if isinstance(existing, (ContextFilter, RedactFilter)):
            handler.removeFilter(existing)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter(literals))
    current = handler.formatter
    if isinstance(current, TextFormatter):
        current = current.base
    elif isinstance(current, JsonFormatter):
        current = None
    handler.setFormatter(JsonFormatter(literals) if fmt == "json" else TextFormatter(current, literals))


def install_on(loggers: Iterable[logging.Logger], fmt: str | None = None) -> None:
    literals = configured_secrets()
    for logger in loggers:
        for handler in logger.handlers:
            install(handler, fmt, literals)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test's capture, a redirected stream)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup(level: str | int, base: logging.Formatter | None = None, fmt: str | None = None) -> logging.Handler:
    """The root logger of a process that is not a Celery worker (the API, the CLI): one stderr
    handler with our filters and format, at `level`. Called again, it replaces its handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_etl_handler", False):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler._etl_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(base or logging.Formatter("%(message)s"))
    install(handler, fmt)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
