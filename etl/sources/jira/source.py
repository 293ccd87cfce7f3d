"""Jira source: Cloud and Data Center issues with their full changelogs."""
from __future__ import annotations

from datetime import datetime

from etl.config import get_settings
from etl.models import WorkItem, WorkItemTransition
from etl.sources.base import LoadSpec, TransformContext, TransformResult
from etl.sources.jira.client import ISSUE, JiraClient
from etl.sources.jira.transform import transform_issues


class JiraConnector:
    def __init__(self, integration, credentials: dict):
        settings = get_settings()
        self.client = JiraClient(integration.base_url, credentials, integration.settings,
                                 page_size=settings.jira_page_size, timeout=settings.http_timeout)

    def fetch_page(self, stream: str, cursor: dict, state=None):
        return self.client.search_page(cursor)

    def list_ids(self, stream: str):
        """Every issue id at the source (reconciliation of deletions, etl.ops.reconcile)."""
        return self.client.list_issue_ids()

    def confirm_missing(self, ids: list[str]) -> set[str]:
        """Of ids missing from a listing, those really gone (deleted, or out of scope)."""
        return {i for i in ids if not self.client.issue_in_scope(i)}

    def close(self) -> None:
        self.client.close()


class JiraSource:
    provider = "jira"
    stream_names = (ISSUE,)
    load_specs = [
        LoadSpec(WorkItem.__table__, ("tenant_id", "integration_id", "external_id")),
        LoadSpec(WorkItemTransition.__table__, ("tenant_id", "integration_id", "external_id"),
                 parent=("work_items", "external_id", "work_item_external_id")),
    ]

    def streams(self, integration, entities: list[str] | None) -> list[str]:
        unknown = set(entities or ()) - set(self.stream_names)
        if unknown:
            raise ValueError(f"unknown entities {sorted(unknown)}; a Jira integration has {list(self.stream_names)}")
        return [s for s in self.stream_names if not entities or s in entities]

    def first_cursor(self, stream: str, since: datetime | None) -> dict:
        return {"since_ms": int(since.timestamp() * 1000) if since else None}

    def reconcile_table(self, stream: str):
        """The final table whose external ids are this stream's ids (etl.ops.reconcile)."""
        return WorkItem.__table__

    def connect(self, integration, credentials: dict) -> JiraConnector:
        return JiraConnector(integration, credentials)

    def transform(self, entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
        return transform_issues(raw, ctx)


SOURCE = JiraSource()
