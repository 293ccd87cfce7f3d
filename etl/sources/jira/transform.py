"""Raw Jira issues -> work_items and work_item_transitions rows, with the tenant's mappings.
Pure functions: no HTTP, no SQL. A record that cannot be transformed raises TransformError."""
from __future__ import annotations

from datetime import datetime, timezone

from etl.models import WorkItem, WorkItemTransition
from etl.sources.base import TenantMappings, TransformContext, TransformError, TransformResult, first_unfit, unfit_value
from etl.sources.jira.client import parse_jira_datetime

# Jira statusCategory keys, used when a status has no mapping (PRODUCT.md 5).
JIRA_CATEGORY_FALLBACK = {"new": "to_do", "done": "done"}


def transform_issues(raw: list[tuple[int, str, dict]], ctx: TransformContext) -> TransformResult:
    result = TransformResult(rows={"work_items": [], "work_item_transitions": []})
    for raw_id, _, issue in raw:
        try:
            item, transitions = transform_issue(issue, ctx)
        except TransformError as exc:
            result.failures[raw_id] = str(exc)
            continue
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.failures[raw_id] = f"unexpected issue shape: {exc.__class__.__name__}: {exc}"
            continue
        problem = unfit_value(WorkItem.__table__, item) or first_unfit(WorkItemTransition.__table__, transitions)
        if problem:
            result.failures[raw_id] = problem
            continue
        item["raw_id"] = raw_id
        result.rows["work_items"].append(item)
        result.rows["work_item_transitions"].extend(transitions)
        result.ok_raw_ids.append(raw_id)
    return result


def _time(fields: dict, name: str, required: bool = False) -> datetime | None:
    value = fields.get(name)
    if value is None:
        if required:
            raise TransformError(f"field {name!r} is missing")
        return None
    try:
        return parse_jira_datetime(value)
    except (ValueError, TypeError):
        raise TransformError(f"field {name!r} has {value!r}, which is not a Jira timestamp") from None


def _name(obj) -> str | None:
    return obj.get("displayName") or obj.get("name") if isinstance(obj, dict) else None


def story_points(fields: dict, field_id: str | None) -> float | None:
    """Numbers or numeric strings; missing stays None (never 0)."""
    if not field_id:
        return None
    value = fields.get(field_id)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TransformError(f"story points in {field_id} is {value!r}, not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TransformError(f"story points in {field_id} is {value!r}, not a number") from None


def status_of(status: dict, mappings: TenantMappings) -> tuple[str, str]:
    """(normalized status, category): the tenant's mapping, else Jira's statusCategory."""
    mapped = mappings.status_for(status.get("name"))
    if mapped:
        return mapped.name, mapped.category
    category_key = (status.get("statusCategory") or {}).get("key")
    return status.get("name"), JIRA_CATEGORY_FALLBACK.get(category_key, "in_progress")


def transform_issue(issue: dict, ctx: TransformContext) -> tuple[dict, list[dict]]:
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise TransformError("issue has no fields object")
    issuetype = fields.get("issuetype")
    if not isinstance(issuetype, dict) or not issuetype.get("name"):
        raise TransformError("field 'issuetype' is missing")
    status = fields.get("status")
    if not isinstance(status, dict) or not status.get("name"):
        raise TransformError("field 'status' is missing")
    key = issue["key"]
    created = _time(fields, "created", required=True)
    resolved = _time(fields, "resolutiondate")

    mapped_wit = ctx.mappings.wit_for(issuetype["name"])
    wit, level = (mapped_wit.name, mapped_wit.hierarchy_level) if mapped_wit else (
        issuetype["name"], issuetype.get("hierarchyLevel"))
    status_name, category = status_of(status, ctx.mappings)

    parent = fields.get("parent") or {}
    parent_key = parent.get("key")
    parent_level = ((parent.get("fields") or {}).get("issuetype") or {}).get("hierarchyLevel")
    transitions = transitions_of(issue, ctx)

    item = {
        "tenant_id": str(ctx.tenant_id),
        "integration_id": str(ctx.integration_id),
        "external_id": str(issue["id"]),
        "key": key,
        "project": (fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0],
        "title": fields.get("summary"),
        "source_type": issuetype["name"],
        "wit": wit,
        "hierarchy_level": level,
        "source_status": status["name"],
        "status": status_name,
        "status_category": category,
        "priority": _name(fields.get("priority")),
        "assignee": _name(fields.get("assignee")),
        "reporter": _name(fields.get("reporter")),
        "parent_key": parent_key,
        "epic_key": parent_key if parent_level == 1 else None,
        "labels": list(fields.get("labels") or []),
        "story_points": story_points(fields, ctx.settings.get("story_points_field")),
        "created_at": created.isoformat(),
        "updated_at": (_time(fields, "updated") or created).isoformat(),
        "resolved_at": resolved.isoformat() if resolved else None,
        "lead_time_seconds": int((resolved - created).total_seconds()) if resolved else None,
        "cycle_time_seconds": cycle_time(transitions, category, ctx.mappings),
        "url": f"{ctx.base_url}/browse/{key}",
        "deleted_at": None,
    }
    return item, transitions


def transitions_of(issue: dict, ctx: TransformContext) -> list[dict]:
    out = []
    histories = (issue.get("changelog") or {}).get("histories") or []
    for history in histories:
        at = history.get("created")
        for idx, change in enumerate(history.get("items") or []):
            if change.get("fieldId", change.get("field")) != "status":
                continue
            try:
                when = parse_jira_datetime(at)
            except ValueError:
                raise TransformError(f"changelog history {history.get('id')} has a bad timestamp {at!r}") from None
            out.append({
                "tenant_id": str(ctx.tenant_id),
                "integration_id": str(ctx.integration_id),
                "external_id": f"{history['id']}:{idx}",
                "work_item_external_id": str(issue["id"]),
                "work_item_key": issue["key"],
                "from_status": change.get("fromString"),
                "to_status": change.get("toString"),
                "author": _name(history.get("author")),
                # In UTC: Jira writes each time in its user's zone, whose offset changes with daylight
                # saving, and these strings are sorted below.
                "transitioned_at": when.astimezone(timezone.utc).isoformat(),
            })
    out.sort(key=lambda t: t["transitioned_at"])
    return out


def cycle_time(transitions: list[dict], category: str, mappings: TenantMappings) -> int | None:
    """From the first entry into a workflow step at or after the commitment point to the last
    entry into the done step; only for items that are done now."""
    if category != "done" or mappings.commitment_position is None or mappings.done_position is None:
        return None
    start = end = None
    for t in transitions:
        mapped = mappings.status_for(t["to_status"])
        position = mappings.step_positions.get(mapped.name) if mapped else None
        if position is None:
            continue
        if start is None and position >= mappings.commitment_position:
            start = t["transitioned_at"]
        if position == mappings.done_position:
            end = t["transitioned_at"]
    if start is None or end is None or end < start:
        return None
    return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
