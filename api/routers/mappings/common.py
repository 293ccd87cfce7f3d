"""What the mapping routers share (one router per resource in this package: wit hierarchies, wits,
wit mappings, statuses, status mappings, workflows, unmapped values). The checks are in
etl.mappings.rules, which every write runs under the tenant's mapping lock; a change that can alter
work items is committed first, then the affected items are transformed again from the raw layer by
reprocess jobs (the source is not called), and the response says which jobs started."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.schemas.common import Message
from api.schemas.mappings.common import Reprocess, ReprocessFailure, ReprocessJob
from etl.db import tenant_sessionmaker
from etl.errors import Conflict, NotFound
from etl.jobs import reprocess
from etl.mappings import rules
from etl.mappings.impact import Impact
from etl.models import EtlBatch, EtlJob

RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IntegrationFilter = Annotated[uuid.UUID | None, Query(description="only the mappings of this integration")]

NOT_FOUND = {404: {"model": Message, "description": "no such row in this tenant"}}
INVALID = {422: {"model": Message, "description": "the body names something that does not exist or breaks a rule; "
                                                  "the message says what to fix"}}
CONFLICT = {409: {"model": Message, "description": "collides with an existing row, which the message names"}}
IN_USE = {409: {"model": Message, "description": "still used; the message says by what"}}


def find_row(session: Session, model, tenant_id: uuid.UUID, row_id: int, what: str):
    row = session.scalar(select(model).where(model.id == row_id, model.tenant_id == tenant_id))
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


def locked_row(session: Session, model, tenant_id: uuid.UUID, row_id: int, what: str):
    """The row to change, after taking the tenant's mapping lock (all checks run under it)."""
    rules.lock_tenant_mappings(session, tenant_id)
    return find_row(session, model, tenant_id, row_id, what)


def commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # only a write outside the API can race the checks made under the lock
        session.rollback()
        raise Conflict("the change conflicts with a concurrent change of the same mappings; read them again "
                       "and retry") from None


def changes_anything(row, changes: dict) -> bool:
    return any(getattr(row, name) != value for name, value in changes.items())


def commit_and_reprocess(session: Session, tenant_id: uuid.UUID, impact: Impact) -> Reprocess:
    """Commit the change, give the connection back, then start the reprocess jobs it calls for."""
    commit(session)
    session.close()
    sessions = tenant_sessionmaker(tenant_id)
    outcome = reprocess.reprocess_affected(sessions, tenant_id, impact)
    return Reprocess(started=outcome.started, busy=outcome.busy,
                     failed=[ReprocessFailure(**f) for f in outcome.failed],
                     jobs=_started_jobs(sessions, tenant_id, outcome.started))


def _started_jobs(sessions, tenant_id: uuid.UUID, job_ids: list[uuid.UUID]) -> list[ReprocessJob]:
    """Each started job with its integration and the number of raw records its batches hold (fixed
    when the job was created, so read after the start without racing its workers)."""
    if not job_ids:
        return []
    with sessions() as session:
        rows = session.execute(
            select(EtlJob.id, EtlJob.integration_id, func.coalesce(func.sum(func.cardinality(EtlBatch.raw_ids)), 0))
            .outerjoin(EtlBatch, EtlBatch.job_id == EtlJob.id)
            .where(EtlJob.tenant_id == tenant_id, EtlJob.id.in_(job_ids)).group_by(EtlJob.id, EtlJob.integration_id)
        ).all()
    found = {job_id: ReprocessJob(job_id=job_id, integration_id=integration_id, records=int(records))
             for job_id, integration_id, records in rows}
    return [found[job_id] for job_id in job_ids if job_id in found]
