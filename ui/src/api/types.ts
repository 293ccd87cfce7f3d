// The shapes the console reads, as the API publishes them (api/schemas/jobs.py, integrations.py, and the
// console's own routes GET /api/v1/auth/me and GET /api/v1/etl/events).

export const JOB_STATUSES = ["queued", "running", "succeeded", "partial", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const ACTIVE_STATUSES: readonly string[] = ["queued", "running"];
export const RETRYABLE_STATUSES: readonly string[] = ["failed", "partial", "cancelled"];
export const JOB_KINDS = ["incremental", "full", "reprocess"] as const;
export const TRIGGERS = ["api", "schedule", "cli"] as const;

export interface JobCounters {
  pages: number;
  extracted: number;
  unchanged: number;
  transformed: number;
  loaded: number;
  failed: number;
  requests_made: number;
  seen: number;
  expected: number | null;
}

export type ErrorDetails = { stage?: string; message?: string } & Record<string, unknown>;

export interface Job {
  id: string;
  integration_id: string;
  kind: string;
  trigger: string;
  status: string;
  entities: string[];
  counters: JobCounters;
  extraction_done: boolean;
  redrives: number;
  error_details: ErrorDetails | null;
  scheduled_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TaskRun {
  task_id: string;
  name: string;
  stage: string;
  state: string; // started | succeeded | retrying | failed
  attempt: number;
  deliveries: number;
  batch_id: number | null;
  worker: string | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface JobDetail extends Job {
  progress: number | null;
  task_runs: TaskRun[];
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface Integration {
  id: string;
  provider: string;
  name: string;
  base_url: string;
  enabled: boolean;
  schedule_interval_minutes: number | null;
  schedule_cron: string | null;
  schedule_timezone: string | null;
  next_sync_at: string | null;
  last_sync_at: string | null;
  created_at: string;
}

export interface Me {
  tenant_id: string;
  tenant_name: string;
  key_id: string | null;
  key_name: string | null;
  scopes: string[];
  is_admin: boolean;
  auth: "api_key" | "jwt";
}

export interface RetryResponse {
  job_id: string;
  retry_of: string;
  kind: string;
  status_url: string;
}

/** The events of GET /api/v1/etl/events. */
export type LiveEvent =
  | { type: "snapshot"; jobs: JobDetail[] }
  | { type: "job_created" | "job_progress" | "job_ended"; job: JobDetail };

export interface JobFilters {
  status?: string;
  integration_id?: string;
  kind?: string;
  trigger?: string;
  since?: string;
  until?: string;
}
