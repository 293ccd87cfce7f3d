import { describe, expect, it } from "vitest";
import type { IntegrationFull } from "../../api/integrations";
import { changesOf, checkValues, createBody, emptyValues, fingerprint, valuesOf, type FormValues } from "./form";

const jira = (over: Partial<FormValues> = {}): FormValues => ({
  ...emptyValues("jira-cloud"), name: "acme", base_url: "https://acme.atlassian.net", email: "bot@acme.com", token: "t",
  projects: "ABC, OPS", ...over,
});

const saved: IntegrationFull = {
  id: "i1", provider: "jira", name: "acme", base_url: "https://acme.atlassian.net", enabled: true,
  schedule_interval_minutes: null, schedule_cron: null, schedule_timezone: null, next_sync_at: null, last_sync_at: null,
  created_at: "2025-01-01T00:00:00Z", settings: { projects: ["ABC"], flavor: "cloud", story_points_field: "customfield_1" },
  has_credentials: true, last_reconciled_at: null, logo_updated_at: null,
  paused: false, breaker_reason: null, breaker_kind: null, breaker_open_at: null, breaker_probe_at: null,
  consecutive_failures: 0,
};

describe("the integration form's checks mirror the API's", () => {
  it("accepts a complete Jira Cloud form", () => {
    expect(checkValues(jira())).toEqual({});
  });

  it("names what is missing or malformed, in the API's words", () => {
    const errors = checkValues(jira({ name: " ", base_url: "ftp://x", token: "", projects: "abc" , story_points_field: "sp" }));
    expect(errors.name).toBe("integration name must not be empty");
    expect(errors.base_url).toBe("the base URL must start with http:// or https://");
    expect(errors.token).toBe("a token is required");
    expect(errors.projects).toContain("'abc' is not a Jira project key");
    expect(errors.story_points_field).toContain("must look like customfield_10016");
    expect(checkValues(jira({ projects: "", jql: "" })).projects).toContain("at least one project key");
    expect(checkValues(jira({ email: "" })).email).toContain("email");
  });

  it("checks GitHub repositories as owner/name", () => {
    const github = { ...emptyValues("github"), name: "gh", token: "t", repos: "acme/api, nope" };
    expect(checkValues(github).repos).toContain("'nope' is not a repository");
    expect(checkValues({ ...github, repos: "acme/api" })).toEqual({});
    expect(createBody({ ...github, repos: "acme/api" })).toEqual({
      provider: "github", name: "gh", base_url: "https://api.github.com", credentials: { token: "t" }, settings: { repos: ["acme/api"] },
    });
  });
});

describe("editing a saved integration", () => {
  it("starts with empty credentials and needs none to keep the stored ones", () => {
    const values = valuesOf(saved);
    expect(values.token).toBe("");
    expect(values.projects).toBe("ABC");
    expect(checkValues(values, saved)).toEqual({});
    expect(changesOf(values, saved)).toEqual({});
  });

  it("asks for credentials again when the base URL moves to another host", () => {
    const moved = { ...valuesOf(saved), base_url: "https://other.example.com" };
    expect(checkValues(moved, saved).token).toContain("new host");
    expect(checkValues({ ...moved, token: "t2", email: "bot@x.com" }, saved)).toEqual({});
    // the same host with a path change does not
    expect(checkValues({ ...valuesOf(saved), base_url: "https://acme.atlassian.net/jira" }, saved).token).toBeUndefined();
  });

  it("sends only what changed, and null for a setting that was emptied", () => {
    const values = { ...valuesOf(saved), projects: "ABC, OPS", story_points_field: "" };
    expect(changesOf(values, saved)).toEqual({ settings: { projects: ["ABC", "OPS"], story_points_field: null } });
  });

  it("a passing test vouches only for the values it tested", () => {
    const values = jira();
    expect(fingerprint(values)).toBe(fingerprint({ ...values }));
    expect(fingerprint(values)).not.toBe(fingerprint({ ...values, projects: "ABC" }));
  });
});
