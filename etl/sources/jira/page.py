"""A Jira search page split into its issues' JSON text, without building the issues; a changelog
bulkfetch page split into its histories' text, to complete an issue's changelog in its text.

The raw layer stores each issue as the source sent it, and the extract itself reads only an issue's
id, key, `updated` and whether its embedded changelog is cut short. Parsing a 7 KB issue into Python
objects and printing it back (sorted, for a stable content hash) was half of the extract's CPU
(issue 12); here msgspec keeps every issue as its bytes (msgspec.Raw) and decodes those few fields.
An issue whose shape the fast path does not expect (not an object, `fields` not an object, histories
not a list ...) is parsed in full, so it takes exactly the old path and its errors."""
from __future__ import annotations

from typing import Any

import msgspec
import orjson

from etl.sources.http import parse_json, without_lone_surrogates


class _Changelog(msgspec.Struct):
    total: Any = 0
    histories: list[msgspec.Raw] | None = None


class _Fields(msgspec.Struct):
    updated: Any = None


class _Head(msgspec.Struct):
    """The fields of an issue the extract reads; the rest of its text is skipped unread."""
    id: Any
    key: Any = None
    fields: _Fields | None = None
    changelog: _Changelog | None = None


class _HistoryKey(msgspec.Struct):
    """What a history is sorted by (etl.sources.jira.client.history_order)."""
    created: Any = ""
    id: Any = 0


class _ChangeLogs(msgspec.Struct):
    """An entry of a bulkfetch page: whose histories, and each history's text."""
    issueId: Any
    changeHistories: list[msgspec.Raw] = []


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_HEAD = msgspec.json.Decoder(_Head)
_ANY = msgspec.json.Decoder()
_CHANGELOGS = msgspec.json.Decoder(list[_ChangeLogs])
_HISTORY_KEY = msgspec.json.Decoder(_HistoryKey)


class IssueText:
    """One issue of a page: its JSON text (as the source sent it, lone surrogates made U+FFFD; the
    raw layer drops NUL escapes) and the fields the extract reads."""

    __slots__ = ("text", "id", "key", "updated", "changelog_total", "histories")

    def __init__(self, text: bytes, head: _Head):
        self.text = text
        self.id, self.key = head.id, head.key
        self.updated = head.fields.updated if head.fields else None
        changelog = head.changelog
        self.changelog_total = changelog.total if changelog else 0
        self.histories = len(changelog.histories or ()) if changelog else 0

    @property
    def changelog_truncated(self) -> bool:
        """The embedded changelog holds fewer histories than the issue has."""
        return int(self.changelog_total) > self.histories

    def parsed(self) -> dict:
        return parse_json(self.text)

    def with_histories(self, histories: list[HistoryText]) -> IssueText:
        """The issue with its changelog completed to `histories`, as the changelog the parsed path
        writes ({startAt, maxResults, total, histories}), put in place in the issue's text."""
        parts = _TOP.decode(self.text)
        count = len(histories)
        parts["changelog"] = (b'{"startAt":0,"maxResults":%d,"total":%d,"histories":[%b]}'
                              % (count, count, b",".join(h.text for h in histories)))
        text = b"{" + b",".join(orjson.dumps(key) + b":" + bytes(value) for key, value in parts.items()) + b"}"
        return IssueText(text, _HEAD.decode(text))


class HistoryText:
    """One history of a bulkfetch page: its text and what it is sorted by."""

    __slots__ = ("text", "created", "id")

    def __init__(self, text: bytes):
        self.text = text
        key = _HISTORY_KEY.decode(text)
        self.created, self.id = key.created, key.id

    def parsed(self) -> dict:
        return parse_json(self.text)


def split_search_page(content: bytes, records_key: str = "issues") -> object:
    """The page as `parse_json` gives it, except that its `records_key` list holds an IssueText
    or, for an issue of unexpected shape, the parsed issue. Anything but an object with a list
    there is parsed in full (the paginator then says what is wrong with it)."""
    return _split_or_parse(content, lambda content: _split_list(
        content, records_key, _ITEMS, lambda item: _issue(bytes(item))))


def split_changelog_page(content: bytes) -> object:
    """A bulkfetch page as `parse_json` gives it, except that each of its issueChangeLogs entries is
    {issueId, changeHistories: [HistoryText]}. A page or an entry of any other shape (a history that
    is not an object, changeHistories null ...) is parsed in full, for the old path and errors."""
    return _split_or_parse(content, lambda content: _split_list(
        content, "issueChangeLogs", _CHANGELOGS,
        lambda e: {"issueId": e.issueId, "changeHistories": [HistoryText(bytes(h)) for h in e.changeHistories]}))


def _split_list(content: bytes, key: str, decoder: msgspec.json.Decoder, wrap) -> dict:
    """The object `content`, its `key` list decoded by `decoder` and each item wrapped; its other
    members decoded whole. Raises what msgspec raises, or KeyError without `key`."""
    top = _TOP.decode(content)
    items = decoder.decode(top[key])
    body = {name: _ANY.decode(value) for name, value in top.items() if name != key}
    body[key] = [wrap(item) for item in items]
    return body


def _split_or_parse(content: bytes, split) -> object:
    """`split(content)`; when msgspec refuses the content for a lone surrogate, which orjson
    refuses too, split it with U+FFFD in their place (parse_json's answer); parse_json's answer
    for content of any other shape, or that is not UTF-8 (msgspec does not check what it skips)."""
    try:
        content.decode()
        return split(content)
    except UnicodeDecodeError:
        return parse_json(content)  # raises orjson's error
    except (msgspec.DecodeError, KeyError):  # a ValidationError is a DecodeError
        cleaned = without_lone_surrogates(content)
        if cleaned == content:
            return parse_json(content)
    try:
        return split(cleaned)
    except (msgspec.DecodeError, KeyError):
        return parse_json(cleaned)


def _issue(text: bytes) -> IssueText | object:
    try:
        return IssueText(text, _HEAD.decode(text))
    except msgspec.DecodeError:
        return parse_json(text)
