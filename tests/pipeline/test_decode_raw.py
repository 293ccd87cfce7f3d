"""The transform stage reads raw payloads as JSON text and lets the source decode them
(Source.decode_payload): on real PostgreSQL, the rows and failures are those of the payloads read
as jsonb and parsed in full, as the stage did before, for generated issues and malformed ones."""
from __future__ import annotations

import copy

import orjson
from sqlalchemy import text

from etl.pipeline.raw import IN_BATCH, store_records
from etl.pipeline.transform import transform_raw
from etl.sources.base import Record
from etl.sources.jira.source import SOURCE
from etl.sources.jira.transform import transform_issues
from tests.scopes import session_scope
from tests.sources.jira.test_transform_unit import context

SP = "customfield_10016"


def odd_issues(good: dict) -> list[dict]:
    """Variants of a generated issue the transform fails or reads in unusual ways. 1e20 is printed
    by jsonb as an integer past 64 bits, which the subset decoder leaves to the full parse."""
    odd = []
    for change in ({"fields": None}, {"changelog": {"histories": "x"}}, {"changelog": None}, {"id": 1e20},
                   {"key": None}):
        odd.append({**copy.deepcopy(good), **change})
    for name, value in (("status", None), ("created", "yesterday"), ("labels", "ab"), (SP, "3.5"), (SP, "x"),
                        (SP, 1e20), ("issuetype", {"name": "Task", "hierarchyLevel": 1e20}), ("parent", [])):
        issue = copy.deepcopy(good)
        issue["fields"][name] = value
        odd.append(issue)
    items = copy.deepcopy(good)
    for history in items["changelog"]["histories"]:
        history["items"] = None
    odd.append(items)
    return odd


def test_the_stage_decodes_text_to_the_outcome_of_the_full_jsonb_parse(jira_integration):
    tenant_id, _, integration_id, fake = jira_integration(issues=300, seed=7)
    issues = [fake.issue(key) for key in fake.issue_keys()]
    issues += odd_issues(issues[0])
    records = [Record("jira_issue", f"raw-{n}", issue) for n, issue in enumerate(issues)]
    ctx = context({"story_points_field": SP})
    with session_scope() as s:
        ids, _ = store_records(s, tenant_id, integration_id, records, IN_BATCH)
    with session_scope() as s:
        decoded = transform_raw(s, SOURCE, ids, tenant_id, ctx)
        parsed = s.execute(text("SELECT id, external_id, raw_data FROM raw_extraction_data "
                                "WHERE id = ANY(:ids) ORDER BY id"), {"ids": ids}).all()
    full = transform_issues([tuple(row) for row in parsed], ctx)

    assert isinstance(parsed[0][2], dict)  # jsonb, parsed by psycopg2
    assert decoded == full
    assert len(full.ok_raw_ids) > 300 and len(full.failures) >= 5
    # jsonb printed 1e20 as 100000000000000000000: the full parse's float, not msgspec's int
    assert "1e+20" in {row["external_id"] for row in decoded.rows["work_items"]}


def test_a_payload_no_parser_can_hold_fails_alone(jira_integration):
    """JSONB stores 1e400 (as 401 digits); orjson refuses it. That issue fails with its reason, the
    rest of the batch transforms (before, the whole batch's transform raised, on every retry)."""
    tenant_id, _, integration_id, fake = jira_integration(issues=5, seed=7)
    issues = [fake.issue(key) for key in fake.issue_keys()]
    huge = orjson.dumps({**issues[0], "id": "huge"}).replace(f'"{SP}":'.encode(), f'"{SP}":1e400,"was":'.encode(), 1)
    assert b"1e400" in huge
    records = [Record("jira_issue", f"raw-{n}", issue) for n, issue in enumerate(issues)]
    records.append(Record("jira_issue", "raw-huge", None, text=huge))
    with session_scope() as s:
        ids, _ = store_records(s, tenant_id, integration_id, records, IN_BATCH)
    with session_scope() as s:
        result = transform_raw(s, SOURCE, ids, tenant_id, context({"story_points_field": SP}))
    assert len(result.ok_raw_ids) == len(issues)
    (error,) = result.failures.values()
    assert error.startswith("the stored payload cannot be decoded: number is infinity")
