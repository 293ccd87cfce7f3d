// A list page's filters live in the URL's query string, so a filtered view can be bookmarked and
// reloaded; these read them and change one.

import type { Filters } from "../api/data";

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
