"""The raw layer: every extracted object, one row per (integration, entity type, external id).
An unchanged object writes nothing; a changed one replaces its payload and takes the status the
caller gives.

The pipeline's extract writes each object once, already `completed` (issue 12): its batch carries
it through transform and load, and a later write of the wide, TOASTed row for each stage
(`processing`, then `completed`) cost two thirds of the raw table's writes. While its job runs, the
batch (etl_batches.status, raw_ids) is what says how far an object got; a job that ends with
batches unloaded puts their objects back to `pending` (etl.jobs.lifecycle.release_unloaded), so
after every job the status column is exact. Objects stored through the API have no batch: they
are written `pending` and go through `processing` to `completed` when a job processes them."""
from __future__ import annotations

import hashlib
import re
import uuid

import orjson
from psycopg2.extras import execute_values
from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.sources.base import Record

UPSERT = """
INSERT INTO raw_extraction_data
    (tenant_id, integration_id, entity_type, external_id, raw_data, extraction_metadata, content_hash,
     processing_status, processed_at)
VALUES %s
ON CONFLICT (tenant_id, integration_id, entity_type, external_id) DO UPDATE SET
    raw_data = EXCLUDED.raw_data,
    extraction_metadata = EXCLUDED.extraction_metadata,
    content_hash = EXCLUDED.content_hash,
    processing_status = EXCLUDED.processing_status,
    processed_at = EXCLUDED.processed_at,
    error_details = NULL,
    updated_at = now()
WHERE raw_extraction_data.content_hash IS DISTINCT FROM EXCLUDED.content_hash{also}
RETURNING id
"""
# Unchanged objects that never finished processing (a job that died between extract and load left
# them pending) go through transform and load again: the extract rewrites them with its batch's
# status (store_records sends them to the upsert, this makes it write them). Rare: only after a
# job that failed.
IN_BATCH_ALSO = "\n   OR raw_extraction_data.processing_status IN ('pending', 'processing')"

# What the raw layer already holds of a page's objects: one probe of the unique index per object
# (OFFSET 0 keeps each probe a subquery of its own; as `external_id = ANY(...)` the planner, with no
# statistics yet, walked the integration's every raw row: 46 ms a page at 20,000 issues). An
# unchanged object then never reaches PostgreSQL again (issue 12: a re-sync sent every payload, and
# PostgreSQL parsed 7.6 KB of JSON per object only to find its hash unchanged).
KNOWN = """
SELECT k.external_id, r.id, r.content_hash, r.processing_status FROM unnest(%s::text[]) AS k(external_id),
LATERAL (SELECT id, content_hash, processing_status FROM raw_extraction_data
         WHERE tenant_id = %s AND integration_id = %s AND entity_type = %s AND external_id = k.external_id
         OFFSET 0) r
"""
UNFINISHED = ("pending", "processing")


# A NUL character's JSON escape, \u0000, not preceded by an odd run of backslashes: text that
# merely mentions it ("\\u0000" in JSON, e.g. a developer writing about null bytes) is kept.
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def serialize(payload: dict) -> bytes:
    return without_nul(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))


def without_nul(data: bytes) -> bytes:
    # PostgreSQL rejects NUL characters in JSONB (FIELD-NOTES, GitHub section); sources do send them.
    return _NUL_ESCAPE.sub(rb"\1", data) if b"\\u0000" in data else data


def stored_text(rec: Record) -> bytes:
    """What the raw layer stores of a record, and hashes: the JSON text the source sent when the
    record carries it, else its payload printed with sorted keys (stable for its hash)."""
    return without_nul(rec.text) if rec.text is not None else serialize(rec.payload)


def content_hash(serialized: bytes) -> str:
    return hashlib.sha256(serialized).hexdigest()


PENDING, IN_BATCH = "pending", "completed"  # the statuses a stored object is written with


