import { QueryClient, type InfiniteData } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { counters, job } from "../test/fixtures";
import { applyLiveEvent, keys } from "./cache";
import type { Job, JobDetail, Page } from "./types";

describe("applyLiveEvent", () => {
  it("updates the job's detail and its row in every list that shows it", () => {
    const client = new QueryClient();
    const running = job({ status: "running" });
    const list: InfiniteData<Page<Job>> = { pages: [{ items: [running], next: null }], pageParams: [null] };
    client.setQueryData(keys.jobList({}), list);
    client.setQueryData(keys.jobList({ status: "failed" }), { pages: [{ items: [], next: null }], pageParams: [null] });
    client.setQueryData(keys.job(running.id), running);

    const progressed = job({ status: "running", counters: counters({ extracted: 10, loaded: 4 }) });
    applyLiveEvent(client, { type: "job_progress", job: progressed });

    const rows = client.getQueryData<InfiniteData<Page<Job>>>(keys.jobList({}))!.pages[0]!.items;
    expect(rows[0]!.counters.loaded).toBe(4);
    expect(client.getQueryData<JobDetail>(keys.job(running.id))!.counters.loaded).toBe(4);
    expect(client.getQueryData<InfiniteData<Page<Job>>>(keys.jobList({ status: "failed" }))!.pages[0]!.items).toEqual([]);
  });

  it("marks the lists stale when a job is created or a snapshot arrives", () => {
    const client = new QueryClient();
    client.setQueryData(keys.jobList({}), { pages: [{ items: [], next: null }], pageParams: [null] });
    applyLiveEvent(client, { type: "job_created", job: job() });
    expect(client.getQueryState(keys.jobList({}))!.isInvalidated).toBe(true);
  });
});
