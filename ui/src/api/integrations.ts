// The Integrations area's view of the API (api/schemas/integrations.py): the full integration,
// connection tests, the schedule preview, sync triggers and logos. Query keys live here too.

import { useQuery } from "@tanstack/react-query";
import { ApiError, detailOf, type ApiClient } from "./client";
import { keys } from "./cache";
import { useApi } from "./hooks";
import type { Integration } from "./types";

export interface IntegrationSettings {
  projects?: string[];
  flavor?: "cloud" | "dc";
  story_points_field?: string;
  jql?: string;
  repos?: string[];
  bot_patterns?: string[];
  [other: string]: unknown;
}

/** GET /api/v1/integrations/{id}: everything the API shows (credentials never). */
export interface IntegrationFull extends Integration {
  settings: IntegrationSettings;
  has_credentials: boolean;
  last_reconciled_at: string | null;
  logo_updated_at: string | null;
  /** Paused by the circuit breaker: schedules skip it and Sync now is refused until it is resumed. */
  paused: boolean;
  breaker_reason: string | null;
  breaker_kind: "fatal" | "failures" | null;
  breaker_open_at: string | null;
  breaker_probe_at: string | null;
  consecutive_failures: number;
}

export interface Credentials {
  email?: string;
  token: string;
}

export interface ConnectionTest {
  ok: boolean;
  account?: string | null;
  checked?: string[] | null;
  error?: string | null;
}

export interface ScheduleIn {
  cron?: string;
  timezone?: string;
  every_minutes?: number;
}

export interface SchedulePreview {
  next_runs: string[];
  timezone: string | null;
  summary: string;
}

export interface TriggerResponse {
  job_id: string;
  status: string;
  status_url: string;
}

export const integrationKeys = {
  all: keys.integrations,
  one: (id: string) => [...keys.integrations, "one", id] as const,
  // Not under keys.integrations: refreshing the list must not fetch the images again.
  logo: (id: string, version: string) => ["integration-logo", id, version] as const,
  preview: (schedule: ScheduleIn, integrationId?: string) => ["schedule-preview", schedule, integrationId ?? null] as const,
};

export const PATH = "/api/v1/integrations";
export const integrationPath = (id: string) => `${PATH}/${encodeURIComponent(id)}`;

export function useIntegrationList() {
  const client = useApi();
  return useQuery({
    queryKey: integrationKeys.all,
    queryFn: ({ signal }) => client.get<IntegrationFull[]>(PATH, undefined, signal),
    staleTime: 60_000,
  });
}

export function useIntegration(id: string) {
  const client = useApi();
  return useQuery({
    queryKey: integrationKeys.one(id),
    queryFn: ({ signal }) => client.get<IntegrationFull>(integrationPath(id), undefined, signal),
  });
}

export type ProviderChoice = "jira-cloud" | "jira-dc" | "github";

export const PROVIDER_CHOICES: [ProviderChoice, string][] = [
  ["jira-cloud", "Jira Cloud"],
  ["jira-dc", "Jira Data Center"],
  ["github", "GitHub"],
];

export const GITHUB_API = "https://api.github.com";

/** "Jira Cloud", "Jira Data Center", "GitHub" or "GitHub Enterprise". */
export function providerLabel(integration: Pick<IntegrationFull, "provider" | "base_url"> & { settings?: IntegrationSettings }): string {
  if (integration.provider === "jira") return integration.settings?.flavor === "dc" ? "Jira Data Center" : "Jira Cloud";
  if (integration.provider === "github") {
    return integration.base_url.replace(/\/+$/, "") === GITHUB_API ? "GitHub" : "GitHub Enterprise";
  }
  return integration.provider;
}

export function choiceOf(integration: Pick<IntegrationFull, "provider"> & { settings?: IntegrationSettings }): ProviderChoice {
  if (integration.provider === "github") return "github";
  return integration.settings?.flavor === "dc" ? "jira-dc" : "jira-cloud";
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function dayWords(field: string): string | null {
  if (field === "*") return "every day";
  const names: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
  const parts: string[] = [];
  for (const item of field.split(",")) {
    const bounds = item.split("-").map((b) => (/^\d+$/.test(b) ? Number(b) : names[b.toLowerCase()]));
    if (item.includes("/") || bounds.length > 2 || bounds.some((b) => b === undefined || b > 7)) return null;
    parts.push(bounds.map((b) => DAY_NAMES[b as number]).join("-"));
  }
  return parts.join(", ");
}

/** The schedule in words, as the API's preview says it ("every 30 minutes", "at 06:00 Mon-Fri Europe/Paris"). */
export function scheduleWords(integration: Pick<Integration, "schedule_cron" | "schedule_interval_minutes" | "schedule_timezone">): string {
  const minutes = integration.schedule_interval_minutes;
  if (!integration.schedule_cron) {
    if (!minutes) return "no schedule";
    return minutes === 1 ? "every minute" : `every ${minutes} minutes`;
  }
  const zone = integration.schedule_timezone || "UTC";
  const [minute, hour, dom, month, dow] = integration.schedule_cron.split(/\s+/);
  if (dom === "*" && month === "*" && minute !== undefined && hour !== undefined && dow !== undefined) {
    const days = dayWords(dow);
    if (/^\d+$/.test(minute) && /^\d+$/.test(hour) && days) {
      return `at ${hour.padStart(2, "0")}:${minute.padStart(2, "0")} ${days} ${zone}`;
    }
    if (minute.startsWith("*/") && hour === "*" && dow === "*") return `every ${minute.slice(2)} minutes`;
  }
  return `cron ${integration.schedule_cron} (${zone})`;
}

/** How many minutes past its next due time an integration may be before it is called overdue. */
export const OVERDUE_AFTER_MS = 5 * 60_000;

export function isOverdue(
  integration: Pick<Integration, "enabled" | "next_sync_at"> & { paused?: boolean },
  now = Date.now(),
): boolean {
  // A paused integration is skipped on purpose (the circuit breaker), not late.
  if (!integration.enabled || !integration.next_sync_at || integration.paused) return false;
  return now - Date.parse(integration.next_sync_at) > OVERDUE_AFTER_MS;
}

export const LOGO_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;

/** GET .../logo with the key: a Blob of an accepted image type (never anything else). */
export async function fetchLogo(client: ApiClient, id: string, signal?: AbortSignal): Promise<Blob> {
  const path = `${integrationPath(id)}/logo`;
  const response = await fetch(path, { headers: client.authHeaders(path), credentials: "omit", signal });
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw new ApiError(response.status, detailOf(body, response.status), body);
  }
  const type = (response.headers.get("Content-Type") ?? "").split(";")[0]!.trim();
  if (!(LOGO_TYPES as readonly string[]).includes(type)) throw new ApiError(response.status, `not an accepted image type (${type})`);
  return new Blob([await response.arrayBuffer()], { type });
}

/** PUT .../logo with the file's bytes as the body; the API decides the type by content. */
export async function uploadLogo(client: ApiClient, id: string, file: Blob): Promise<IntegrationFull> {
  const path = `${integrationPath(id)}/logo`;
  const response = await fetch(path, {
    method: "PUT",
    headers: { ...client.authHeaders(path), "Content-Type": "application/octet-stream", Accept: "application/json" },
    body: file,
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!response.ok) throw new ApiError(response.status, detailOf(body, response.status), body);
  return body as IntegrationFull;
}
