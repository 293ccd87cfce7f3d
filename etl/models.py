"""The schema. Alembic owns it (alembic/versions); these models are what the migrations must match
(`alembic check` finds no drift). Every tenant-owned table carries tenant_id."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _tenant_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def _integration_fk(nullable: bool = False) -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("integrations.id", ondelete="CASCADE"), nullable=nullable
    )


def _synced_owner() -> Mapped[uuid.UUID]:
    """tenant_id or integration_id of a table of synced data: no foreign key (migration 0022: two
    checks per inserted row were a sixth of a first sync's database time); a trigger on
    integrations deletes the rows with their integration, and so with their tenant."""
    return mapped_column(UUID(as_uuid=True), nullable=False)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    created_at: Mapped[datetime] = _created_at()


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        # {read} or {read,write} (write implies read): what the API checks is then "has write".
        CheckConstraint("'read' = ANY (scopes) AND scopes <@ ARRAY['read', 'write']::text[]", name="ck_api_keys_scopes"),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(Text, nullable=False, server_default="default")
    prefix: Mapped[str] = mapped_column(Text, nullable=False)  # shown in listings; the secret never is
    key_hash: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{read,write}")
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Integration(Base):
    __tablename__ = "integrations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        # What the schedule dispatcher scans every minute.
        Index("ix_integrations_due", "next_sync_at", postgresql_where=text("enabled AND next_sync_at IS NOT NULL")),
        # The circuit breaker (etl.jobs.breaker): the dispatcher's scan for half-open probes.
        Index("ix_integrations_breaker_probe", "breaker_probe_at", postgresql_where=text("breaker_probe_at IS NOT NULL")),
        CheckConstraint("breaker_kind IS NULL OR breaker_kind IN ('fatal', 'failures')",
                        name="ck_integrations_breaker_kind"),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    provider: Mapped[str] = mapped_column(Text, nullable=False)  # jira | github
    name: Mapped[str] = mapped_column(Text, nullable=False)
    base_url: Mapped[str] = mapped_column(Text, nullable=False)
    credentials_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    settings: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    schedule_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    schedule_cron: Mapped[str | None] = mapped_column(Text)
    schedule_timezone: Mapped[str | None] = mapped_column(Text)  # IANA zone of schedule_cron; NULL is UTC
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    next_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The source's rate limit is spent until then: this integration's tasks wait (by re-queuing).
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A mapping changed while a job was active: reprocess from the raw layer when that job ends.
    reprocess_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Deletions: when the source's ids were last reconciled with ours, and when that was last asked
    # for (so that two schedulers, or a full sync and the daily check, do not ask twice).
    last_reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reconcile_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    # The circuit breaker (etl.jobs.breaker): paused since breaker_open_at, why in words, and whether
    # the source refused it ('fatal': an admin resumes it) or it failed too often ('failures': the
    # dispatcher probes it at breaker_probe_at). Failed syncs in a row, reset by a success.
    breaker_open_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    breaker_reason: Mapped[str | None] = mapped_column(Text)
    breaker_kind: Mapped[str | None] = mapped_column(Text)
    breaker_probe_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    consecutive_fatal_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class IntegrationLogo(Base):
    """An integration's logo: PNG, JPEG or WebP as detected from its bytes (never as declared)."""

    __tablename__ = "integration_logos"
    integration_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    content_type: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class RawExtractionData(Base):
    """Every raw API object, one row per (integration, entity type, external id): re-extracting an
    unchanged object writes nothing, so the table does not grow with the number of syncs."""

    __tablename__ = "raw_extraction_data"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", "entity_type", "external_id"),
        Index("ix_raw_integration_status", "integration_id", "processing_status"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _synced_owner()
    integration_id: Mapped[uuid.UUID] = _synced_owner()
    entity_type: Mapped[str] = mapped_column(Text, nullable=False)
    external_id: Mapped[str] = mapped_column(Text, nullable=False)
    raw_data: Mapped[dict] = mapped_column(JSONB, nullable=False)
    extraction_metadata: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    content_hash: Mapped[str] = mapped_column(Text, nullable=False)
    processing_status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    error_details: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


JOB_ACTIVE_STATUSES = ("queued", "running")
JOB_FINAL_STATUSES = ("succeeded", "partial", "failed", "cancelled")


class EtlJob(Base):
    __tablename__ = "etl_jobs"
    __table_args__ = (
        # At most one active job per integration, whatever triggered it.
        Index(
            "uq_etl_jobs_one_active_per_integration",
            "integration_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_etl_jobs_tenant_created", "tenant_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    integration_id: Mapped[uuid.UUID] = _integration_fk()
    kind: Mapped[str] = mapped_column(Text, nullable=False, server_default="incremental")
    trigger: Mapped[str] = mapped_column(Text, nullable=False, server_default="api")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    entities: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    # Per-stage counters, recomputed from etl_batches so that a redelivered task never double-counts.
    pages: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    extracted: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    transformed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    loaded: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    requests_made: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # Completeness: records the source's pages held, and how many the source said there were
    # (a complete read only; NULL when it gives no count). seen = extracted + unchanged.
    seen: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    listed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")  # Page.listed, summed
    expected: Mapped[int | None] = mapped_column(Integer)
    extraction_done: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()
    error_details: Mapped[dict | None] = mapped_column(JSONB)
    # The reaper re-publishes the tasks of a job that stopped making progress (etl.ops.reaper):
    # how often in all, how often since its last progress (it fails past a limit), and when.
    redrives: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    stalled_redrives: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    redriven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EtlBatch(Base):
    """One extracted page and its way through transform and load. Its status is the checkpoint each
    stage claims with a conditional update, which is what makes every task safe to run twice."""

    __tablename__ = "etl_batches"
    __table_args__ = (
        UniqueConstraint("job_id", "stream", "seq"),
        # what each stage's completeness checks read (migration 0014)
        Index("ix_etl_batches_unfinished", "job_id", postgresql_where=text("status <> 'loaded'")),
        Index("ix_etl_batches_last", "job_id", "stream", postgresql_where=text("is_last")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("etl_jobs.id", ondelete="CASCADE"), nullable=False
    )
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    stream: Mapped[str] = mapped_column(Text, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    # pending -> extracted -> transformed -> loaded
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    cursor: Mapped[dict | None] = mapped_column(JSONB)  # how to request this page
    is_last: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # stream exhausted
    raw_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    fetched: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    extracted: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    transformed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    loaded: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    requests_made: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    pages: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")  # source pages fetched
    max_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_total: Mapped[int | None] = mapped_column(Integer)  # Page.source_total of a first page
    listed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")  # Page.listed
    # Normalized rows between transform and load; cleared once loaded so it never accumulates.
    staged: Mapped[dict | None] = mapped_column(JSONB, deferred=True)  # written by transform, read in SQL by load
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()


class EtlTaskRun(Base):
    __tablename__ = "etl_task_runs"
    __table_args__ = (
        UniqueConstraint("task_id", "attempt"),
        Index("ix_etl_task_runs_job", "job_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("etl_jobs.id", ondelete="CASCADE"), nullable=False
    )
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    task_id: Mapped[str] = mapped_column(Text, nullable=False)
    task_name: Mapped[str] = mapped_column(Text, nullable=False)
    stage: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(Text, nullable=False)  # started | succeeded | retrying | failed
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    deliveries: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    worker: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = _created_at()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncState(Base):
    __tablename__ = "sync_state"
    integration_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(Text, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overlap_seconds: Mapped[int] = mapped_column(Integer, nullable=False, server_default="300")
    last_job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    updated_at: Mapped[datetime] = _created_at()


# --- tenant mappings -------------------------------------------------------------------------


class WitHierarchy(Base):
    __tablename__ = "wit_hierarchies"
    __table_args__ = (UniqueConstraint("tenant_id", "level"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class Wit(Base):
    __tablename__ = "wits"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    hierarchy_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    description: Mapped[str | None] = mapped_column(Text)


class WitMapping(Base):
    __tablename__ = "wit_mappings"
    __table_args__ = (
        # Source names match case-insensitively, so one per (tenant, integration or tenant-wide)
        # whatever its case.
        Index("uq_wit_mappings_source_name", "tenant_id", "integration_id", text("lower(source_name)"),
              unique=True, postgresql_nulls_not_distinct=True),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    integration_id: Mapped[uuid.UUID | None] = _integration_fk(nullable=True)
    source_name: Mapped[str] = mapped_column(Text, nullable=False)  # matched case-insensitively
    wit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("wits.id", ondelete="CASCADE"), nullable=False)


class Status(Base):
    __tablename__ = "statuses"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str] = mapped_column(Text, nullable=False)  # to_do | in_progress | done


class StatusMapping(Base):
    __tablename__ = "status_mappings"
    __table_args__ = (
        Index("uq_status_mappings_source_name", "tenant_id", "integration_id", text("lower(source_name)"),
              unique=True, postgresql_nulls_not_distinct=True),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    integration_id: Mapped[uuid.UUID | None] = _integration_fk(nullable=True)
    source_name: Mapped[str] = mapped_column(Text, nullable=False)
    status_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
    )


class Workflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", postgresql_nulls_not_distinct=True),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    integration_id: Mapped[uuid.UUID | None] = _integration_fk(nullable=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)


class WorkflowStep(Base):
    """Ordered steps; cycle time runs from the first entry into a step at or after the commitment
    point to the done step."""

    __tablename__ = "workflow_steps"
    __table_args__ = (UniqueConstraint("workflow_id", "position"), UniqueConstraint("workflow_id", "status_id"))
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    workflow_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    status_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False
    )
    is_commitment_point: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    is_done: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


# --- final tables ----------------------------------------------------------------------------


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", "external_id"),
        Index("ix_work_items_tenant_key", "tenant_id", "key"),
        Index("ix_work_items_tenant_updated", "tenant_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _synced_owner()
    integration_id: Mapped[uuid.UUID] = _synced_owner()
    external_id: Mapped[str] = mapped_column(Text, nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    project: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str | None] = mapped_column(Text)
    wit: Mapped[str | None] = mapped_column(Text)
    hierarchy_level: Mapped[int | None] = mapped_column(Integer)
    source_status: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    status_category: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)
    reporter: Mapped[str | None] = mapped_column(Text)
    parent_key: Mapped[str | None] = mapped_column(Text)
    epic_key: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    story_points: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lead_time_seconds: Mapped[int | None] = mapped_column(BigInteger)
    cycle_time_seconds: Mapped[int | None] = mapped_column(BigInteger)
    url: Mapped[str | None] = mapped_column(Text)
    raw_id: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    loaded_at: Mapped[datetime] = _created_at()


class WorkItemTransition(Base):
    __tablename__ = "work_item_transitions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", "external_id"),
        Index("ix_transitions_item", "tenant_id", "integration_id", "work_item_external_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _synced_owner()
    integration_id: Mapped[uuid.UUID] = _synced_owner()
    external_id: Mapped[str] = mapped_column(Text, nullable=False)  # "<history id>:<item index>"
    work_item_external_id: Mapped[str] = mapped_column(Text, nullable=False)
    work_item_key: Mapped[str] = mapped_column(Text, nullable=False)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    transitioned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PullRequest(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", "external_id"),
        Index("ix_pull_requests_tenant_updated", "tenant_id", "updated_at"),
        Index("ix_pull_requests_work_item_keys", "work_item_keys", postgresql_using="gin"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _synced_owner()
    integration_id: Mapped[uuid.UUID] = _synced_owner()
    external_id: Mapped[str] = mapped_column(Text, nullable=False)  # "owner/name#number"
    repo: Mapped[str] = mapped_column(Text, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text, nullable=False)  # open | closed | merged
    draft: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    author: Mapped[str | None] = mapped_column(Text)
    author_is_bot: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    base_ref: Mapped[str | None] = mapped_column(Text)
    head_ref: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    additions: Mapped[int | None] = mapped_column(Integer)
    deletions: Mapped[int | None] = mapped_column(Integer)
    changed_files: Mapped[int | None] = mapped_column(Integer)
    commits_count: Mapped[int | None] = mapped_column(Integer)
    # Derived from pr_reviews after each load (reviews by the PR's author do not count).
    review_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    first_review_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    time_to_first_review_seconds: Mapped[int | None] = mapped_column(BigInteger)
    lead_time_seconds: Mapped[int | None] = mapped_column(BigInteger)  # created_at -> merged_at
    work_item_keys: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    url: Mapped[str | None] = mapped_column(Text)
    raw_id: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    loaded_at: Mapped[datetime] = _created_at()


class PrReview(Base):
    __tablename__ = "pr_reviews"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", "external_id"),
        Index("ix_pr_reviews_pr", "tenant_id", "integration_id", "pr_external_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _synced_owner()
    integration_id: Mapped[uuid.UUID] = _synced_owner()
    external_id: Mapped[str] = mapped_column(Text, nullable=False)  # review id
    pr_external_id: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    author: Mapped[str | None] = mapped_column(Text)
    author_is_bot: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PrCommit(Base):
    __tablename__ = "pr_commits"
    __table_args__ = (
        UniqueConstraint("tenant_id", "integration_id", "external_id"),
        Index("ix_pr_commits_pr", "tenant_id", "integration_id", "pr_external_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _synced_owner()
    integration_id: Mapped[uuid.UUID] = _synced_owner()
    external_id: Mapped[str] = mapped_column(Text, nullable=False)  # "owner/name#number:sha"
    pr_external_id: Mapped[str] = mapped_column(Text, nullable=False)
    sha: Mapped[str] = mapped_column(Text, nullable=False)
    author: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)  # first line
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- notifications (issue 14, migration 0015): webhook subscriptions and their deliveries -------


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        CheckConstraint("format IN ('json', 'slack')", name="ck_webhook_subscriptions_format"),
        UniqueConstraint("tenant_id", "name"),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # The URL is a credential (a Slack incoming webhook): etl.notify.secrets stores it encrypted, and
    # only its masked form (https://hooks.slack.com/…Xk9Q) is ever shown.
    url_encrypted: Mapped[str] = mapped_column(Text, nullable=False)  # etl.crypto; write-only
    url_display: Mapped[str] = mapped_column(Text, nullable=False)
    format: Mapped[str] = mapped_column(Text, nullable=False, server_default="json")  # json | slack
    events: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)  # etl.notify.events kinds
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)  # etl.crypto; write-only
    stale_after_minutes: Mapped[int | None] = mapped_column(Integer)  # for integration.stale
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = _created_at()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="ck_webhook_deliveries_status"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    event: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)  # {"occurred_at", "subject"}, bounded
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                      server_default=func.now())
    created_at: Mapped[datetime] = _created_at()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookStaleNotice(Base):
    """The last staleness episode told to a subscription about an integration (etl.notify.stale)."""

    __tablename__ = "webhook_stale_notices"
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), primary_key=True)
    integration_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    stale_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    notified_at: Mapped[datetime] = _created_at()
# --- consistency audits (issue 14, etl.ops.audit) ---------------------------------------------


class ConsistencyAudit(Base):
    """One audit of an integration: whether its final rows are what its raw objects give today.
    The row is written when the audit is asked for (API, CLI, the daily check) and filled in by
    the audit itself; the last ETL_AUDIT_KEEP per integration are kept."""

    __tablename__ = "consistency_audits"
    __table_args__ = (
        Index("ix_consistency_audits_integration", "integration_id", "requested_at"),
        # One audit under way per integration, whoever asks (etl.ops.audit_runs.request_audit).
        Index("uq_consistency_audits_under_way", "integration_id", unique=True,
              postgresql_where=text("finished_at IS NULL")),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    integration_id: Mapped[uuid.UUID] = _integration_fk()
    trigger: Mapped[str] = mapped_column(Text, nullable=False)  # api | cli | schedule
    full: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # every raw object, not a sample
    repair: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    differences: Mapped[int | None] = mapped_column(Integer)  # differing rows + orphans both ways
    summary: Mapped[dict | None] = mapped_column(JSONB)  # per entity type; every id list capped
    repaired_job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # the reprocess it started
    error: Mapped[str | None] = mapped_column(Text)  # why it did not finish
