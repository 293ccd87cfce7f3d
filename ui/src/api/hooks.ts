import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { createContext, useContext } from "react";
import { preferences } from "../lib/preferences";
import { keys } from "./cache";
import type { ApiClient } from "./client";
import type { Integration, Job, JobDetail, JobFilters, Me, Page } from "./types";

export const ApiContext = createContext<ApiClient | null>(null);

export function useApi(): ApiClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error("useApi outside <ApiContext>");
  return client;
}

export const MeContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe outside <MeContext>");
  return me;
}

export const READ_ONLY_REASON = "this key is read-only";

/** Why the caller cannot change anything, or null when it can. */
export function useWriteBlocked(): string | null {
  const me = useMe();
  return me.scopes.includes("write") ? null : READ_ONLY_REASON;
}


/** since/until in the URL are dates (YYYY-MM-DD, local); the API wants instants. */
export function toApiFilters(filters: JobFilters): JobFilters {
  const out: JobFilters = { ...filters };
  const day = (value: string, plusDays: number) => {
    const date = new Date(`${value}T00:00:00`);
    if (Number.isNaN(date.getTime())) return undefined;
    date.setDate(date.getDate() + plusDays);
    return date.toISOString();
  };
  if (filters.since) out.since = /^\d{4}-\d{2}-\d{2}$/.test(filters.since) ? day(filters.since, 0) : filters.since;
  if (filters.until) out.until = /^\d{4}-\d{2}-\d{2}$/.test(filters.until) ? day(filters.until, 1) : filters.until;
  return out;
}

export function useJobs(filters: JobFilters) {
  const client = useApi();
  return useInfiniteQuery({
    queryKey: keys.jobList(filters),
    queryFn: ({ pageParam, signal }) =>
      client.get<Page<Job>>("/api/v1/etl/jobs", { ...toApiFilters(filters), limit: preferences().pageSize, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

export function useJob(id: string) {
  const client = useApi();
  return useQuery({
    queryKey: keys.job(id),
    queryFn: ({ signal }) => client.get<JobDetail>(`/api/v1/etl/jobs/${encodeURIComponent(id)}`, undefined, signal),
  });
}

export function useIntegrations() {
  const client = useApi();
  return useQuery({
    queryKey: keys.integrations,
    queryFn: ({ signal }) => client.get<Integration[]>("/api/v1/integrations", undefined, signal),
    staleTime: 60_000,
  });
}

/** id -> name, for showing names rather than ids. */
export function useIntegrationName(): (id: string) => string {
  const { data } = useIntegrations();
  return (id) => data?.find((integration) => integration.id === id)?.name ?? `${id.slice(0, 8)}…`;
}
