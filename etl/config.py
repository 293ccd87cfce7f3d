"""One typed settings object, read from ETL_* environment variables and an optional .env file."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from etl.allowlist import parse_allow_list

# A development default so that tests and `etl demo` run out of the box. Production refuses it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
PLACEHOLDERS = {"", "changeme", "change-me", "secret", DEV_SECRET_KEY}
# What the `limits` library's Redis storage reads (api.limits).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDIS_SCHEMES = ("redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting may be a secret; the message names the variable instead.
    model_config = SettingsConfigDict(env_prefix="ETL_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: str = Field("development", description="development | production")
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/pulse"
    # A streaming replica of database_url for the API's read-only routes (README "Read replica").
    # Unset: every read goes to the primary. What it serves lags the primary by the replay delay.
    database_read_url: str | None = None
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    broker_folder: str = ".pulse-demo/broker"  # only for broker_url=filesystem:// (the demo)
    # Logs (etl/logs.py): `text` for people, `json` for one object per line (a log shipper). The
    # level of the API and the CLI (default: INFO for the API, WARNING for the CLI); workers and
    # beat take Celery's --loglevel.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    # Fernet keys (or any passphrase, derived to a key). Several, comma-separated, to rotate:
    # the first encrypts, all decrypt. `etl integrations rotate-key` re-encrypts with the first.
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # HS256 secret of the JWTs the API accepts beside API keys (claim tenant_id); unset: JWTs are refused.
    jwt_secret: SecretStr | None = None
    # Every JWT must carry exp, at most this far after its iat (or after now, without iat).
    jwt_max_lifetime_seconds: int = Field(86400, ge=60)
    # When set, a JWT's iss / aud claim must equal it (and must be present).
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Bearer token Prometheus must send to GET /metrics (its labels carry every tenant's integration
    # ids). Required in production: the API refuses to start without it. Unset in development:
    # /metrics is open (the demo, tests).
    metrics_token: SecretStr | None = None

    # Pipeline tuning
    jira_page_size: int = 100
    # Source pages one extract task fetches into one batch (a stream's first batch: one page, for a
    # quick first row). Each batch costs three tasks and their bookkeeping whatever its size: about
    # a fifth of a first sync's CPU at one 100-issue page per batch (issue 12).
    pages_per_batch: int = Field(4, ge=1, le=20)
    # A batch stops taking pages after this long, well inside the stage's soft time limit.
    batch_fetch_seconds: float = Field(20.0, gt=0, le=60)
    # Pull requests per GraphQL query, each with up to 100 reviews and 100 commits. Cost (GitHub:
    # requests needed / 100, rounded, at least 1): 1 + 2N requests, 1 point up to N = 74, 2 at 100;
    # nodes 201N, far below GitHub's 500,000. GitHub's own first/last limit bounds it at 100.
    github_page_size: int = Field(50, ge=1, le=100)
    github_min_remaining: int = 50  # keep this much of a token's hourly budget in reserve
    max_retries: int = 8
    # Deliveries of one task attempt whose worker never finished it (killed each time) before the
    # job fails: a poison message must not loop forever.
    max_deliveries: int = Field(5, ge=1)
    retry_backoff_max: int = 600
    http_timeout: float = 30.0  # seconds per source request, its whole answer included
    # A source's answer larger than this fails the job (a tenant's URL could send without end); a
    # 100-issue Jira page with changelogs is 0.5-5 MiB.
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024)
    sync_overlap_seconds: int = 300
    initial_sync_days: int = 3650

    # Scheduling, reaper, deletions (etl.ops.scheduling, etl.ops.reaper, etl.ops.reconcile)
    # A job with no progress (batch, job or task-run activity) for this long has lost its work and
    # is re-driven; keep it well above the stage tasks' hard time limit (180 s, etl/pipeline/tasks.py).
    reaper_stall_seconds: int = 600
    reaper_max_redrives: int = 3  # re-drives without progress before the job is failed
    reconcile_interval_hours: float = 24.0  # how often each integration's ids are reconciled
    # Refuse to mark more than this share of an integration's live rows deleted in one run (a
    # lost permission looks like a mass deletion); set 1 to allow anything.
    reconcile_max_delete_ratio: float = 0.5
    # Consistency audit (etl.ops.audit): raw objects re-transformed per entity type when not --full,
    # how often the daily check audits each integration, and how many audits are kept per integration.
    audit_sample_size: int = Field(200, ge=1, le=100_000)
    audit_interval_hours: float = Field(24.0, gt=0)
    audit_keep: int = Field(30, ge=1, le=1000)
    # History (etl.ops.retention, daily): task runs and batches of jobs ended this long ago are
    # deleted; the job rows themselves (status, counters, error) are kept for job_retention_days.
    history_retention_days: int = Field(30, ge=1)
    job_retention_days: int = Field(365, ge=1)
    # The circuit breaker (etl.jobs.breaker): an integration is paused after this many failed syncs in
    # a row for a fatal reason (the source refused its credentials or what it names: 401/403/404, a
    # revoked token, a deleted project), or this many failed syncs in a row of any kind; a pause of
    # the second kind gets one probe sync from the dispatcher after the cool-down.
    breaker_fatal_failures: int = Field(3, ge=1)
    breaker_failures: int = Field(10, ge=1)
    breaker_cooldown_minutes: float = Field(60.0, ge=0)

    # Outbound requests to tenant-chosen URLs (etl/sources/outbound.py): only public addresses,
    # except these comma-separated CIDRs, addresses and host names, each optionally with :port
    # (e.g. "10.0.0.0/8,jira.internal,127.0.0.1:8080"), for a self-hosted Jira on a private network.
    source_allow: str = ""
    # POST /integrations/{id}/test: the whole check's deadline, and how many run at once on the
    # API's own small pool for them (in all, and per tenant; more answer 429).
    connection_test_timeout: float = Field(10.0, gt=0)
    connection_test_workers: int = Field(8, ge=1)
    connection_tests_per_tenant: int = Field(2, ge=1)

    # Limits on what one tenant can consume (README "Limits"). Requests: a body over
    # max_request_bytes is refused with 413 before it is read whole (POST /etl/raw-data/store has
    # its own 8 MiB). Per tenant: refused with a message naming the setting.
    max_request_bytes: int = Field(1024 * 1024, ge=1024)
    max_integrations_per_tenant: int = Field(50, ge=1)
    # queued + running jobs of a tenant; starting a sync over the API past it answers 429
    max_active_jobs_per_tenant: int = Field(10, ge=1)
    max_projects_per_integration: int = Field(100, ge=1)  # Jira project keys
    max_repos_per_integration: int = Field(100, ge=1)  # GitHub repositories
    # an integration's settings as stored (PATCH merges into them, so the body limit alone does not bound them)
    max_settings_bytes: int = Field(64 * 1024, ge=1024)
    # an integration's logo (PUT /integrations/{id}/logo): larger bodies are refused with 413 unread
    max_logo_bytes: int = Field(256 * 1024, ge=1024)
    max_reprocess_records: int = Field(100_000, ge=1)  # raw records one POST /etl/reprocess may select
    # Rate limits in the `limits` notation ("600/minute", "10/second;600/minute"), counted in Redis
    # when redis_url is set (shared by every API process), else in each process's memory.
    rate_limit_per_key: str = "600/minute"  # requests per API key (per tenant for JWTs)
    auth_failure_limit_per_ip: str = "20/minute"  # wrong keys or tokens per client address
    redis_url: str | None = None  # e.g. redis://127.0.0.1:6379/0
    rate_limit_namespace: str = "pulse-etl"  # first part of every counter's key (several deployments, one Redis)

    # Notifications (etl/notify, README "Notifications"): webhooks a tenant subscribes to events.
    max_webhooks_per_tenant: int = Field(20, ge=1)
    webhook_deliveries_kept: int = Field(100, ge=1)  # per subscription; older ended deliveries are pruned
    webhook_max_attempts: int = Field(6, ge=1)  # then the delivery is `failed`
    webhook_retry_seconds: float = Field(30.0, gt=0)  # first retry's wait; doubles with each attempt
    webhook_timeout: float = Field(5.0, gt=0, le=30)  # seconds to connect, and to wait for each read of the answer

    @field_validator("rate_limit_per_key", "auth_failure_limit_per_ip")
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        try:
            valid = all(item.amount >= 1 for item in parse_many(value))
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(f"{value!r} is not a rate limit; write it like 600/minute or 10/second;600/minute")
        return value

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _case_insensitive(cls, value):
        if isinstance(value, str):
            value = value.strip()
            return None if not value else value.upper() if value.upper() in LOG_LEVELS else value.lower()
        return value

    @field_validator("database_read_url", mode="before")
    @classmethod
    def _empty_read_url_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _explicit_driver(cls, value: str | None) -> str | None:
        """A bare postgresql:// URL (what psql and the demo print) means psycopg2, the driver we
        install: SQLAlchemy 2.1 would otherwise pick psycopg 3, which is not installed."""
        if value is None:
            return None
        scheme, sep, rest = value.partition("://")
        if sep and scheme in ("postgresql", "postgres"):
            return f"postgresql+psycopg2://{rest}"
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and value.split("://")[0] not in REDIS_SCHEMES:
            raise ValueError(f"ETL_REDIS_URL must be a {', '.join(REDIS_SCHEMES)} URL such as redis://127.0.0.1:6379/0")
        return value

    @field_validator("jwt_secret", "metrics_token", "jwt_issuer", "jwt_audience", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("source_allow")
    @classmethod
    def _parse_source_allow(cls, value: str) -> str:
        parse_allow_list(value)  # InvalidAllowEntry (a ValueError) names the entry
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> "Settings":
        if self.environment == "production":
            keys = [k.strip() for k in self.secret_key.get_secret_value().split(",")]
            if any(k in PLACEHOLDERS for k in keys):
                raise ValueError(
                    "ETL_SECRET_KEY is missing or a placeholder; set it to a Fernet key "
                    "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
                )
            # docker-compose.yml builds both URLs from these .env variables
            for variable, url, compose in (("ETL_DATABASE_URL", self.database_url, "POSTGRES_PASSWORD"),
                                           ("ETL_DATABASE_READ_URL", self.database_read_url or "", "POSTGRES_PASSWORD"),
                                           ("ETL_BROKER_URL", self.broker_url, "RABBITMQ_PASSWORD")):
                password = url_password(url)
                if password and is_placeholder(password):
                    raise ValueError(
                        f"{variable} carries a placeholder password (change-me...); production refuses it: set a "
                        f"real password on the server and in this URL (with docker compose: {compose} in .env; "
                        "python -c 'import secrets; print(secrets.token_urlsafe(24))')"
                    )
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value().encode()) < 32:
            raise ValueError(
                "ETL_JWT_SECRET is shorter than 32 bytes (HS256 needs a 256-bit key); set a longer one "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))') or unset it to disable JWTs"
            )
        return self

    def api_startup_problem(self) -> str | None:
        """What stops the API from serving in production, in words; None when nothing does. Only
        the API serves /metrics, so workers and the CLI do not need its token."""
        if self.environment != "production":
            return None
        token = self.metrics_token.get_secret_value().strip() if self.metrics_token else ""
        if is_placeholder(token) or not token:
            return ("ETL_METRICS_TOKEN is missing or a placeholder: in production /metrics needs a bearer token "
                    "(it lists every tenant's integration ids); set it and give Prometheus the same value "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return None


def is_placeholder(value: str | None) -> bool:
    """A value copied from .env.example and never changed: `change-me-postgres` and friends."""
    if value is None:
        return False
    value = value.strip().lower()
    return value in PLACEHOLDERS or value.startswith("change-me") or value.startswith("changeme")


def url_password(url: str) -> str | None:
    """The password in a database or broker URL (None without one, or for a URL that is not one)."""
    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads (filesystem://): nothing to refuse
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
