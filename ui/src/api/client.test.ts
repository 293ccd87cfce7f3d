import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, detailOf, withQuery } from "./client";

function answer(status: number, body: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function client(fetch: typeof globalThis.fetch, token: string | null = "pk_test") {
  const onUnauthorized = vi.fn();
  return { api: new ApiClient({ getToken: () => token, onUnauthorized, fetch }), onUnauthorized };
}

describe("ApiClient", () => {
  it("sends the key as a bearer token to /api/v1", async () => {
    const fetch = vi.fn(async () => answer(200, { items: [], next: null }));
    const { api } = client(fetch);
    await api.get("/api/v1/etl/jobs", { status: "running", cursor: null, limit: 50 });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/etl/jobs?status=running&limit=50");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer pk_test");
    expect(init.credentials).toBe("omit");
  });

  it("refuses to send the key anywhere but /api/v1", async () => {
    const fetch = vi.fn(async () => answer(200, {}));
    const { api } = client(fetch);
    await expect(api.get("https://elsewhere.example/api/v1/x")).rejects.toThrow(/not an API path/);
    await expect(api.get("/metrics")).rejects.toThrow(/not an API path/);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("sends a JSON body on a POST", async () => {
    const fetch = vi.fn(async () => answer(202, { job_id: "j" }));
    const { api } = client(fetch);
    await api.post("/api/v1/etl/jobs/1/retry", { a: 1 });
    const init = (fetch.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"a":1}');
    expect((init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
  });

  it("ends the session on a 401 with the API's message", async () => {
    const fetch = vi.fn(async () => answer(401, { detail: "invalid or revoked API key" }));
    const { api, onUnauthorized } = client(fetch);
    const error = await api.get("/api/v1/auth/me").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(onUnauthorized).toHaveBeenCalledWith("invalid or revoked API key");
  });

  it("does not end the session for a key only being checked at sign-in", async () => {
    const fetch = vi.fn(async () => answer(401, { detail: "invalid or revoked API key" }));
    const { api, onUnauthorized } = client(fetch, null);
    await expect(api.request("GET", "/api/v1/auth/me", { token: "pk_wrong" })).rejects.toThrow("invalid or revoked API key");
    const init = (fetch.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer pk_wrong");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("gives a 403's message as the error, without signing out", async () => {
    const detail = "this API key is read-only (scope read): POST /api/v1/etl/jobs/1/cancel needs a key with the write scope";
    const fetch = vi.fn(async () => answer(403, { detail }));
    const { api, onUnauthorized } = client(fetch);
    await expect(api.post("/api/v1/etl/jobs/1/cancel")).rejects.toThrow(detail);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("says when the API cannot be reached", async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    const { api } = client(fetch);
    await expect(api.get("/api/v1/etl/jobs")).rejects.toThrow("cannot reach the API (Failed to fetch)");
  });

  it("needs a key", async () => {
    const fetch = vi.fn();
    const { api } = client(fetch as unknown as typeof globalThis.fetch, null);
    await expect(api.get("/api/v1/etl/jobs")).rejects.toThrow("not signed in");
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("detailOf", () => {
  it("reads FastAPI's field errors", () => {
    const body = { detail: [{ loc: ["query", "since"], msg: "Input should be a valid datetime" }] };
    expect(detailOf(body, 422)).toBe("since: Input should be a valid datetime");
  });
  it("falls back to the status", () => {
    expect(detailOf("<html>", 502)).toBe("the API answered HTTP 502");
  });
});

describe("withQuery", () => {
  it("repeats list values and drops empty ones", () => {
    expect(withQuery("/p", { status: ["queued", "running"], kind: "", x: undefined })).toBe("/p?status=queued&status=running");
  });
});
