"""The Jira transform as a plain function, on issues in the shape Jira serves them (the fake Jira's
generated issues, read without serving them, and small hand-made ones): no database, broker or
server, so it runs in seconds. The end-to-end path (tests/pipeline/test_pipeline.py) checks the
same fields once they are loaded."""
from __future__ import annotations

import copy
import uuid
from datetime import datetime

import pytest

from etl.fakes.jira import FakeJira
from etl.mappings.defaults import (
    DEFAULT_STATUS_MAPPINGS,
    DEFAULT_STATUSES,
    DEFAULT_WIT_MAPPINGS,
    DEFAULT_WITS,
    DEFAULT_WORKFLOW,
)
from etl.sources.base import MappedStatus, MappedWit, TenantMappings, TransformContext, TransformError
from etl.sources.jira.transform import transform_issue, transform_issues

BASE_URL = "https://acme.atlassian.net"


def default_mappings() -> TenantMappings:
    """What a new tenant starts with (etl.mappings.defaults), as the transform reads it."""
    return TenantMappings(
        wits={src: MappedWit(wit, DEFAULT_WITS[wit]) for src, wit in DEFAULT_WIT_MAPPINGS.items()},
        statuses={src: MappedStatus(name, DEFAULT_STATUSES[name]) for src, name in DEFAULT_STATUS_MAPPINGS.items()},
        step_positions={name: i for i, (name, _, _) in enumerate(DEFAULT_WORKFLOW)},
        commitment_position=next(i for i, (_, commit, _) in enumerate(DEFAULT_WORKFLOW) if commit),
        done_position=next(i for i, (_, _, done) in enumerate(DEFAULT_WORKFLOW) if done),
    )


def context(settings: dict | None = None) -> TransformContext:
    return TransformContext(uuid.uuid4(), uuid.uuid4(), BASE_URL, settings or {}, default_mappings())


@pytest.fixture(scope="module")
def fake() -> FakeJira:
    return FakeJira(issues=300, projects=("ABC", "XYZ"))


def raw_of(fake: FakeJira, keys: list[str]) -> list[tuple[int, str, dict]]:
    """(raw id, external id, payload) as the transform stage reads them from raw_extraction_data."""
    return [(n, fake.expected(k)["id"], fake.issue(k)) for n, k in enumerate(keys, 1)]


