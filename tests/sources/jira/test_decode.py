"""The Jira issue decoder (etl.sources.jira.decode) against the full parse it replaces: for every
issue, well-formed or not, the transform must give the same rows and the same failures over the
decoded subset as over orjson.loads of the whole text. Pure functions: no database."""
from __future__ import annotations

import copy
import itertools

import orjson
import pytest

from etl.fakes.jira import FakeJira
from etl.pipeline.raw import serialize
from etl.sources.base import TransformResult
from etl.sources.github.source import SOURCE as GITHUB
from etl.sources.jira.decode import decode_issue, issue_decoder
from etl.sources.jira.source import SOURCE as JIRA
from etl.sources.jira.transform import transform_issues
from tests.sources.jira.test_transform_unit import context, history, issue

SP = "customfield_10016"
SETTINGS = [{"story_points_field": SP}, {}, {"story_points_field": ""}, {"story_points_field": "status"},
            {"story_points_field": "labels"}, {"story_points_field": "summary"}, {"story_points_field": 7}]

# Integers past 64 bits: orjson gives a float, msgspec an int. Written into the JSON text by hand
# (orjson cannot serialize them); PostgreSQL's jsonb prints a large float (1e20) this way.
BIG, NEG_BIG = "100000000000000000000", "-9223372036854775809"
MISSING = object()
ODD_VALUES = [MISSING, None, "", "x", "status", "Done", 0, 1, -1, 2.5, True, False, [], ["a", 1], [None],
              [[1]], {}, {"name": "Bug"}, {"key": "ABC-9", "name": "x", "displayName": "D"},
              {"fields": {"issuetype": {"hierarchyLevel": 1}}}, "2025-09-05T10:00:00.000+0000",
              "2025-09-05", 1e300, 18446744073709551615, "__BIG__", "__NEG_BIG__", ["__BIG__"],
              {"x": "__BIG__"}, "\u00e9\u4e2d\U0001f600", "a\\u0000b"]


def both_ways(texts: list[str], settings: dict) -> tuple[TransformResult, TransformResult]:
    """The transform's result over the decoded subsets and over the full parses."""
    ctx = context(settings)
    subset = [(n, str(n), decode_issue(text, ctx.settings)) for n, text in enumerate(texts, 1)]
    full = [(n, str(n), orjson.loads(text)) for n, text in enumerate(texts, 1)]
    return transform_issues(subset, ctx), transform_issues(full, ctx)


def as_text(payload) -> str:
    text = orjson.dumps(payload).decode()
    return text.replace('"__BIG__"', BIG).replace('"__NEG_BIG__"', NEG_BIG)


def base_issue() -> dict:
    """An issue with every field the transform reads, so that each can be made odd in turn."""
    doc = issue(histories=[history("1", "2025-09-02T10:00:00.000+0200", "To Do", "In Progress"),
                           history("2", "2025-09-04T10:00:00.000+0000", "In Progress", "Done")],
                priority={"name": "High", "id": "2"}, assignee={"displayName": "Ada", "accountId": "a"},
                reporter={"name": "bob", "displayName": None}, labels=["api", "ux"], **{SP: 3})
    doc["fields"]["parent"] = {"key": "ABC-0", "fields": {"issuetype": {"hierarchyLevel": 1, "name": "Epic"}}}
    doc["changelog"]["histories"][0]["items"].append({"field": "assignee", "fromString": None, "toString": "Ada"})
    doc["expand"] = "changelog"
    return doc


def paths(doc, prefix=()) -> list[tuple]:
    """Every path to a value in `doc`, containers included."""
    out = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        out.append(prefix + (key,))
        out += paths(value, prefix + (key,))
    return out


