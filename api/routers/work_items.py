"""Work items of the caller's tenant, as loaded by the pipeline."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import PageDep, ReadSessionDep, TenantId, UtcDateTime, paginate
from api.schemas.common import Message, Page
from api.schemas.pull_requests import PullRequestLink
from api.schemas.work_items import Transition, WorkItem, WorkItemDetail
from etl.errors import NotFound
from etl.models import PullRequest as PullRequestRow
from etl.models import WorkItem as WorkItemRow
from etl.models import WorkItemTransition

router = APIRouter(prefix="/work-items", tags=["work items"])


@router.get("", response_model=Page[WorkItem], summary="Work items, most recently updated first",
            responses={422: {"model": Message, "description": "a filter or cursor that is not valid"}})
def list_work_items(
    session: ReadSessionDep,
    tenant_id: TenantId,
    page: PageDep,
    project: Annotated[str | None, Query(examples=["ABC"])] = None,
    wit: Annotated[str | None, Query(description="mapped work item type", examples=["Story"])] = None,
    status_category: Annotated[Literal["to_do", "in_progress", "done"] | None, Query()] = None,
    assignee: Annotated[str | None, Query()] = None,
    updated_since: Annotated[UtcDateTime | None, Query(description="ISO 8601, e.g. 2025-01-31T00:00:00Z")] = None,
    include_deleted: Annotated[bool, Query(description="include items deleted at the source")] = False,
    deleted_only: Annotated[bool, Query(description="only items deleted at the source")] = False,
    integration_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[str | None, Query(description="normalized status", examples=["In Progress"])] = None,
    external_id: Annotated[str | None, Query(
        max_length=500, description="the item's id at the source (a Jira issue's `id`): with integration_id, "
                                    "the item a raw record was loaded into", examples=["10042"])] = None,
) -> Page[WorkItem]:
    query = select(WorkItemRow).where(WorkItemRow.tenant_id == tenant_id)
    for column, value in (
        (WorkItemRow.project, project),
        (WorkItemRow.wit, wit),
        (WorkItemRow.status_category, status_category),
        (WorkItemRow.assignee, assignee),
        (WorkItemRow.integration_id, integration_id),
        (WorkItemRow.status, status),
        (WorkItemRow.external_id, external_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if updated_since is not None:
        query = query.where(WorkItemRow.updated_at >= updated_since)
    if deleted_only:
        query = query.where(WorkItemRow.deleted_at.is_not(None))
    elif not include_deleted:
        query = query.where(WorkItemRow.deleted_at.is_(None))
    rows, next_cursor = paginate(session, query, WorkItemRow.updated_at, WorkItemRow.id, page)
    return Page[WorkItem](items=[WorkItem.model_validate(row) for row in rows], next=next_cursor)


@router.get(
    "/{key}",
    response_model=WorkItemDetail,
    summary="One work item by its key, with its status transitions in time order",
    responses={404: {"model": Message}},
)
def get_work_item(
    key: str,
    session: ReadSessionDep,
    tenant_id: TenantId,
    integration_id: Annotated[
        uuid.UUID | None, Query(description="only needed when two integrations have an item with this key")
    ] = None,
) -> WorkItemDetail:
    query = select(WorkItemRow).where(WorkItemRow.tenant_id == tenant_id, WorkItemRow.key == key)
    if integration_id is not None:
        query = query.where(WorkItemRow.integration_id == integration_id)
    # A live item before a deleted one with the same key; then the most recently loaded.
    item = session.scalar(query.order_by(WorkItemRow.deleted_at.desc().nulls_first(), WorkItemRow.id.desc()).limit(1))
    if item is None:
        raise NotFound(f"work item {key} not found")
    transitions = session.scalars(
        select(WorkItemTransition)
        .where(
            WorkItemTransition.tenant_id == tenant_id,
            WorkItemTransition.integration_id == item.integration_id,
            WorkItemTransition.work_item_external_id == item.external_id,
        )
        .order_by(WorkItemTransition.transitioned_at, WorkItemTransition.id)
    )
    linked = session.scalars(
        select(PullRequestRow)
        .where(PullRequestRow.tenant_id == tenant_id, PullRequestRow.deleted_at.is_(None),
               PullRequestRow.work_item_keys.contains([item.key]))
        .order_by(PullRequestRow.created_at)
    )
    return WorkItemDetail.model_validate({
        **WorkItem.model_validate(item).model_dump(),
        "transitions": [Transition.model_validate(t) for t in transitions],
        "pull_requests": [PullRequestLink.model_validate(p) for p in linked],
    })
