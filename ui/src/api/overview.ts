// The console's Home in one call: GET /api/v1/overview (api/schemas/overview.py).

import { useQuery } from "@tanstack/react-query";
import { useApi } from "./hooks";

export interface IntegrationFreshness {
  id: string;
  name: string;
  provider: string;
  enabled: boolean;
  /** When its last succeeded job ended. */
  last_success_at: string | null;
  next_sync_at: string | null;
  /** Enabled, and next_sync_at more than overdue_grace_seconds in the past. */
  overdue: boolean;
  active_job_id: string | null;
}

export interface Overview {
  work_items: number;
  pull_requests: number;
  raw_records_failed: number;
  unmapped: { issue_types: number; statuses: number; values: number };
  integrations: IntegrationFreshness[];
  /** Jobs created in the last 24 hours, by status (every status present, 0 included). */
  jobs_last_24h: Record<string, number>;
  overdue_grace_seconds: number;
  read_at: string;
}

// Under ["jobs", "summary"] on purpose: the live stream invalidates that prefix when a job starts or
// ends (api/cache.ts applyLiveEvent), and polling invalidates ["jobs"], so Home follows both.
export const overviewKey = ["jobs", "summary", "overview"] as const;

export function useOverview() {
  const client = useApi();
  return useQuery({
    queryKey: overviewKey,
    queryFn: ({ signal }) => client.get<Overview>("/api/v1/overview", undefined, signal),
    staleTime: 10_000,
  });
}
