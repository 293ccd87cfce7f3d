"""What a source package gives the pipeline, and the words used for it.

A *source* is one provider (Jira, GitHub): a package etl/sources/<name>/ with
  client.py     HTTP (auth, requests, paging) through the shared layer etl/sources/http.py;
  streams.py    its entity types and the declared table of its streams (StreamSpec);
  transform.py  raw objects -> final-table rows (pure functions);
  checks.py     settings validation, the connection test, the raw-data API's identity check;
  source.py     SOURCE, a Source (below), and its Connector;
registered by one line in etl/sources/registry.py. Nothing outside the package switches on the
provider name: callers ask `get_source(provider)`.

A *stream* is what a job reads page by page, with its own cursor, batches and watermark: a Jira
search (the integration's JQL), one repository's pull request list. Stream names are stored (on
batches, jobs and sync state): Jira's one stream is `jira_issue` (named after the entity type it
yields), GitHub's are `pulls:<owner>/<repo>`, one per repository (StreamSpec "pulls" per repository).

An *entity type* is what one raw row is (`raw_extraction_data.entity_type`, Record.entity_type):
`jira_issue`, `github_pull_request`, `github_pr_review`, `github_pr_commit`. A stream yields
records of one or more entity types (a repository's pulls stream: each changed pull with its
reviews and commits); a transform works per entity type. A job may be limited to the streams
whose main entity type (StreamSpec.entity_type) is among the ones asked for.
"""
from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Protocol

import orjson
from sqlalchemy import BigInteger, Boolean, Float, Integer, SmallInteger, Table
from sqlalchemy.orm import Session

from etl.sources.http import FatalError


@dataclass
class Record:
    """The envelope every raw object travels in (STYLE.md 6)."""

    entity_type: str
    external_id: str
    payload: dict | None  # None when the object travels as its JSON text
    updated_at: datetime | None = None
    metadata: dict = field(default_factory=dict)  # request URL, page token, fetched_at
    # The object's JSON text as the source sent it, stored as is (etl.sources.jira.page): no
    # parse and re-print for the raw layer. Sources that build their objects leave it None.
    text: bytes | None = None


@dataclass
class Page:
    records: list[Record]
    next_cursor: dict | None  # None: this stream is exhausted
    requests_made: int = 0
    settings_update: dict | None = None  # discovered integration settings to persist
    # On a stream's first page of a complete read: how many records the source says the stream
    # has, to check the sync saw them all (None: the source gives no count).
    source_total: int | None = None
    # Source objects the page listed, when that is not len(records): a GitHub list page's PRs
    # (unchanged ones produce no record; changed ones bring their reviews and commits).
    listed: int | None = None
    # The source's budget is down to the reserve it must keep: the integration pauses this many
    # seconds once the page is stored (GitHub's GraphQL pages cost a point or two each, so the
    # reserve is reached between pages, not within one).
    pause_for: float | None = None


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


@dataclass(frozen=True)
class StreamSpec:
    """A stream declared in a few attributes, the way dlt's endpoint tables and Singer streams are
    (STYLE.md 2); a source's client reads its requests from here.

    name: the stream's name, or for a stream read once per partition (a repository) the prefix of
    `<name>:<partition>`; entity_type: what one record of its listing is; path: the listing's request
    path (placeholders filled by the client, e.g. {repo}); paginator: how a page says where the next
    one is (etl.sources.pagination); replication_key: the record field compared with the watermark;
    records_key: where the records are in a page (None: the page is the list); params: the fixed
    query parameters; reconcile_table: the final table whose external_id are the ids the connector's
    list_ids(stream) gives (deletions, etl.ops.reconcile), None when the stream takes no part."""

    name: str
    entity_type: str
    path: str
    paginator: object
    replication_key: str | None = None
    records_key: str | None = None
    params: dict = field(default_factory=dict)
    reconcile_table: Table | None = None


