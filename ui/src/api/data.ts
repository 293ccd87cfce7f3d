// The final tables as the console reads them (api/schemas/work_items.py, pull_requests.py): read-only
// lists with the API's filters, one row with everything the API serves about it.

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { preferences } from "../lib/preferences";
import { useApi } from "./hooks";
import type { Page } from "./types";

export interface PullRequestLink {
  repo: string;
  number: number;
  title: string | null;
  state: string;
  url: string | null;
}

export interface WorkItem {
  id: number;
  integration_id: string;
  external_id: string;
  key: string;
  project: string | null;
  title: string | null;
  source_type: string | null;
  wit: string | null;
  hierarchy_level: number | null;
  source_status: string | null;
  status: string | null;
  status_category: string | null;
  priority: string | null;
  assignee: string | null;
  reporter: string | null;
  parent_key: string | null;
  epic_key: string | null;
  labels: unknown[];
  story_points: number | null;
  created: string | null;
  updated: string | null;
  resolved: string | null;
  lead_time_seconds: number | null;
  cycle_time_seconds: number | null;
  url: string | null;
  raw_id: number | null;
  deleted_at: string | null;
  loaded_at: string;
}

export interface Transition {
  from_status: string | null;
  to_status: string | null;
  author: string | null;
  transitioned_at: string;
}

export interface WorkItemDetail extends WorkItem {
  transitions: Transition[];
  pull_requests: PullRequestLink[];
}

export interface PullRequest {
  id: number;
  integration_id: string;
  external_id: string;
  repo: string;
  number: number;
  title: string | null;
  state: "open" | "closed" | "merged";
  draft: boolean;
  author: string | null;
  author_is_bot: boolean;
  base_ref: string | null;
  head_ref: string | null;
  created: string | null;
  updated: string | null;
  merged: string | null;
  closed: string | null;
  additions: number | null;
  deletions: number | null;
  changed_files: number | null;
  commits_count: number | null;
  review_count: number;
  first_review_at: string | null;
  time_to_first_review_seconds: number | null;
  lead_time_seconds: number | null;
  work_item_keys: string[];
  url: string | null;
  raw_id: number | null;
  deleted_at: string | null;
  loaded_at: string;
}

export interface Review {
  external_id: string;
  state: string;
  author: string | null;
  author_is_bot: boolean;
  submitted_at: string | null;
}

export interface Commit {
  sha: string;
  author: string | null;
  message: string | null;
  committed_at: string | null;
}

export interface LinkedWorkItem {
  key: string;
  title: string | null;
  status: string | null;
  status_category: string | null;
}

export interface PullRequestDetail extends PullRequest {
  reviews: Review[];
  commits: Commit[];
  work_items: LinkedWorkItem[];
}

export type Filters = Record<string, string>;

export const dataKeys = {
  all: ["data"] as const,
  workItems: (query: Filters) => ["data", "work-items", "list", query] as const,
  workItem: (key: string, integrationId: string | null) => ["data", "work-items", "one", key, integrationId] as const,
  pullRequests: (query: Filters) => ["data", "pull-requests", "list", query] as const,
  pullRequest: (repo: string, number: string) => ["data", "pull-requests", "one", repo, number] as const,
  rowOf: (kind: string, integrationId: string, externalId: string) => ["data", "row-of", kind, integrationId, externalId] as const,
};

