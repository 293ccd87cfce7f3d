"""Every raw object and every final row of a fixed fake dataset, as a digest: the performance work
(issue 12) changes how rows are written, never what they hold. The digests below were recorded on
the pipeline as it was before that work began; a change of any column of any row changes them.

The fakes are seeded and their clock is fixed, so the same data arrives on every run; what differs
between runs (surrogate ids, tenant and integration ids, load times, the fake's port in URLs) is left
out of the digest."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.scopes import session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")

FAKE_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
JIRA_ISSUES = 300
GITHUB_REPOS = {"acme/api": 40, "acme/web": 25}

# Columns that name this run, not the data: surrogate keys, the tenant's and integration's ids, and
# when a row was written. A raw object's content_hash is left out too: it hashes the payload as
# served, the fake's port included.
RUN_COLUMNS = ("id", "tenant_id", "integration_id", "raw_id", "loaded_at")
FINAL_TABLES = ("work_items", "work_item_transitions", "pull_requests", "pr_reviews", "pr_commits")

# rows:sha256-prefix, recorded on 2026-12-02 at commit 8681b06 (before issue 12's changes); pr_reviews
# and pr_commits on 2026-12-03 at commit dd704af, before pull requests were read through GraphQL.
# The raw:github_* digests were re-recorded then: the raw layer now holds GraphQL nodes (same objects,
# same counts, GraphQL's field names); every final row, from those nodes, is unchanged.
EXPECTED = {
    "jira": {
        "raw:jira_issue": "300:c66ffe89b4b8be48",
        "work_item_transitions": "921:5cb66907431c90f4",
        "work_items": "300:7a091cb43da8e9f5",
    },
    "github": {
        "pull_requests": "65:bd9fd42c1c0f4ea2",
        "pr_commits": "1523:7828ac6cc77e51c5",
        "pr_reviews": "133:432957171adead12",
        "raw:github_pr_commit": "1523:552168dcc1ccdecf",
        "raw:github_pr_review": "133:791f3968a4643cd6",
        "raw:github_pull_request": "65:ed45089595ed13f7",
    },
}


def digests(integration_id, base_url: str) -> dict[str, str]:
    """sha256 of each final table's rows and of the raw objects of each entity type, for one integration."""
    out: dict[str, str] = {}
    with session_scope() as s:
        s.execute(text("SET LOCAL timezone = 'UTC'"))  # timestamps print the same on every machine
        for table in FINAL_TABLES:
            rows = s.execute(text(
                f"SELECT to_jsonb(t) - CAST(:drop AS text[]) FROM {table} t "  # noqa: S608 - fixed names
                "WHERE integration_id = :i ORDER BY external_id"), {"drop": list(RUN_COLUMNS), "i": integration_id})
            out[table] = _digest([row[0] for row in rows], base_url)
        raw = s.execute(text(
            "SELECT entity_type, jsonb_build_object('external_id', external_id, 'raw_data', raw_data, "
            "'status', processing_status, 'error', error_details) "
            "FROM raw_extraction_data WHERE integration_id = :i ORDER BY entity_type, external_id"),
            {"i": integration_id})
        by_type: dict[str, list] = {}
        for entity_type, row in raw:
            by_type.setdefault(entity_type, []).append(row)
        for entity_type, rows in by_type.items():
            out[f"raw:{entity_type}"] = _digest(rows, base_url)
    return {name: value for name, value in out.items() if value}


def _digest(rows: list, base_url: str) -> str:
    if not rows:
        return ""
    body = "\n".join(json.dumps(row, sort_keys=True, ensure_ascii=False) for row in rows)
    body = body.replace(base_url.rstrip("/"), "<fake>")  # the fake's port differs between runs
    return f"{len(rows)}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def test_a_full_jira_sync_writes_exactly_the_recorded_rows(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=JIRA_ISSUES, seed=7, now=FAKE_NOW)
    assert run_sync(tenant_id, integration_id, "full").status == "succeeded"
    assert digests(integration_id, fake.url) == EXPECTED["jira"]


def test_a_full_github_sync_writes_exactly_the_recorded_rows(github_integration):
    tenant_id, _, integration_id, fake = github_integration(repos=GITHUB_REPOS, seed=7, now=FAKE_NOW)
    assert run_sync(tenant_id, integration_id, "full").status == "succeeded"
    assert digests(integration_id, fake.url) == EXPECTED["github"]
