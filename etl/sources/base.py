"""What a source package provides to the pipeline. Adding a source means adding a package under
etl/sources/ that exposes a `SOURCE` object with this shape and registering its provider name."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from etl.mappings import TenantMappings


@dataclass
class Record:
    """The envelope every raw object travels in (STYLE.md 6)."""

    entity_type: str
    external_id: str
    payload: dict
    updated_at: datetime | None = None
    metadata: dict = field(default_factory=dict)  # request URL, page token, fetched_at


@dataclass
class Page:
    records: list[Record]
    next_cursor: dict | None  # None: this stream is exhausted
    requests_made: int = 0
    not_modified: int = 0  # conditional requests answered 304 (no rate-limit cost)
    stream_etag: str | None = None  # validator of a stream's first page (see ExtractState)
    settings_update: dict | None = None  # discovered integration settings to persist
    # On a stream's first page of a complete read: how many records the source says the stream
    # has, to check the sync saw them all (None: the source gives no count).
    source_total: int | None = None
    # Source objects the page listed, when that is not len(records): a GitHub list page's PRs
    # (unchanged ones produce no record; changed ones bring their reviews and commits).
    listed: int | None = None


@dataclass
class TransformContext:
    tenant_id: uuid.UUID
    integration_id: uuid.UUID
    base_url: str
    settings: dict
    mappings: TenantMappings


class TransformError(Exception):
    """A record that cannot be transformed; its message is stored with the raw row."""


@dataclass
class TransformResult:
    rows: dict[str, list[dict]] = field(default_factory=dict)  # final table -> rows
    ok_raw_ids: list[int] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)  # raw id -> error


class Connector(Protocol):
    def fetch_page(self, stream: str, cursor: dict, state) -> Page:
        """`state` is an etl.extract_state.ExtractState: stored ETags and object versions."""
    def close(self) -> None: ...


class Source(Protocol):
    provider: str
    load_specs: list  # etl.load.LoadSpec, in load order

    def streams(self, integration, entities: list[str] | None) -> list[str]: ...
    def first_cursor(self, stream: str, since: datetime | None) -> dict: ...
    def connect(self, integration, credentials: dict) -> Connector: ...
    def transform(self, entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
        """raw: (raw id, external id, payload) of one entity type."""
