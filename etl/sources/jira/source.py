"""Jira source: Cloud and Data Center issues with their full changelogs."""
from __future__ import annotations

from datetime import datetime

from etl.config import get_settings
from etl.models import WorkItem, WorkItemTransition
from etl.sources.base import Connector, LoadSpec, Source, TransformContext, TransformResult
from etl.sources.jira import checks
from etl.sources.jira.client import JiraClient
from etl.sources.jira.decode import decode_issue
from etl.sources.jira.streams import ISSUE, STREAMS
from etl.sources.jira.transform import transform_issues


class JiraConnector(Connector):
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

    def check_connection(self, within: float) -> dict:
        self.client.http.limit_total_time(within)
        return checks.check_connection(self.client)

    def close(self) -> None:
        self.client.close()


class JiraSource(Source):
    provider = "jira"
    entity_types = (ISSUE,)
    stream_specs = STREAMS
    load_specs = [
        LoadSpec(WorkItem.__table__, ("tenant_id", "integration_id", "external_id"), entity_type=ISSUE),
        LoadSpec(WorkItemTransition.__table__, ("tenant_id", "integration_id", "external_id"),
                 parent=("work_items", "external_id", "work_item_external_id")),
    ]

    def streams(self, integration, entity_types: list[str] | None) -> list[str]:
        self._check_entity_types(entity_types, "Jira")
        return [spec.name for spec in self.stream_specs if not entity_types or spec.entity_type in entity_types]

    def first_cursor(self, stream: str, since: datetime | None) -> dict:
        return {"since_ms": int(since.timestamp() * 1000) if since else None}

    def connect(self, integration, credentials: dict) -> JiraConnector:
        return JiraConnector(integration, credentials)

    def transform(self, entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
        return transform_issues(raw, ctx)

    def decode_payload(self, entity_type: str, text: str, ctx: TransformContext) -> dict:
        if entity_type != ISSUE:
            return super().decode_payload(entity_type, text, ctx)
        return decode_issue(text, ctx.settings)

    def validate_settings(self, credentials: dict, settings: dict) -> None:
        checks.validate_settings(credentials, settings)

    def identity_problem(self, entity_type: str, external_id: str, payload: dict) -> tuple[tuple, str] | None:
        return checks.identity_problem(entity_type, external_id, payload)


SOURCE = JiraSource()
