import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { ApiContext, MeContext } from "../../api/hooks";
import type { IntegrationFull } from "../../api/integrations";
import { Toasts } from "../../components/toast";
import { me } from "../../test/fixtures";
import { IntegrationList } from "./List";

const REASON = "3 syncs in a row failed because the source refused the integration: GET /rest/api/3/search/jql -> 401";

function integration(over: Partial<IntegrationFull> = {}): IntegrationFull {
  return {
    id: "7d6c0000-0000-4000-8000-000000000001", provider: "jira", name: "acme-jira", base_url: "https://acme.atlassian.net",
    enabled: true, schedule_interval_minutes: 15, schedule_cron: null, schedule_timezone: null,
    next_sync_at: "2025-01-31T09:00:00Z", last_sync_at: null, created_at: "2025-01-30T10:00:00Z",
    settings: { projects: ["ABC"], flavor: "cloud" }, has_credentials: true, last_reconciled_at: null, logo_updated_at: null,
    paused: false, breaker_reason: null, breaker_kind: null, breaker_open_at: null, breaker_probe_at: null,
    consecutive_failures: 0, ...over,
  };
}

const paused = integration({
  paused: true, breaker_kind: "fatal", breaker_reason: REASON, breaker_open_at: "2025-01-31T08:00:00Z", consecutive_failures: 3,
});

/** The list page over a fake API: GET /integrations answers `list`; the resume answers `resume`. */
function wrap(list: IntegrationFull[], resume: () => Response, scopes = ["read", "write"]) {
  const fetch = vi.fn(async (_url: string, init?: RequestInit) =>
    init?.method === "POST" ? resume() : new Response(JSON.stringify(list)),
  );
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch: fetch as unknown as typeof globalThis.fetch });
  render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MeContext.Provider value={me({ scopes })}>
          <MemoryRouter>
            <IntegrationList />
          </MemoryRouter>
          <Toasts />
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  );
  return fetch;
}

const rowOf = (id: string) =>
  waitFor(() => {
    const row = document.querySelector<HTMLElement>(`[data-integration="${id}"]`);
    if (!row) throw new Error(`no row for ${id} yet`);
    return row;
  });

describe("the integrations list and the circuit breaker", () => {
  it("shows Paused with the reason only on a paused integration, and is not overdue", async () => {
    wrap([paused, integration({ id: "7d6c0000-0000-4000-8000-000000000002", name: "acme-jira-2" })], () => new Response("{}"));
    const row = await rowOf(paused.id);
    expect(within(row).getByText("Paused")).toBeTruthy();
    expect(within(row).getByText(REASON)).toBeTruthy();
    expect(within(row).queryByText("overdue")).toBeNull();
    const other = document.querySelector('[data-integration="7d6c0000-0000-4000-8000-000000000002"]') as HTMLElement;
    expect(within(other).queryByText("Paused")).toBeNull();
    expect(within(other).queryByRole("button", { name: "Resume" })).toBeNull();
  });

  it("Resume asks the API, and says why when the connection test still fails", async () => {
    const detail = "the connection test did not pass: Jira rejected the credentials (401); integration acme-jira stays paused";
    const fetch = wrap([paused], () => new Response(JSON.stringify({ detail }), { status: 409 }));
    const row = await rowOf(paused.id);
    fireEvent.click(within(row).getByRole("button", { name: "Resume" }));
    await waitFor(() => expect(within(row).getByRole("alert").textContent).toContain("stays paused"));
    const [url, init] = fetch.mock.calls.find(([, init]) => init?.method === "POST") as unknown as [string, RequestInit];
    expect(url).toBe(`/api/v1/integrations/${paused.id}/resume`);
    expect(init.method).toBe("POST");
  });

  it("Resume that passes says so and reads the list again", async () => {
    const fetch = wrap([paused], () => new Response(JSON.stringify({ ...paused, paused: false, breaker_reason: null })));
    const row = await rowOf(paused.id);
    fireEvent.click(within(row).getByRole("button", { name: "Resume" }));
    expect(await screen.findByText("acme-jira resumed")).toBeTruthy();
    await waitFor(() => expect(fetch.mock.calls.filter(([, init]) => init?.method !== "POST").length).toBe(2));
  });

  it("Resume is disabled for a read-only key, saying why", async () => {
    wrap([paused], () => new Response("{}"), ["read"]);
    const row = await rowOf(paused.id);
    const resume = within(row).getByRole("button", { name: "Resume" });
    expect(resume).toHaveProperty("disabled", true);
    expect(resume.getAttribute("title")).toBe("this key is read-only");
  });
});
