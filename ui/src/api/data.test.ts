import { describe, expect, it } from "vitest";
import { pullRequestPath, rowTarget, workItemPath } from "./data";
import { errorLine } from "./raw";

describe("links between raw records and final rows", () => {
  it("know which row each raw entity type is loaded into", () => {
    expect(rowTarget("jira_issue", "10042", null)).toEqual({ kind: "work item", externalId: "10042" });
    expect(rowTarget("github_pull_request", "acme/api#7", null)).toEqual({ kind: "pull request", externalId: "acme/api#7" });
    expect(rowTarget("github_pr_commit", "acme/api#7:0123abc", null)).toEqual({ kind: "pull request", externalId: "acme/api#7" });
    expect(
      rowTarget("github_pr_review", "991", { pull_request_url: "https://api.github.com/repos/acme/api/pulls/7" }),
    ).toEqual({ kind: "pull request", externalId: "acme/api#7" });
    expect(
      rowTarget("github_pr_review", "991", {
        __typename: "PullRequestReview",
        databaseId: 991,
        pullRequest: { number: 7, repository: { nameWithOwner: "acme/api" } },
      }),
    ).toEqual({ kind: "pull request", externalId: "acme/api#7" });
    expect(rowTarget("github_pr_review", "991", { pullRequest: null })).toBeNull();
    expect(rowTarget("github_pr_review", "991", {})).toBeNull();
    expect(rowTarget("something_else", "1", null)).toBeNull();
  });

  it("build console paths with the parts escaped", () => {
    expect(workItemPath("ABC-1", "i d")).toBe("/data/work-items/ABC-1?integration_id=i%20d");
    expect(workItemPath("ABC-1")).toBe("/data/work-items/ABC-1");
    expect(pullRequestPath("acme/api", 7)).toBe("/data/pull-requests/acme/api/7");
    expect(pullRequestPath("a c/x?y", 7)).toBe("/data/pull-requests/a%20c/x%3Fy/7");
  });

  it("show a raw error's first line", () => {
    expect(errorLine({ error: "one\ntwo" })).toBe("one");
    expect(errorLine({ message: "gave up" })).toBe("gave up");
    expect(errorLine({ stage: "manual" })).toBe('{"stage":"manual"}');
    expect(errorLine(null)).toBeNull();
  });
});
