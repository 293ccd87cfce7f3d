// The raw layer as the console reads it (api/schemas/raw_data.py): list, one record, reprocess, and a
// corrected payload stored again (POST /etl/raw-data/store with process).

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { preferences } from "../lib/preferences";
import { useApi } from "./hooks";
import type { Page } from "./types";

export const RAW_STATUSES = ["pending", "processing", "completed", "failed"] as const;
export type RawStatus = (typeof RAW_STATUSES)[number];
/** The raw entity types the sources transform (etl/sources/<name>/source.py). */
export const ENTITY_TYPES = ["jira_issue", "github_pull_request", "github_pr_review", "github_pr_commit"] as const;

export interface RawRecord {
  id: number;
  integration_id: string;
  entity_type: string;
  external_id: string;
  processing_status: RawStatus;
  content_hash: string;
  extraction_metadata: Record<string, unknown>;
  error_details: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  processed_at: string | null;
  payload: Record<string, unknown> | null;
}

export interface RawFilters {
  integration_id?: string;
  entity_type?: string;
  status?: string;
  job_id?: string;
}

export const RAW_FILTERS = ["integration_id", "entity_type", "status", "job_id"] as const;

export interface ReprocessResponse {
  job_id: string;
  status: string;
  records: number;
  status_url: string;
}

export interface StoreResponse {
  stored: number;
  unchanged: number;
  job_id: string | null;
  detail: string | null;
}

export const rawKeys = {
  all: ["raw"] as const,
  list: (filters: RawFilters) => ["raw", "list", filters] as const,
  one: (id: string) => ["raw", "one", id] as const,
  lookup: (integrationId: string, entityType: string, externalId: string) =>
    ["raw", "lookup", integrationId, entityType, externalId] as const,
};

export function useRawList(filters: RawFilters) {
  const client = useApi();
  return useInfiniteQuery({
    queryKey: rawKeys.list(filters),
    queryFn: ({ pageParam, signal }) =>
      client.get<Page<RawRecord>>("/api/v1/etl/raw-data", { ...filters, limit: preferences().pageSize, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

export function useRawRecord(id: string) {
  const client = useApi();
  return useQuery({
    queryKey: rawKeys.one(id),
    queryFn: ({ signal }) => client.get<RawRecord>(`/api/v1/etl/raw-data/${encodeURIComponent(id)}`, undefined, signal),
  });
}

/** The raw record a final row came from, by (integration, entity type, external id): for rows without raw_id. */
export function useRawLookup(integrationId: string, entityType: string, externalId: string, enabled: boolean) {
  const client = useApi();
  return useQuery({
    queryKey: rawKeys.lookup(integrationId, entityType, externalId),
    queryFn: ({ signal }) =>
      client
        .get<Page<RawRecord>>(
          "/api/v1/etl/raw-data",
          { integration_id: integrationId, entity_type: entityType, external_id: externalId, limit: 1 },
          signal,
        )
        .then((page) => page.items[0] ?? null),
    enabled,
  });
}

/** The first line of a raw record's error, for a table cell. */
export function errorLine(details: Record<string, unknown> | null): string | null {
  if (!details) return null;
  const text = typeof details.error === "string" ? details.error : typeof details.message === "string" ? details.message : null;
  if (text === null) return JSON.stringify(details);
  return text.split("\n", 1)[0] ?? "";
}
