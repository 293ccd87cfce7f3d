"""A Jira search page split into its issues' text (etl.sources.jira.page) says exactly what the
parsed page says, and an issue of unexpected shape takes the parsed path with its old errors."""
import orjson
import pytest

from etl.fakes.jira import FakeJira
from etl.pipeline.raw import stored_text
from etl.sources.base import Record
from etl.sources.http import parse_json
from etl.sources.jira.client import _completed, _is_truncated, history_order
from etl.sources.jira.page import IssueText, split_changelog_page, split_search_page


@pytest.fixture(scope="module")
def fake_page() -> bytes:
    import httpx

    fake = FakeJira(issues=300, projects=("BEN",), seed=7)
    fake.serve()
    try:
        resp = httpx.get(fake.url + "/rest/api/3/search/jql", auth=(fake.email, fake.token),
                         params={"jql": "project = BEN ORDER BY updated ASC, key ASC", "fields": "*all",
                                 "expand": "changelog", "maxResults": 100})
        resp.raise_for_status()
        return resp.content
    finally:
        fake.stop()


def test_each_issue_text_is_the_issue_and_its_head_says_what_the_parsed_issue_says(fake_page):
    parsed = parse_json(fake_page)
    split = split_search_page(fake_page)
    assert {k: v for k, v in split.items() if k != "issues"} == {k: v for k, v in parsed.items() if k != "issues"}
    assert len(split["issues"]) == len(parsed["issues"]) == 100
    for text, issue in zip(split["issues"], parsed["issues"]):
        assert isinstance(text, IssueText)
        assert orjson.loads(text.text) == issue
        assert (text.id, text.key, text.updated) == (issue["id"], issue["key"], issue["fields"]["updated"])
        assert text.changelog_truncated == _is_truncated(issue.get("changelog"))


def test_an_issue_of_unexpected_shape_is_parsed_as_before():
    odd = [None, {"key": "A-1"}, {"id": "1", "fields": []}, {"id": "2", "changelog": {"histories": None}},
           {"id": "3", "changelog": {"total": 5, "histories": {"not": "a list"}}}]
    page = orjson.dumps({"isLast": True, "issues": odd})
    split = split_search_page(page)
    assert split["issues"][:3] == odd[:3]  # parsed objects, not texts
    assert split["issues"][4] == odd[4]
    assert isinstance(split["issues"][3], IssueText) and not split["issues"][3].changelog_truncated


@pytest.mark.parametrize("page", [b'{"isLast": true}', b'{"isLast": true, "issues": null}', b"[1, 2]", b'"x"'])
def test_a_page_without_its_issue_list_is_parsed_whole_for_the_paginator_to_refuse(page):
    assert split_search_page(page) == parse_json(page)


@pytest.mark.parametrize("page", [b'{"isLast": true, "issues": [{"id": "1"', b'{"issues": [{"id": "1", "k": "\xff"}]}'])
def test_a_cut_short_or_non_utf8_page_is_not_json(page):
    with pytest.raises(orjson.JSONDecodeError):
        split_search_page(page)


def test_a_lone_surrogate_becomes_a_replacement_character_and_a_nul_is_not_stored():
    page = b'{"isLast": true, "issues": [{"id": "1", "fields": {"summary": "cut \\ud83d here \\u0000, kept \\\\u0000"}}]}'
    issue = split_search_page(page)["issues"][0]
    assert orjson.loads(issue.text)["fields"]["summary"] == parse_json(page)["issues"][0]["fields"]["summary"]
    stored = stored_text(Record("issue", "1", None, text=issue.text))
    assert orjson.loads(stored)["fields"]["summary"] == "cut \ufffd here , kept \\u0000"


def test_a_changelog_completed_in_the_text_is_the_one_the_parsed_path_builds():
    issue = {"id": "7", "key": "A-7", "fields": {"updated": "2026-01-01T00:00:00.000+0000"},
             "changelog": {"startAt": 0, "maxResults": 1, "total": 3, "histories": [{"id": "3", "created": "c"}]}}
    histories = [{"id": "3", "created": "c", "items": []}, {"id": "10", "created": "a"}, {"id": "2", "created": "a"}]
    text = split_search_page(orjson.dumps({"isLast": True, "issues": [issue]}))["issues"][0]
    bulk = split_changelog_page(orjson.dumps({"issueChangeLogs": [{"issueId": "7", "changeHistories": histories}]}))
    assert text.changelog_truncated
    completed = _completed(text, sorted(bulk["issueChangeLogs"][0]["changeHistories"], key=history_order))

    parsed = _completed(dict(issue), sorted(histories, key=history_order))
    assert isinstance(completed, IssueText) and not completed.changelog_truncated
    assert orjson.loads(completed.text) == parsed
    assert [h["id"] for h in parsed["changelog"]["histories"]] == ["2", "10", "3"]


@pytest.mark.parametrize("entries", [[{"issueId": "7", "changeHistories": None}], [{"issueId": "7", "changeHistories": [1]}],
                                     [{"changeHistories": []}], "not a list"])
def test_a_bulkfetch_page_of_unexpected_shape_is_parsed_whole(entries):
    page = orjson.dumps({"issueChangeLogs": entries})
    assert split_changelog_page(page) == parse_json(page)
