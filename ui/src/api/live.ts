// One connection for the whole console to GET /api/v1/etl/events. While it is down the console polls
// (every 5 s) and reconnects with a growing delay; once the stream answers again, polling stops.

import { detailOf } from "./client";
import { readEvents } from "./sse";
import type { JobDetail, LiveEvent } from "./types";

export const EVENTS_PATH = "/api/v1/etl/events";
export type LiveState = "connecting" | "live" | "polling" | "stopped";

export interface LiveOptions {
  getToken: () => string | null;
  onEvent: (event: LiveEvent) => void;
  /** Read the jobs again: called at once when the stream drops, then every pollMs until it is back. */
  onPoll: () => void;
  onState: (state: LiveState) => void;
  onUnauthorized: (message: string) => void;
  fetch?: typeof fetch;
  pollMs?: number;
  /** Delay before reconnect attempt n (0, 1, ...). */
  backoffMs?: (attempt: number) => number;
}

export const POLL_MS = 5000;
export const defaultBackoff = (attempt: number) => Math.min(30_000, 1000 * 2 ** attempt);

const JOB_EVENTS = new Set(["job_created", "job_progress", "job_ended"]);

/** An SSE message as a console event, or null for anything else (unknown names, bad JSON). */
export function toLiveEvent(event: string, data: string): LiveEvent | null {
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    return null;
  }
  if (!payload || typeof payload !== "object") return null;
  if (event === "snapshot") {
    const jobs = (payload as { jobs?: unknown }).jobs;
    return Array.isArray(jobs) ? { type: "snapshot", jobs: jobs as JobDetail[] } : null;
  }
  if (JOB_EVENTS.has(event)) {
    const job = (payload as { job?: unknown }).job;
    if (job && typeof job === "object" && typeof (job as { id?: unknown }).id === "string") {
      return { type: event as "job_created" | "job_progress" | "job_ended", job: job as JobDetail };
    }
  }
  return null;
}

export function startLive(options: LiveOptions): { stop: () => void } {
  const pollMs = options.pollMs ?? POLL_MS;
  const backoff = options.backoffMs ?? defaultBackoff;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let stopped = false;
  let attempt = 0;
  let controller: AbortController | null = null;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let pollTimer: ReturnType<typeof setInterval> | null = null;
  let state: LiveState | null = null;

  const setState = (next: LiveState) => {
    if (next !== state) {
      state = next;
      options.onState(next);
    }
  };

  const stopPolling = () => {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  };

  const dropped = () => {
    if (stopped) return;
    controller?.abort();
    setState("polling");
    if (pollTimer === null) {
      options.onPoll();
      pollTimer = setInterval(() => options.onPoll(), pollMs);
    }
    if (reconnectTimer === null) {
      reconnectTimer = setTimeout(() => {
        reconnectTimer = null;
        void connect();
      }, backoff(attempt));
      attempt += 1;
    }
  };

  const connect = async () => {
    if (stopped) return;
    const token = options.getToken();
    if (!token) return;
    if (state === null) setState("connecting");
    const mine = new AbortController();
    controller = mine;
    let response: Response;
    try {
      response = await doFetch(EVENTS_PATH, {
        headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
        cache: "no-store",
        credentials: "omit",
        signal: mine.signal,
      });
    } catch {
      if (controller === mine) dropped();
      return;
    }
    if (stopped || controller !== mine) return;
    if (response.status === 401) {
      let body: unknown = null;
      try {
        body = await response.json();
      } catch {
        /* no body */
      }
      stop();
      options.onUnauthorized(detailOf(body, 401));
      return;
    }
    if (!response.ok || !response.body) {
      dropped();
      return;
    }
    attempt = 0;
    stopPolling();
    setState("live");
    try {
      await readEvents(response.body, (message) => {
        if (stopped || controller !== mine) return;
        const event = toLiveEvent(message.event, message.data);
        if (event) options.onEvent(event);
      });
    } catch {
      /* the connection broke: as if it ended */
    }
    if (controller === mine) dropped();
  };

  const stop = () => {
    stopped = true;
    controller?.abort();
    controller = null;
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stopPolling();
    setState("stopped");
  };

  void connect();
  return { stop };
}
