import { describe, expect, it } from "vitest";
import { readFilters, withFilter } from "../../lib/urlFilters";
import { PULL_REQUEST_FILTERS, WORK_ITEM_FILTERS, toApiQuery } from "./filters";

describe("data table filters", () => {
  it("read only the named filters from the URL, trimmed, empty ones dropped", () => {
    const params = new URLSearchParams("project=%20ABC%20&status=&cursor=9&wit=Story&junk=1");
    expect(readFilters(params, WORK_ITEM_FILTERS)).toEqual({ project: "ABC", wit: "Story" });
  });

  it("cap a filter's length", () => {
    const params = new URLSearchParams({ assignee: "a".repeat(1000) });
    expect(readFilters(params, WORK_ITEM_FILTERS).assignee).toHaveLength(200);
  });

  it("set and clear one filter, keeping the others", () => {
    const start = new URLSearchParams("project=ABC&wit=Story");
    const set = withFilter(start, "status", " In Progress ");
    expect(set.toString()).toBe("project=ABC&wit=Story&status=In+Progress");
    expect(withFilter(set, "wit", "").toString()).toBe("project=ABC&status=In+Progress");
    expect(start.toString()).toBe("project=ABC&wit=Story"); // not changed in place
  });

  it("turn the URL's words into the API's query", () => {
    const query = toApiQuery({ updated_since: "2025-03-01", deleted: "include", status_category: "done", project: "ABC" });
    expect(query.include_deleted).toBe("true");
    expect(query.status_category).toBe("done");
    expect(query.project).toBe("ABC");
    expect(new Date(query.updated_since ?? "").getTime()).toBe(new Date("2025-03-01T00:00:00").getTime());
    expect(toApiQuery({ deleted: "only" })).toEqual({ deleted_only: "true" });
  });

  it("drop values the API would refuse rather than show an error for a hand-edited URL", () => {
    expect(toApiQuery({ status_category: "nope", state: "weird", deleted: "x", updated_since: "2025-13-45" })).toEqual({});
    const params = new URLSearchParams("state=merged&repo=acme/api");
    expect(toApiQuery(readFilters(params, PULL_REQUEST_FILTERS))).toEqual({ repo: "acme/api", state: "merged" });
  });
});
