"""GitHub source: pull requests with their reviews and commits, one stream per repository."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from etl.config import get_settings
from etl.models import PrCommit, PrReview, PullRequest
from etl.sources.base import Connector, LoadSpec, Source, StagedKeys, TransformContext, TransformResult
from etl.sources.github import checks
from etl.sources.github.client import GitHubClient
from etl.sources.github.streams import COMMIT, PULL, REVIEW, STREAMS, pull_id, repo_of, stream_name
from etl.sources.github.transform import transform_github

KEY = ("tenant_id", "integration_id", "external_id")

# Review aggregates span records (a PR and reviews loaded in different batches), so they are
# derived in SQL from pr_reviews after each load. The PR author's own reviews do not count.
REFRESH_REVIEW_STATS = text("""
    UPDATE pull_requests p SET
        review_count = s.n,
        first_review_at = s.first,
        time_to_first_review_seconds = extract(epoch FROM s.first - p.created_at)::bigint
    FROM (
        SELECT p2.id, count(r.id) AS n, min(r.submitted_at) AS first
        FROM pull_requests p2
        LEFT JOIN pr_reviews r ON r.tenant_id = p2.tenant_id AND r.integration_id = p2.integration_id
             AND r.pr_external_id = p2.external_id AND r.author IS DISTINCT FROM p2.author
        WHERE p2.tenant_id = :tenant_id AND p2.integration_id = :integration_id AND p2.external_id = ANY(:prs)
        GROUP BY p2.id
    ) s
    WHERE p.id = s.id AND (p.review_count, p.first_review_at) IS DISTINCT FROM (s.n, s.first)
""")


class GitHubConnector(Connector):
    def __init__(self, integration, credentials: dict):
        settings = get_settings()
        self.client = GitHubClient(integration.base_url, credentials["token"], integration.settings,
                                   page_size=settings.github_page_size, timeout=settings.http_timeout,
                                   min_remaining=settings.github_min_remaining)

    def fetch_page(self, stream: str, cursor: dict, state):
        return self.client.pulls_page(cursor["repo"], cursor, state)

    def list_ids(self, stream: str):
        """Every PR of the stream's repository, as pull_requests.external_id (etl.ops.reconcile)."""
        repo = repo_of(stream)
        return [pull_id(repo, n) for n in self.client.list_repo_numbers(repo)]

    def confirm_missing(self, ids: list[str]) -> set[str]:
        """Of PRs missing from a listing, those whose detail answers 404."""
        return {i for i in ids if not self.client.pull_exists(i)}

    def check_connection(self, within: float) -> dict:
        self.client.http.limit_total_time(within)
        return checks.check_connection(self.client)

    def close(self) -> None:
        self.client.close()


class GitHubSource(Source):
    provider = "github"
    entity_types = (PULL, REVIEW, COMMIT)
    stream_specs = STREAMS
    load_specs = [
        LoadSpec(PullRequest.__table__, KEY, entity_type=PULL,
                 derived=("review_count", "first_review_at", "time_to_first_review_seconds")),
        LoadSpec(PrReview.__table__, KEY, entity_type=REVIEW),
        LoadSpec(PrCommit.__table__, KEY, entity_type=COMMIT),
    ]

    def streams(self, integration, entity_types: list[str] | None) -> list[str]:
        """One stream per repository (only pull requests can be asked for: reviews and commits come with them)."""
        self._check_entity_types(entity_types, "GitHub")
        return [stream_name(repo) for repo in integration.settings.get("repos", [])]

    def first_cursor(self, stream: str, since: datetime | None) -> dict:
        return {"repo": repo_of(stream), "since": since.isoformat() if since else None}

    def connect(self, integration, credentials: dict) -> GitHubConnector:
        return GitHubConnector(integration, credentials)

    def transform(self, entity_type: str, raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
        return transform_github(entity_type, raw, ctx)

    def validate_settings(self, credentials: dict, settings: dict) -> None:
        checks.validate_settings(credentials, settings)

    def identity_problem(self, entity_type: str, external_id: str, payload: dict) -> tuple[tuple, str] | None:
        return checks.identity_problem(entity_type, external_id, payload)

    def after_load(self, session: Session, staged: StagedKeys, tenant_id, integration_id) -> None:
        prs = set(staged.values("pull_requests", "external_id")) | set(staged.values("pr_reviews", "pr_external_id"))
        if prs:
            session.execute(REFRESH_REVIEW_STATS, {"tenant_id": str(tenant_id), "integration_id": str(integration_id),
                                                   "prs": sorted(prs)})


SOURCE = GitHubSource()
