// A data table's filters live in the URL's query string, so a filtered view can be bookmarked and
// reloaded; these turn the URL into the API's query and back.

import type { Filters } from "../../api/data";

export const WORK_ITEM_FILTERS = ["integration_id", "project", "wit", "status_category", "status", "assignee", "updated_since", "deleted"] as const;
export const PULL_REQUEST_FILTERS = ["integration_id", "repo", "state", "author", "updated_since", "deleted"] as const;
export const STATUS_CATEGORIES = ["to_do", "in_progress", "done"] as const;
export const PR_STATES = ["open", "closed", "merged"] as const;

/** A YYYY-MM-DD day (the reader's own midnight) as the instant the API wants; anything else as given. */
export function dayStart(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const date = new Date(`${value}T00:00:00`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The API's query for these filters: updated_since as an instant; deleted=include|only as its flags;
 * status_category / state only when they are values the API knows. */
export function toApiQuery(filters: Filters): Filters {
  const query: Filters = {};
  for (const [name, value] of Object.entries(filters)) {
    if (name === "updated_since") {
      const since = dayStart(value);
      if (since) query.updated_since = since;
    } else if (name === "deleted") {
      if (value === "include") query.include_deleted = "true";
      else if (value === "only") query.deleted_only = "true";
    } else if (name === "status_category") {
      if ((STATUS_CATEGORIES as readonly string[]).includes(value)) query.status_category = value;
    } else if (name === "state") {
      if ((PR_STATES as readonly string[]).includes(value)) query.state = value;
    } else {
      query[name] = value;
    }
  }
  return query;
}
