"""What an extraction already knows about the source, handed to a connector for one page: the
versions of the objects already stored, so a connector can skip what did not change."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from etl.models import RawExtractionData


class ExtractState:
    def __init__(self, session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID, full: bool = False):
        self.session = session
        self.tenant_id = tenant_id
        self.integration_id = integration_id
        self.full = full  # a full sync re-reads everything: no shortcuts

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

