import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../api/client";
import { ApiContext, MeContext } from "../api/hooks";
import type { Me } from "../api/types";
import { JobRow } from "../pages/Jobs";
import { counters, job, me } from "../test/fixtures";
import { JobActions } from "./JobActions";
import { Toasts } from "./toast";

function wrap(children: ReactNode, who: Me, fetch: typeof globalThis.fetch = vi.fn()) {
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={queryClient}>
        <MeContext.Provider value={who}>
          <MemoryRouter>{children}</MemoryRouter>
          <Toasts />
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  );
}

const name = () => "acme-jira";

describe("job row actions", () => {
  it("are disabled for a read-only key, saying why", () => {
    wrap(
      <table>
        <tbody>
          <JobRow job={job({ status: "running" })} integrationName={name} />
          <JobRow job={job({ id: "1f000000-0000-4000-8000-000000000002", status: "failed" })} integrationName={name} />
        </tbody>
      </table>,
      me({ scopes: ["read"] }),
    );
    const cancel = screen.getByRole("button", { name: /cancel job/i });
    const retry = screen.getByRole("button", { name: /retry job/i });
    for (const button of [cancel, retry]) {
      expect(button).toHaveProperty("disabled", true);
      expect(button.getAttribute("title")).toBe("this key is read-only");
    }
  });

  it("offer Cancel for an active job and Retry for an ended one, enabled with a write key", () => {
    wrap(
      <table>
        <tbody>
          <JobRow job={job({ status: "queued" })} integrationName={name} />
          <JobRow job={job({ id: "1f000000-0000-4000-8000-000000000002", status: "succeeded" })} integrationName={name} />
        </tbody>
      </table>,
      me(),
    );
    const rows = screen.getAllByRole("row");
    expect(within(rows[0]!).getByRole("button", { name: /cancel job/i })).toHaveProperty("disabled", false);
    expect(within(rows[1]!).queryByRole("button")).toBeNull();
  });

  it("shows the integration's name and the progress in words", () => {
    wrap(
      <table>
        <tbody>
          <JobRow job={job({ status: "succeeded", counters: counters({ unchanged: 3000, seen: 3000 }) })} integrationName={name} />
        </tbody>
      </table>,
      me(),
    );
    expect(screen.getByText("acme-jira")).toBeTruthy();
    expect(screen.getByText("3,000 checked, nothing changed")).toBeTruthy();
  });

  it("cancel asks first, then shows the API's refusal in a toast", async () => {
    const detail = "this API key is read-only (scope read): POST /api/v1/etl/jobs/x/cancel needs a key with the write scope";
    const fetch = vi.fn(async (url: RequestInfo | URL, _init?: RequestInit) =>
      String(url).endsWith("/integrations")
        ? new Response("[]", { status: 200 })
        : new Response(JSON.stringify({ detail }), { status: 403 }),
    );
    const writes = () => fetch.mock.calls.filter(([, init]) => init?.method === "POST");
    wrap(<JobActions job={job({ status: "running" })} />, me(), fetch as unknown as typeof globalThis.fetch);
    fireEvent.click(screen.getByRole("button", { name: /cancel job/i }));
    expect(writes()).toHaveLength(0);
    fireEvent.click(await screen.findByRole("button", { name: "Cancel the job" }));
    await waitFor(() => expect(screen.getByText(detail)).toBeTruthy());
    const [url, init] = writes()[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/etl/jobs/0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e/cancel");
    expect(init.method).toBe("POST");
  });
});