def with_value(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    if value is MISSING:
        del target[last]
    else:
        target[last] = copy.deepcopy(value)
    return doc


@pytest.fixture(scope="module")
def fake_texts() -> list[str]:
    """2,000 generated issues as the raw layer stores them, a few of them malformed at the source."""
    fake = FakeJira(issues=2000, projects=("BEN",), seed=7)
    keys = fake.issue_keys()
    for key in keys[::97]:
        fake.make_malformed(key)
    return [serialize(fake.issue(key)).decode() for key in keys]


@pytest.mark.parametrize("settings", SETTINGS[:3])
def test_generated_issues_transform_alike_decoded_or_parsed_in_full(fake_texts, settings):
    subset, full = both_ways(fake_texts, settings)

    assert subset == full
    assert len(full.ok_raw_ids) > 1900 and full.failures  # both outcomes compared
    assert len(full.rows["work_item_transitions"]) > 2000


def test_generated_issues_take_the_subset_not_the_full_parse(fake_texts):
    decoded = [decode_issue(text, {"story_points_field": SP}) for text in fake_texts]

    assert all("expand" not in d and "description" not in d["fields"] for d in decoded)
    assert sum(SP in d["fields"] for d in decoded) > 100


def test_every_field_made_odd_transforms_alike():
    """Each path of an issue (read by the transform or not) missing or holding an odd value: the
    same rows, or the same failure message, both ways."""
    base = base_issue()
    cases = [as_text(with_value(base, path, value)) for path, value in itertools.product(paths(base), ODD_VALUES)]
    for settings in SETTINGS:
        subset, full = both_ways(cases, settings)
        assert subset == full, settings
    assert full.failures and full.ok_raw_ids


def test_change_without_field_id_is_told_from_a_null_field_id():
    base = base_issue()
    change = base["changelog"]["histories"][1]["items"][0]
    no_id, null_id = copy.deepcopy(base), copy.deepcopy(base)
    del no_id["changelog"]["histories"][1]["items"][0]["fieldId"]
    null_id["changelog"]["histories"][1]["items"][0]["fieldId"] = None
    assert change["field"] == "status"

    subset, full = both_ways([as_text(no_id), as_text(null_id)], {})

    assert subset == full
    assert [t["work_item_key"] for t in full.rows["work_item_transitions"]].count("ABC-1") == 3


@pytest.mark.parametrize("odd", [
    {"changelog": {"histories": "x"}}, {"changelog": {"histories": [{"items": 3}]}},
    {"changelog": {"histories": [{"items": [None]}]}}, {"changelog": []}, {"fields": []},
    {"key": ["ABC", 1]}, {"id": "__BIG__"}, {"labels_in_fields": {"a": 1}},
])
def test_a_shape_the_subset_does_not_describe_is_parsed_in_full(odd):
    doc = base_issue()
    if "labels_in_fields" in odd:
        doc["fields"]["labels"] = odd["labels_in_fields"]
    else:
        doc.update(odd)
    text = as_text(doc)

    assert decode_issue(text, {"story_points_field": SP}) == orjson.loads(text)


def test_texts_that_are_not_an_issue_fail_as_the_full_parse_does():
    for text in ("[]", "3", "null", '"x"'):
        assert decode_issue(text, {}) == orjson.loads(text)
    with pytest.raises(orjson.JSONDecodeError):
        decode_issue('{"key": "A-1", "fields": {"summary": "\\ud83d"}}', {})
    with pytest.raises(orjson.JSONDecodeError):
        decode_issue('{"key": "A-1"', {})


def test_sources_decode_their_payloads():
    text = as_text(base_issue())
    ctx = context({"story_points_field": SP})

    assert JIRA.decode_payload("jira_issue", text, ctx) == decode_issue(text, ctx.settings)
    assert "expand" not in JIRA.decode_payload("jira_issue", text, ctx)
    assert GITHUB.decode_payload("github_pull_request", text, ctx) == orjson.loads(text)


def test_decoders_are_kept_per_story_points_field_within_a_bound():
    issue_decoder.cache_clear()
    for n in range(100):
        decode_issue("{}", {"story_points_field": f"customfield_{n}"})
    decode_issue("{}", {"story_points_field": "customfield_99"})

    info = issue_decoder.cache_info()
    assert info.currsize == info.maxsize < 100 and info.hits == 1
