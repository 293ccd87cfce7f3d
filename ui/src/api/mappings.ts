// The mapping routes (api/routers/mappings/*, api/schemas/mappings/*): their shapes, query keys, reads
// and the one write helper every mapping page uses (it refreshes the mapping lists and announces the
// reprocess jobs a change started).

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { keys } from "./cache";
import type { ApiClient } from "./client";
import { useApi } from "./hooks";

export const CATEGORIES = ["to_do", "in_progress", "done"] as const;
export type Category = (typeof CATEGORIES)[number];
export const CATEGORY_WORDS: Record<Category, string> = { to_do: "To do", in_progress: "In progress", done: "Done" };

export interface WitHierarchy {
  id: number;
  level: number;
  name: string;
  description: string | null;
}

export interface Wit {
  id: number;
  name: string;
  hierarchy_level: number;
  description: string | null;
}

export interface WitMapping {
  id: number;
  source_name: string;
  wit_id: number;
  wit_name: string;
  integration_id: string | null;
}

export interface Status {
  id: number;
  name: string;
  category: Category;
}

export interface StatusMapping {
  id: number;
  source_name: string;
  status_id: number;
  status_name: string;
  status_category: Category;
  integration_id: string | null;
}

export interface WorkflowStep {
  position: number;
  status_id: number;
  status_name: string;
  is_commitment_point: boolean;
  is_done: boolean;
}

export interface Workflow {
  id: number;
  name: string;
  integration_id: string | null;
  steps: WorkflowStep[];
}

export interface WorkflowStepIn {
  status_id: number;
  is_commitment_point: boolean;
  is_done: boolean;
}

export interface ReprocessJob {
  job_id: string;
  integration_id: string;
  records: number;
}

/** What a mapping write started: reprocess jobs, busy integrations (reprocessed when their job ends), failures. */
export interface Reprocess {
  started: string[];
  busy: string[];
  failed: { integration_id: string; job_id: string; detail: string }[];
  jobs?: ReprocessJob[];
}

export interface UnmappedValue {
  source_name: string;
  count: number;
  integrations: { integration_id: string; integration_name: string; count: number }[];
}

export interface Unmapped {
  issue_types: UnmappedValue[];
  statuses: UnmappedValue[];
}

export const mappingKeys = {
  all: ["mappings"] as const,
  hierarchies: ["mappings", "wit-hierarchies"] as const,
  wits: ["mappings", "wits"] as const,
  witMappings: (integration: string) => ["mappings", "wit-mappings", integration] as const,
  statuses: ["mappings", "statuses"] as const,
  statusMappings: (integration: string) => ["mappings", "status-mappings", integration] as const,
  workflows: (integration: string) => ["mappings", "workflows", integration] as const,
  unmapped: (integration: string) => ["mappings", "unmapped", integration] as const,
};

export const V1 = "/api/v1";

function useList<T>(queryKey: readonly unknown[], path: string, integration = "") {
  const client = useApi();
  return useQuery({
    queryKey,
    queryFn: ({ signal }) => client.get<T>(`${V1}${path}`, { integration_id: integration || undefined }, signal),
  });
}

export const useWitHierarchies = () => useList<WitHierarchy[]>(mappingKeys.hierarchies, "/wit-hierarchies");
export const useWits = () => useList<Wit[]>(mappingKeys.wits, "/wits");
export const useStatuses = () => useList<Status[]>(mappingKeys.statuses, "/statuses");
export const useWitMappings = (integration: string) =>
  useList<WitMapping[]>(mappingKeys.witMappings(integration), "/wit-mappings", integration);
export const useStatusMappings = (integration: string) =>
  useList<StatusMapping[]>(mappingKeys.statusMappings(integration), "/status-mappings", integration);
export const useWorkflows = (integration: string) =>
  useList<Workflow[]>(mappingKeys.workflows(integration), "/workflows", integration);
export const useUnmapped = (integration: string) =>
  useList<Unmapped>(mappingKeys.unmapped(integration), "/mappings/unmapped", integration);

export interface Write {
  method: "POST" | "PATCH" | "DELETE";
  /** Under /api/v1, e.g. "/wits/3". */
  path: string;
  body?: unknown;
}

export function send<T>(client: ApiClient, write: Write): Promise<T> {
  return client.request<T>(write.method, `${V1}${write.path}`, { body: write.body });
}

/**
 * A mutation for mapping writes: on success the mapping lists are read again, the jobs list learns
 * of the reprocess jobs, and `onSaved` gets the answer (the page announces what it started).
 */
export function useMappingWrite<T = unknown>(onSaved?: (answer: T) => void) {
  const client = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (write: Write | ((client: ApiClient) => Promise<T>)) =>
      typeof write === "function" ? write(client) : send<T>(client, write),
    onSuccess: (answer) => onSaved?.(answer),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: mappingKeys.all });
      void queryClient.invalidateQueries({ queryKey: keys.jobs });
    },
  });
}

/** The reprocess part of a write's answer, if it has one. */
export function reprocessOf(answer: unknown): Reprocess | null {
  if (answer && typeof answer === "object" && "reprocess" in answer) {
    const value = (answer as { reprocess: unknown }).reprocess;
    if (value && typeof value === "object" && Array.isArray((value as Reprocess).started)) return value as Reprocess;
  }
  return null;
}