class Connector(ABC):
    """One source's client bound to one integration's URL, credentials and settings; closed after use."""

    @abstractmethod
    def fetch_page(self, stream: str, cursor: dict, state) -> Page:
        """`state` is an etl.pipeline.extract_state.ExtractState: the versions of stored objects."""

    def list_ids(self, stream: str) -> Iterable[str]:
        """Every id the source still has in the stream (reconciliation of deletions), or an error:
        never a partial listing. Only for streams with a reconcile_table."""
        raise NotImplementedError(f"{type(self).__name__} cannot list the ids of {stream}")

    def confirm_missing(self, ids: list[str]) -> set[str]:
        """Of ids missing from a listing, those really gone. Without a way to ask: all of them."""
        return set(ids)

    @abstractmethod
    def check_connection(self, within: float) -> dict:
        """Whether the credentials and settings work, asked of the source within `within` seconds:
        {"ok": True, "account", "checked"} or {"ok": False, "error", "problem"}. Never raises for
        what the source answers (etl/sources/<name>/checks.py)."""

    @abstractmethod
    def close(self) -> None: ...


class Source(ABC):
    """A provider's source: what the pipeline, the API and the operations ask of it. Optional hooks
    have their defaults here, so callers never probe for them."""

    provider: str
    entity_types: tuple[str, ...]  # the raw entity types its transform knows, the main one first
    stream_specs: tuple[StreamSpec, ...]
    load_specs: list[LoadSpec]  # in load order

    @abstractmethod
    def streams(self, integration, entity_types: list[str] | None) -> list[str]:
        """The integration's stream names, limited to those yielding the given entity types
        (ValueError naming an unknown one)."""

    @abstractmethod
    def first_cursor(self, stream: str, since: datetime | None) -> dict: ...

    @abstractmethod
    def connect(self, integration, credentials: dict) -> Connector:
        """A connector for the integration (FatalError: credentials no request can carry)."""

    @abstractmethod
    def transform(self, entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
        """raw: (raw id, external id, payload) of one entity type."""

    def decode_payload(self, entity_type: str, text: str, ctx: TransformContext) -> dict:
        """A raw object's stored JSON text as the dict its transform reads. Default: all of it; a
        source whose transform reads a small part of large objects may decode only that part, as
        long as its transform gives the same outcome for every input."""
        return orjson.loads(text)

    @abstractmethod
    def validate_settings(self, credentials: dict, settings: dict) -> None:
        """InvalidSettings (etl.sources.checks) naming what is wrong, in the words the API and CLI show."""

    @abstractmethod
    def identity_problem(self, entity_type: str, external_id: str, payload: dict) -> tuple[tuple, str] | None:
        """For raw objects pushed over the API: (where in the record, what is wrong) when the
        external_id disagrees with the payload the transform derives the row's id from."""

    def check_connection(self, integration, credentials: dict, within: float) -> dict:
        """Ask the source whether an integration (saved or not) can work; see Connector.check_connection."""
        try:
            connector = self.connect(integration, credentials)
        except FatalError as exc:  # credentials no request can carry
            return {"ok": False, "problem": "credentials", "error": exc.message}
        try:
            return connector.check_connection(within)
        finally:
            connector.close()

    def after_load(self, session: Session, staged: StagedKeys, tenant_id, integration_id) -> None:
        """Derived columns that span records (GitHub's review counts), after each load. Default: none."""

    def spec_of(self, stream: str) -> StreamSpec:
        name = stream.split(":", 1)[0]
        return next(spec for spec in self.stream_specs if spec.name == name)

    def reconcile_table(self, stream: str) -> Table | None:
        return self.spec_of(stream).reconcile_table

    @property
    def reconciles(self) -> bool:
        """Whether the source can list its ids, so that deletions are found (etl.ops.reconcile)."""
        return any(spec.reconcile_table is not None for spec in self.stream_specs)

    def _check_entity_types(self, entity_types: list[str] | None, what: str) -> None:
        known = [spec.entity_type for spec in self.stream_specs]
        unknown = set(entity_types or ()) - set(known)
        if unknown:
            raise ValueError(f"unknown entities {sorted(unknown)}; a {what} integration has {known}")


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


class StagedKeys(Protocol):
    """What the load reads of a batch's staged rows besides the rows themselves, without parsing
    them in Python: how many rows each table has, and one column's values (the keys to prune by)."""

    def count(self, table: str) -> int | None:
        """The rows staged for `table`; None when the batch staged no such table."""

    def values(self, table: str, column: str) -> list[str]:
        """`column` of every row staged for `table`, as text."""


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
    # The raw entity type one object of which is one row here, with the same external_id (what the
    # consistency audit pairs, etl.ops.audit); None for child rows derived from a parent's object.
    entity_type: str | None = None

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
