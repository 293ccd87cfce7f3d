// Query keys, and how a live event or a write changes what the cache holds.

import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import type { Job, JobDetail, JobFilters, LiveEvent, Page } from "./types";

export const keys = {
  me: ["me"] as const,
  integrations: ["integrations"] as const,
  jobs: ["jobs"] as const,
  jobLists: ["jobs", "list"] as const,
  jobList: (filters: JobFilters) => ["jobs", "list", filters] as const,
  job: (id: string) => ["jobs", "detail", id] as const,
  summary: ["jobs", "summary"] as const,
};

function replaceIn(data: InfiniteData<Page<Job>> | undefined, job: Job): InfiniteData<Page<Job>> | undefined {
  if (!data) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    if (!page.items.some((item) => item.id === job.id)) return page;
    changed = true;
    return { ...page, items: page.items.map((item) => (item.id === job.id ? { ...item, ...job } : item)) };
  });
  return changed ? { ...data, pages } : data;
}

/** A job as the API now tells it: its detail, and its row in every list that shows it. */
export function putJob(client: QueryClient, job: Job | JobDetail) {
  client.setQueryData<JobDetail>(keys.job(job.id), (old) =>
    old ? { ...old, ...job } : "task_runs" in job ? (job as JobDetail) : undefined,
  );
  client.setQueriesData<InfiniteData<Page<Job>>>({ queryKey: keys.jobLists }, (data) => replaceIn(data, job));
}

export function applyLiveEvent(client: QueryClient, event: LiveEvent) {
  if (event.type === "snapshot") {
    for (const job of event.jobs) putJob(client, job);
    // A (re)connection: jobs may have started or ended while nobody listened.
    void client.invalidateQueries({ queryKey: keys.jobLists });
    void client.invalidateQueries({ queryKey: keys.summary });
    return;
  }
  putJob(client, event.job);
  if (event.type !== "job_progress") {
    // A new job belongs at the top of the lists it matches; an ended one changes the summary and the
    // integration's last sync.
    void client.invalidateQueries({ queryKey: keys.jobLists });
    void client.invalidateQueries({ queryKey: keys.summary });
    if (event.type === "job_ended") void client.invalidateQueries({ queryKey: keys.integrations });
  }
}

/** While the stream is down: read again what is on screen. */
export function pollJobs(client: QueryClient) {
  void client.invalidateQueries({ queryKey: keys.jobs });
}
