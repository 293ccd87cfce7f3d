import type { JobCounters, JobDetail, Me } from "../api/types";

export function counters(over: Partial<JobCounters> = {}): JobCounters {
  return { pages: 0, extracted: 0, unchanged: 0, transformed: 0, loaded: 0, failed: 0, requests_made: 0, seen: 0, expected: null, ...over };
}

export function job(over: Partial<JobDetail> = {}): JobDetail {
  return {
    id: "0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    integration_id: "7d6c0000-0000-4000-8000-000000000001",
    kind: "incremental",
    trigger: "api",
    status: "running",
    entities: ["issues"],
    counters: counters(),
    extraction_done: false,
    redrives: 0,
    error_details: null,
    scheduled_at: null,
    started_at: "2025-01-31T10:00:00Z",
    finished_at: null,
    created_at: "2025-01-31T09:59:58Z",
    updated_at: "2025-01-31T10:00:05Z",
    progress: null,
    task_runs: [],
    ...over,
  };
}

export function me(over: Partial<Me> = {}): Me {
  return {
    tenant_id: "t1",
    tenant_name: "acme",
    key_id: "k1",
    key_name: "ops",
    scopes: ["read", "write"],
    is_admin: false,
    auth: "api_key",
    ...over,
  };
}