def history(hid: str, at: str, from_status: str, to_status: str) -> dict:
    return {"id": hid, "created": at, "author": {"displayName": "Ada"},
            "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                       "fromString": from_status, "toString": to_status}]}


def issue(status: str = "Done", category: str = "done", issuetype: str = "Story", histories=(),
          resolved: str | None = "2025-09-05T10:00:00.000+0000", **fields) -> dict:
    return {"id": "10001", "key": "ABC-1", "fields": {
        "summary": "fix the login redirect", "issuetype": {"name": issuetype, "hierarchyLevel": 0},
        "status": {"name": status, "statusCategory": {"key": category}}, "project": {"key": "ABC"},
        "created": "2025-09-01T10:00:00.000+0000", "updated": "2025-09-05T10:00:00.000+0000",
        "resolutiondate": resolved, **fields},
        "changelog": {"histories": list(histories)}}


def test_every_generated_issue_becomes_the_work_item_the_source_describes(fake):
    keys = fake.issue_keys()
    ctx = context({"story_points_field": fake.story_points_field})
    result = transform_issues(raw_of(fake, keys), ctx)

    assert result.failures == {}
    assert result.ok_raw_ids == list(range(1, len(keys) + 1))
    items = {row["key"]: row for row in result.rows["work_items"]}
    assert list(items) == keys
    fallback_types = fallback_statuses = 0
    for n, key in enumerate(keys, 1):
        exp, got = fake.expected(key), items[key]
        assert (got["tenant_id"], got["integration_id"]) == (str(ctx.tenant_id), str(ctx.integration_id))
        assert (got["external_id"], got["raw_id"], got["project"], got["title"]) == (
            exp["id"], n, exp["project"], exp["summary"])
        assert (got["source_type"], got["source_status"], got["priority"]) == (
            exp["issuetype"], exp["status"], exp["priority"])
        mapped_type = DEFAULT_WIT_MAPPINGS.get(exp["issuetype"].lower())
        if mapped_type:
            assert (got["wit"], got["hierarchy_level"]) == (mapped_type, DEFAULT_WITS[mapped_type])
        else:  # an unmapped type keeps Jira's name and level
            fallback_types += 1
            assert (got["wit"], got["hierarchy_level"]) == (exp["issuetype"], exp["hierarchy_level"])
        mapped_status = DEFAULT_STATUS_MAPPINGS.get(exp["status"].lower())
        if mapped_status:
            assert (got["status"], got["status_category"]) == (mapped_status, DEFAULT_STATUSES[mapped_status])
        else:  # an unmapped status keeps its name; Jira's statusCategory decides the category
            fallback_statuses += 1
            assert got["status"] == exp["status"]
            assert got["status_category"] == {"new": "to_do", "done": "done"}.get(exp["status_category"], "in_progress")
        assert (got["assignee"], got["reporter"]) == (exp["assignee_display_name"], exp["reporter_display_name"])
        assert (got["parent_key"], sorted(got["labels"]), got["story_points"]) == (
            exp["parent_key"], sorted(exp["labels"]), exp["story_points"])
        assert datetime.fromisoformat(got["created_at"]) == exp["created"]
        assert datetime.fromisoformat(got["updated_at"]) == exp["updated"]
        if exp["resolved"]:
            assert datetime.fromisoformat(got["resolved_at"]) == exp["resolved"]
            assert got["lead_time_seconds"] == int((exp["resolved"] - exp["created"]).total_seconds())
        else:
            assert (got["resolved_at"], got["lead_time_seconds"]) == (None, None)
        assert (got["url"], got["deleted_at"]) == (f"{BASE_URL}/browse/{key}", None)
    assert fallback_types and fallback_statuses, "the generated issues include unmapped types and statuses"


def test_transitions_are_the_status_changes_of_the_changelog_in_time_order(fake):
    keys = fake.issue_keys()[:100]
    result = transform_issues(raw_of(fake, keys), context())
    by_key: dict[str, list[tuple]] = {}
    for t in result.rows["work_item_transitions"]:
        by_key.setdefault(t["work_item_key"], []).append(
            (t["from_status"], t["to_status"], datetime.fromisoformat(t["transitioned_at"])))
        assert t["external_id"].split(":")[1].isdigit() and t["author"]
    assert sum(map(len, by_key.values())) > len(keys), "the generated changelogs have several moves"
    for key in keys:
        assert by_key.get(key, []) == list(fake.expected(key)["transitions"]), key


def test_cycle_time_runs_from_the_commitment_point_to_the_last_entry_into_done():
    moves = [history("1", "2025-09-02T10:00:00.000+0000", "To Do", "In Progress"),
             history("2", "2025-09-03T10:00:00.000+0000", "In Progress", "In Review"),  # In Progress too
             history("3", "2025-09-04T10:00:00.000+0000", "In Review", "Done"),
             history("4", "2025-09-04T11:00:00.000+0000", "Done", "In Progress"),  # reopened
             history("5", "2025-09-05T10:00:00.000+0000", "In Progress", "Done")]
    item, transitions = transform_issue(issue(histories=moves), context())
    assert [(t["from_status"], t["to_status"]) for t in transitions] == [
        ("To Do", "In Progress"), ("In Progress", "In Review"), ("In Review", "Done"), ("Done", "In Progress"),
        ("In Progress", "Done")]
    assert item["cycle_time_seconds"] == 3 * 24 * 3600  # 2nd 10:00 -> 5th 10:00
    assert item["lead_time_seconds"] == 4 * 24 * 3600

    # Only items that are done now have one; one never committed to has none.
    open_item, _ = transform_issue(issue("In Progress", "indeterminate", histories=moves[:2], resolved=None),
                                   context())
    assert (open_item["cycle_time_seconds"], open_item["lead_time_seconds"]) == (None, None)
    skipped, _ = transform_issue(issue(histories=[history("1", "2025-09-02T10:00:00.000+0000", "To Do", "Done")]),
                                 context())
    assert skipped["cycle_time_seconds"] == 0  # Done is past the commitment point: it starts and ends there
    nothing, _ = transform_issue(issue(histories=[]), context())
    assert nothing["cycle_time_seconds"] is None


def test_non_status_changes_are_not_transitions():
    moves = [{"id": "1", "created": "2025-09-02T10:00:00.000+0000", "author": None, "items": [
        {"field": "assignee", "fieldId": "assignee", "fromString": None, "toString": "Ada"},
        {"field": "status", "fieldId": "status", "fromString": "To Do", "toString": "In Progress"}]}]
    _, transitions = transform_issue(issue(histories=moves), context())
    assert [(t["external_id"], t["to_status"], t["author"]) for t in transitions] == [("1:1", "In Progress", None)]


@pytest.mark.parametrize(("status", "category", "expected"), [
    ("Blocked", "indeterminate", "in_progress"), ("Triage", "new", "to_do"), ("Shipped", "done", "done"),
    ("Parked", None, "in_progress"),
])
def test_an_unmapped_status_falls_back_on_jiras_category(status, category, expected):
    item, _ = transform_issue(issue(status, category), context())
    assert (item["source_status"], item["status"], item["status_category"]) == (status, status, expected)


def test_an_unmapped_type_keeps_its_name_and_jiras_hierarchy_level():
    raw = issue(issuetype="Spike")
    raw["fields"]["issuetype"]["hierarchyLevel"] = 1
    item, _ = transform_issue(raw, context())
    assert (item["source_type"], item["wit"], item["hierarchy_level"]) == ("Spike", "Spike", 1)
    mapped, _ = transform_issue(issue(issuetype="BUG"), context())  # mappings match case-insensitively
    assert (mapped["source_type"], mapped["wit"], mapped["hierarchy_level"]) == ("BUG", "Bug", 0)


def test_an_epic_parent_is_the_epic_key():
    raw = issue(parent={"key": "ABC-9", "fields": {"issuetype": {"name": "Epic", "hierarchyLevel": 1}}})
    item, _ = transform_issue(raw, context())
    assert (item["parent_key"], item["epic_key"]) == ("ABC-9", "ABC-9")
    raw = issue(parent={"key": "ABC-8", "fields": {"issuetype": {"name": "Story", "hierarchyLevel": 0}}})
    item, _ = transform_issue(raw, context())
    assert (item["parent_key"], item["epic_key"]) == ("ABC-8", None)


def broken(change) -> dict:
    raw = issue()
    change(raw)
    return raw


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.pop("fields"), "issue has no fields object"),
    (lambda r: r["fields"].update(issuetype=None), "field 'issuetype' is missing"),
    (lambda r: r["fields"].update(status={"statusCategory": {"key": "done"}}), "field 'status' is missing"),
    (lambda r: r["fields"].pop("created"), "field 'created' is missing"),
    (lambda r: r["fields"].update(created="2025-09-01"),
     "field 'created' has '2025-09-01', which is not a Jira timestamp"),
    (lambda r: r["fields"].update(resolutiondate="soon"),
     "field 'resolutiondate' has 'soon', which is not a Jira timestamp"),
    (lambda r: r["changelog"]["histories"].append(history("77", "later", "To Do", "Done")),
     "changelog history 77 has a bad timestamp 'later'"),
])
def test_a_record_that_cannot_be_transformed_raises_transform_error_with_its_reason(change, message):
    with pytest.raises(TransformError) as exc:
        transform_issue(broken(change), context())
    assert str(exc.value) == message


