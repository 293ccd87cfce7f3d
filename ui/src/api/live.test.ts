import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EVENTS_PATH, startLive, toLiveEvent, type LiveOptions, type LiveState } from "./live";
import type { LiveEvent } from "./types";

const encoder = new TextEncoder();

/** A 200 text/event-stream response whose body the test writes. */
function stream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
  };
}

async function flush() {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

function setup(fetch: LiveOptions["fetch"]) {
  const events: LiveEvent[] = [];
  const states: LiveState[] = [];
  const options = {
    getToken: () => "pk_live",
    onEvent: (event: LiveEvent) => events.push(event),
    onPoll: vi.fn(),
    onState: (state: LiveState) => states.push(state),
    onUnauthorized: vi.fn(),
    fetch,
    pollMs: 5000,
    backoffMs: (attempt: number) => 1000 * 2 ** attempt,
  };
  const live = startLive(options);
  return { live, events, states, options };
}

const job = (id: string, status = "running") => ({ id, status, counters: {}, task_runs: [] });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("startLive", () => {
  it("opens one stream with the key and hands over its events, even split across chunks", async () => {
    const s = stream();
    const fetch = vi.fn(async () => s.response);
    const { live, events, states } = setup(fetch);
    await flush();
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(EVENTS_PATH);
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer pk_live");
    expect(states).toEqual(["connecting", "live"]);

    const text = `event: snapshot\nid: 1\ndata: ${JSON.stringify({ jobs: [job("a")] })}\n\n` +
      `: keep-alive\n\nevent: job_progress\nid: 2\ndata: ${JSON.stringify({ job: job("a") })}\n\nevent: other\ndata: {}\n\n`;
    const cut = text.indexOf("job_progress") + 4;
    s.send(text.slice(0, cut));
    await flush();
    expect(events.map((event) => event.type)).toEqual(["snapshot"]);
    s.send(text.slice(cut));
    await flush();
    expect(events.map((event) => event.type)).toEqual(["snapshot", "job_progress"]);
    live.stop();
  });

  it("polls every 5 s while the stream is down and stops once it is back", async () => {
    const first = stream();
    const second = stream();
    const fetch = vi.fn().mockResolvedValueOnce(first.response).mockResolvedValueOnce(second.response);
    const { live, states, options } = setup(fetch);
    await flush();
    expect(options.onPoll).not.toHaveBeenCalled();

    first.close(); // the server went away
    await flush();
    expect(states.at(-1)).toBe("polling");
    expect(options.onPoll).toHaveBeenCalledTimes(1); // at once

    await vi.advanceTimersByTimeAsync(999);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1); // the first reconnect, after 1 s
    await flush();
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(states.at(-1)).toBe("live");

    await vi.advanceTimersByTimeAsync(20_000);
    expect(options.onPoll).toHaveBeenCalledTimes(1); // no polling while live
    live.stop();
  });

  it("backs off further on each failed reconnect, polling meanwhile", async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    const { live, states, options } = setup(fetch);
    await flush();
    expect(states).toEqual(["connecting", "polling"]);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000); // attempt 2 after 1 s
    expect(fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1999);
    expect(fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1); // attempt 3 after 2 s more
    expect(fetch).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(4000); // attempt 4 after 4 s more; 7 s in all
    expect(fetch).toHaveBeenCalledTimes(4);
    expect(options.onPoll).toHaveBeenCalledTimes(1 + 1); // at once, then at 5 s
    live.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).toHaveBeenCalledTimes(4);
    expect(options.onPoll).toHaveBeenCalledTimes(2);
  });

  it("polls when the stream answers with an error status (too many streams)", async () => {
    const fetch = vi.fn(async () => new Response('{"detail": "too many event streams for this key"}', { status: 429 }));
    const { live, states, options } = setup(fetch);
    await flush();
    expect(states.at(-1)).toBe("polling");
    expect(options.onPoll).toHaveBeenCalledTimes(1);
    live.stop();
  });

  it("signs out on a 401 with the API's message and stops", async () => {
    const fetch = vi.fn(async () => new Response('{"detail": "invalid or revoked API key"}', { status: 401 }));
    const { states, options } = setup(fetch);
    await flush();
    expect(options.onUnauthorized).toHaveBeenCalledWith("invalid or revoked API key");
    expect(states.at(-1)).toBe("stopped");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(options.onPoll).not.toHaveBeenCalled();
  });

  it("aborts the stream when stopped", async () => {
    const s = stream();
    let signal: AbortSignal | undefined;
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return s.response;
    });
    const { live } = setup(fetch);
    await flush();
    live.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe("toLiveEvent", () => {
  it("keeps the events it knows with the shape it expects", () => {
    expect(toLiveEvent("job_ended", JSON.stringify({ job: job("b", "succeeded") }))).toMatchObject({ type: "job_ended" });
    expect(toLiveEvent("job_ended", "{}")).toBeNull();
    expect(toLiveEvent("snapshot", "not json")).toBeNull();
    expect(toLiveEvent("message", "{}")).toBeNull();
  });
});