function useList<T>(key: readonly unknown[], path: string, query: Filters) {
  const client = useApi();
  return useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam, signal }) => client.get<Page<T>>(path, { ...query, limit: preferences().pageSize, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

/** `query` is what the API takes (see toApiQuery in pages/data/filters.ts). */
export function useWorkItems(query: Filters) {
  return useList<WorkItem>(dataKeys.workItems(query), "/api/v1/work-items", query);
}

export function usePullRequests(query: Filters) {
  return useList<PullRequest>(dataKeys.pullRequests(query), "/api/v1/pull-requests", query);
}

export function useWorkItem(key: string, integrationId: string | null) {
  const client = useApi();
  return useQuery({
    queryKey: dataKeys.workItem(key, integrationId),
    queryFn: ({ signal }) =>
      client.get<WorkItemDetail>(`/api/v1/work-items/${encodeURIComponent(key)}`, { integration_id: integrationId }, signal),
  });
}

export function usePullRequest(repo: string, number: string) {
  const client = useApi();
  const [owner = "", name = ""] = repo.split("/");
  return useQuery({
    queryKey: dataKeys.pullRequest(repo, number),
    queryFn: ({ signal }) =>
      client.get<PullRequestDetail>(
        `/api/v1/pull-requests/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/${encodeURIComponent(number)}`,
        undefined,
        signal,
      ),
  });
}

/** Where a final row's page is in the console. */
export const workItemPath = (key: string, integrationId?: string | null) =>
  `/data/work-items/${encodeURIComponent(key)}${integrationId ? `?integration_id=${encodeURIComponent(integrationId)}` : ""}`;

export const pullRequestPath = (repo: string, number: number | string) => {
  const [owner = "", name = ""] = repo.split("/");
  return `/data/pull-requests/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/${encodeURIComponent(String(number))}`;
};

export interface RowLink {
  kind: "work item" | "pull request";
  label: string;
  to: string;
}

/** The final row a raw record was loaded into (or, for a review or commit, the pull request it belongs
 * to), asked of the API by (integration, external id); null when there is none (yet). */
export function useRowOf(record: { integration_id: string; entity_type: string; external_id: string; payload: Record<string, unknown> | null } | undefined) {
  const client = useApi();
  const target = record ? rowTarget(record.entity_type, record.external_id, record.payload) : null;
  return useQuery({
    queryKey: dataKeys.rowOf(target?.kind ?? "none", record?.integration_id ?? "", target?.externalId ?? ""),
    enabled: target !== null,
    queryFn: async ({ signal }): Promise<RowLink | null> => {
      if (!record || !target) return null;
      const query = { integration_id: record.integration_id, external_id: target.externalId, include_deleted: "true", limit: 1 };
      if (target.kind === "work item") {
        const page = await client.get<Page<WorkItem>>("/api/v1/work-items", query, signal);
        const item = page.items[0];
        return item ? { kind: "work item", label: item.key, to: workItemPath(item.key, item.integration_id) } : null;
      }
      const page = await client.get<Page<PullRequest>>("/api/v1/pull-requests", query, signal);
      const pr = page.items[0];
      return pr ? { kind: "pull request", label: `${pr.repo}#${pr.number}`, to: pullRequestPath(pr.repo, pr.number) } : null;
    },
  });
}

/** Which final row a raw entity type is loaded into, by which external id. */
export function rowTarget(
  entityType: string,
  externalId: string,
  payload: Record<string, unknown> | null,
): { kind: "work item" | "pull request"; externalId: string } | null {
  if (entityType === "jira_issue") return { kind: "work item", externalId };
  if (entityType === "github_pull_request") return { kind: "pull request", externalId };
  if (entityType === "github_pr_commit") {
    // owner/name#number:sha
    const at = externalId.lastIndexOf(":");
    return at > 0 ? { kind: "pull request", externalId: externalId.slice(0, at) } : null;
  }
  if (entityType === "github_pr_review" && payload) return reviewTarget(payload);
  return null;
}

/** A review's pull request: a GraphQL node names it (pullRequest.number, repository.nameWithOwner),
 * a REST object (stored before, or pushed) by its API URL. */
function reviewTarget(payload: Record<string, unknown>): { kind: "pull request"; externalId: string } | null {
  const pull = payload.pullRequest as { number?: unknown; repository?: { nameWithOwner?: unknown } } | null | undefined;
  if (pull && typeof pull.number === "number" && typeof pull.repository?.nameWithOwner === "string") {
    return { kind: "pull request", externalId: `${pull.repository.nameWithOwner}#${pull.number}` };
  }
  if (typeof payload.pull_request_url !== "string") return null;
  const match = /\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(payload.pull_request_url);
  return match ? { kind: "pull request", externalId: `${match[1]}/${match[2]}#${match[3]}` } : null;
}
