"""What an extraction already knows about the source, handed to a connector for one page:
stored HTTP validators (ETag / Last-Modified) and stored object versions. New validators are
collected here and saved in the same transaction as the raw objects they vouch for, so a 304 is
only ever trusted when the data it refers to is stored."""
from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from etl.models import HttpCache, RawExtractionData


class ExtractState:
    def __init__(self, session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID, full: bool = False,
                 stream_etag: str | None = None):
        self.session = session
        # The first page's validator from the last successful sync of this stream (None if full).
        self.stream_etag = None if full else stream_etag
        self.tenant_id = tenant_id
        self.integration_id = integration_id
        self.full = full  # a full sync re-reads everything: no shortcuts
        self.new_validators: dict[str, tuple[str | None, str | None]] = {}

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(etag, last_modified) stored for this URL, or (None, None)."""
        if self.full:
            return None, None
        row = self.session.execute(
            select(HttpCache.etag, HttpCache.last_modified)
            .where(HttpCache.integration_id == self.integration_id, HttpCache.url == url)
        ).first()
        return (row[0], row[1]) if row else (None, None)

    def remember(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if etag or last_modified:
            self.new_validators[url] = (etag, last_modified)

    def stored_versions(self, entity_type: str, external_ids: list[str], field: str = "updated_at") -> dict[str, str]:
        """external id -> the `field` of the stored raw object, for objects stored and processed.
        Lets a connector skip sub-requests for objects whose list entry shows no change."""
        if self.full or not external_ids:
            return {}
        rows = self.session.execute(
            select(RawExtractionData.external_id, RawExtractionData.raw_data[field].astext)
            .where(RawExtractionData.tenant_id == self.tenant_id,
                   RawExtractionData.integration_id == self.integration_id,
                   RawExtractionData.entity_type == entity_type,
                   RawExtractionData.external_id.in_(external_ids),
                   RawExtractionData.processing_status == "completed")
        ).all()
        return {ext: value for ext, value in rows}


def save_validators(session: Session, tenant_id, integration_id, validators: dict) -> None:
    if not validators:
        return
    stmt = insert(HttpCache).values([
        {"integration_id": integration_id, "tenant_id": tenant_id, "url": url, "etag": etag, "last_modified": lm}
        for url, (etag, lm) in validators.items()
    ])
    session.execute(stmt.on_conflict_do_update(
        index_elements=["integration_id", "url"],
        set_={"etag": stmt.excluded.etag, "last_modified": stmt.excluded.last_modified, "updated_at": text("now()")},
    ))
