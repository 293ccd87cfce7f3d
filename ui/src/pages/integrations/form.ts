// The integration form's values, the checks that mirror the API's (etl/sources/*/checks.py,
// etl/tenancy/integrations.py), and the bodies the API takes: create, test and PATCH.

import { GITHUB_API, choiceOf, type Credentials, type IntegrationFull, type IntegrationSettings, type ProviderChoice } from "../../api/integrations";

export interface FormValues {
  choice: ProviderChoice;
  name: string;
  base_url: string;
  email: string;
  token: string;
  projects: string;
  story_points_field: string;
  jql: string;
  repos: string;
  bot_patterns: string;
}

export type FormErrors = Partial<Record<keyof FormValues, string>>;

export function emptyValues(choice: ProviderChoice = "jira-cloud"): FormValues {
  return { choice, name: "", base_url: choice === "github" ? GITHUB_API : "", email: "", token: "", projects: "",
    story_points_field: "", jql: "", repos: "", bot_patterns: "" };
}

/** A saved integration's values; credentials are write-only, so they start empty. */
export function valuesOf(integration: IntegrationFull): FormValues {
  const s = integration.settings ?? {};
  return { choice: choiceOf(integration), name: integration.name, base_url: integration.base_url, email: "", token: "",
    projects: (s.projects ?? []).join(", "), story_points_field: s.story_points_field ?? "", jql: s.jql ?? "",
    repos: (s.repos ?? []).join(", "), bot_patterns: (s.bot_patterns ?? []).join("\n") };
}

export const list = (text: string) => text.split(/[\s,]+/).map((item) => item.trim()).filter(Boolean);
const lines = (text: string) => text.split("\n").map((item) => item.trim()).filter(Boolean);

const PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,49}$/;
const CUSTOM_FIELD = /^customfield_\d+$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** The URL's origin, or null when it is not an http(s) URL. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

export const isJira = (choice: ProviderChoice) => choice !== "github";

/** The stored base URL moved to another host (or scheme or port): the stored token may not follow it. */
export function hostChanged(values: FormValues, saved: IntegrationFull | undefined): boolean {
  if (!saved) return false;
  const now = originOf(values.base_url);
  return now !== null && now !== originOf(saved.base_url);
}

/** What is wrong with the values, field by field, in the API's words where it has them. */
export function checkValues(values: FormValues, saved?: IntegrationFull): FormErrors {
  const errors: FormErrors = {};
  if (!values.name.trim()) errors.name = "integration name must not be empty";
  else if (values.name.length > 200) errors.name = "at most 200 characters";
  if (!values.base_url.trim()) errors.base_url = "the base URL is required";
  else if (!/^https?:\/\//i.test(values.base_url.trim())) errors.base_url = "the base URL must start with http:// or https://";
  else if (originOf(values.base_url) === null) errors.base_url = "the base URL is not a valid URL";
  const needCredentials = !saved || hostChanged(values, saved) || values.token !== "" || values.email !== "";
  if (needCredentials && !values.token) {
    errors.token = saved && hostChanged(values, saved)
      ? "the base URL is on a new host: enter the credentials for it (the stored ones are only sent to the current host)"
      : "a token is required";
  } else if (/[\r\n]/.test(values.token)) errors.token = "the token must not contain line breaks";
  if (values.choice === "jira-cloud" && needCredentials && !values.email.trim()) {
    errors.email = "Jira Cloud needs the email of the API token's user";
  }
  if (isJira(values.choice)) {
    const projects = list(values.projects);
    if (!projects.length && !values.jql.trim()) errors.projects = "a Jira integration needs at least one project key (or a JQL filter)";
    const bad = projects.find((key) => !PROJECT_KEY.test(key));
    if (bad) errors.projects = `'${bad}' is not a Jira project key (upper-case letters and digits, e.g. ABC)`;
    const field = values.story_points_field.trim();
    if (field && !CUSTOM_FIELD.test(field)) errors.story_points_field = `story points field '${field}' must look like customfield_10016`;
  } else {
    const repos = list(values.repos);
    if (!repos.length) errors.repos = "a GitHub integration needs at least one repository (owner/name)";
    const bad = repos.find((repo) => !REPO.test(repo));
    if (bad) errors.repos = `'${bad}' is not a repository; write it as owner/name, e.g. octocat/hello-world`;
    const patterns = lines(values.bot_patterns);
    if (patterns.length > 50) errors.bot_patterns = `${patterns.length} bot patterns; at most 50`;
    const long = patterns.findIndex((pattern) => pattern.length > 200);
    if (long >= 0) errors.bot_patterns = `bot pattern ${long + 1} is ${patterns[long]!.length} characters long; at most 200`;
  }
  return errors;
}

export function providerOf(choice: ProviderChoice): "jira" | "github" {
  return choice === "github" ? "github" : "jira";
}

export function settingsOf(values: FormValues): IntegrationSettings {
  if (!isJira(values.choice)) {
    const patterns = lines(values.bot_patterns);
    return { repos: list(values.repos), ...(patterns.length ? { bot_patterns: patterns } : {}) };
  }
  const settings: IntegrationSettings = { projects: list(values.projects), flavor: values.choice === "jira-dc" ? "dc" : "cloud" };
  if (values.story_points_field.trim()) settings.story_points_field = values.story_points_field.trim();
  if (values.jql.trim()) settings.jql = values.jql.trim();
  return settings;
}

export function credentialsOf(values: FormValues): Credentials {
  return values.choice === "jira-cloud" && values.email.trim() ? { email: values.email.trim(), token: values.token } : { token: values.token };
}

/** POST /integrations (and POST /integrations/test) body. */
export function createBody(values: FormValues) {
  return { provider: providerOf(values.choice), name: values.name.trim(), base_url: values.base_url.trim(),
    credentials: credentialsOf(values), settings: settingsOf(values) };
}

/** What changed against the saved integration: PATCH's body (and the test's, without the name). */
export function changesOf(values: FormValues, saved: IntegrationFull) {
  const changes: { name?: string; base_url?: string; settings?: Record<string, unknown>; credentials?: Credentials } = {};
  if (values.name.trim() !== saved.name) changes.name = values.name.trim();
  if (values.base_url.trim().replace(/\/+$/, "") !== saved.base_url) changes.base_url = values.base_url.trim();
  const next = settingsOf(values) as Record<string, unknown>;
  const before = (saved.settings ?? {}) as Record<string, unknown>;
  const settings: Record<string, unknown> = {};
  const known = isJira(values.choice) ? ["projects", "flavor", "story_points_field", "jql"] : ["repos", "bot_patterns"];
  for (const key of known) {
    const value = next[key];
    if (value === undefined) {
      if (before[key] !== undefined) settings[key] = null; // emptied: removed from the stored settings
    } else if (JSON.stringify(value) !== JSON.stringify(before[key])) settings[key] = value;
  }
  if (Object.keys(settings).length) changes.settings = settings;
  if (values.token) changes.credentials = credentialsOf(values);
  return changes;
}

/** The values a passing test vouches for: any edit of a field makes it stale. */
export const fingerprint = (values: FormValues) => JSON.stringify(values);
