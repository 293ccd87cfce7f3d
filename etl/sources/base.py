"""What a source package provides to the pipeline. Adding a source means adding a package under
etl/sources/ that exposes a `SOURCE` object with this shape and registering its provider name."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from sqlalchemy import BigInteger, Boolean, Float, Integer, SmallInteger, Table


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
        """`state` is an etl.pipeline.extract_state.ExtractState: stored ETags and object versions."""
    def close(self) -> None: ...


class Source(Protocol):
    provider: str
    load_specs: list  # etl.sources.base.LoadSpec, in load order

    def streams(self, integration, entities: list[str] | None) -> list[str]: ...
    def first_cursor(self, stream: str, since: datetime | None) -> dict: ...
    def connect(self, integration, credentials: dict) -> Connector: ...
    def transform(self, entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
        """raw: (raw id, external id, payload) of one entity type."""


# What PostgreSQL can hold in each integer type. A source may send anything in a field we load into
# one (a GitHub PR "number" past 2**31): the upsert casts a whole batch at once, so one such value
# would fail every record of the batch, and the job with it.
INTEGER_RANGES = {SmallInteger: (-2**15, 2**15 - 1), Integer: (-2**31, 2**31 - 1), BigInteger: (-2**63, 2**63 - 1)}


@lru_cache(maxsize=None)
def _typed_columns(table: Table) -> tuple[tuple[str, str, tuple[int, int] | None], ...]:
    """(column, kind, integer range) of the columns a staged value can fail to cast into."""
    out = []
    for column in table.columns:
        kind = type(column.type)
        if kind in INTEGER_RANGES:
            out.append((column.name, "integer", INTEGER_RANGES[kind]))
        elif kind is Float:
            out.append((column.name, "number", None))
        elif kind is Boolean:
            out.append((column.name, "boolean", None))
    return tuple(out)


def unfit_value(table: Table, row: dict) -> str | None:
    """Why a transformed row cannot be loaded into `table` (a value its column cannot hold), in
    words for the record's error; None when it fits. Checked per record in the transform, so that
    a bad record fails alone and the rest of its batch loads."""
    for name, kind, bounds in _typed_columns(table):
        value = row.get(name)
        if value is None:
            continue
        if kind == "integer":
            fits = isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]
            if not fits:
                what = "is out of range" if isinstance(value, int) and not isinstance(value, bool) else "is not an integer"
                return f"field {name!r}: {_shown(value)} {what} for {table.name}.{name} ({bounds[0]} to {bounds[1]})"
        elif kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"field {name!r}: {_shown(value)} is not a number"
        elif kind == "boolean" and not isinstance(value, bool):
            return f"field {name!r}: {_shown(value)} is not true or false"
    return None


def first_unfit(table: Table, rows: list[dict]) -> str | None:
    return next((problem for problem in (unfit_value(table, row) for row in rows) if problem), None)


def _shown(value) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 40 else text_[:37] + "..."


@dataclass(frozen=True)
class LoadSpec:
    """How a source's staged rows land in one final table: the table, its natural key, and for
    child rows the parent whose set they replace. The SQL is generated from it in
    etl/pipeline/load.py, the one place final tables are written."""

    table: Table
    key: tuple[str, ...]
    # Child rows replace the parent's set: rows of a loaded parent that are no longer staged go.
    parent: tuple[str, str, str] | None = None  # (parent staged table, parent key column, our fk column)
    derived: tuple[str, ...] = ()  # columns computed after the load (after_load), never staged

    @property
    def name(self) -> str:
        return self.table.name


@dataclass(frozen=True)
class MappedWit:
    name: str
    hierarchy_level: int


@dataclass(frozen=True)
class MappedStatus:
    name: str
    category: str


@dataclass
class TenantMappings:
    """Everything a transform needs, loaded once per batch. Lookups are case-insensitive; an
    integration-specific mapping wins over the tenant-wide one."""

    wits: dict[str, MappedWit] = field(default_factory=dict)
    statuses: dict[str, MappedStatus] = field(default_factory=dict)
    # workflow: normalized status name -> step position; commitment and done positions
    step_positions: dict[str, int] = field(default_factory=dict)
    commitment_position: int | None = None
    done_position: int | None = None

    def wit_for(self, source_name: str | None) -> MappedWit | None:
        return self.wits.get((source_name or "").strip().lower())

    def status_for(self, source_name: str | None) -> MappedStatus | None:
        return self.statuses.get((source_name or "").strip().lower())
