"""The Jira transform on hand-made issues, for what the fake does not generate: a changelog written
in a zone whose UTC offset changes (daylight saving), and timestamps Jira would never send."""
from __future__ import annotations

import uuid

from etl.sources.base import MappedStatus, TenantMappings, TransformContext
from etl.sources.jira.transform import transform_issues


def context() -> TransformContext:
    """The default workflow: To Do -> In Progress (commitment point) -> Done."""
    mappings = TenantMappings(
        statuses={"to do": MappedStatus("To Do", "to_do"), "in progress": MappedStatus("In Progress", "in_progress"),
                  "done": MappedStatus("Done", "done")},
        step_positions={"To Do": 0, "In Progress": 1, "Done": 2}, commitment_position=1, done_position=2)
    return TransformContext(uuid.uuid4(), uuid.uuid4(), "https://acme.atlassian.net", {}, mappings)


def history(hid: str, created: str, from_status: str, to_status: str) -> dict:
    return {"id": hid, "created": created, "author": {"displayName": "Ada"},
            "items": [{"field": "status", "fieldId": "status", "fromString": from_status, "toString": to_status}]}


def issue(created: str, histories: list[dict], resolved: str | None = None) -> dict:
    return {"id": "10001", "key": "ABC-1", "fields": {
        "summary": "fix it", "issuetype": {"name": "Story", "hierarchyLevel": 0},
        "status": {"name": "Done", "statusCategory": {"key": "done"}}, "project": {"key": "ABC"},
        "created": created, "updated": created, "resolutiondate": resolved},
        "changelog": {"histories": histories}}


def test_transitions_across_the_autumn_clock_change_keep_their_order():
    # Paris, 2026-10-25: 02:30+02:00 (00:30 UTC) comes before 02:10+01:00 (01:10 UTC), although
    # its local time reads later.
    raw = issue("2026-10-24T09:00:00.000+0200", [
        history("2", "2026-10-25T02:10:00.000+0100", "In Progress", "Done"),
        history("1", "2026-10-25T02:30:00.000+0200", "To Do", "In Progress"),
    ], resolved="2026-10-25T02:10:00.000+0100")
    result = transform_issues([(1, "ABC-1", raw)], context())
    assert result.failures == {}
    moves = [(t["from_status"], t["to_status"], t["transitioned_at"]) for t in result.rows["work_item_transitions"]]
    assert moves == [("To Do", "In Progress", "2026-10-25T00:30:00+00:00"),
                     ("In Progress", "Done", "2026-10-25T01:10:00+00:00")]
    item = result.rows["work_items"][0]
    assert item["cycle_time_seconds"] == 40 * 60  # In Progress at 00:30 UTC, Done at 01:10 UTC
    assert item["lead_time_seconds"] == (18 * 60 + 10) * 60  # 07:00 UTC on the 24th to 01:10 UTC on the 25th


def test_a_timestamp_without_time_or_offset_fails_that_issue_alone():
    good = issue("2026-01-05T09:00:00.000+0000", [])
    for bad in ("2026-01-05", "2026-01-05T09:00:00.000", "yesterday"):
        result = transform_issues([(1, "ABC-1", issue(bad, [])), (2, "ABC-2", good)], context())
        assert list(result.failures) == [1] and result.ok_raw_ids == [2], bad
        assert "not a Jira timestamp" in result.failures[1] and repr(bad) in result.failures[1]
