"""A raw Jira issue's JSON text decoded into only what etl.sources.jira.transform reads.

An issue is ~7.6 KB of JSON of which the transform reads a few fields; parsing all of it was a
quarter of the transform worker's CPU (issue 12). msgspec decodes into the TypedDicts below: real
dicts, unknown keys skipped, missing keys left missing, so every `.get()` of the transform answers
as on the full object.

The types are the contract: an issue decodes only if every field the transform reads has a shape
for which the subset gives the same outcome as the whole. Anything else (`items: 3`, histories
that are not a list, a story-points object) is decoded in full with orjson, as the transform stage
did before, so a malformed issue fails with the same message. Keep the types in step with what
transform.py reads: a field read there but missing here would be silently absent.
"""
from functools import lru_cache
from typing import Annotated, Optional, TypedDict, Union

import msgspec
import orjson

# What the transform reads as a value and inspects itself (str() of it, parsing it, a row column,
# an error message quoting it). Not `Any`: msgspec decodes an integer past 64 bits as an int where
# orjson (the full parse) gives a float, and a list or object there would be decoded by the same
# rules inside. Such a value fails these types and the issue takes the full parse.
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Value = Union[str, bool, None, Int64, float]
Labels = Union[list[Value], Value]


class Named(TypedDict, total=False):  # a user or a priority: etl.sources.jira.transform._name
    displayName: Value
    name: Value


class IssueType(TypedDict, total=False):
    name: Value
    hierarchyLevel: Value


class StatusCategory(TypedDict, total=False):
    key: Value


class Status(TypedDict, total=False):
    name: Value
    statusCategory: Optional[StatusCategory]


class ParentIssueType(TypedDict, total=False):
    hierarchyLevel: Value


class ParentFields(TypedDict, total=False):
    issuetype: Optional[ParentIssueType]


class Parent(TypedDict, total=False):
    key: Value
    fields: Optional[ParentFields]


class Project(TypedDict, total=False):
    key: Value


class Change(TypedDict, total=False):
    fieldId: Value
    field: Value
    fromString: Value
    toString: Value


class History(TypedDict, total=False):
    id: Value
    created: Value
    author: Optional[Named]
    items: Optional[list[Change]]


class Changelog(TypedDict, total=False):
    histories: Optional[list[History]]


# fields.*, besides the tenant's story-points field (its id is a setting, so the fields type is
# built per id: fields_type).
FIELDS = {
    "issuetype": Optional[IssueType],
    "status": Optional[Status],
    "created": Value,
    "resolutiondate": Value,
    "updated": Value,
    "parent": Optional[Parent],
    "project": Optional[Project],
    "summary": Value,
    "priority": Optional[Named],
    "assignee": Optional[Named],
    "reporter": Optional[Named],
    "labels": Labels,
}


def fields_type(story_points_field: str | None) -> type:
    """The fields TypedDict with the story-points field. A field id that names one of FIELDS (no
    real tenant's) is typed as a story-points value: an object there then takes the full parse."""
    fields = dict(FIELDS)
    if story_points_field:
        fields[story_points_field] = Value
    return TypedDict("JiraFields", fields, total=False)


def issue_type(story_points_field: str | None) -> type:
    return TypedDict("JiraIssue", {"key": Value, "id": Value, "fields": Optional[fields_type(story_points_field)],
                                   "changelog": Optional[Changelog]}, total=False)


# One decoder per story-points field id; a worker sees a handful of them, the bound is for safety.
@lru_cache(maxsize=64)
def issue_decoder(story_points_field: str | None) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(issue_type(story_points_field))


def story_points_field_of(settings) -> str | None:
    """The field id the transform reads story points from, when it can be a key of the fields
    object: the transform's `fields.get(id)` of anything else finds nothing (or fails) alike on
    the subset and on the whole."""
    field_id = settings.get("story_points_field") if isinstance(settings, dict) else None
    return field_id if isinstance(field_id, str) and field_id else None


def decode_issue(text: str, settings) -> dict:
    """The issue's fields the transform reads; the whole issue when its shape is not the expected one."""
    try:
        return issue_decoder(story_points_field_of(settings)).decode(text)
    except msgspec.MsgspecError:
        return orjson.loads(text)
