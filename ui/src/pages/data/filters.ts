// A data table's filters live in the URL's query string, so a filtered view can be bookmarked and
// reloaded; these turn the URL into the API's query and back.

import type { Filters } from "../../api/data";

export const WORK_ITEM_FILTERS = ["integration_id", "project", "wit", "status_category", "status", "assignee", "updated_since", "deleted"] as const;
export const PULL_REQUEST_FILTERS = ["integration_id", "repo", "state", "author", "updated_since", "deleted"] as const;
export const STATUS_CATEGORIES = ["to_do", "in_progress", "done"] as const;
export const PR_STATES = ["open", "closed", "merged"] as const;

/** The API refuses nothing shorter; a longer value is not a key, a name or a status anyone has. */
export const MAX_FILTER_LENGTH = 200;

/** The named filters that the URL sets (trimmed, non-empty), in the order given. */
export function readFilters(params: URLSearchParams, names: readonly string[]): Filters {
  const filters: Filters = {};
  for (const name of names) {
    const value = params.get(name)?.trim().slice(0, MAX_FILTER_LENGTH);
    if (value) filters[name] = value;
  }
  return filters;
}

/** The URL's query with one filter set (or removed when empty); a filter change starts from the first page. */
export function withFilter(params: URLSearchParams, name: string, value: string): URLSearchParams {
  const next = new URLSearchParams(params);
  const text = value.trim().slice(0, MAX_FILTER_LENGTH);
  if (text) next.set(name, text);
  else next.delete(name);
  return next;
}

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