def store_records(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID,
                  records: list[Record], status: str = PENDING) -> tuple[list[int], int]:
    """Upsert a page of records, changed ones written with `status` (IN_BATCH: the batch being
    extracted carries them to their load). Returns (ids to process, number unchanged).

    Unchanged objects that never finished processing (a job that died between extract and load
    left them pending) are processed again: the batch being extracted rewrites them with its
    status; records stored through the API (no batch) only return their ids."""
    rows = _rows(tenant_id, integration_id, records, status)
    if not rows:
        return [], 0
    in_batch = status == IN_BATCH
    cursor = session.connection().connection.cursor()
    try:
        known = _known(cursor, tenant_id, integration_id, rows)
        to_write, to_process = [], []
        for row in rows:
            stored = known.get((row[2], row[3]))
            if stored is None or stored[1] != row[6]:
                to_write.append(row)
            elif stored[2] in UNFINISHED and in_batch:
                to_write.append(row)
            elif stored[2] in UNFINISHED:
                to_process.append(stored[0])
        if to_write:
            # The WHERE clauses stay: another job may have written the same objects meanwhile.
            to_process += [r[0] for r in execute_values(
                cursor, UPSERT.format(also=IN_BATCH_ALSO if in_batch else ""), to_write,
                template=f"(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, {'now()' if in_batch else 'NULL'})",
                page_size=len(to_write), fetch=True)]
    finally:
        cursor.close()
    return to_process, len(rows) - len(to_process)


def _rows(tenant_id, integration_id, records: list[Record], status: str) -> list[tuple]:
    """The upsert's rows, each object once (a page may repeat an object that moved)."""
    rows = []
    seen: set[tuple[str, str]] = set()
    for rec in records:
        if (rec.entity_type, rec.external_id) in seen:
            continue
        seen.add((rec.entity_type, rec.external_id))
        data = stored_text(rec)
        rows.append((str(tenant_id), str(integration_id), rec.entity_type, rec.external_id, data.decode(),
                     orjson.dumps(rec.metadata).decode(), content_hash(data), status))
    return rows


def _known(cursor, tenant_id, integration_id, rows: list[tuple]) -> dict[tuple[str, str], tuple]:
    """(entity type, external id) -> (id, content_hash, processing_status) of the stored ones."""
    by_type: dict[str, list[str]] = {}
    for _, _, etype, ext_id, *_ in rows:
        by_type.setdefault(etype, []).append(ext_id)
    known = {}
    for etype, ext_ids in by_type.items():
        cursor.execute(KNOWN, (ext_ids, str(tenant_id), str(integration_id), etype))
        for ext_id, raw_id, digest, processing_status in cursor.fetchall():
            known[(etype, ext_id)] = (raw_id, digest, processing_status)
    return known


# A batch's raw objects by id, one primary-key probe each (OFFSET 0 keeps each probe a subquery of
# its own). With `id = ANY(:ids)` the planner ANDed the ids' bitmap with a walk of the tenant's every
# raw row through the (tenant_id, ...) unique index, for the row-level-security policy's tenant
# condition (no statistics yet on a first sync): a cost per batch growing with the integration,
# O(N^2) over a sync (issue 12: 2-6 ms a statement at 20,000 issues, three statements a batch; the
# probes take 0.5 ms). An UPDATE by id walks it too, so the stages update only the ids these return,
# which on a sync through the pipeline are none (etl.pipeline.raw writes them `completed`).
_BY_ID = """
    SELECT r.id{columns} FROM unnest(CAST(:ids AS bigint[])) AS k(id),
    LATERAL (SELECT * FROM raw_extraction_data WHERE id = k.id AND {where} OFFSET 0) r
    ORDER BY r.id
"""
# The payload as JSON text, left to the source to decode (Source.decode_payload): the transform
# reads a few fields of each 7.6 KB issue, and parsing all of it was a quarter of its CPU.
_PAYLOADS = text(_BY_ID.format(columns=", r.entity_type, r.external_id, r.raw_data::text AS raw_data",
                               where="tenant_id = :tenant_id"))
_STATUS_IS = text(_BY_ID.format(columns="", where="processing_status = :status"))
_STATUS_IS_NOT = text(_BY_ID.format(columns="", where="processing_status <> :status"))


def payloads(session: Session, ids: list[int], tenant_id: uuid.UUID) -> list:
    """(id, entity_type, external_id, payload as JSON text) of the tenant's raw objects among `ids`, by id."""
    return session.execute(_PAYLOADS, {"ids": ids, "tenant_id": str(tenant_id)}).all()


def ids_with_status(session: Session, ids: list[int], status: str, negate: bool = False) -> list[int]:
    """Those of `ids` whose processing_status is `status` (is not, with negate)."""
    if not ids:
        return []
    return list(session.scalars(_STATUS_IS_NOT if negate else _STATUS_IS, {"ids": ids, "status": status}))