def test_bad_story_points_fail_the_record_and_missing_ones_stay_empty():
    ctx = context({"story_points_field": "customfield_10016"})
    for value, points in (("5", 5.0), (3, 3.0), (None, None), ("", None)):
        assert transform_issue(issue(customfield_10016=value), ctx)[0]["story_points"] == points
    for value in ("five", True, [1]):
        with pytest.raises(TransformError, match="story points in customfield_10016 is .*, not a number"):
            transform_issue(issue(customfield_10016=value), ctx)


def test_a_bad_record_fails_alone_and_the_rest_of_the_page_is_transformed():
    fake = FakeJira(issues=5)
    keys = fake.issue_keys()
    fake.make_malformed(keys[2])  # fields.created "not-a-date", fields.issuetype null
    raw = raw_of(fake, keys)
    raw[3] = (4, raw[3][1], {"id": raw[3][1], "key": keys[3]})
    result = transform_issues(raw, context())
    assert result.failures == {3: "field 'issuetype' is missing",
                               4: "issue has no fields object"}
    assert result.ok_raw_ids == [1, 2, 5]
    assert [row["raw_id"] for row in result.rows["work_items"]] == [1, 2, 5]
    assert {t["work_item_key"] for t in result.rows["work_item_transitions"]} <= {keys[0], keys[1], keys[4]}


def test_an_unexpected_shape_is_reported_with_its_exception():
    raw = issue()
    del raw["key"]
    result = transform_issues([(9, "10001", raw)], context())
    assert result.failures == {9: "unexpected issue shape: KeyError: 'key'"} and result.ok_raw_ids == []


def test_an_out_of_range_integer_is_refused_for_its_record_only():
    too_big, good = issue(issuetype="Spike"), issue(issuetype="Spike")
    too_big["fields"]["issuetype"]["hierarchyLevel"] = 2**31
    text = copy.deepcopy(good)
    text["fields"]["issuetype"]["hierarchyLevel"] = "1"
    result = transform_issues([(1, "10001", too_big), (2, "10001", text), (3, "10001", good)], context())
    assert result.failures == {
        1: "field 'hierarchy_level': 2147483648 is out of range for work_items.hierarchy_level "
           "(-2147483648 to 2147483647)",
        2: "field 'hierarchy_level': '1' is not an integer for work_items.hierarchy_level "
           "(-2147483648 to 2147483647)",
    }
    assert result.ok_raw_ids == [3] and len(result.rows["work_items"]) == 1
