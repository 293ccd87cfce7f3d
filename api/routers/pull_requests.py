"""Pull requests of the caller's tenant, with reviews, commits and the work items they mention."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import PageDep, ReadSessionDep, TenantId, UtcDateTime, paginate
from api.schemas.common import Message, Page
from api.schemas.pull_requests import Commit, LinkedWorkItem, PullRequest, PullRequestDetail, Review
from etl.errors import NotFound
from etl.models import PrCommit, PrReview
from etl.models import PullRequest as PullRequestRow
from etl.models import WorkItem as WorkItemRow

router = APIRouter(prefix="/pull-requests", tags=["pull requests"])


@router.get("", response_model=Page[PullRequest], summary="Pull requests, most recently updated first",
            responses={422: {"model": Message, "description": "a filter or cursor that is not valid"}})
def list_pull_requests(
    session: ReadSessionDep,
    tenant_id: TenantId,
    page: PageDep,
    repo: Annotated[str | None, Query(examples=["acme/api"])] = None,
    state: Annotated[Literal["open", "closed", "merged"] | None, Query()] = None,
    author: Annotated[str | None, Query()] = None,
    updated_since: Annotated[UtcDateTime | None, Query(description="ISO 8601, e.g. 2025-01-31T00:00:00Z")] = None,
    include_deleted: Annotated[bool, Query(description="include PRs deleted at the source")] = False,
    integration_id: Annotated[uuid.UUID | None, Query()] = None,
    external_id: Annotated[str | None, Query(
        max_length=500, description="`owner/name#number`: with integration_id, the PR a raw record was loaded into",
        examples=["acme/api#42"])] = None,
) -> Page[PullRequest]:
    query = select(PullRequestRow).where(PullRequestRow.tenant_id == tenant_id)
    for column, value in ((PullRequestRow.repo, repo), (PullRequestRow.state, state), (PullRequestRow.author, author),
                          (PullRequestRow.integration_id, integration_id), (PullRequestRow.external_id, external_id)):
        if value is not None:
            query = query.where(column == value)
    if updated_since is not None:
        query = query.where(PullRequestRow.updated_at >= updated_since)
    if not include_deleted:
        query = query.where(PullRequestRow.deleted_at.is_(None))
    rows, next_cursor = paginate(session, query, PullRequestRow.updated_at, PullRequestRow.id, page)
    return Page[PullRequest](items=[PullRequest.model_validate(r) for r in rows], next=next_cursor)


@router.get(
    "/{owner}/{name}/{number}",
    response_model=PullRequestDetail,
    summary="One pull request with its reviews, commits and linked work items",
    responses={404: {"model": Message}},
)
def get_pull_request(owner: str, name: str, number: int, session: ReadSessionDep, tenant_id: TenantId) -> PullRequestDetail:
    repo = f"{owner}/{name}"
    pr = session.scalar(
        select(PullRequestRow)
        .where(PullRequestRow.tenant_id == tenant_id, PullRequestRow.repo == repo, PullRequestRow.number == number)
        .order_by(PullRequestRow.deleted_at.desc().nulls_first(), PullRequestRow.id.desc()).limit(1)
    )
    if pr is None:
        raise NotFound(f"pull request {repo}#{number} not found")
    scope = dict(tenant_id=tenant_id, integration_id=pr.integration_id, pr_external_id=pr.external_id)
    reviews = session.scalars(select(PrReview).filter_by(**scope).order_by(PrReview.submitted_at, PrReview.id))
    commits = session.scalars(select(PrCommit).filter_by(**scope).order_by(PrCommit.committed_at, PrCommit.id))
    items = session.scalars(
        select(WorkItemRow).where(WorkItemRow.tenant_id == tenant_id, WorkItemRow.key.in_(pr.work_item_keys or []),
                                  WorkItemRow.deleted_at.is_(None)).order_by(WorkItemRow.key)
    ) if pr.work_item_keys else []
    return PullRequestDetail.model_validate({
        **PullRequest.model_validate(pr).model_dump(),
        "reviews": [Review.model_validate(r) for r in reviews],
        "commits": [Commit.model_validate(c) for c in commits],
        "work_items": [LinkedWorkItem.model_validate(w) for w in items],
    })
